"""Notebook 04's study: every network and classical baseline
(:mod:`~bballs.tasks.image_to_image_baselines`) scored on the test split, the skip type chosen
on validation scores, and the tables, headline numbers and curves of the results section."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from bballs.core.parameters import count_parameters
from bballs.data import physics
from bballs.metrics import (
    MSE_FACTOR,
    marked_verdict,
    seed_difference,
    seed_row,
    verdict_summary,
)
from bballs.models.image_to_image import SKIPS, WIDTHS, matched_widths
from bballs.tasks.image_to_image import (
    GAUSSIAN_SIGMA,
    HOLE,
    IMAGE_TASKS,
    N_SEEDS,
    PRIMARY,
    RECIPES,
    SALT_PEPPER,
    SEGMENT_NOISE_MAX,
    Data,
    TrainedNetwork,
    build_model,
    condition_titles,
    image_task,
    score_network,
)
from bballs.tasks.image_to_image_baselines import (
    GAUSSIAN_SIGMAS,
    MEDIAN_SIZES,
    NL_MEANS_DISTANCE,
    NL_MEANS_H,
    NL_MEANS_PATCH,
    SMOOTHING_SIGMAS,
    TV_WEIGHTS,
    score_baselines,
)

SKIP_TITLES = {"none": "no skips", "add": "additive", "concat": "concatenation"}


def skip_phrase(skip: str) -> str:
    """A skip type in words for a sentence or a table cell: "no skips", "additive skips"."""
    return "no skips" if skip == "none" else f"{SKIP_TITLES[skip]} skips"


METHOD_TITLES = {"network": "network", "input": "input (no change)", "median": "median filter",
                 "gaussian": "Gaussian filter", "nl_means": "non-local means",
                 "tv": "total variation",
                 "nearest": "nearest known pixel", "biharmonic": "biharmonic fill",
                 "threshold": "threshold 0.5", "smoothed": "smoothed threshold"}


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


def run_entry(run: TrainedNetwork, data: Data) -> dict:
    return {"scores": score_network(run, data.test), "val_loss": run.history.val_loss[-1],
            "params": run.parameters, "train_seconds": run.train_seconds,
            "epochs": run.history.epochs_done}


def score_skips(runs: dict[str, dict[str, TrainedNetwork]], data: Data,
                repeats: Sequence[dict[str, dict[str, TrainedNetwork]]] = ()) -> Study:
    """Test scores of every network (per task and skip type; those of further seeds,
    ``repeats``, under ``repeats``) and the skip type each task's validation loss selects."""
    study = Study()
    for name, by_skip in runs.items():
        study.skips[name] = {skip: {**run_entry(run, data), "repeats": [
            run_entry(seed_runs[name][skip], data) for seed_runs in repeats]}
            for skip, run in by_skip.items()}
        study.selected[name] = select_skip(by_skip, [r[name] for r in repeats])
    return study


def evaluate_study(runs: dict[str, dict[str, TrainedNetwork]], data: Data,
                   repeats: Sequence[dict[str, dict[str, TrainedNetwork]]] = ()) -> Study:
    """Test scores of every network (per skip type; those of further seeds, ``repeats``, under
    ``repeats``) and, per task, of the selected network (mean and std over the seeds,
    :func:`network_scores`) against the baselines."""
    study = score_skips(runs, data, repeats)
    for name in runs:
        best = study.selected[name]
        baselines = score_baselines(name, data)
        study.tasks[name] = {cond: {"network": {**network_scores(study.skips[name][best], cond),
                                                "parameter": skip_phrase(best)}, **methods}
                             for cond, methods in baselines.items()}
        study.titles[name] = condition_titles(name)
    return study


def network_scores(entry: dict, condition: str) -> dict:
    """One network's scores on ``condition``: each the mean over its seeds (the entry and its
    ``repeats``), with ``<score>_mean``, ``<score>_std`` and ``seeds`` (:func:`seed_row`)."""
    per_seed = [run["scores"][condition] for run in (entry, *entry.get("repeats", []))]
    return seed_row(per_seed, [k for k, v in per_seed[0].items() if v is not None])


# --- tables and the results section -------------------------------------------------------------

def model_rows(reference_task: str = "denoise_gaussian") -> list[dict]:
    """Widths and parameter counts of the three skip variants for every task."""
    rows = []
    for skip in SKIPS:
        row = {"skip": skip, "skip_title": SKIP_TITLES[skip],
               "widths": "-".join(map(str, matched_widths(skip)))}
        for name in IMAGE_TASKS:
            row[f"params_{name}"] = count_parameters(build_model(name, skip))
        rows.append(row)
    return rows


def skip_rows(study: Study) -> list[dict]:
    """Rows task x skip: the primary test metric (first and last condition), validation loss,
    params, train seconds; each a mean ± std over the seeds (:func:`seed_row`)."""
    rows = []
    for name, by_skip in study.skips.items():
        metric = PRIMARY[image_task(name).kind]
        for skip, entry in by_skip.items():
            per_seed = [_primary_scores(run, metric) for run in (entry, *entry.get("repeats", []))]
            rows.append({"score_2": None, "hole_mse": None,
                         **seed_row(per_seed, list(per_seed[0])), "task": name,
                         "task_title": image_task(name).title, "task_short": SHORT_NAMES[name],
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
    return [{"task": name, "task_title": image_task(name).title,
             "condition": study.titles[name][cond],
             "method": METHOD_TITLES[method],
             **{k: v for k, v in scores.items() if k != "parameter"},
             "parameter": (skip_phrase(study.selected[name]) if method == "network"
                           else scores.get("parameter", ""))}
            for name in names for cond, methods in study.tasks[name].items()
            for method, scores in methods.items()]


RESTORE_COLUMNS = {"condition": "corruption", "method": "method", "parameter": "parameter",
                   "psnr": "PSNR (dB)", "ssim": "SSIM", "mse": "MSE (×10⁻³)",
                   "background": "background (×10⁻³)"}  # the captions name the PSNR convention
INPAINT_COLUMNS = {**RESTORE_COLUMNS, "hole_mse": "MSE in hole (×10⁻³)"}
IN_THOUSANDTHS = dict.fromkeys(("mse", "hole_mse", "val_loss", "background"),
                               MSE_FACTOR)  # in 10⁻³
#: Every MSE and background level in 10⁻³ with two decimals (3.93 ± 0.28), in every table;
#: validation losses with three, so that the one a selection picked shows (0.431 against 0.434).
THOUSANDTHS = {"scale": IN_THOUSANDTHS,
               "decimals": {field: 3 if field == "val_loss" else 2 for field in IN_THOUSANDTHS}}
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
                        "score_2": "PSNR, random hole (dB)", "hole_mse": "MSE in hole (×10⁻³)",
                        "val_loss": "val. loss (×10⁻³)", "selected": "selected"}
SKIP_SEGMENT_COLUMNS = {"task_short": "task", "skip_title": "skip connections",
                        "score": "IoU, clean", "score_2": "IoU, noisy",
                        "val_loss": "val. loss (×10⁻³)", "selected": "selected"}
MODEL_COLUMNS = {"skip_title": "skip connections", "widths": "widths",
                 **{f"params_{name}": SHORT_NAMES[name] for name in IMAGE_TASKS}}


def model_table() -> dict:
    """The widths and parameter counts of every network (declared as in ``lab3.json``)."""
    return {"columns": MODEL_COLUMNS, "rows": model_rows()}


def tables(study: Study) -> dict[str, dict]:
    """The section's tables in the report's format (columns, rows)."""
    skips = skip_rows(study)
    return {
        "i2i_models": model_table(),
        "i2i_skips": {"columns": SKIP_COLUMNS, "rows": skips},
        "i2i_skips_restore": {"columns": SKIP_RESTORE_COLUMNS, **THOUSANDTHS,
                              "rows": [r for r in skips if r["metric"] == "psnr"]},
        "i2i_skips_segment": {"columns": SKIP_SEGMENT_COLUMNS, **THOUSANDTHS,
                              "rows": [r for r in skips if r["metric"] == "iou"]},
        "i2i_denoise": {"columns": RESTORE_COLUMNS, **THOUSANDTHS,
                        "rows": task_rows(study, ("denoise_gaussian", "denoise_salt_pepper"))},
        "i2i_inpaint": {"columns": INPAINT_COLUMNS, **THOUSANDTHS,
                        "rows": task_rows(study, ("inpaint",))},
        "i2i_segment": {"columns": SEGMENT_COLUMNS,
                        "rows": task_rows(study, ("segment_binary", "segment_instance"))},
    }


def settings(data: Data, quick: bool) -> dict:
    """Every fixed choice of the study, for the report."""
    recipe = RECIPES["restore"].for_run(0, quick)  # both kinds share these settings
    return {"gaussian_sigma": GAUSSIAN_SIGMA, "salt_pepper": SALT_PEPPER, "hole": HOLE,
            "segment_noise_max": SEGMENT_NOISE_MAX, "epochs": recipe.epochs,
            "batch_size": recipe.batch_size, "lr": recipe.lr,
            "seeds": 1 if quick else N_SEEDS,
            "n_train": len(data.train.frames),
            "n_val": len(data.val.frames), "n_test": len(data.test.frames), "quick": quick,
            "median_sizes": list(MEDIAN_SIZES), "gaussian_sigmas": list(GAUSSIAN_SIGMAS),
            "smoothing_sigmas": list(SMOOTHING_SIGMAS), "nl_means_h": list(NL_MEANS_H),
            "nl_means_patch": NL_MEANS_PATCH, "nl_means_distance": NL_MEANS_DISTANCE,
            "tv_weights": list(TV_WEIGHTS),
            "widths": {skip: list(matched_widths(skip)) for skip in SKIPS},
            "input_values": physics.RESOLUTION**2,
            "bottleneck_values": (physics.RESOLUTION // 4) ** 2 * WIDTHS[-1],
            "param_spread": param_spread()}


def param_spread() -> float:
    """The largest relative difference in parameters between the skip types of any task."""
    counts = [[count_parameters(build_model(name, skip)) for skip in SKIPS] for name in IMAGE_TASKS]
    return max(max(task) / min(task) - 1 for task in counts)


#: The measure each task's skip comparison is decided on, the one the task is about, and its
#: sign (+1: higher is better) and scale (the unit the tables show): the test score on the first
#: condition, except in-painting (MSE inside the hole, in 10⁻³) and segmentation (IoU on noisy
#: inputs, the second condition).
DECISIVE = {"inpaint": ("hole_mse", -1.0, MSE_FACTOR), "segment_binary": ("score_2", 1.0, 1.0),
            "segment_instance": ("score_2", 1.0, 1.0)}


def decisive(name: str) -> tuple[str, float, float]:
    """Field of :func:`skip_rows`, sign and scale of task ``name``'s decisive measure."""
    return DECISIVE.get(name, ("score", 1.0, 1.0))


def skip_gap(rows: list[dict], name: str) -> dict:
    """The best and worst skip type of task ``name`` by its decisive measure: their names and
    values and the spread between them (in the tables' unit), and the verdict against the
    seeds' std (:func:`seed_difference`)."""
    key, sign, scale = decisive(name)
    signed = sorted(({"value": sign * row[key], "value_std": row.get(f"{key}_std"),
                      "seeds": row["seeds"], "title": row["skip_title"]} for row in rows),
                    key=lambda row: row["value"])
    best, worst = signed[-1], signed[0]
    return {"skip_measure": key, "skip_spread": scale * (best["value"] - worst["value"]),
            "skip_verdict": marked_verdict(seed_difference(best, worst, "value",
                                                           (best["title"], worst["title"]))),
            "skip_best": best["title"], "skip_best_value": scale * sign * best["value"],
            "skip_worst": worst["title"], "skip_worst_value": scale * sign * worst["value"]}


def headline(study: Study) -> dict[str, dict[str, dict]]:
    """Per task and condition: the network's primary score (PSNR or IoU; its mean over the
    seeds, also as ``network_mean``, and their std as ``network_std``), the best classical
    baseline's (not "input"; deterministic), the margin network - baseline (the mean;
    positive: network better) and, for in-painting, each method's MSE in the hole in 10⁻³
    (``hole_mse_e3``); per task also the spread of the decisive measure over the skip
    types (:func:`skip_gap`)."""
    out: dict[str, dict[str, dict]] = {}
    all_skip_rows = skip_rows(study)
    for name, by_cond in study.tasks.items():
        metric = PRIMARY[image_task(name).kind]
        out[name] = {}
        for cond, methods in by_cond.items():
            classical = {m: v[metric] for m, v in methods.items() if m not in ("network", "input")}
            best = max(classical, key=classical.get)
            network = methods["network"]  # the mean over its seeds (network_scores)
            net = network[metric]
            out[name][cond] = {"metric": metric, "network": net, "baseline": best,
                               "baseline_title": METHOD_TITLES[best],
                               "baseline_score": classical[best], "margin": net - classical[best],
                               "network_mean": net,
                               "network_std": network.get(f"{metric}_std") or 0.0,
                               "seeds": network["seeds"],
                               "hole_mse_e3": {m: MSE_FACTOR * v["hole_mse"]
                                               for m, v in methods.items()
                                               if v.get("hole_mse") is not None}}
        out[name].update(skip_gap([row for row in all_skip_rows if row["task"] == name], name))
    return out


def section(study: Study, data: Data, quick: bool, wall_seconds: float,
            long: dict | None = None) -> dict:
    """The ``image_to_image`` section of ``lab3.json``; with ``long``, the longer study's section
    (:func:`bballs.tasks.image_to_image_convergence.section`) under ``long``, its tables among
    the section's."""
    head = headline(study)
    long = dict(long or {})
    return {"settings": settings(data, quick), "selected": study.selected,
            "selected_titles": {name: skip_phrase(skip) for name, skip in study.selected.items()},
            "skips": study.skips, "tasks": study.tasks, "headline": head,
            "skip_verdicts": verdict_summary(  # best vs worst skip type, in one sentence
                {SHORT_NAMES[name]: entry["skip_verdict"] for name, entry in head.items()}),
            "wall_seconds": wall_seconds, "tables": {**tables(study), **long.pop("tables", {})},
            **({"long": long} if long else {})}


# --- figure data ----------------------------------------------------------------------------------

def validation_losses(runs: dict[str, dict[str, TrainedNetwork]]
                      ) -> dict[str, dict[str, list[float]]]:
    """``losses[task][skip]``: the validation loss per epoch of every run."""
    return {name: {skip: run.history.val_loss for skip, run in by_skip.items()}
            for name, by_skip in runs.items()}
