"""Physical validity of generated frames, judged by the classical blob detector: one to three
blobs, each round and of the training radius; shares per blob count, validity with the counts
weighted as in real frames, and where in the frame the blobs lie."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bballs.classical.blobs import all_blob_centres, blob_shapes, detect_balls
from bballs.data import physics
from bballs.data.frames import FrameSet
from bballs.metrics import as_numpy, share_interval

RADIUS_TOLERANCE = 0.15  # |r / r_train - 1| allowed for a ball found by the detector
MIN_AXIS_RATIO = 0.8  # minor / major axis of a blob's second moments for a "round" blob
COUNT_BINS = ("0", "1", "2", "3", "4+")
POSITION_GRID = 4  # blob centres are binned on a 4 x 4 grid over the frame


def position_shares(frames) -> list[float]:
    """Shares of the blob centres of ``frames`` in each cell of a :data:`POSITION_GRID` square
    grid over the frame (row-major; zeros without blobs)."""
    centres = all_blob_centres(frames)
    height, width = as_numpy(frames).shape[-2:]
    grid, _, _ = np.histogram2d(centres[:, 0], centres[:, 1], bins=POSITION_GRID,
                                range=[[0, height], [0, width]])
    return (grid.ravel() / max(len(centres), 1)).tolist()


def validity(frames, radius: float = physics.RADIUS, tolerance: float = RADIUS_TOLERANCE,
             min_axis_ratio: float = MIN_AXIS_RATIO) -> dict[str, np.ndarray]:
    """Per-frame physical validity: the detector finds 1-3 blobs, each round (axis ratio >=
    ``min_axis_ratio``) and of the training radius within ``tolerance`` (relative). Returns
    boolean arrays ``valid``, ``count_ok``, ``radius_ok``, ``round_ok`` and the uncapped
    blob counts ``n_blobs``."""
    if not 0 < tolerance < 1 or not 0 < min_axis_ratio <= 1:
        raise ValueError(f"tolerance must be in (0, 1) and min_axis_ratio in (0, 1], got "
                         f"{tolerance}, {min_axis_ratio}")
    _, radii, _ = detect_balls(as_numpy(frames))  # the three largest blobs, radius from area
    n_blobs, ratios = blob_shapes(frames)
    error = np.abs(radii[:, 0] / radius - 1)
    radius_ok = np.where(np.isnan(error), True, error <= tolerance).all(axis=1)
    count_ok = (n_blobs >= 1) & (n_blobs <= 3)
    round_ok = ratios >= min_axis_ratio
    return {"valid": count_ok & radius_ok & round_ok, "count_ok": count_ok,
            "radius_ok": radius_ok, "round_ok": round_ok, "n_blobs": n_blobs}


def validity_calibration(frame_set: FrameSet, radius: float = physics.RADIUS) -> dict[str, float]:
    """What the validity thresholds must accept and reject, measured on real frames: the
    relative radius error and axis ratio of blobs in frames where the detector sees every ball
    separately (blob count = true count), and the axis ratio of frames where balls merged."""
    _, radii, _ = detect_balls(as_numpy(frame_set.frames))
    n_blobs, ratios = blob_shapes(frame_set.frames)
    separate = n_blobs == frame_set.counts.numpy()
    errors = radii[separate, 0] / radius - 1
    errors = errors[~np.isnan(errors)]
    merged = ratios[~separate]
    return {"share_separate": float(separate.mean()),
            "radius_error_min": float(errors.min()), "radius_error_max": float(errors.max()),
            "axis_ratio_min_separate": float(ratios[separate].min()),
            "axis_ratio_median_merged": float(np.median(merged)) if merged.size else float("nan")}


def count_shares(n_blobs: np.ndarray) -> np.ndarray:
    """Shares of frames with 0, 1, 2, 3 and 4 or more blobs (:data:`COUNT_BINS`)."""
    return np.bincount(np.minimum(n_blobs, 4), minlength=5) / max(len(n_blobs), 1)


def validity_row(name: str, frames, key: str = "") -> dict:
    """One row of the validity table: shares valid / right count / right radius / round, the
    count histogram, the 95 % interval of the share valid (``valid_low``, ``valid_high``:
    sampling noise of a finite set, :func:`share_interval`), the share valid among the frames
    with k = 1, 2, 3 blobs (``valid_k``, None without such frames) and where the blobs lie
    (``positions``, :func:`position_shares`)."""
    scores = validity(frames)
    shares = count_shares(scores["n_blobs"])
    by_count = {f"valid_{k}": float(scores["valid"][scores["n_blobs"] == k].mean())
                if (scores["n_blobs"] == k).any() else None for k in (1, 2, 3)}
    low, high = share_interval(int(scores["valid"].sum()), len(scores["valid"]))
    return {"key": key or name, "set": name, "n": len(scores["valid"]),
            **{key: float(scores[key].mean()) for key in ("valid", "count_ok", "radius_ok",
                                                           "round_ok")},
            "valid_low": low, "valid_high": high,
            **{f"blobs_{label}": float(share) for label, share in zip(COUNT_BINS, shares)},
            **by_count, "positions": position_shares(frames)}


def compare_counts(rows: Sequence[dict], reference: str = "test") -> list[dict]:
    """:func:`validity_row` rows with ``valid_at_real_counts``, the validity with each blob
    count k = 1-3 weighted by its share in the ``reference`` set (frames with more balls touch
    and fail more often, so a set with fewer of them would otherwise look better), and
    ``count_tv`` and ``position_tv``, the total-variation distances of the blob-count shares and
    of the blob-position shares to the reference's."""
    ref = next(row for row in rows if row["key"] == reference)
    weights = {k: ref[f"blobs_{k}"] for k in ("1", "2", "3")}
    total = sum(weights.values())
    return [{**row, "valid_at_real_counts": sum(w * (row[f"valid_{k}"] or 0.0)
                                                for k, w in weights.items()) / total,
             "count_tv": 0.5 * sum(abs(row[f"blobs_{b}"] - ref[f"blobs_{b}"]) for b in COUNT_BINS),
             "position_tv": 0.5 * float(np.abs(np.subtract(row["positions"],
                                                          ref["positions"])).sum())}
            for row in rows]


VALIDITY_COLUMNS = {"set": "frames", "valid": "valid", "count_ok": "1-3 blobs",
                    "radius_ok": "radius ok", "round_ok": "round",
                    **{f"blobs_{b}": f"{b} blob{'' if b == '1' else 's'}" for b in COUNT_BINS}}


def validity_table(rows) -> dict:
    """The validity table of :func:`validity_row` rows, shares in percent."""
    return {"columns": VALIDITY_COLUMNS, "rows": list(rows),
            "percent": [k for k in VALIDITY_COLUMNS if k != "set"]}
