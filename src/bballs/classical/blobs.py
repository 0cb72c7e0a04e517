"""Ball detection by thresholding: every frame at 0.5, its 8-connected blobs labelled (all
frames in one call). A blob's intensity-weighted centroid is a ball centre and its area gives the
radius, since the rendered profile ``exp(-(d^2/r^2)^4)`` exceeds 0.5 inside ``d < r * ln(2)^(1/8)``;
touching balls merge into one blob."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from bballs.data import physics

THRESHOLD = 0.5
_INSIDE = np.log(2.0) ** (1 / 8)  # blob radius / ball radius at the 0.5 threshold
PIXEL = physics.BOX_SIZE / physics.RESOLUTION


def detect_balls(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Blobs of frames (N, T, H, W): centres (N, T, 3, 2) in box units, radii (N, T, 3), counts
    (N, T). Unused slots are NaN; only the three largest blobs of a frame are kept."""
    n, t = frames.shape[:2]
    flat = frames.reshape(n * t, *frames.shape[2:])
    structure = np.zeros((3, 3, 3), dtype=bool)
    structure[1] = True
    mask = flat > THRESHOLD
    labels, n_blobs = ndimage.label(mask, structure=structure)
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
