"""Task 4 beyond the one test shift: model selection on held-out shifts of *validation* frames,
and accuracy under families of shifts that no model saw in training.

* :func:`heldout_validation` builds the selection set from the 100 validation frames only,
  with shift families that no training recipe uses (gamma, uneven lighting, balls stretched
  into ellipses), so the choice is neither made on the test set nor bound to favour the recipe
  whose augmentation built the selection set.
* :func:`shift_families` makes fresh evaluation frames under ten families of shifts, each at
  several strengths, from the generator (for evaluation only, never for training).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import numpy as np
import torch

from bballs.data import augment, noise, physics, shifts
from bballs.data.dataset import FileSpec, generate_arrays
from bballs.metrics import mean_by_level, sample_std

CountFn = Callable[[np.ndarray], np.ndarray]  # frames (N, 32, 32) -> counts 1-3
FAMILY_SEED_OFFSET = 2_000  # shift frames never share a seed with the dataset files
FAMILY_SIZE = 300
HELDOUT_GAMMAS = (0.5, 0.7, 1.4, 2.0)  # selection shifts: no training recipe uses them
HELDOUT_LIGHTING = (0.3, 0.5, 0.7)  # uneven lighting: darkest corner at 1 - strength
HELDOUT_ASPECTS = (0.75, 1.33)  # balls stretched into ellipses of the same area
CUT_OFF = 0.05  # a stretched frame that loses more than this share of its intensity is dropped
#: Evaluation families that the held-out selection shifts share (gamma): left out of the
#: headline average, which must not depend on anything that chose the model.
SELECTION_SHARED = ("gamma",)


def heldout_validation(x_val: torch.Tensor, y_val: torch.Tensor,
                       seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Validation frames (N, 1, 32, 32) under every gamma of ``HELDOUT_GAMMAS``, every uneven
    lighting of ``HELDOUT_LIGHTING`` (random direction) and every stretch of
    ``HELDOUT_ASPECTS`` (frames whose balls the stretch would cut off are left out), each in a
    random symmetry: from validation frames only."""
    generator = torch.Generator().manual_seed(seed)
    shifted = [shifts.gamma(x_val, g) for g in HELDOUT_GAMMAS]
    shifted += [shifts.illumination(x_val, s, 2 * np.pi * torch.rand(len(x_val),
                                                                    generator=generator))
                for s in HELDOUT_LIGHTING]
    labels = [y_val] * len(shifted)
    mass = x_val.sum(dim=(1, 2, 3))
    for aspect in HELDOUT_ASPECTS:
        stretched = shifts.stretch(x_val, aspect)
        whole = (mass - stretched.sum(dim=(1, 2, 3))).abs() <= CUT_OFF * mass
        shifted.append(stretched[whole])
        labels.append(y_val[whole])
    return augment.dihedral(torch.cat(shifted), generator), torch.cat(labels)


def shifted_validation(x_val: torch.Tensor, y_val: torch.Tensor,
                       seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """The earlier selection set, kept as a column: validation frames eroded, kept and dilated
    by one pixel, each in a random symmetry (the same transformation as the ball-size
    augmentation, so it favours that recipe)."""
    generator = torch.Generator().manual_seed(seed)
    eroded = -torch.nn.functional.max_pool2d(-x_val, 3, stride=1, padding=1)
    dilated = torch.nn.functional.max_pool2d(x_val, 3, stride=1, padding=1)
    frames = augment.dihedral(torch.cat([eroded, x_val, dilated]), generator)
    return frames, y_val.repeat(3)


def _rng(seed: int, *stream: int) -> np.random.Generator:
    return np.random.default_rng([seed + FAMILY_SEED_OFFSET, *stream])


def _fresh_frames(n: int, seed: int, radius: tuple[float, float] | None = None):
    rng = _rng(seed, int(1000 * (radius or (0,))[0]))
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


def _soft_profile(n: int, seed: int, power: float) -> tuple[np.ndarray, np.ndarray]:
    """Frames of the generator's physics rendered with a softer edge, exp(-(d^2/r^2)^power)."""
    arrays = generate_arrays(FileSpec("soft", n, 1), _rng(seed, 7), power=power)
    return arrays["data"].reshape(n, 32, 32), arrays["labels"]


def _touching(n: int, seed: int, spacing: float) -> tuple[np.ndarray, np.ndarray]:
    """Frames of 2 or 3 balls in a chain, each ball's centre ``spacing`` x 2r from the previous
    one (1: touching, < 1: overlapping), all inside the box."""
    rng = _rng(seed, 11, int(100 * spacing))
    r, gap = physics.RADIUS, spacing * 2 * physics.RADIUS
    labels = rng.permutation(np.resize(np.arange(2, physics.MAX_BALLS + 1), n))
    centres = np.zeros((n, physics.MAX_BALLS, 2))
    todo = np.arange(n)
    while todo.size:
        centres[todo, 0] = rng.uniform(r, physics.BOX_SIZE - r, (todo.size, 2))
        for ball in range(1, physics.MAX_BALLS):
            angle = rng.uniform(0, 2 * np.pi, todo.size)
            step = gap * np.stack([np.cos(angle), np.sin(angle)], axis=1)
            centres[todo, ball] = centres[todo, ball - 1] + step
        inside = ((centres[todo] >= r) & (centres[todo] <= physics.BOX_SIZE - r)).all(axis=2)
        apart = np.linalg.norm(centres[todo, 2] - centres[todo, 0], axis=1) >= gap
        ok = inside[:, :2].all(axis=1) & ((labels[todo] == 2) | (inside[:, 2] & apart))
        todo = todo[~ok]
    radii = np.where(np.arange(physics.MAX_BALLS) < labels[:, None], r, 0.0)
    return physics.render(centres[:, None], radii)[:, 0], labels


def _shifted(base: np.ndarray, transform: Callable[[torch.Tensor], torch.Tensor]) -> np.ndarray:
    return transform(torch.from_numpy(base)[:, None]).squeeze(1).numpy()


def shift_families(n: int = FAMILY_SIZE, seed: int = 0) -> dict[str, dict]:
    """Fresh frames under each shift family: ``{family: {"levels", "unit", "frames", "labels"}}``
    with one frames array (N, 32, 32) per level, in increasing order; every family but touching
    balls (which the generator never starts with) has an unshifted level."""
    base, labels, _, _ = _fresh_frames(n, seed, None)
    generator = torch.Generator().manual_seed(seed + FAMILY_SEED_OFFSET)
    radii = (0.6, 0.8, 1.0, 1.2, 1.4, 1.6, 1.8, 2.0)
    by_radius = [_fresh_frames(n, seed, (r, r))[:2] for r in radii]
    levels = {"contrast": (0.4, 0.6, 0.8, 1.0, 1.2, 1.5), "gamma": (0.5, 0.7, 1.0, 1.4, 2.0),
              "blur": (0.0, 0.5, 1.0, 1.5, 2.0), "noise": (0.0, 0.05, 0.1, 0.2),
              "salt and pepper": (0.0, 0.01, 0.02, 0.05)}
    transforms = {"contrast": shifts.contrast, "gamma": shifts.gamma, "blur": shifts.blur,
                  "noise": lambda x, s: noise.gaussian_noise(x, s, generator),
                  "salt and pepper": lambda x, s: noise.salt_and_pepper(x, s, generator)}
    units = {"contrast": "intensity scale", "gamma": "intensity exponent",
             "blur": "Gaussian blur sigma (pixels)", "noise": "Gaussian noise sigma",
             "salt and pepper": "share of pixels"}
    soft = (4.0, 2.0, 1.0)
    touching = (1.0, 0.9, 0.75)
    families = {"ball radius": {"levels": radii, "unit": "radius (training: 1.2)",
                                "frames": [f for f, _ in by_radius],
                                "labels": [y for _, y in by_radius]}}
    for family, values in levels.items():
        families[family] = {
            "levels": values, "unit": units[family], "labels": [labels] * len(values),
            "frames": [_shifted(base, lambda x, v=v, f=family: transforms[f](x, v))
                       for v in values]}
    near_x, near_y = _near_walls(n, seed)
    soft_frames = [_soft_profile(n, seed, p) for p in soft]
    touch_frames = [_touching(n, seed, s) for s in touching]
    families.update({
        "8-bit": {"levels": (0, 1), "unit": "storage", "names": ("float", "8-bit"),
                  "frames": [base, _shifted(base, shifts.quantise)], "labels": [labels] * 2},
        "soft profile": {"levels": soft, "unit": "profile power (training: 4)",
                         "frames": [f for f, _ in soft_frames],
                         "labels": [y for _, y in soft_frames]},
        "near the walls": {"levels": (0, 1), "unit": "ball centres",
                           "names": ("anywhere", "near walls"), "frames": [base, near_x],
                           "labels": [labels, near_y]},
        "touching balls": {"levels": touching, "unit": "centre distance / 2r (2-3 balls)",
                           "frames": [f for f, _ in touch_frames],
                           "labels": [y for _, y in touch_frames]},
    })
    return families


def family_size(quick: bool) -> int:
    """Frames per level of each shift family: :data:`FAMILY_SIZE`, or 100 in quick mode."""
    return 100 if quick else FAMILY_SIZE


@lru_cache(maxsize=2)
def evaluation_families(n: int = FAMILY_SIZE, seed: int = 0) -> dict[str, dict]:
    """:func:`shift_families` made once per process (they depend only on ``n`` and ``seed``)."""
    return shift_families(n, seed)


def family_scores(count: CountFn, families: dict[str, dict]) -> dict[str, list[float]]:
    """Accuracy of one counter at every level of every family: ``{family: [per level]}``."""
    return {family: [float((count(x) == y).mean()) for x, y in zip(spec["frames"],
                                                                    spec["labels"])]
            for family, spec in families.items()}


def family_accuracy(counters: dict[str, CountFn | list[CountFn]],
                    families: dict[str, dict]) -> dict[str, dict]:
    """Accuracy of every counter at every level of every family (for a list of counters, e.g.
    one per seed, their mean, and under ``std`` its sample std per level): ``{family:
    {"levels": [...], "unit": str, counter: [accuracy per level], "std": {counter: [...]}}}``."""
    runs = {name: [family_scores(c, families) for c in
                   (count if isinstance(count, list) else [count])]
            for name, count in counters.items()}
    means = {name: mean_by_level(scores) for name, scores in runs.items()}
    table = {}
    for family, spec in families.items():
        row = {"levels": list(spec["levels"]), "unit": spec["unit"]}
        if "names" in spec:
            row["names"] = list(spec["names"])
        row.update({name: mean[family] for name, mean in means.items()})
        row["std"] = {name: [sample_std(level) for level in zip(*(s[family] for s in scores))]
                      for name, scores in runs.items() if len(scores) > 1}
        table[family] = row
    return table


LARGEST_STD = "max. std"  # the largest seed std of any family's mean accuracy
#: Shorter column headers for the families whose names would wrap to three lines in a table.
FAMILY_HEADERS = {"salt and pepper": "salt & pepper", "near the walls": "near walls"}


def robustness_rows(table: list[dict]) -> list[dict]:
    """Per variant (summary rows of the Task 4 sweep that carry family scores), the mean
    accuracy over the levels of each family, the worst level of all and, from the per-seed
    scores, the largest seed std of any family's mean (:data:`LARGEST_STD`)."""
    rows = []
    for entry in table:
        if "families" not in entry:
            continue
        means = {family: float(np.mean(levels)) for family, levels in entry["families"].items()}
        worst = min(min(levels) for levels in entry["families"].values())
        per_seed = entry.get("families_by_seed") or [entry["families"]]
        spread = max(sample_std([np.mean(seed[family]) for seed in per_seed]) for family in means)
        rows.append({"variant": entry["variant"], "title": entry.get("title"),
                     "seeds": entry["seeds"], **means,
                     "worst level": worst, LARGEST_STD: spread})
    return rows


def robustness_table(rows: list[dict]) -> dict:
    """:func:`robustness_rows` as a table declared in a results file (accuracies in %)."""
    scores = [key for key in rows[0] if key not in ("variant", "title", "seeds")] if rows else []
    return {"columns": {"variant": "variant", **{f: FAMILY_HEADERS.get(f, f) for f in scores}},
            "rows": rows,
            "percent": scores}
