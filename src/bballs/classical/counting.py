"""A classical reference counter: connected components of the thresholded frame."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from bballs.classical.blobs import THRESHOLD


def count_components(frames: np.ndarray, threshold: float = THRESHOLD) -> np.ndarray:
    """Number of 8-connected bright blobs in each frame (N, H, W), clipped to [1, 3].

    All frames are labelled in one call with a structure that never links two frames.
    """
    structure = np.zeros((3, 3, 3), dtype=bool)
    structure[1] = True
    mask = np.asarray(frames) > threshold
    labels, n_blobs = ndimage.label(mask, structure=structure)
    frame_of_blob = np.zeros(n_blobs + 1, dtype=np.int64)
    frame_of_blob[labels[mask]] = np.nonzero(mask)[0]
    counts = np.bincount(frame_of_blob[1:], minlength=len(mask))
    return np.clip(counts, 1, 3)
