"""Notebook 04's longer study: do skip connections matter once the networks have converged?

The main study (:mod:`~bballs.tasks.image_to_image_study`) trains all five tasks for the
recipe's 4 epochs, too short to settle the skip question. Here the three tasks where skips
plausibly matter (salt-and-pepper denoising, in-painting, instance segmentation) are trained
again with every skip type and :data:`~bballs.tasks.image_to_image.N_SEEDS` seeds for
:data:`LONG_EPOCHS` epochs (the same recipe otherwise: the cosine decay spans the longer run),
and compared on each task's decisive measure, beside the 4-epoch numbers.

It takes about an hour on a 2-core CPU, so it is a command of its own (``python -m bballs
i2i-long``, :func:`run`), not part of notebook 04: the command writes its scores and validation
curves to ``results/lab3_long.json`` under the digest of the data it trained on, and the
notebook shows them (:func:`recorded`) only for the same data and settings.
"""

from __future__ import annotations

import json
from dataclasses import asdict

import torch

from bballs.core.files import OutputPaths, read_results, update_results
from bballs.metrics import verdict_summary
from bballs.models.image_to_image import SKIPS
from bballs.tasks.image_to_image import N_SEEDS, RECIPES, Data, TrainedNetwork, train
from bballs.tasks.image_to_image_study import (
    SHORT_NAMES,
    Study,
    score_skips,
    skip_gap,
    skip_rows,
    validation_losses,
)

LONG_TASKS = ("denoise_salt_pepper", "inpaint", "segment_instance")
LONG_EPOCHS = 12
SUFFIX = "_long"  # checkpoints lab3/i2i_<task>_<skip>_long[_seed<n>]
LONG_FILE = "lab3_long.json"
COMMAND = "python -m bballs i2i-long"
MISSING = (f"The longer study has not been run on these data files: `{COMMAND}` trains it "
           f"(about an hour on a 2-core CPU), then run this notebook again.")

Runs = dict[str, dict[str, TrainedNetwork]]


def train_long(data: Data, paths: OutputPaths, quick: bool,
               device: torch.device | str | None = None, seed: int = 0) -> list[Runs]:
    """Every task of :data:`LONG_TASKS` with every skip type for :data:`LONG_EPOCHS` epochs,
    once per seed (``seed`` .. ``seed + N_SEEDS - 1``; quick: one seed, one epoch)."""
    seeds = range(seed, seed + (1 if quick else N_SEEDS))
    return [{name: {skip: train(name, skip, data, paths, quick, device, one, LONG_EPOCHS, SUFFIX)
                    for skip in SKIPS} for name in LONG_TASKS} for one in seeds]


def study_settings(quick: bool, seed: int = 0) -> dict:
    """What a recorded study must match to be shown: tasks, epochs, seeds and the recipes (as
    they read back from JSON)."""
    return json.loads(json.dumps({
        "tasks": LONG_TASKS, "epochs": 1 if quick else LONG_EPOCHS,
        "seeds": list(range(seed, seed + (1 if quick else N_SEEDS))), "quick": quick,
        "recipes": {kind: asdict(recipe) for kind, recipe in RECIPES.items()}}))


def run(data: Data, paths: OutputPaths, quick: bool, source: dict,
        device: torch.device | str | None = None, seed: int = 0) -> dict:
    """Train (or reuse the checkpoints of) the longer study, score it and record it in
    ``results/lab3_long.json`` with ``source`` (the data's :func:`~bballs.data.identity.
    data_source`); returns the record."""
    runs = train_long(data, paths, quick, device, seed)
    study = evaluate_long(runs, data)
    record = {"data_source": source, "settings": study_settings(quick, seed),
              "study": {"skips": study.skips, "selected": study.selected},
              "val_losses": long_validation_losses(runs)}
    update_results(paths.results / LONG_FILE, "long", record)
    return record


def recorded(paths: OutputPaths, source: dict, quick: bool,
             seed: int = 0) -> tuple[Study, dict] | None:
    """The recorded study and its first seed's validation curves, if ``results/lab3_long.json``
    holds one for the data of ``source`` with these settings; else None."""
    path = paths.results / LONG_FILE
    record = read_results(path).get("long") if path.is_file() else None
    if (not record or record["data_source"].get("digest") != source.get("digest")
            or record["settings"] != study_settings(quick, seed)):
        return None
    return Study(**record["study"]), record["val_losses"]


def evaluate_long(runs: list[Runs], data: Data) -> Study:
    """Test scores of every long run, the further seeds under ``repeats`` (as in the main
    study), and the skip type each task's validation loss selects (:func:`score_skips`)."""
    first, *repeats = runs
    return score_skips(first, data, repeats)


COMPARED = ("score", "score_2", "hole_mse", "val_loss")


def compared_rows(long: Study, short_rows: list[dict]) -> list[dict]:
    """The long study's rows (:func:`skip_rows`) with the main study's 4-epoch rows of the same
    task and skip type (``short_rows``) beside them (``short_<field>``)."""
    short_rows = {(row["task"], row["skip"]): row for row in short_rows}
    rows = []
    for row in skip_rows(long):
        before = short_rows[row["task"], row["skip"]]
        rows.append({**row, **{f"short_{key}{suffix}": before[f"{key}{suffix}"]
                               for key in COMPARED for suffix in ("", "_mean", "_std")
                               if f"{key}{suffix}" in before}})
    return rows


def _epochs(n: int) -> str:
    return f"{n} epoch{'' if n == 1 else 's'}"


def _columns(short: int, epochs: int) -> dict[str, dict]:
    short, epochs = _epochs(short), _epochs(epochs)
    restore = {"task_short": "task", "skip_title": "skip connections",
               "short_score": f"PSNR, {short} (dB)", "score": f"PSNR, {epochs} (dB)",
               "short_hole_mse": f"MSE in hole, {short} (×10⁻³)",
               "hole_mse": f"MSE in hole, {epochs} (×10⁻³)", "selected": "selected"}
    segment = {"task_short": "task", "skip_title": "skip connections",
               "short_score_2": f"IoU noisy, {short}",
               "score_2": f"IoU noisy, {epochs}",
               "score": f"IoU clean, {epochs}", "selected": "selected"}
    return {"restore": restore, "segment": segment}


def tables(rows: list[dict], short: int, epochs: int) -> dict[str, dict]:
    """The long study's two tables (restoration, segmentation) in the report's format, the main
    study's ``short`` epochs beside the long study's ``epochs``."""
    columns = _columns(short, epochs)
    mse = ("hole_mse", "short_hole_mse")
    return {
        "i2i_long_restore": {
            "columns": columns["restore"], "scale": dict.fromkeys(mse, 1e3),
            "decimals": {**dict.fromkeys(mse, 2), "score": 2, "short_score": 2},
            "rows": [r for r in rows if r["metric"] == "psnr"]},
        "i2i_long_segment": {
            "columns": columns["segment"], "decimals": dict.fromkeys(
                ("score", "score_2", "short_score_2"), 4),
            "rows": [r for r in rows if r["metric"] == "iou"]},
    }


def section(long: Study, short: Study, quick: bool) -> dict:
    """The ``image_to_image.long`` section of ``lab3.json``: settings, tables, and per task the
    spread over the skip types and the best-vs-worst verdict on the decisive measure, at
    :data:`LONG_EPOCHS` epochs and (``short_*``) at the main study's 4."""
    short_rows = skip_rows(short)
    rows = compared_rows(long, short_rows)
    epochs, short_epochs = (1, 1) if quick else (LONG_EPOCHS, RECIPES["restore"].epochs)
    gaps = {name: skip_gap([r for r in rows if r["task"] == name], name) for name in long.skips}
    short_gaps = {name: skip_gap([r for r in short_rows if r["task"] == name], name)
                  for name in long.skips}
    return {"settings": {"tasks": list(LONG_TASKS), "epochs": epochs,
                         "short_epochs": short_epochs,
                         "seeds": 1 if quick else N_SEEDS},
            "selected": long.selected, "gaps": gaps, "short_gaps": short_gaps,
            "verdicts": verdict_summary({SHORT_NAMES[n]: g["skip_verdict"]
                                         for n, g in gaps.items()}),
            "train_seconds": sum(entry["train_seconds"] + sum(r["train_seconds"]
                                                              for r in entry["repeats"])
                                 for by_skip in long.skips.values()
                                 for entry in by_skip.values()),
            "skips": long.skips, "tables": tables(rows, short_epochs, epochs)}


def long_validation_losses(runs: list[Runs]) -> dict[str, dict[str, list[float]]]:
    """Validation loss per epoch of the first seed's long runs (``losses[task][skip]``)."""
    return validation_losses(runs[0])
