"""Part 1: counting balls in one frame (data, training and evaluation of a counter)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from bballs.data import dataset as bdata
from bballs.metrics import classification_scores
from bballs.training.checkpoints import History
from bballs.training.loop import Supervised, TrainConfig, fit, predict

SPEC_EPOCHS = 5
#: Task 2's recipe: Adam (lr 1e-3), batch size 4, 5 epochs.
SPEC_RECIPE = TrainConfig(epochs=SPEC_EPOCHS, batch_size=4, lr=1e-3)
QUICK_TRAIN_SIZE = 80
RADIUS_BINS = (0.8, 1.0, 1.2, 1.4, 1.6)


@dataclass
class CountingData(bdata.TrainValTensors):
    """Part 1 frames as (N, 1, 32, 32) tensors and class indices 0-2 (= number of balls - 1)."""

    x_test: torch.Tensor
    y_test: torch.Tensor
    test_radii: np.ndarray | None = None  # (N_test, 3), 0 = absent ball; None for official files
    quick: bool = False  # a smoke-test subset: evaluations may use fewer frames


def load_counting_data(data_dir: str | Path, quick: bool = False) -> CountingData:
    """Load both Part 1 files; the first 80% of the training file trains, the rest validates.

    ``quick`` keeps only the first ``QUICK_TRAIN_SIZE`` training images (for smoke tests).
    """
    data_dir = Path(data_dir)
    frames, labels = bdata.load_npz(data_dir / bdata.PART1_TRAIN)
    test_frames, test_labels = bdata.load_npz(data_dir / bdata.PART1_TEST)
    (x_train, x_val), (y_train, y_val) = (bdata.split_train_val(a) for a in (frames, labels))
    if quick:
        x_train, y_train = x_train[:QUICK_TRAIN_SIZE], y_train[:QUICK_TRAIN_SIZE]
    try:
        test_radii = bdata.load_ground_truth(data_dir / bdata.PART1_TEST)["radii"]
    except ValueError:
        test_radii = None
    tensors = [bdata.to_tensor(a) for a in (x_train, y_train - 1, x_val, y_val - 1,
                                            test_frames, test_labels - 1)]
    return CountingData(*tensors, test_radii=test_radii, quick=quick)


def train_counter(model: nn.Module, data: CountingData, config: TrainConfig,
                  checkpoint: str | Path | None = None, **fit_options) -> History:
    """Train a counter with cross-entropy on logits (the specification's recipe by default)."""
    return fit(model, data.train, data.val, Supervised(nn.CrossEntropyLoss(), classification=True),
               config, checkpoint=checkpoint, **fit_options)


def predict_counts(model: nn.Module, frames: torch.Tensor | np.ndarray) -> np.ndarray:
    """Predicted number of balls (1-3) for frames (N, 1, 32, 32) or (N, 32, 32)."""
    frames = torch.as_tensor(frames, dtype=torch.float32)
    if frames.ndim == 3:
        frames = frames[:, None]
    return predict(model, frames).argmax(1).cpu().numpy() + 1


def evaluate_counter(model: nn.Module, frames: torch.Tensor, classes: torch.Tensor) -> dict:
    """Accuracy and confusion matrix of a counter on frames with class indices 0-2."""
    return classification_scores(classes.cpu().numpy() + 1, predict_counts(model, frames))


def mean_radius(radii: np.ndarray) -> np.ndarray:
    """Mean radius of the balls present in each frame, from radii (N, 3) with 0 = absent."""
    present = radii > 0
    return (radii * present).sum(axis=1) / present.sum(axis=1)


def accuracy_by_radius(correct: np.ndarray, radii: np.ndarray,
                       bins: tuple[float, ...] = RADIUS_BINS) -> tuple[list[float], list[int]]:
    """Accuracy and number of frames per bin of the frame's mean ball radius."""
    which = np.clip(np.digitize(mean_radius(radii), bins) - 1, 0, len(bins) - 2)
    counts = np.bincount(which, minlength=len(bins) - 1)
    hits = np.bincount(which, weights=correct.astype(float), minlength=len(bins) - 1)
    accuracy = np.divide(hits, counts, out=np.full(len(counts), np.nan), where=counts > 0)
    return accuracy.tolist(), counts.tolist()

