"""Evaluation metrics: accuracy and confusion matrix for counting; MSE, SSIM, PSNR for frames.

Frame metrics follow the specification: SSIM is computed per frame with
``skimage.metrics.structural_similarity`` (``data_range=1``) and averaged over the predicted
frames, then over sequences; PSNR uses ``data_range=1``. Predictions are clipped to [0, 1] first,
the range of the data, so every metric sees valid images.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import scipy.linalg
import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity
from sklearn.metrics import accuracy_score, confusion_matrix

CLASS_LABELS = (1, 2, 3)
MSE_UNIT, MSE_FACTOR = "×10⁻³", 1e3  # every MSE of the tables and reports is shown in thousandths


def as_numpy(array) -> np.ndarray:
    """A tensor (any device) or array as a float64 NumPy array."""
    if isinstance(array, torch.Tensor):
        array = array.detach().cpu().numpy()
    return np.asarray(array, dtype=np.float64)


def frame_stack(frames) -> np.ndarray:
    """Frames of any leading shape (tensor or array) as a float64 array (N, H, W)."""
    array = as_numpy(frames)
    return array.reshape(-1, *array.shape[-2:])


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


def sample_std(values) -> float:
    """The sample standard deviation (n - 1 in the denominator) of per-seed values; 0 for one."""
    values = np.asarray(values, dtype=float)
    return float(values.std(ddof=1)) if len(values) > 1 else 0.0


def seed_summary(rows: Sequence[Mapping], metrics: Sequence[str]) -> dict[str, float | None]:
    """``<metric>_mean`` and ``<metric>_std`` of each of ``metrics`` over ``rows`` measured once
    per seed (:func:`sample_std`; None for a single seed)."""
    summary: dict[str, float | None] = {}
    for metric in metrics:
        values = np.array([row[metric] for row in rows], dtype=float)
        summary[f"{metric}_mean"] = float(values.mean())
        summary[f"{metric}_std"] = sample_std(values) if len(values) > 1 else None
    return summary


def seed_row(rows: Sequence[Mapping], metrics: Sequence[str]) -> dict:
    """One row from the same row measured once per seed: the first row's fields, ``seeds``, and
    each of ``metrics`` as its mean (under its own name too) and std (:func:`seed_summary`)."""
    if not rows:
        raise ValueError("no rows to average")
    summary = seed_summary(rows, metrics)
    return {**rows[0], "seeds": len(rows), **summary,
            **{metric: summary[f"{metric}_mean"] for metric in metrics}}


MIN_SEEDS = 3  # fewer seeds than this rank nothing


def seed_difference(a: Mapping, b: Mapping, metric: str, names: tuple[str, str]) -> dict:
    """``a`` minus ``b`` in ``metric`` (higher is better; rows of :func:`seed_row`), the larger
    of their two seed stds, and the verdict in words: the better one named where the gap
    exceeds twice that spread, else "within seed noise" ("not established" under
    :data:`MIN_SEEDS` seeds)."""
    gap = a[metric] - b[metric]
    spread = max(a.get(f"{metric}_std") or 0.0, b.get(f"{metric}_std") or 0.0)
    if min(a.get("seeds", 1), b.get("seeds", 1)) < MIN_SEEDS:
        verdict = f"not established (fewer than {MIN_SEEDS} seeds)"
    elif abs(gap) > 2 * spread:
        verdict = f"{names[0] if gap > 0 else names[1]} better by more than twice the seed std"
    else:
        verdict = "within seed noise"
    return {"gap": gap, "spread": spread, "verdict": verdict}


def verdict_summary(verdicts: Mapping[str, str], joiner: str = "for") -> str:
    """Verdicts of :func:`seed_difference` by comparison (``{"1 %": verdict, ...}``) in one
    sentence, each verdict once with the comparisons it holds for: "within seed noise for 5 %,
    10 % and all labels; training from scratch better ... for 1 %"."""
    groups: dict[str, list[str]] = {}
    for name, verdict in verdicts.items():
        groups.setdefault(verdict, []).append(name)
    return "; ".join(f"{verdict} {joiner} {_in_words(names)}" for verdict, names in groups.items())


def _in_words(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def mean_by_level(scores: list[dict[str, list[float]]]) -> dict[str, list[float]]:
    """The mean over runs (e.g. seeds) of per-level scores ``{name: [score per level]}``."""
    return {name: np.mean([s[name] for s in scores], axis=0).tolist() for name in scores[0]}


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
    (:func:`bballs.metrics.instance_scores`)."""
    predicted, target = np.asarray(predicted), np.asarray(target)
    if instance:
        return {k: float(v.mean()) for k, v in instance_scores(predicted, target).items()}
    return {"iou": float(iou(predicted > 0, target > 0).mean()),
            "dice": float(dice(predicted > 0, target > 0).mean())}
