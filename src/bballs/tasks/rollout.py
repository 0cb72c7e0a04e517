"""Long-horizon evaluation: predictors rolled forward autoregressively beyond 5 frames."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from bballs.data.dataset import FileSpec, generate_arrays
from bballs.metrics import frame_scores
from bballs.training.loop import predict

LONG_SEED_OFFSET = 1_000  # long evaluation sequences never share a seed with the dataset files
TEST_SEED_OFFSET = 500  # Part 2's test sequences: a seed of their own beside the long ones

Predictor = Callable[[np.ndarray], np.ndarray]


def long_sequences(n_sequences: int, n_frames: int, seed: int = 0) -> np.ndarray:
    """Fresh validation-only sequences (N, n_frames, 32, 32) from the dataset's generator."""
    rng = np.random.default_rng([seed + LONG_SEED_OFFSET, n_frames])
    arrays = generate_arrays(FileSpec("long", n_sequences, n_frames), rng)
    return arrays["data"].reshape(n_sequences, n_frames, 32, 32)


def test_sequences(n_sequences: int, seed: int = 0) -> np.ndarray:
    """Part 2's test set: fresh 10-frame sequences (N, 10, 32, 32) from the dataset's
    generator on a seed of their own, scored once and never used to choose anything."""
    return long_sequences(n_sequences, 10, seed + TEST_SEED_OFFSET)


def model_predictor(model: nn.Module) -> Predictor:
    """A network as a predictor of the next 5 frames, outputs clipped to [0, 1]."""
    def run(window: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return predict(model, torch.from_numpy(window)).clamp(0, 1).cpu().numpy()
    return run


def physics_prior_predictor(model: nn.Module) -> Predictor:
    """A physics-prior network as a predictor: it sees the frames and the physics forecast."""
    from bballs.classical import physics_predictor

    network = model_predictor(model)

    def run(window: np.ndarray) -> np.ndarray:
        return network(np.concatenate([window, physics_predictor.predict(window)], axis=1))
    return run


def roll_out(predictor: Predictor, inputs: np.ndarray, n_future: int) -> np.ndarray:
    """Feed each prediction back as input until ``n_future`` frames exist: (N, n_future, H, W)."""
    window = np.asarray(inputs, dtype=np.float32)
    n_in = window.shape[1]
    produced = []
    while sum(p.shape[1] for p in produced) < n_future:
        out = predictor(window)
        produced.append(out)
        window = np.concatenate([window, out], axis=1)[:, -n_in:]
    return np.concatenate(produced, axis=1)[:, :n_future]


#: A frame this far off (MSE; a PSNR under 30 dB) counts as a visibly wrong prediction.
OFF_MSE = 1e-3


def horizon_curves(predictions: dict[str, np.ndarray], target: np.ndarray) -> dict[str, dict]:
    """Per-horizon SSIM, PSNR and MSE (mean over sequences) of each predictor, and ``off``: how
    many sequences' frame at that horizon is visibly wrong (MSE above :data:`OFF_MSE`); a mean
    MSE that steps up where ``off`` does is set by those few sequences."""
    curves = {}
    for name, predicted in predictions.items():
        scores = frame_scores(predicted, target)
        curves[name] = {metric: values.mean(axis=0).tolist() for metric, values in scores.items()}
        curves[name]["off"] = (scores["mse"] > OFF_MSE).sum(axis=0).tolist()
    return curves
