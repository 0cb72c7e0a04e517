"""Task 4 beyond the one test shift: model selection on shifted *validation* frames, and
accuracy under families of shifts that no model saw in training.

* :func:`shifted_validation` builds the selection set from the 100 validation frames only, with
  the same kinds of transformation the augmentation uses (symmetries, grey erosion/dilation), so
  the test set is never used to choose a model.
* :func:`shift_families` makes fresh evaluation frames under five shifts, each at several
  strengths: ball radius, brightness/contrast, blur, noise, and balls near the walls.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage

from bballs.data import augment, physics
from bballs.data.dataset import FileSpec, generate_arrays

CountFn = Callable[[np.ndarray], np.ndarray]  # frames (N, 32, 32) -> counts 1-3
FAMILY_SEED_OFFSET = 2_000  # shift frames never share a seed with the dataset files
FAMILY_SIZE = 300


def shifted_validation(x_val: torch.Tensor, y_val: torch.Tensor,
                       seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Validation frames (N, 1, 32, 32) eroded, kept and dilated by one pixel, each in a random
    symmetry: 3N frames built from validation frames only, for choosing a model."""
    generator = torch.Generator().manual_seed(seed)
    eroded = -F.max_pool2d(-x_val, 3, stride=1, padding=1)
    dilated = F.max_pool2d(x_val, 3, stride=1, padding=1)
    frames = augment.dihedral(torch.cat([eroded, x_val, dilated]), generator)
    return frames, y_val.repeat(3)


def _fresh_frames(n: int, seed: int, radius: tuple[float, float] | None = None):
    rng = np.random.default_rng([seed + FAMILY_SEED_OFFSET, int(1000 * (radius or (0,))[0])])
    arrays = generate_arrays(FileSpec("shift", n, 1, radius), rng)
    return (arrays["data"].reshape(n, 32, 32), arrays["labels"], arrays["positions"][:, 0],
            arrays["radii"])


def _near_walls(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Frames in which every ball's centre lies within 2 radii of a wall."""
    frames, labels, kept = [], [], 0
    for attempt in range(50):
        x, y, centres, radii = _fresh_frames(4 * n, seed + 100 * (attempt + 1))
        present = radii > 0
        gap = np.minimum(centres, physics.BOX_SIZE - centres).min(axis=2)
        near = ((gap <= 2 * physics.RADIUS) | ~present).all(axis=1)
        frames.append(x[near])
        labels.append(y[near])
        kept += int(near.sum())
        if kept >= n:
            break
    return np.concatenate(frames)[:n], np.concatenate(labels)[:n]


def shift_families(n: int = FAMILY_SIZE, seed: int = 0) -> dict[str, dict]:
    """Fresh frames under each shift family: ``{family: {"levels", "unit", "frames", "labels"}}``
    with one frames array (N, 32, 32) per level; level 0 (or 1.2 for radius) is no shift."""
    base, labels, _, _ = _fresh_frames(n, seed, None)
    rng = np.random.default_rng(seed + FAMILY_SEED_OFFSET)
    radii = (0.6, 0.8, 1.0, 1.2, 1.4, 1.6, 1.8, 2.0)
    by_radius = [_fresh_frames(n, seed, (r, r))[:2] for r in radii]
    contrast = (0.4, 0.6, 0.8, 1.0, 1.2, 1.5)
    blur = (0.0, 0.5, 1.0, 1.5, 2.0)
    noise = (0.0, 0.05, 0.1, 0.2, 0.3)
    near_x, near_y = _near_walls(n, seed)
    return {
        "ball radius": {"levels": radii, "unit": "radius (training: 1.2)",
                        "frames": [f for f, _ in by_radius], "labels": [y for _, y in by_radius]},
        "contrast": {"levels": contrast, "unit": "intensity scale",
                     "frames": [np.clip(base * c, 0, 1) for c in contrast],
                     "labels": [labels] * len(contrast)},
        "blur": {"levels": blur, "unit": "Gaussian blur sigma (pixels)",
                 "frames": [ndimage.gaussian_filter(base, (0, s, s)) if s else base
                            for s in blur], "labels": [labels] * len(blur)},
        "noise": {"levels": noise, "unit": "Gaussian noise sigma",
                  "frames": [np.clip(base + s * rng.standard_normal(base.shape), 0, 1)
                             .astype(np.float32) for s in noise],
                  "labels": [labels] * len(noise)},
        "near the walls": {"levels": (0, 1), "unit": "ball centres", "names": ("anywhere",
                                                                               "near walls"),
                           "frames": [base, near_x], "labels": [labels, near_y]},
    }


def family_accuracy(counters: dict[str, CountFn], families: dict[str, dict]) -> dict[str, dict]:
    """Accuracy of every counter at every level of every family:
    ``{family: {"levels": [...], "unit": str, counter: [accuracy per level]}}``."""
    table = {}
    for family, spec in families.items():
        row = {"levels": list(spec["levels"]), "unit": spec["unit"]}
        if "names" in spec:
            row["names"] = list(spec["names"])
        for name, count in counters.items():
            row[name] = [float((count(x) == y).mean())
                         for x, y in zip(spec["frames"], spec["labels"])]
        table[family] = row
    return table
