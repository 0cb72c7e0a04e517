"""Part 2: predicting the next 5 frames from 5 (data, training and evaluation of a predictor)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from bballs.data import dataset as bdata
from bballs.metrics import MSE_FACTOR, MSE_UNIT, last_frame_baseline, video_scores
from bballs.models.spec import N_FRAMES_IN
from bballs.training.checkpoints import History
from bballs.training.loop import Supervised, TrainConfig, fit, predict

SPEC_EPOCHS = 20
#: Task 6's recipe: Adam (lr 1e-3), batch size 4, 20 epochs.
SPEC_RECIPE = TrainConfig(epochs=SPEC_EPOCHS, batch_size=4, lr=1e-3)
QUICK_TRAIN_SIZE = 64
QUICK_VAL_SIZE = 100


class PredictionData(bdata.TrainValTensors):
    """Inputs (frames 0-4) and targets (frames 5-9) as (N, 5, 32, 32) tensors."""


def load_prediction_data(data_dir: str | Path, quick: bool = False) -> PredictionData:
    """The sequence file split 80/20 in order (4000 train, 1000 validation), then in time.

    ``quick`` keeps the first ``QUICK_TRAIN_SIZE`` training and ``QUICK_VAL_SIZE`` validation
    sequences (for smoke tests).
    """
    frames, _ = bdata.load_npz(Path(data_dir) / bdata.PART2_SEQUENCES)
    if frames.shape[1] < 2 * N_FRAMES_IN:
        raise ValueError(f"{bdata.PART2_SEQUENCES}: sequences have {frames.shape[1]} frames; "
                         f"need {2 * N_FRAMES_IN} (5 inputs, 5 targets).")
    train, val = bdata.split_train_val(frames)
    if quick:
        train, val = train[:QUICK_TRAIN_SIZE], val[:QUICK_VAL_SIZE]
    x_train, y_train = bdata.split_sequence(train[:, :2 * N_FRAMES_IN], N_FRAMES_IN)
    x_val, y_val = bdata.split_sequence(val[:, :2 * N_FRAMES_IN], N_FRAMES_IN)
    return PredictionData(*(bdata.to_tensor(a) for a in (x_train, y_train, x_val, y_val)))


def load_ball_counts(data_dir: str | Path, quick: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The files' labels (number of balls) of the training and validation sequences, split and
    shortened exactly like :func:`load_prediction_data`."""
    _, labels = bdata.load_npz(Path(data_dir) / bdata.PART2_SEQUENCES)
    train, val = bdata.split_train_val(labels)
    return (train[:QUICK_TRAIN_SIZE], val[:QUICK_VAL_SIZE]) if quick else (train, val)


def showcase(counts: np.ndarray, n: int = 2) -> np.ndarray:
    """Indices of ``n`` sequences to show in figures, the first sequence of each ball count from
    the largest down (3 balls, then 2, ...): scenes with bounces and collisions, not only lone
    balls."""
    firsts = [int(np.flatnonzero(counts == k)[0])
              for k in sorted(set(counts.tolist()), reverse=True)]
    return np.array(firsts[:n])


def train_predictor(model: nn.Module, data: PredictionData, config: TrainConfig,
                    checkpoint: str | Path | None = None, loss_fn: nn.Module | None = None,
                    **fit_options) -> History:
    """Train a frame predictor; MSE loss (the specification's) unless ``loss_fn`` is given.
    The model is kept in channels-last memory layout: the same arithmetic, about a tenth
    faster for the baseline U-Net's convolutions on a CPU (``python -m bballs bench``)."""
    model.to(memory_format=torch.channels_last)
    return fit(model, data.train, data.val, Supervised(loss_fn or nn.MSELoss()), config,
               checkpoint=checkpoint, **fit_options)


def evaluate_predictor(model: nn.Module, data: PredictionData) -> tuple[dict, torch.Tensor]:
    """Validation scores (see :func:`bballs.metrics.video_scores`) and the predictions."""
    predicted = predict(model, data.x_val).cpu()
    return video_scores(predicted, data.y_val), predicted


def evaluate_last_frame(data: PredictionData) -> tuple[dict, torch.Tensor]:
    """Validation scores of the last-frame baseline and its predictions."""
    predicted = last_frame_baseline(data.x_val)
    return video_scores(predicted, data.y_val), predicted


def with_physics_prior(data: PredictionData) -> PredictionData:
    """Inputs extended by the physics predictor's 5 frames: (N, 10, 32, 32) = frames 0-4 and
    the physics forecast of frames 5-9 (the input of a physics-prior model)."""
    from bballs.classical import physics_predictor

    def extend(x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x, torch.from_numpy(physics_predictor.predict(x.cpu().numpy()))], dim=1)

    return PredictionData(extend(data.x_train), data.y_train, extend(data.x_val), data.y_val)



TABLE_METRICS = ("ssim", "psnr", "psnr_of_mse", "mse")
#: Columns of the frame-prediction tables (notebook 02 and the report): PSNR of the mean MSE first.
COLUMNS = {"variant": "predictor", "psnr_of_mse": "PSNR of mean MSE (dB)", "ssim": "SSIM",
           "psnr": "per-sequence PSNR (dB)", "mse": f"MSE ({MSE_UNIT})", "seeds": "seeds",
           "parameters": "params", "train_seconds": "time (s)"}
#: Task 5's sweep: the caption gives the seeds; no seconds, as in Task 7's table
SKIP_COLUMNS = {k: v for k, v in COLUMNS.items() if k not in ("seeds", "train_seconds")}
#: The Task 7 table: every predictor against both baselines. Its cost is optimiser steps, not
#: seconds: its rows were timed under different conditions (the learnt sweep, the physics
#: benchmark, notebook 02 beside other work), so their times do not compare.
TASK7_COLUMNS = {"variant": "predictor", "epochs": "epochs",
                 **{k: v for k, v in COLUMNS.items() if k not in ("variant", "train_seconds")}}


def table_metrics(scores: dict) -> dict[str, float]:
    """The table's metrics of a :func:`bballs.metrics.video_scores` result."""
    return {m: float(scores[m]) for m in TABLE_METRICS}


def table_row(variant: str, change: str, scores: dict, **extra) -> dict:
    """One table row from one run's scores (one seed; ``extra``: its cost)."""
    return {"variant": variant, "change": change, "seeds": 1, **extra,
            **{f"{m}_mean": scores[m] for m in TABLE_METRICS}}


def declare_table(rows: list[dict], columns: dict[str, str] = COLUMNS) -> dict:
    """Prediction rows as a table declared in a results file (rendered by
    :func:`bballs.reporting.tables.declared_table`), the MSE in :data:`MSE_UNIT`."""
    return {"columns": columns, "rows": rows, "scale": {"mse": MSE_FACTOR},
            "decimals": {"mse": 3}}
