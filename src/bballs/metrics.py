"""Evaluation metrics: accuracy and confusion matrix for counting; MSE, SSIM, PSNR for frames.

Frame metrics follow the specification: SSIM is computed per frame with
``skimage.metrics.structural_similarity`` (``data_range=1``) and averaged over the predicted
frames, then over sequences; PSNR uses ``data_range=1``. Predictions are clipped to [0, 1] first,
the range of the data, so every metric sees valid images.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
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


def paired_difference(correct_a, correct_b) -> dict:
    """McNemar's exact test of two classifiers scored on the same items (boolean hits of each):
    the items only ``a`` gets right, those only ``b`` gets right, and the two-sided p-value of
    that split under equal accuracy (a binomial test on the items where they disagree)."""
    from scipy.stats import binomtest

    a, b = np.asarray(correct_a, dtype=bool), np.asarray(correct_b, dtype=bool)
    if a.shape != b.shape:
        raise ValueError(f"paired hits need one shape, got {a.shape} and {b.shape}")
    only_a, only_b = int((a & ~b).sum()), int((b & ~a).sum())
    p_value = binomtest(only_a, only_a + only_b).pvalue if only_a + only_b else 1.0
    return {"only_a": only_a, "only_b": only_b, "p_value": float(p_value)}


def share_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a share ``successes / n``: the range a repeat with ``n`` fresh
    frames would likely give (NaNs for an empty set)."""
    from scipy.stats import binomtest

    if n == 0:
        return float("nan"), float("nan")
    interval = binomtest(successes, n).proportion_ci(confidence, method="wilson")
    return float(interval.low), float(interval.high)


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
NARROW = 1.5  # a gap beyond seed noise but below this many times its threshold is only a lead


def narrowly(gap: float, spread: float) -> bool:
    """Whether a gap beyond seed noise (above twice ``spread``) is still below :data:`NARROW`
    times that threshold: a lead worth more seeds rather than a settled ranking."""
    return abs(gap) < NARROW * 2 * spread


def seed_difference(a: Mapping, b: Mapping, metric: str, names: tuple[str, str]) -> dict:
    """``a`` minus ``b`` in ``metric`` (higher is better; rows of :func:`seed_row`), the larger
    of their two seed stds, and the verdict in words: "X is better beyond seed noise" where the
    gap exceeds twice that spread, else "within seed noise" ("not established" under
    :data:`MIN_SEEDS` seeds)."""
    gap = a[metric] - b[metric]
    spread = max(a.get(f"{metric}_std") or 0.0, b.get(f"{metric}_std") or 0.0)
    if min(a.get("seeds", 1), b.get("seeds", 1)) < MIN_SEEDS:
        verdict = f"not established (fewer than {MIN_SEEDS} seeds)"
    elif abs(gap) > 2 * spread:
        verdict = f"{names[0] if gap > 0 else names[1]} is better beyond seed noise"
    else:
        verdict = "within seed noise"
    return {"gap": gap, "spread": spread, "verdict": verdict}


def marked_verdict(difference: Mapping) -> str:
    """The verdict of a :func:`seed_difference`, with "is narrowly better" where the lead is
    beyond seed noise but only :func:`narrowly` so."""
    verdict = difference["verdict"]
    if "beyond" in verdict and narrowly(difference["gap"], difference["spread"]):
        return verdict.replace(" is better ", " is narrowly better ")
    return verdict


def verdict_summary(verdicts: Mapping[str, str], joiner: str = "for") -> str:
    """Verdicts of :func:`seed_difference` by comparison (``{"1%": verdict, ...}``) in one
    sentence, each verdict once with the comparisons it holds for: "within seed noise for 5%,
    10% and all labels; training from scratch better ... for 1%"."""
    groups: dict[str, list[str]] = {}
    for name, verdict in verdicts.items():
        groups.setdefault(verdict, []).append(name)
    return "; ".join(f"{verdict} {joiner} {in_words(names)}" for verdict, names in groups.items())


def in_words(names: list[str]) -> str:
    """Names in a sentence: "a", "a and b", "a, b and c"."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def mean_by_level(scores: list[dict[str, list[float]]]) -> dict[str, list[float]]:
    """The mean over runs (e.g. seeds) of per-level scores ``{name: [score per level]}``."""
    return {name: np.mean([s[name] for s in scores], axis=0).tolist() for name in scores[0]}
