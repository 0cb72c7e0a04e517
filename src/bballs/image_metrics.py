"""Scores of generated and restored frames (Lab 3's own): the Frechet distance
between feature sets, IoU and Dice of masks and label maps, reconstruction, restoration and
segmentation scores."""

from __future__ import annotations

import warnings

import numpy as np
import scipy.linalg
from skimage.metrics import peak_signal_noise_ratio

from bballs.metrics import as_numpy, frame_scores, frame_stack, psnr_from_mse


def frechet_distance(features_a, features_b) -> float:
    """Frechet distance between Gaussians fitted to two feature sets (N, D) and (M, D):
    ||mu_a - mu_b||^2 + Tr(C_a + C_b - 2 (C_a C_b)^(1/2)), the FID formula (Heusel et al.,
    2017) with sample covariances (ddof 1) and ``scipy.linalg.sqrtm``; tiny imaginary parts
    from round-off are dropped."""
    a, b = as_numpy(features_a), as_numpy(features_b)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"expected two (N, D) feature arrays with equal D, got {a.shape} and "
                         f"{b.shape}")
    if len(a) < 2 or len(b) < 2:
        raise ValueError("each feature set needs at least two samples for a covariance")
    mean_a, mean_b = a.mean(axis=0), b.mean(axis=0)
    cov_a, cov_b = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    with warnings.catch_warnings():  # a singular product (dead features) is handled below
        warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
        root = scipy.linalg.sqrtm(cov_a @ cov_b)
    if not np.isfinite(root).all():  # singular product: offset both covariances slightly
        offset = 1e-6 * np.eye(len(cov_a))
        root = scipy.linalg.sqrtm((cov_a + offset) @ (cov_b + offset))
    distance = ((mean_a - mean_b) ** 2).sum() + np.trace(cov_a + cov_b - 2 * np.real(root))
    return float(max(distance, 0.0))


def _binary_pair(predicted, target) -> tuple[np.ndarray, np.ndarray]:
    predicted, target = np.asarray(predicted, dtype=bool), np.asarray(target, dtype=bool)
    if predicted.shape != target.shape or predicted.ndim < 2:
        raise ValueError(f"expected two equally shaped (N, H, W) masks, got {predicted.shape} "
                         f"and {target.shape}")
    return predicted.reshape(len(predicted), -1), target.reshape(len(target), -1)


def iou(predicted, target) -> np.ndarray:
    """Intersection over union of boolean masks (N, H, W), per image (N,); 1 where both are
    empty (nothing to find, nothing found)."""
    predicted, target = _binary_pair(predicted, target)
    union = (predicted | target).sum(axis=1)
    inter = (predicted & target).sum(axis=1)
    return np.where(union > 0, inter / np.maximum(union, 1), 1.0)


def dice(predicted, target) -> np.ndarray:
    """Dice coefficient 2|A & B| / (|A| + |B|) of boolean masks (N, H, W), per image (N,); 1 where
    both are empty."""
    predicted, target = _binary_pair(predicted, target)
    total = predicted.sum(axis=1) + target.sum(axis=1)
    inter = (predicted & target).sum(axis=1)
    return np.where(total > 0, 2 * inter / np.maximum(total, 1), 1.0)


def instance_scores(predicted, target, n_instances: int = 3) -> dict[str, np.ndarray]:
    """Mean IoU and Dice per image over instances, for label maps (N, H, W) with 0 = background
    and 1..n_instances = instances in an agreed order. An instance counts in an image's mean when
    it is in the truth or in the prediction, so a missed or an invented one scores 0."""
    predicted, target = np.asarray(predicted), np.asarray(target)
    if predicted.shape != target.shape or predicted.ndim != 3:
        raise ValueError(f"expected two (N, H, W) label maps, got {predicted.shape} and "
                         f"{target.shape}")
    sums = {"iou": np.zeros(len(target)), "dice": np.zeros(len(target))}
    counted = np.zeros(len(target))
    for k in range(1, n_instances + 1):
        p, t = predicted == k, target == k
        present = (p | t).any(axis=(1, 2))
        counted += present
        sums["iou"] += np.where(present, iou(p, t), 0.0)
        sums["dice"] += np.where(present, dice(p, t), 0.0)
    return {name: np.where(counted > 0, total / np.maximum(counted, 1), 1.0)
            for name, total in sums.items()}


def reconstruction_scores(predicted, target) -> dict[str, float]:
    """Reconstruction quality of frames (N, 1, H, W) or (N, H, W) against their targets.

    ``mse``: mean over all pixels; ``psnr``: mean of the per-frame PSNR (skimage,
    ``data_range=1``); ``psnr_of_mse``: the PSNR of the mean MSE. Predictions are clipped to
    [0, 1] first, the range of the data.
    """
    predicted = np.clip(as_numpy(predicted), 0.0, 1.0)
    target = as_numpy(target)
    if predicted.shape != target.shape or predicted.ndim not in (3, 4) or not len(target):
        raise ValueError(f"expected two equal non-empty (N, [1,] H, W) arrays, got "
                         f"{predicted.shape} and {target.shape}")
    with np.errstate(divide="ignore"):
        psnr = np.array([peak_signal_noise_ratio(t, p, data_range=1.0)
                         for t, p in zip(target, predicted)])
    mse = float(((predicted - target) ** 2).mean())
    return {"mse": mse, "psnr": float(psnr.mean()), "psnr_of_mse": psnr_from_mse(mse)}


def restoration_scores(predicted, clean, mask=None) -> dict[str, float]:
    """SSIM (skimage, data range 1, mean per frame), MSE and the PSNR of that mean MSE; with a
    hole ``mask`` also the MSE inside the hole. ``background`` is the mean output where the truth
    is exactly 0 (a grey offset there costs SSIM far more than PSNR)."""
    pred, truth = np.clip(frame_stack(predicted), 0, 1), frame_stack(clean)
    per_frame = frame_scores(pred[:, None], truth[:, None])
    mse = float(per_frame["mse"].mean())
    scores = {"psnr": psnr_from_mse(mse), "ssim": float(per_frame["ssim"].mean()), "mse": mse,
              "background": float(pred[truth == 0].mean()) if (truth == 0).any() else np.nan}
    if mask is not None:
        hole = frame_stack(mask) > 0.5
        scores["hole_mse"] = float(((pred - truth) ** 2)[hole].mean())
    return scores


def segmentation_scores(predicted: np.ndarray, target: np.ndarray, instance: bool
                        ) -> dict[str, float]:
    """Mean IoU and Dice per image: of the foreground (binary) or over instances
    (:func:`instance_scores`)."""
    predicted, target = np.asarray(predicted), np.asarray(target)
    if instance:
        return {k: float(v.mean()) for k, v in instance_scores(predicted, target).items()}
    return {"iou": float(iou(predicted > 0, target > 0).mean()),
            "dice": float(dice(predicted > 0, target > 0).mean())}
