"""Tasks 4 and 7: training recipes (variants), one sweep engine for both, and their result rows.

A task supplies two functions: ``prepare`` turns a (variant, seed) into a :class:`Run` (model,
data, configuration) and ``score`` evaluates a trained model. The engine trains every run with
:func:`bballs.training.loop.fit` (checkpointed as ``checkpoints/<task>/<variant>_seed<k>.pt``) and
keeps one row per (variant, seed) in ``results/<task>_ablation.json``. A row is reused only while
its checkpoint exists, trained every epoch and has the row's fingerprint; otherwise the run
trains again (resuming a partial checkpoint) and its row is replaced.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from bballs.data import augment as aug
from bballs.data.dataset import PART2_SEQUENCES, load_npz, split_train_val, to_tensor
from bballs.data.identity import data_source
from bballs.models.improved import (
    CountNet,
    FrameAutoencoder,
    FramePredictor,
    NormalisedCountNet,
    PhysicsPriorPredictor,
)
from bballs.models.spec import BallCounter, UNet, count_parameters
from bballs.models.unet_variants import UNetConcat, UNetNoSkip
from bballs.reporting.results import OutputPaths, read_results, update_results
from bballs.tasks import counting, prediction, robustness
from bballs.training.loop import (
    Augment,
    Step,
    Supervised,
    TrainConfig,
    checkpoint_epochs,
    cosine,
    fingerprint,
    fingerprint_digest,
    fit,
    load_weights,
    seed_everything,
)

SEEDS = (0, 1, 2)



@dataclass(frozen=True)
class Variant:
    """One training recipe: model class, optimisation, augmentation, loss and pre-training.

    ``study`` groups rows in tables ("ablation": one change at a time; "labels": the
    label-fraction study).
    """

    name: str
    change: str  # what differs from the row before / the specification, in words
    model: Callable[[], nn.Module]
    epochs: int
    batch_size: int = 4
    lr: float = 1e-3
    augment: Augment | None = None
    schedule: bool = False
    loss: Callable[[], nn.Module] = nn.MSELoss
    pretrained: bool = False
    label_fraction: float = 1.0
    study: str = "ablation"

    def config(self, seed: int, quick: bool) -> TrainConfig:
        return TrainConfig(epochs=1 if quick else self.epochs, batch_size=self.batch_size,
                           lr=self.lr, seed=seed, tag=self.tag)

    @property
    def tag(self) -> str:
        """Everything about the recipe that the numbers of :class:`TrainConfig` do not say."""
        augment = self.augment.__name__ if self.augment else "none"
        return (f"aug={augment},cosine={self.schedule},loss={self.loss.__name__},"
                f"pretrained={self.pretrained},labels={self.label_fraction}")

    def describe(self) -> dict[str, Any]:
        """The recipe as plain values, for tables and the report."""
        return {"variant": self.name, "change": self.change, "model": self.model.__name__,
                "epochs": self.epochs, "batch_size": self.batch_size, "lr": self.lr,
                "augment": self.augment.__name__ if self.augment else "none",
                "schedule": "cosine" if self.schedule else "constant",
                "loss": self.loss.__name__, "pretrained": self.pretrained,
                "label_fraction": self.label_fraction, "study": self.study}


@dataclass
class Run:
    """Everything :func:`bballs.training.loop.fit` needs for one (variant, seed)."""

    model: nn.Module
    train: tuple[torch.Tensor, torch.Tensor]
    val: tuple[torch.Tensor, torch.Tensor]
    step: Step  # the method's loss, see bballs.training.loop
    config: TrainConfig
    fit_options: dict[str, Any] = field(default_factory=dict)
    initialise: Callable[[nn.Module], None] | None = None  # only when training starts


@dataclass(frozen=True)
class Context:
    """Where a sweep reads data and writes checkpoints and rows."""

    paths: OutputPaths
    data_dir: Path
    quick: bool = False

    def data_digest(self) -> str:
        """One digest of the three dataset files' content (rows record it)."""
        return data_source(self.data_dir)["digest"]


@dataclass(frozen=True)
class Task:
    """A task's part in the engine: how to load its data, build a run and score a model."""

    name: str
    load_data: Callable[[Context], Any]
    prepare: Callable[[Variant, int, Any, Context], Run]
    score: Callable[[nn.Module, Variant, Any], dict]
    variants: tuple[Variant, ...]  # every recipe of the sweep, in table order
    final: Variant | None  # the recipe the notebook reports, if the task has one
    score_keys: tuple[str, ...]  # what ``score`` returns: a row without one is scored again
    ablation_seeds: int = len(SEEDS)  # seeds per non-final variant in a full sweep

    def results_file(self, paths: OutputPaths) -> Path:
        return paths.results / f"{self.name}_ablation.json"

    def checkpoint(self, paths: OutputPaths, variant: Variant, seed: int) -> Path:
        return paths.checkpoint(f"{self.name}/{variant.name}_seed{seed}")


def _build(variant: Variant, seed: int) -> nn.Module:
    seed_everything(seed)
    return variant.model()


def train_or_reuse(task: Task, variant: Variant, seed: int, data: Any, context: Context,
                   row: dict | None = None) -> tuple[nn.Module, dict]:
    """The trained model of one (variant, seed) and its row.

    ``row`` (the recorded one, if any) is reused when the checkpoint on disk is a finished run
    with the row's fingerprint (and scored again from those weights if the task now reports more
    than the row holds, or the row was scored on other data files); otherwise the run trains
    (resuming a partial checkpoint) and a fresh row is made from the weights that now exist.
    """
    run = task.prepare(variant, seed, data, context)
    checkpoint = task.checkpoint(context.paths, variant, seed)
    run_id = fingerprint(run.model, run.config, run.train)
    digest = fingerprint_digest(run_id)
    done = checkpoint_epochs(checkpoint, run_id)
    if row and row.get("fingerprint") == digest and done == run.config.epochs:
        model = load_weights(run.model, checkpoint, run_id).eval()
        if not set(task.score_keys) <= set(row) or row.get("data") != context.data_digest():
            # the same training data, but the row lacks a score or other files were scored
            row = {**row, **task.score(model, variant, data), "data": context.data_digest()}
        return model, row
    if run.initialise and done is None:
        run.initialise(run.model)
    history = fit(run.model, run.train, run.val, run.step, run.config, checkpoint=checkpoint,
                  desc=f"{variant.name} seed {seed}", **run.fit_options)
    scores = task.score(run.model.eval(), variant, data)
    row = {**variant.describe(), "seed": seed, "quick": context.quick, "epochs": run.config.epochs,
           "tag": variant.tag, "fingerprint": digest, "data": context.data_digest(),
           "train_examples": len(run.train[0]),
           "parameters": count_parameters(run.model),
           "train_seconds": float(sum(history.epoch_seconds)), **scores}
    return run.model.eval(), row


def run_sweep(task: Task, variants: Sequence[Variant], seeds: Sequence[int], context: Context,
              data: Any = None, force: bool = False) -> list[dict]:
    """Train (or reuse) every (variant, seed); returns all rows of the task's ablation file.

    Rows are written after every run, so an interrupted sweep resumes where it stopped.
    ``force`` retrains every listed run from scratch and replaces its row.
    """
    data = task.load_data(context) if data is None else data
    rows = read_results(task.results_file(context.paths)).get("rows", [])
    for variant in variants:
        for seed in seeds:
            _, _, rows = _run_and_record(task, variant, seed, data, context, rows, force)
    return rows


def final_model(task: Task, variant: Variant, seed: int, context: Context,
                data: Any = None) -> tuple[nn.Module, dict]:
    """The trained final recipe of ``task`` for one seed (trained now if no valid checkpoint
    exists); its row in the ablation file is kept up to date."""
    data = task.load_data(context) if data is None else data
    rows = read_results(task.results_file(context.paths)).get("rows", [])
    model, row, _ = _run_and_record(task, variant, seed, data, context, rows)
    return model, row


def _run_and_record(task: Task, variant: Variant, seed: int, data: Any, context: Context,
                    rows: list[dict], force: bool = False) -> tuple[nn.Module, dict, list[dict]]:
    """:func:`train_or_reuse` one run; a new row replaces the old one in ``rows`` and in the
    task's ablation file. Returns the model, its row and the updated rows."""
    if force:
        task.checkpoint(context.paths, variant, seed).unlink(missing_ok=True)
    old = _find_row(rows, variant, seed, context.quick)
    model, row = train_or_reuse(task, variant, seed, data, context, None if force else old)
    if row is not old:
        rows = [r for r in rows if r is not old] + [row]
        update_results(task.results_file(context.paths), "rows", rows)
    return model, row, rows


def _find_row(rows: list[dict], variant: Variant, seed: int, quick: bool) -> dict | None:
    return next((r for r in rows if r["variant"] == variant.name and r["seed"] == seed
                 and r.get("quick") == quick), None)


def mode_rows(paths: OutputPaths, task: Task, quick: bool, data_dir: Path | None = None
              ) -> list[dict]:
    """The ablation rows of ``task`` recorded in the given mode (quick or full) and, with
    ``data_dir``, computed from the dataset files there (rows of other data are left out, with
    one line saying how many)."""
    rows = [r for r in read_results(task.results_file(paths)).get("rows", [])
            if r.get("quick") == quick]
    if data_dir is None:
        return rows
    digest = data_source(data_dir)["digest"]
    mine = [r for r in rows if r.get("data") == digest]
    if len(mine) < len(rows):
        print(f"{task.name}: {len(rows) - len(mine)} recorded rows come from other data "
              f"(not {digest}) and are left out; `python -m bballs experiments {task.name}` "
              "computes them for these files")
    return mine


def summarise(rows: list[dict], metrics: tuple[str, ...],
              order: Sequence[Variant] = ()) -> list[dict]:
    """Mean and standard deviation over seeds of each metric, one row per variant, in the
    order of ``order`` (variants not in it last)."""
    known = [v.name for v in order]
    names = sorted(dict.fromkeys(r["variant"] for r in rows),
                   key=lambda name: known.index(name) if name in known else len(known))
    table = []
    for name in names:
        group = [r for r in rows if r["variant"] == name]
        entry = {key: group[0].get(key)
                 for key in ("variant", "change", "study", "epochs", "parameters")}
        if name in known:  # the recipe's description as the code states it now
            entry["change"] = order[known.index(name)].change
        entry.update(seeds=len(group),
                     train_seconds=float(np.mean([r["train_seconds"] for r in group])))
        for metric in metrics:
            values = np.array([r[metric] for r in group], dtype=float)
            entry[f"{metric}_mean"] = float(values.mean())
            entry[f"{metric}_std"] = float(values.std()) if len(values) > 1 else None
        if all("families" in r for r in group):
            entry["families"] = robustness.mean_family_scores([r["families"] for r in group])
        table.append(entry)
    return table


def by_variant(table: list[dict]) -> dict[str, dict]:
    """Summary rows keyed by variant name (for the report's placeholders)."""
    return {row["variant"]: row for row in table}


def label_study_summary(table: list[dict], scratch: Variant, pretrained: Variant,
                        metric: str = "test_accuracy") -> dict[str, dict]:
    """Per label fraction ("10%", ...): the mean ``metric`` from scratch, with pre-training, and
    the gain, from the label-study rows of :func:`summarise`."""
    rows = by_variant(table)
    summary = {}
    for fraction in LABEL_FRACTIONS:
        names = [f"{base.name} ({fraction:.0%} labels)" for base in (scratch, pretrained)]
        if all(name in rows for name in names):
            a, b = (rows[name][f"{metric}_mean"] for name in names)
            summary[f"{fraction:.0%}"] = {"scratch": a, "pretrained": b, "gain": b - a}
    return summary


def markdown_table(table: list[dict], columns: dict[str, str],
                   percent: Sequence[str] = ()) -> str:
    """A Markdown table of summary rows; ``columns`` maps a field (or metric) to its header.

    A metric with ``_mean`` and ``_std`` fields is shown as ``mean ± std`` (just the mean for a
    single seed); metrics named in ``percent`` are shown in percent with one decimal. Whole
    numbers get thousands separators, times (``*_seconds``) whole seconds.
    """
    lines = ["| " + " | ".join(columns.values()) + " |", "|" + "---|" * len(columns)]
    for row in table:
        cells = [_cell(row, key, key in percent) for key in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cell(row: dict, key: str, percent: bool) -> str:
    def number(value: float, digits: str = ".4g") -> str:
        return f"{100 * value:.1f}" if percent else f"{value:{digits}}"

    if f"{key}_mean" in row:
        std = row.get(f"{key}_std")
        return number(row[f"{key}_mean"]) + (f" ± {number(std, '.2g')}" if std else "")
    value = row.get(key)
    if key.endswith("seconds") and isinstance(value, (int, float)):
        return f"{value:.0f}" if value >= 10 else f"{value:.1f}"
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, int):
        return f"{value:,}"
    return number(value) if isinstance(value, float) else str(value)


def recipe_rows(variants: Sequence[Variant]) -> list[dict]:
    """Every hyper-parameter of each recipe, read from the variants themselves (for the report's
    replication tables; :func:`procedure_rows` spells out the augmentations and pre-training)."""
    return [{"variant": v.name, "model": v.model.__name__, "epochs": v.epochs,
             "batch": v.batch_size, "lr": f"{v.lr:g}",
             "schedule": "cosine" if v.schedule else "constant",
             "loss": v.loss.__name__.replace("Loss", ""),
             "augmentation": aug.short_name(v.augment),
             "pre-training": "autoencoder" if v.pretrained else "none",
             "labels": f"{v.label_fraction:.0%}"} for v in variants]


def procedure_rows() -> list[dict]:
    """What each augmentation and the autoencoder pre-training do, with their settings."""
    rows = [{"name": aug.short_name(a), "what": aug.describe(a)} for a in aug.AUGMENTATIONS]
    rows.append({"name": "autoencoder", "what": (
        f"FrameAutoencoder trained to reconstruct {AE_FRAMES:,} single frames of the Part 2 "
        f"training split (MSE, Adam lr 1e-3, batch {AE_BATCH}, {AE_EPOCHS} epochs); its encoder "
        "initialises CountNet's")})
    return rows


def model_rows(classes: Sequence[type]) -> list[dict]:
    """Each model class: what it is (its docstring's first line), its constructor's defaults
    (widths, ...) and its parameter count."""
    import inspect

    rows = []
    for cls in classes:
        defaults = ", ".join(f"{name}={p.default}" for name, p in
                             inspect.signature(cls).parameters.items()
                             if p.default is not inspect.Parameter.empty)
        rows.append({"model": cls.__name__, "what": (cls.__doc__ or "").strip().splitlines()[0],
                     "settings": defaults or "-", "parameters": count_parameters(cls())})
    return rows


# --- Task 4: counting under a distribution shift ------------------------------------------------

AE_EPOCHS, AE_FRAMES, AE_BATCH = 3, 12_000, 64
LABEL_FRACTIONS = (0.1, 0.25, 0.5)


def pretrain_autoencoder(context: Context, seed: int) -> FrameAutoencoder:
    """Train the autoencoder on single frames of the Part 2 *training* split (no labels used)."""
    frames, _ = load_npz(Path(context.data_dir) / PART2_SEQUENCES)
    train, val = split_train_val(frames)
    n = 256 if context.quick else AE_FRAMES
    rng = np.random.default_rng(seed)
    pick = rng.choice(train.shape[0] * train.shape[1], size=n, replace=False)
    x = to_tensor(train.reshape(-1, 1, 32, 32)[np.sort(pick)])
    x_val = to_tensor(val[:200, :1].reshape(-1, 1, 32, 32))
    seed_everything(seed)
    model = FrameAutoencoder()
    fit(model, (x, x), (x_val, x_val), Supervised(nn.MSELoss()),
        TrainConfig(epochs=1 if context.quick else AE_EPOCHS, batch_size=AE_BATCH, seed=seed,
                    tag="ae"),
        checkpoint=context.paths.checkpoint(f"task4/autoencoder_seed{seed}"), desc="autoencoder")
    return model


def _prepare_counter(variant: Variant, seed: int, data: counting.CountingData,
                     context: Context) -> Run:
    n_labels = max(8, int(round(len(data.x_train) * variant.label_fraction)))

    def load_pretrained_encoder(model: nn.Module) -> None:
        model.encoder.load_state_dict(pretrain_autoencoder(context, seed).encoder.state_dict())

    config = variant.config(seed, context.quick)
    if variant.pretrained:  # the encoder's training frames are part of what the run saw
        part2 = data_source(context.data_dir)["files"][PART2_SEQUENCES]["digest"]
        config = replace(config, tag=f"{config.tag},encoder_data={part2}")
    return Run(_build(variant, seed), (data.x_train[:n_labels], data.y_train[:n_labels]),
               data.val, Supervised(variant.loss(), classification=True), config,
               {"augment": variant.augment,
                "make_scheduler": cosine if variant.schedule else None},
               load_pretrained_encoder if variant.pretrained else None)


def _score_counter(model: nn.Module, variant: Variant, data: counting.CountingData) -> dict:
    test = counting.evaluate_counter(model, data.x_test, data.y_test)
    val = counting.evaluate_counter(model, data.x_val, data.y_val)
    shifted = counting.evaluate_counter(model, *robustness.shifted_validation(data.x_val,
                                                                               data.y_val))
    heldout = counting.evaluate_counter(model, *robustness.heldout_validation(data.x_val,
                                                                              data.y_val))
    return {"test_accuracy": test["accuracy"], "confusion_matrix": test["confusion_matrix"],
            "val_accuracy": val["accuracy"], "shifted_val_accuracy": shifted["accuracy"],
            "heldout_val_accuracy": heldout["accuracy"],
            "families": robustness.family_scores(lambda x: counting.predict_counts(model, x),
                                                 robustness.evaluation_families())}


SELECTION_METRIC = "heldout_val_accuracy"
SELECTION_RULE = ("among the recipes trained on the 400 training frames alone, the highest mean "
                  "accuracy on the validation frames under gamma 0.5-2 and uneven lighting "
                  "30-70 % (shift families no recipe trains on; each frame in a random "
                  "orientation); ties: smaller std over seeds, then fewer parameters, then the "
                  "simpler recipe (earlier in the table)")
DEFAULT_RULE = ("no Task 4 sweep rows for these data files: the default recipe, the one the rule "
                "selects on the project's generated files")


def select_by_validation(table: list[dict], metric: str = SELECTION_METRIC) -> str:
    """The rule that picks Task 4's final recipe without the test set: among the recipes
    trained on the 400 training frames alone (not the pre-trained ones), the highest mean
    ``metric`` (validation frames under shift families that no recipe trains on), ties to the
    lower spread over seeds, then to fewer parameters, then to the earlier (simpler) row.
    ``table`` holds rows of :func:`summarise`; returns the variant's name."""
    candidates = [r for r in table if r.get("study") == "ablation" and f"{metric}_mean" in r
                  and not getattr(TASK4_BY_NAME.get(r["variant"]), "pretrained", False)]
    if not candidates:
        raise ValueError(f"no ablation rows with {metric!r}: run `python -m bballs experiments "
                         "task4` first")
    best = max(candidates, key=lambda r: (round(r[f"{metric}_mean"], 6),
                                          -(r.get(f"{metric}_std") or 0.0), -r["parameters"]))
    return best["variant"]


def selected_recipe(table: list[dict]) -> tuple[Variant, str]:
    """The recipe :func:`select_by_validation` picks from the sweep's summary rows and the rule
    that picked it; without rows for these data files, the default final recipe (with a line
    saying so)."""
    if any(r.get("study") == "ablation" for r in table):
        return TASK4_BY_NAME[select_by_validation(table)], SELECTION_RULE
    print(f"no Task 4 sweep rows for these data files: using the default recipe "
          f"{TASK4_FINAL.name}; `python -m bballs experiments task4` selects on these files")
    return TASK4_FINAL, DEFAULT_RULE


_COUNTER = {"epochs": 30, "batch_size": 16, "schedule": True, "loss": nn.CrossEntropyLoss}
_ROBUST = {**_COUNTER, "epochs": 80, "batch_size": 32}  # stronger augmentation: more epochs
TASK4_VARIANTS = (
    Variant("spec", "Table 2 CNN, Task 2 recipe (5 epochs, batch 4)", BallCounter, 5,
            loss=nn.CrossEntropyLoss),
    Variant("spec+long", "30 epochs, batch 16, cosine learning-rate decay", BallCounter,
            **_COUNTER),
    Variant("spec+long+sym", "+ random flips / transposes (8 symmetries)", BallCounter,
            augment=aug.symmetry_augment, **_COUNTER),
    Variant("spec+long+sym+size", "+ ball-size jitter (grey dilation/erosion by 1 px)",
            BallCounter, augment=aug.counting_augment, **_COUNTER),
    Variant("countnet+long", "CountNet (batch norm, global average pooling), no augmentation",
            CountNet, **_COUNTER),
    Variant("countnet+long+sym+size", "CountNet + symmetries + ball-size jitter", CountNet,
            augment=aug.counting_augment, **_COUNTER),
    Variant("countnet+long+sym+size+ae", "+ encoder pre-trained as an autoencoder on Part 2 "
            "frames", CountNet, augment=aug.counting_augment, pretrained=True, **_COUNTER),
    Variant("countnet+norm+sym+scale", "input divided by its brightest pixel; ball scale by "
            "resampling instead of size jitter", NormalisedCountNet, augment=aug.scale_augment,
            **_ROBUST),
    Variant("countnet+sym+scale+looks", "ball scale, pasted balls, blur, contrast, noise, "
            "salt-and-pepper, 8-bit (input not standardised)", CountNet,
            augment=aug.robust_counting_augment, **_ROBUST),
    Variant("countnet+norm+sym+scale+looks", "input standardised + ball scale, pasted balls, "
            "blur, contrast, noise, salt-and-pepper, 8-bit", NormalisedCountNet,
            augment=aug.robust_counting_augment, **_ROBUST),
)
TASK4_BY_NAME = {v.name: v for v in TASK4_VARIANTS}
TASK4_FINAL = TASK4_BY_NAME["countnet+sym+scale+looks"]  # the notebook reports what
TASK4_LABEL_BASE = TASK4_BY_NAME["countnet+long+sym+size"]  # selection picks, this by default
TASK4_PRETRAINED = TASK4_BY_NAME["countnet+long+sym+size+ae"]


def task4_label_variants() -> tuple[Variant, ...]:
    """CountNet with ball-size jitter from scratch and with pre-training, on 10 %, 25 % and
    50 % of the labels."""
    return tuple(replace(base, name=f"{base.name} ({fraction:.0%} labels)",
                         change=f"{fraction:.0%} of the 400 labels", label_fraction=fraction,
                         study="labels")
                 for fraction in LABEL_FRACTIONS for base in (TASK4_LABEL_BASE, TASK4_PRETRAINED))


# --- Task 7: video prediction -------------------------------------------------------------------

@dataclass
class Task7Data:
    """The prediction data and, computed on first use, the same with the physics forecast."""

    frames: prediction.PredictionData

    @cached_property
    def with_physics_prior(self) -> prediction.PredictionData:
        return prediction.with_physics_prior(self.frames)

    def inputs_for(self, variant: Variant) -> prediction.PredictionData:
        """The data ``variant``'s model expects: with the physics forecast if it uses one."""
        return self.with_physics_prior if uses_physics_prior(variant) else self.frames


def uses_physics_prior(variant: Variant) -> bool:
    return getattr(variant.model, "needs_physics_prior", False)


def _prepare_predictor(variant: Variant, seed: int, data: Task7Data, context: Context) -> Run:
    inputs = data.inputs_for(variant)
    return Run(_build(variant, seed), inputs.train, inputs.val, Supervised(variant.loss()),
               variant.config(seed, context.quick),
               {"augment": variant.augment,
                "make_scheduler": cosine if variant.schedule else None})


PREDICTION_SCORES = ("mse", "ssim", "psnr", "psnr_of_mse", "per_horizon")


def _score_predictor(model: nn.Module, variant: Variant, data: Task7Data) -> dict:
    scores, _ = prediction.evaluate_predictor(model, data.inputs_for(variant))
    return {key: scores[key] for key in PREDICTION_SCORES}


_PREDICTOR = {"epochs": 10, "batch_size": 16, "lr": 2e-3, "schedule": True}
TASK7_VARIANTS = (
    Variant("unet+bs16+cosine", "Table 3 U-Net, batch 16, lr 2e-3, cosine decay (optimisation "
            "only)", UNet, **_PREDICTOR),
    Variant("predictor", "FramePredictor: residual blocks, coordinates, sigmoid(change from last "
            "frame)", FramePredictor, **_PREDICTOR),
    Variant("predictor+sym", "+ the 8 symmetries of the square on whole sequences",
            FramePredictor, augment=aug.sequence_symmetries, **_PREDICTOR),
    Variant("predictor+sym+time", "+ time reversal of whole sequences", FramePredictor,
            augment=aug.sequence_augment, **_PREDICTOR),
    Variant("predictor+sym+time+bce", "binary cross-entropy loss instead of MSE",
            FramePredictor, augment=aug.sequence_augment, loss=nn.BCELoss, **_PREDICTOR),
    Variant("physics-prior+sym", "the physics predictor's forecast as 5 more input channels; "
            "the network corrects it (symmetries; no time reversal, the forecast is one-way)",
            PhysicsPriorPredictor, augment=aug.sequence_symmetries, **_PREDICTOR),
)
TASK7_FINAL = {v.name: v for v in TASK7_VARIANTS}["predictor+sym+time+bce"]
TASK7_LONG = replace(TASK7_FINAL, name="predictor+sym+time+bce (Task 6 budget)",
                     change="the same recipe for 20 epochs of batch 4 (20 000 optimiser steps, as "
                            "many as the Task 6 U-Net), learning rate 1e-3", epochs=20,
                     batch_size=4, lr=1e-3, study="budget")
TASK7_VARIANTS = (*TASK7_VARIANTS, TASK7_LONG)
TASK7_BY_NAME = {v.name: v for v in TASK7_VARIANTS}

TASK4 = Task("task4", lambda c: counting.load_counting_data(c.data_dir, quick=c.quick),
             _prepare_counter, _score_counter, TASK4_VARIANTS + task4_label_variants(),
             TASK4_FINAL, ("test_accuracy", "confusion_matrix", "val_accuracy",
                           "shifted_val_accuracy", "heldout_val_accuracy", "families"))
TASK7 = Task("task7",
             lambda c: Task7Data(prediction.load_prediction_data(c.data_dir, quick=c.quick)),
             _prepare_predictor, _score_predictor, TASK7_VARIANTS, TASK7_FINAL, PREDICTION_SCORES,
             ablation_seeds=1)  # each run takes minutes on a CPU: extra seeds for the final only
_SPEC_UNET = {"epochs": 20, "batch_size": 4, "lr": 1e-3, "study": "skips"}  # Task 6's recipe
TASK5_VARIANTS = (
    Variant("unet-no-skips", "Table 3 U-Net without skip connections (Task 6 recipe)",
            UNetNoSkip, **_SPEC_UNET),
    Variant("unet-concat-skips", "Table 3 U-Net with concatenation skips instead of addition "
            "(Task 6 recipe)", UNetConcat, **_SPEC_UNET),
)
# compared in the notebook with the Task 6 U-Net (addition skips, the same recipe)
TASK5 = Task("task5", TASK7.load_data, _prepare_predictor, _score_predictor, TASK5_VARIANTS,
             None, PREDICTION_SCORES, ablation_seeds=1)
TASKS = {task.name: task for task in (TASK4, TASK5, TASK7)}


def restricted(task: Task, names: Sequence[str]) -> Task:
    """``task`` with only the variants named (an unknown name is an error listing the known)."""
    known = {v.name: v for v in task.variants}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"{task.name} has no variant {unknown}; known: {sorted(known)}")
    final = task.final if task.final and task.final.name in names else None
    return replace(task, variants=tuple(known[n] for n in names), final=final)


def sweep(task: Task, context: Context, seeds: Sequence[int] = SEEDS,
          ablation_seeds: int | None = None, force: bool = False) -> list[dict]:
    """A task's whole sweep: the final recipe on the first seed, every other variant on the
    first ``ablation_seeds`` seeds (default: the task's), then the final recipe on all seeds."""
    n_ablation = task.ablation_seeds if ablation_seeds is None else ablation_seeds
    data = task.load_data(context)
    others = tuple(v for v in task.variants if v is not task.final)
    final = (task.final,) if task.final else ()
    stages = ((final, seeds[:1]), (others, seeds[:n_ablation]), (final, seeds))
    done: set[tuple[str, int]] = set()
    for variants, stage_seeds in stages:
        for variant in variants:
            todo = [s for s in stage_seeds if (variant.name, s) not in done]
            rows = run_sweep(task, (variant,), todo, context, data, force)
            done.update((variant.name, s) for s in todo)
    return rows


def rollout_predictor(variant: Variant, model: nn.Module):
    """``model`` as a next-5-frames predictor on raw frames, for autoregressive roll-outs."""
    from bballs.tasks import rollout

    if uses_physics_prior(variant):
        return rollout.physics_prior_predictor(model)
    return rollout.model_predictor(model)
