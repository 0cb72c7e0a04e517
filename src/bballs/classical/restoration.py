"""Classical image-to-image baselines on frames (N, H, W) or (N, 1, H, W): median and Gaussian
filters, nearest-pixel in-painting, thresholding and connected components (scipy.ndimage);
non-local means, total-variation denoising and biharmonic in-painting (scikit-image)."""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from skimage.restoration import denoise_nl_means, denoise_tv_chambolle, inpaint_biharmonic

from bballs.data import physics
from bballs.metrics import frame_stack


def median_denoise(noisy, size: int) -> np.ndarray:
    """Median filter of ``size`` x ``size`` on every frame: (N, H, W)."""
    if size < 1:
        raise ValueError(f"filter size must be positive, got {size}")
    return ndimage.median_filter(frame_stack(noisy), size=(1, size, size), mode="reflect")


def gaussian_denoise(noisy, sigma: float) -> np.ndarray:
    """Gaussian filter of std ``sigma`` pixels on every frame: (N, H, W)."""
    if sigma < 0:
        raise ValueError(f"sigma must be non-negative, got {sigma}")
    return ndimage.gaussian_filter(frame_stack(noisy), sigma=(0, sigma, sigma), mode="reflect")


def nl_means_denoise(noisy, h: float, patch_size: int = 3, patch_distance: int = 5
                     ) -> np.ndarray:
    """Non-local means on every frame: each pixel becomes a weighted mean of the pixels whose
    ``patch_size`` patches within ``patch_distance`` pixels look alike (weights fall off with
    ``h``): (N, H, W)."""
    if h <= 0:
        raise ValueError(f"h must be positive, got {h}")
    return np.stack([denoise_nl_means(frame, patch_size=patch_size,
                                      patch_distance=patch_distance, h=h, fast_mode=True)
                     for frame in frame_stack(noisy)]).astype(np.float32)


def tv_denoise(noisy, weight: float) -> np.ndarray:
    """Total-variation denoising (Chambolle) of every frame: the closest image with little
    total variation, traded off by ``weight``: (N, H, W)."""
    if weight <= 0:
        raise ValueError(f"weight must be positive, got {weight}")
    return np.stack([denoise_tv_chambolle(frame, weight=weight)
                     for frame in frame_stack(noisy)]).astype(np.float32)


def biharmonic_fill(corrupted, mask) -> np.ndarray:
    """Fill every hole with the smoothest (biharmonic) surface through the known pixels around
    it: (N, H, W)."""
    frames, holes = frame_stack(corrupted), frame_stack(mask) > 0.5
    out = frames.copy()
    for i, (frame, hole) in enumerate(zip(frames, holes)):
        if hole.any() and not hole.all():
            out[i] = inpaint_biharmonic(frame, hole)
    return out


def nearest_fill(corrupted, mask) -> np.ndarray:
    """Fill every hole pixel with the nearest known pixel (Euclidean, via the indices of
    ``scipy.ndimage.distance_transform_edt``): (N, H, W)."""
    frames, holes = frame_stack(corrupted), frame_stack(mask) > 0.5
    out = frames.copy()
    for i, (frame, hole) in enumerate(zip(frames, holes)):
        if hole.any() and not hole.all():
            rows, cols = ndimage.distance_transform_edt(hole, return_distances=False,
                                                        return_indices=True)
            out[i] = frame[rows, cols]
    return out


def threshold_segment(frames, sigma: float = 0.0, threshold: float = 0.5) -> np.ndarray:
    """Foreground masks (N, H, W): frames smoothed by a Gaussian of std ``sigma`` (0: none),
    then thresholded."""
    smooth = gaussian_denoise(frames, sigma) if sigma > 0 else frame_stack(frames)
    return smooth > threshold


_EIGHT = np.ones((3, 3), dtype=bool)


def component_instances(foreground: np.ndarray, n_instances: int = physics.MAX_BALLS
                        ) -> np.ndarray:
    """Label maps (N, H, W) from foreground masks: the ``n_instances`` largest 8-connected
    components, numbered 1.. from left to right by their centroid's column."""
    out = np.zeros(foreground.shape, dtype=np.int64)
    for i, mask in enumerate(foreground):
        labels, n = ndimage.label(mask, structure=_EIGHT)
        if n == 0:
            continue
        index = np.arange(1, n + 1)
        sizes = ndimage.sum_labels(mask, labels, index)
        kept = index[np.argsort(-sizes, kind="stable")[:n_instances]]
        columns = [c[1] for c in ndimage.center_of_mass(mask, labels, kept)]
        for rank, label in enumerate(kept[np.argsort(columns, kind="stable")]):
            out[i][labels == label] = rank + 1
    return out
