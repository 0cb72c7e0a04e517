"""Notebook 04's study: classical baselines with their parameters picked on the validation
split, every network and baseline scored on the test split, the skip type chosen on validation
scores, and the tables, headline numbers and curves of the results section."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from bballs.classical.restoration import (
    component_instances,
    gaussian_denoise,
    median_denoise,
    nearest_fill,
    threshold_segment,
)
from bballs.core.parameters import count_parameters
from bballs.data import physics
from bballs.metrics import (
    frame_stack,
    restoration_scores,
    seed_difference,
    seed_row,
    segmentation_scores,
)
from bballs.models.image_to_image import SKIPS, WIDTHS, matched_widths
from bballs.tasks.image_to_image import (
    GAUSSIAN_SIGMA,
    GAUSSIAN_SIGMAS,
    HOLE,
    MEDIAN_SIZES,
    METHOD_TITLES,
    PRIMARY,
    SALT_PEPPER,
    SEEDS,
    SEGMENT_NOISE_MAX,
    SKIP_TITLES,
    SMOOTHING_SIGMAS,
    TASKS,
    Condition,
    Data,
    Split,
    TrainedNetwork,
    build_model,
    condition_titles,
    conditions,
    config,
    score_network,
    skip_phrase,
    task,
)

# --- baselines with parameters picked on the validation split -----------------------------------

@dataclass
class Method:
    """A baseline: a name, the function of a condition, and the parameter it was tuned to."""

    name: str
    apply: Callable[[Condition], np.ndarray]
    parameter: str = ""


def _pick(candidates, score: Callable[[object], float]):
    return max(candidates, key=score)


def restoration_baselines(name: str, val: Split) -> list[Method]:
    """Baselines of a restoration task; filter sizes / widths chosen by the lowest val MSE."""
    identity = Method("input", lambda c: frame_stack(c.corrupted))
    if name == "inpaint":
        return [identity, Method("nearest", lambda c: nearest_fill(c.corrupted, c.mask))]
    (condition,) = conditions(name, val)
    clean = frame_stack(val.frames)

    def neg_mse(output: np.ndarray) -> float:
        return -float(((output - clean) ** 2).mean())

    size = _pick(MEDIAN_SIZES, lambda s: neg_mse(median_denoise(condition.corrupted, s)))
    sigma = _pick(GAUSSIAN_SIGMAS, lambda s: neg_mse(gaussian_denoise(condition.corrupted, s)))
    return [identity,
            Method("median", lambda c: median_denoise(c.corrupted, size), f"{size}x{size}"),
            Method("gaussian", lambda c: gaussian_denoise(c.corrupted, sigma),
                   f"std {sigma:g} px")]


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
    if task(name).kind == "restore":
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


# --- the whole study ----------------------------------------------------------------------------

@dataclass
class Study:
    """Scores of every run and baseline, and the skip type selected per task."""

    skips: dict[str, dict[str, dict]] = field(default_factory=dict)
    selected: dict[str, str] = field(default_factory=dict)
    tasks: dict[str, dict[str, dict[str, dict]]] = field(default_factory=dict)
    titles: dict[str, dict[str, str]] = field(default_factory=dict)


def select_skip(runs: dict[str, TrainedNetwork],
                repeats: Sequence[dict[str, TrainedNetwork]] = ()) -> str:
    """The skip type with the lowest final validation loss (mean over the seeds of ``runs`` and
    ``repeats``)."""
    return min(runs, key=lambda skip: np.mean([by_skip[skip].history.val_loss[-1]
                                               for by_skip in (runs, *repeats)]))


def _run_entry(run: TrainedNetwork, data: Data) -> dict:
    return {"scores": score_network(run, data.test), "val_loss": run.history.val_loss[-1],
            "params": run.parameters, "train_seconds": run.train_seconds,
            "epochs": run.history.epochs_done}


def evaluate_study(runs: dict[str, dict[str, TrainedNetwork]], data: Data,
                   repeats: Sequence[dict[str, dict[str, TrainedNetwork]]] = ()) -> Study:
    """Test scores of every network (per skip type; those of further seeds, ``repeats``, under
    ``repeats``) and, per task, of the selected network (first seed) against the baselines."""
    study = Study()
    for name, by_skip in runs.items():
        study.skips[name] = {}
        for skip, run in by_skip.items():
            study.skips[name][skip] = {**_run_entry(run, data), "repeats": [
                _run_entry(seed_runs[name][skip], data) for seed_runs in repeats]}
        best = study.selected[name] = select_skip(by_skip, [r[name] for r in repeats])
        baselines = score_baselines(name, data)
        study.tasks[name] = {cond: {"network": {**study.skips[name][best]["scores"][cond],
                                                "parameter": skip_phrase(best)}, **methods}
                             for cond, methods in baselines.items()}
        study.titles[name] = condition_titles(name)
    return study


# --- tables and the results section -------------------------------------------------------------

def model_rows(reference_task: str = "denoise_gaussian") -> list[dict]:
    """Widths and parameter counts of the three skip variants for every task."""
    rows = []
    for skip in SKIPS:
        row = {"skip": skip, "skip_title": SKIP_TITLES[skip],
               "widths": "-".join(map(str, matched_widths(skip)))}
        for name in TASKS:
            row[f"params_{name}"] = count_parameters(build_model(name, skip))
        rows.append(row)
    return rows


def skip_rows(study: Study) -> list[dict]:
    """Rows task x skip: the primary test metric (first and last condition), validation loss,
    params, train seconds; each a mean ± std over the seeds (:func:`seed_row`)."""
    rows = []
    for name, by_skip in study.skips.items():
        metric = PRIMARY[task(name).kind]
        for skip, entry in by_skip.items():
            per_seed = [_primary_scores(run, metric) for run in (entry, *entry.get("repeats", []))]
            rows.append({"score_2": None, "hole_mse": None,
                         **seed_row(per_seed, list(per_seed[0])), "task": name,
                         "task_title": task(name).title, "task_short": SHORT_NAMES[name],
                         "skip": skip, "skip_title": SKIP_TITLES[skip], "metric": metric,
                         "metric_name": METRIC_NAMES[metric], "params": entry["params"],
                         "selected": "yes" if study.selected[name] == skip else ""})
    return rows


def _primary_scores(run: dict, metric: str) -> dict[str, float]:
    """One run's ``metric`` on its first (``score``) and last (``score_2``) condition, hole MSE,
    validation loss and training time (fields a task lacks are left out)."""
    conds = list(run["scores"])
    first = run["scores"][conds[0]]
    scores = {"score": first[metric], "val_loss": run["val_loss"],
              "train_seconds": run["train_seconds"]}
    if len(conds) > 1:
        scores["score_2"] = run["scores"][conds[-1]][metric]
    if first.get("hole_mse") is not None:
        scores["hole_mse"] = first["hole_mse"]
    return scores


def task_rows(study: Study, names: tuple[str, ...]) -> list[dict]:
    """Rows task x condition x method with every score of those methods; the network's
    parameter is its skip type in words."""
    return [{"task": name, "task_title": task(name).title, "condition": study.titles[name][cond],
             "method": METHOD_TITLES[method],
             **{k: v for k, v in scores.items() if k != "parameter"},
             **({"background_text": background_text(scores["background"])}
                if "background" in scores else {}),
             "parameter": (skip_phrase(study.selected[name]) if method == "network"
                           else scores.get("parameter", ""))}
            for name in names for cond, methods in study.tasks[name].items()
            for method, scores in methods.items()]


def background_text(value: float) -> str:
    """The mean output on background pixels for a table: four decimals, "< 0.0001" below
    that, "0" when exact (one plain format for values from 10⁻⁷ to 0.1)."""
    if value == 0:
        return "0"
    return "<\u00a00.0001" if abs(value) < 1e-4 else f"{value:.4f}"


RESTORE_COLUMNS = {"condition": "corruption", "method": "method", "parameter": "parameter",
                   "psnr": "PSNR of the mean MSE (dB)", "ssim": "SSIM", "mse": "MSE (×10⁻³)",
                   "background_text": "mean on background"}
INPAINT_COLUMNS = {**RESTORE_COLUMNS, "hole_mse": "MSE in hole (×10⁻³)"}
IN_THOUSANDTHS = {"mse": 1e3, "hole_mse": 1e3, "val_loss": 1e3}  # shown in units of 10⁻³
METRIC_NAMES = {"psnr": "PSNR (dB)", "iou": "IoU"}
SEGMENT_COLUMNS = {"task_title": "task", "condition": "input", "method": "method",
                   "parameter": "parameter", "iou": "IoU", "dice": "Dice"}
SKIP_COLUMNS = {"task_short": "task", "skip_title": "skip connections", "metric_name": "metric",
                "score": "test score", "score_2": "test score (2nd condition)",
                "val_loss": "val. loss", "params": "params", "train_seconds": "training (s)",
                "selected": "selected"}
SHORT_NAMES = {"denoise_gaussian": "Gaussian denoising",
               "denoise_salt_pepper": "salt-and-pepper denoising", "inpaint": "in-painting",
               "segment_binary": "binary segmentation", "segment_instance": "instance segmentation"}
SKIP_RESTORE_COLUMNS = {"task_short": "task", "skip_title": "skip connections",
                        "score": "PSNR of the mean MSE (dB)",
                        "score_2": "same, random hole (dB)", "hole_mse": "MSE in hole (×10⁻³)",
                        "val_loss": "val. loss (×10⁻³)", "selected": "selected"}
SKIP_SEGMENT_COLUMNS = {"task_short": "task", "skip_title": "skip connections",
                        "score": "IoU, clean", "score_2": "IoU, noisy", "val_loss": "val. loss",
                        "selected": "selected"}
MODEL_COLUMNS = {"skip_title": "skip connections", "widths": "widths",
                 **{f"params_{name}": SHORT_NAMES[name] for name in TASKS}}


def tables(study: Study) -> dict[str, dict]:
    """The section's tables in the report's format (columns, rows)."""
    skips = skip_rows(study)
    return {
        "i2i_models": {"columns": MODEL_COLUMNS, "rows": model_rows()},
        "i2i_skips": {"columns": SKIP_COLUMNS, "rows": skips},
        "i2i_skips_restore": {"columns": SKIP_RESTORE_COLUMNS, "scale": IN_THOUSANDTHS,
                              "rows": [r for r in skips if r["metric"] == "psnr"]},
        "i2i_skips_segment": {"columns": SKIP_SEGMENT_COLUMNS,
                              "rows": [r for r in skips if r["metric"] == "iou"]},
        "i2i_denoise": {"columns": RESTORE_COLUMNS, "scale": IN_THOUSANDTHS,
                        "rows": task_rows(study, ("denoise_gaussian", "denoise_salt_pepper"))},
        "i2i_inpaint": {"columns": INPAINT_COLUMNS, "scale": IN_THOUSANDTHS,
                        "rows": task_rows(study, ("inpaint",))},
        "i2i_segment": {"columns": SEGMENT_COLUMNS,
                        "rows": task_rows(study, ("segment_binary", "segment_instance"))},
    }


def settings(data: Data, quick: bool) -> dict:
    """Every fixed choice of the study, for the report."""
    return {"gaussian_sigma": GAUSSIAN_SIGMA, "salt_pepper": SALT_PEPPER, "hole": HOLE,
            "segment_noise_max": SEGMENT_NOISE_MAX, "epochs": config(quick).epochs,
            "batch_size": config(quick).batch_size, "lr": config(quick).lr,
            "seeds": 1 if quick else SEEDS,
            "n_train": len(data.train.frames),
            "n_val": len(data.val.frames), "n_test": len(data.test.frames), "quick": quick,
            "median_sizes": list(MEDIAN_SIZES), "gaussian_sigmas": list(GAUSSIAN_SIGMAS),
            "smoothing_sigmas": list(SMOOTHING_SIGMAS),
            "widths": {skip: list(matched_widths(skip)) for skip in SKIPS},
            "input_values": physics.RESOLUTION**2,
            "bottleneck_values": (physics.RESOLUTION // 4) ** 2 * WIDTHS[-1],
            "param_spread": param_spread()}


def param_spread() -> float:
    """The largest relative difference in parameters between the skip types of any task."""
    counts = [[count_parameters(build_model(name, skip)) for skip in SKIPS] for name in TASKS]
    return max(max(task) / min(task) - 1 for task in counts)


def headline(study: Study) -> dict[str, dict[str, dict]]:
    """Per task and condition: the network's primary score (PSNR or IoU), the best classical
    baseline's (not "input") and the margin network - baseline (positive: network better);
    per task also the spread of the primary score over the skip types (max - min)."""
    out: dict[str, dict[str, dict]] = {}
    all_skip_rows = skip_rows(study)
    for name, by_cond in study.tasks.items():
        metric = PRIMARY[task(name).kind]
        out[name] = {}
        for cond, methods in by_cond.items():
            classical = {m: v[metric] for m, v in methods.items() if m not in ("network", "input")}
            best = max(classical, key=classical.get)
            net = methods["network"][metric]
            out[name][cond] = {"metric": metric, "network": net, "baseline": best,
                               "baseline_title": METHOD_TITLES[best],
                               "baseline_score": classical[best], "margin": net - classical[best]}
        rows = sorted((row for row in all_skip_rows if row["task"] == name),
                      key=lambda row: row["score"])
        out[name]["skip_spread"] = rows[-1]["score"] - rows[0]["score"]
        out[name]["skip_verdict"] = seed_difference(rows[-1], rows[0], "score", (
            rows[-1]["skip_title"], rows[0]["skip_title"]))["verdict"]
    return out


def section(study: Study, data: Data, quick: bool, wall_seconds: float) -> dict:
    """The ``image_to_image`` section of ``lab3.json``."""
    return {"settings": settings(data, quick), "selected": study.selected,
            "selected_titles": {name: skip_phrase(skip) for name, skip in study.selected.items()},
            "skips": study.skips, "tasks": study.tasks, "headline": headline(study),
            "wall_seconds": wall_seconds, "tables": tables(study)}


# --- figure data ----------------------------------------------------------------------------------

def validation_losses(runs: dict[str, dict[str, TrainedNetwork]]
                      ) -> dict[str, dict[str, list[float]]]:
    """``losses[task][skip]``: the validation loss per epoch of every run."""
    return {name: {skip: run.history.val_loss for skip, run in by_skip.items()}
            for name, by_skip in runs.items()}
