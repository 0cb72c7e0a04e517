"""Notebook 04's classical baselines: filters, thresholding and connected components, each with
its parameter picked on the validation split, scored on the test split."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from bballs.classical.restoration import (
    biharmonic_fill,
    component_instances,
    gaussian_denoise,
    median_denoise,
    nearest_fill,
    nl_means_denoise,
    threshold_segment,
    tv_denoise,
)
from bballs.image_metrics import restoration_scores, segmentation_scores
from bballs.metrics import frame_stack
from bballs.tasks.image_to_image import (
    Condition,
    Data,
    Split,
    conditions,
    image_task,
)

MEDIAN_SIZES = (3, 5)  # candidate settings, each picked on the validation split
GAUSSIAN_SIGMAS = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0)
SMOOTHING_SIGMAS = (0.0, 0.5, 0.75, 1.0, 1.5)
NL_MEANS_H = (0.05, 0.1, 0.15, 0.2, 0.3, 0.5)  # non-local means' filtering strength
NL_MEANS_PATCH, NL_MEANS_DISTANCE = 5, 5  # patch size and search distance (px)
#: A constant taken off every pixel after a filter (then clipped at 0): clipped noise leaves the
#: black background brighter on average, an offset that smoothing alone keeps.
OFFSETS = (0.0, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.15, 0.2)
TV_WEIGHTS = (0.05, 0.1, 0.2, 0.3, 0.5)  # total-variation denoising's trade-off


@dataclass
class Method:
    """A baseline: a name, the function of a condition, and the parameter it was tuned to."""

    name: str
    apply: Callable[[Condition], np.ndarray]
    parameter: str = ""


def _pick(candidates, score: Callable[[object], float]):
    return max(candidates, key=score)


def restoration_baselines(name: str, val: Split) -> list[Method]:
    """Baselines of a restoration task; each filter's size / width / strength and the offset
    taken off after it (:data:`OFFSETS`) chosen together by the lowest val MSE."""
    identity = Method("input", lambda c: frame_stack(c.corrupted))
    if name == "inpaint":
        return [identity, Method("nearest", lambda c: nearest_fill(c.corrupted, c.mask)),
                Method("biharmonic", lambda c: biharmonic_fill(c.corrupted, c.mask))]
    (condition,) = conditions(name, val)
    clean = frame_stack(val.frames)

    def neg_mse(output: np.ndarray) -> float:
        return -float(((output - clean) ** 2).mean())

    def tuned(name: str, denoise: Callable, settings, label: Callable[[object], str]) -> Method:
        setting, offset = _pick_with_offset(denoise, settings, condition.corrupted, neg_mse)
        return Method(name, lambda c: less_offset(denoise(c.corrupted, setting), offset),
                      f"{label(setting)}, offset {offset:g}")

    return [identity,
            tuned("median", median_denoise, MEDIAN_SIZES, lambda v: f"{v}×{v}"),
            tuned("gaussian", gaussian_denoise, GAUSSIAN_SIGMAS, lambda v: f"std {v:g} px"),
            tuned("nl_means", _nl_means, NL_MEANS_H, lambda v: f"h {v:g}"),
            tuned("tv", tv_denoise, TV_WEIGHTS, lambda v: f"weight {v:g}")]


def less_offset(frames: np.ndarray, offset: float) -> np.ndarray:
    """``frames`` less a constant ``offset``, clipped to [0, 1]."""
    return np.clip(frames - offset, 0.0, 1.0)


def _pick_with_offset(denoise: Callable, settings, corrupted, score: Callable[[np.ndarray], float]
                      ) -> tuple[object, float]:
    """The filter setting and the offset of :data:`OFFSETS` that score best together (each
    setting filtered once, every offset tried on its output)."""
    best = None
    for setting in settings:
        filtered = denoise(corrupted, setting)
        for offset in OFFSETS:
            value = score(less_offset(filtered, offset))
            if best is None or value > best[0]:
                best = (value, setting, offset)
    return best[1], best[2]


def _nl_means(noisy, h: float) -> np.ndarray:
    return nl_means_denoise(noisy, h, NL_MEANS_PATCH, NL_MEANS_DISTANCE)


def segmentation_baselines(name: str, val: Split) -> dict[str, list[Method]]:
    """Per condition: the 0.5 threshold, and a Gaussian smoothing (std picked on val by IoU,
    0 allowed) before it; instances are the connected components ordered by x."""
    instance = name == "segment_instance"
    target = val.target(name).numpy()

    def labelled(c: Condition, sigma: float) -> np.ndarray:
        mask = threshold_segment(c.corrupted, sigma)
        return component_instances(mask) if instance else mask.astype(np.int64)

    methods = {}
    for condition in conditions(name, val):
        sigma = _pick(SMOOTHING_SIGMAS, lambda s, c=condition: segmentation_scores(
            labelled(c, s), target, instance)["iou"])
        methods[condition.name] = [
            Method("threshold", lambda c: labelled(c, 0.0)),
            Method("smoothed", lambda c, s=sigma: labelled(c, s), f"std {sigma:g} px")]
    return methods


def score_baselines(name: str, data: Data) -> dict[str, dict[str, dict]]:
    """``scores[condition][method]`` of the classical baselines on the test split."""
    test = data.test
    out: dict[str, dict[str, dict]] = {}
    if image_task(name).kind == "restore":
        methods = restoration_baselines(name, data.val)
        for condition in conditions(name, test):
            out[condition.name] = {m.name: {**restoration_scores(m.apply(condition), test.frames,
                                                                 condition.mask),
                                            "parameter": m.parameter} for m in methods}
        return out
    target = test.target(name).numpy()
    per_condition = segmentation_baselines(name, data.val)
    for condition in conditions(name, test):
        out[condition.name] = {m.name: {**segmentation_scores(m.apply(condition), target,
                                                              name == "segment_instance"),
                                        "parameter": m.parameter}
                               for m in per_condition[condition.name]}
    return out
