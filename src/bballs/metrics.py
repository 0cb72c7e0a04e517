"""Evaluation metrics: accuracy and confusion matrix for counting; MSE, SSIM, PSNR for frames.

Frame metrics follow the specification: SSIM is computed per frame with
``skimage.metrics.structural_similarity`` (``data_range=1``) and averaged over the predicted
frames, then over sequences; PSNR uses ``data_range=1``. Predictions are clipped to [0, 1] first,
the range of the data, so every metric sees valid images.
"""

from __future__ import annotations

import numpy as np
import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity
from sklearn.metrics import accuracy_score, confusion_matrix

CLASS_LABELS = (1, 2, 3)


def as_numpy(array) -> np.ndarray:
    """A tensor (any device) or array as a float64 NumPy array."""
    if isinstance(array, torch.Tensor):
        array = array.detach().cpu().numpy()
    return np.asarray(array, dtype=np.float64)


def classification_scores(labels, predicted) -> dict:
    """Accuracy and the 3x3 confusion matrix (rows: true count 1-3, columns: predicted)."""
    labels, predicted = np.asarray(labels), np.asarray(predicted)
    return {
        "accuracy": float(accuracy_score(labels, predicted)),
        "confusion_matrix": confusion_matrix(labels, predicted, labels=CLASS_LABELS).tolist(),
    }


def frame_scores(predicted, target) -> dict[str, np.ndarray]:
    """Per-frame MSE, SSIM and PSNR, each of shape (N, T), for sequences (N, T, H, W).

    Identical frames have infinite PSNR, as in skimage.
    """
    predicted = np.clip(as_numpy(predicted), 0.0, 1.0)
    target = as_numpy(target)
    if predicted.shape != target.shape or predicted.ndim != 4:
        raise ValueError(f"expected two (N, T, H, W) arrays, got {predicted.shape} and "
                         f"{target.shape}")
    mse = ((predicted - target) ** 2).mean(axis=(2, 3))
    ssim = np.empty_like(mse)
    psnr = np.empty_like(mse)
    with np.errstate(divide="ignore"):
        for index in np.ndindex(mse.shape):
            ssim[index] = structural_similarity(target[index], predicted[index], data_range=1.0)
            psnr[index] = peak_signal_noise_ratio(target[index], predicted[index], data_range=1.0)
    return {"mse": mse, "ssim": ssim, "psnr": psnr}


def sequence_psnr(predicted, target) -> np.ndarray:
    """PSNR of each whole sequence (one MSE over all its frames), shape (N,)."""
    predicted = np.clip(as_numpy(predicted), 0.0, 1.0)
    target = as_numpy(target)
    with np.errstate(divide="ignore"):
        return np.array([peak_signal_noise_ratio(t, p, data_range=1.0)
                         for t, p in zip(target, predicted)])


def psnr_from_mse(mse: float, data_range: float = 1.0) -> float:
    """PSNR in dB of a mean squared error."""
    return float(10 * np.log10(data_range**2 / mse)) if mse > 0 else float("inf")


def video_scores(predicted, target) -> dict:
    """Dataset-level frame metrics for predictions against targets, both (N, T, H, W).

    ``mse``: mean over all pixels; ``ssim``: mean over frames, then sequences; ``psnr``: mean of
    the per-sequence PSNR; ``psnr_of_mse``: the PSNR of the dataset MSE; ``per_horizon``: each
    metric per predicted frame, averaged over sequences (PSNR there is per frame).
    """
    per_frame = frame_scores(predicted, target)
    mse = float(per_frame["mse"].mean())
    return {
        "mse": mse,
        "ssim": float(per_frame["ssim"].mean()),
        "psnr": float(sequence_psnr(predicted, target).mean()),
        "psnr_of_mse": psnr_from_mse(mse),
        "per_horizon": {name: values.mean(axis=0).tolist() for name, values in per_frame.items()},
    }


def last_frame_baseline(inputs, n_out: int = 5):
    """The last input frame repeated ``n_out`` times: (N, T_in, H, W) -> (N, n_out, H, W)."""
    last = inputs[:, -1:]
    if isinstance(last, torch.Tensor):
        return last.expand(-1, n_out, -1, -1)
    return np.repeat(last, n_out, axis=1)
