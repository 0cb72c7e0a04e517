"""Ball detection by thresholding: every frame at 0.5, its 8-connected blobs labelled (all
frames in one call). A blob's intensity-weighted centroid is a ball centre and its area gives the
radius, since the rendered profile ``exp(-(d^2/r^2)^4)`` exceeds 0.5 inside ``d < r * ln(2)^(1/8)``;
touching balls merge into one blob."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from bballs.data import physics
from bballs.metrics import as_numpy

THRESHOLD = 0.5
_INSIDE = np.log(2.0) ** (1 / 8)  # blob radius / ball radius at the 0.5 threshold
PIXEL = physics.BOX_SIZE / physics.RESOLUTION


def label_blobs(frames: np.ndarray) -> tuple[np.ndarray, int]:
    """Blob labels (M, H, W) of frames (M, H, W): pixels above :data:`THRESHOLD`, 8-connected
    within each frame, numbered 1..n over all frames; and the number of blobs n."""
    structure = np.zeros((3, 3, 3), dtype=bool)
    structure[1] = True
    return ndimage.label(frames > THRESHOLD, structure=structure)


def detect_balls(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Blobs of frames (N, T, H, W): centres (N, T, 3, 2) in box units, radii (N, T, 3), counts
    (N, T). Unused slots are NaN; only the three largest blobs of a frame are kept."""
    n, t = frames.shape[:2]
    flat = frames.reshape(n * t, *frames.shape[2:])
    mask = flat > THRESHOLD
    labels, n_blobs = label_blobs(flat)
    index = np.arange(1, n_blobs + 1)
    centres = np.array(ndimage.center_of_mass(flat, labels, index)).reshape(-1, 3)
    areas = ndimage.sum_labels(mask, labels, index)
    frame_of = centres[:, 0].round().astype(int)
    xy = (centres[:, [2, 1]] + 0.5) * PIXEL  # (x = column, y = row) in box units
    radius = np.sqrt(areas / np.pi) * PIXEL / _INSIDE

    out_xy = np.full((n * t, 3, 2), np.nan)
    out_r = np.full((n * t, 3), np.nan)
    order = np.lexsort((-areas, frame_of))  # by frame, largest blob first
    rank = np.arange(len(order)) - np.searchsorted(frame_of[order], frame_of[order])
    keep = rank < 3
    out_xy[frame_of[order][keep], rank[keep]] = xy[order][keep]
    out_r[frame_of[order][keep], rank[keep]] = radius[order][keep]
    counts = np.minimum(np.bincount(frame_of, minlength=n * t), 3)
    return out_xy.reshape(n, t, 3, 2), out_r.reshape(n, t, 3), counts.reshape(n, t)


def blob_shapes(frames) -> tuple[np.ndarray, np.ndarray]:
    """Number of blobs (uncapped) and the smallest blob axis ratio of each frame (N, 1, H, W),
    with the blobs of :func:`detect_balls` (:func:`label_blobs`). The axis ratio is
    sqrt(minor / major eigenvalue) of a blob's pixel covariance: 1 for a disc; frames without
    blobs get 1, one-pixel blobs 0."""
    labels, n = label_blobs(as_numpy(frames)[:, 0])
    frame, rows, cols = np.nonzero(labels)
    ids = labels[frame, rows, cols] - 1
    area = np.bincount(ids, minlength=n)
    moments = [np.bincount(ids, weights=v, minlength=n) / np.maximum(area, 1)
               for v in (rows, cols, rows * rows, cols * cols, rows * cols)]
    my, mx, myy, mxx, mxy = moments
    vy, vx, cxy = myy - my**2, mxx - mx**2, mxy - my * mx
    spread = np.sqrt(((vy - vx) / 2) ** 2 + cxy**2)
    major, minor = (vy + vx) / 2 + spread, np.maximum((vy + vx) / 2 - spread, 0)
    ratio = np.sqrt(np.divide(minor, major, out=np.zeros(n), where=major > 0))
    blob_frame = np.zeros(n, dtype=int)
    blob_frame[ids] = frame
    counts = np.bincount(blob_frame, minlength=len(labels)) if n else np.zeros(len(labels), int)
    worst = np.ones(len(labels))
    np.minimum.at(worst, blob_frame, ratio)
    return counts, worst


def all_blob_centres(frames) -> np.ndarray:
    """Centre (row, column, in pixels) of every blob of every frame (N, 1, H, W), with the
    blobs of :func:`blob_shapes`: an (M, 2) array over all frames."""
    labels, n = label_blobs(as_numpy(frames)[:, 0])
    if not n:
        return np.zeros((0, 2))
    return np.array(ndimage.center_of_mass(labels > 0, labels, range(1, n + 1)))[:, 1:]
