"""The sweep engine: sweep entries (variants), one engine that trains and scores every
(variant, seed) of an experiment, and the summary of their result rows.

An experiment (Task 4's counters, Task 5's skips, Task 7's predictors; their recipes live with
their task in :mod:`bballs.tasks`) supplies two functions: ``prepare`` turns a (variant, seed)
into a :class:`RunSpec` (model, data, configuration) and ``score`` evaluates a trained model. The
engine trains every run with :func:`bballs.training.loop.fit` (checkpointed as
``checkpoints/<name>/<variant>_seed<k>.pt``) and keeps one row per (variant, seed) in
``results/<name>_ablation.json``. A row is reused only while its checkpoint exists, trained every
epoch and has the row's fingerprint; otherwise the run trains again (resuming a partial
checkpoint) and its row is replaced.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from bballs.core.files import OutputPaths, change_results, read_results
from bballs.core.parameters import count_parameters
from bballs.data.identity import data_source
from bballs.metrics import mean_by_level, sample_std, seed_summary
from bballs.training.checkpoints import (
    checkpoint_epochs,
    fingerprint,
    fingerprint_digest,
    load_weights,
)
from bballs.training.loop import Augment, Step, TrainConfig, fit, seed_everything

SEEDS = (0, 1, 2)



@dataclass(frozen=True)
class Variant:
    """One entry of a sweep: a model class, its :class:`TrainConfig` recipe and the method's
    options (augmentation, loss, pre-training).

    ``study`` groups rows in tables ("ablation": one change at a time).
    """

    name: str
    change: str  # what differs from the row before / the specification, in words
    model: Callable[[], nn.Module]
    recipe: TrainConfig  # epochs, batch size, learning rate (seed and tag are set per run)
    augment: Augment | None = None
    schedule: bool = False
    loss: Callable[[], nn.Module] = nn.MSELoss
    pretrained: bool = False
    label_fraction: float = 1.0
    study: str = "ablation"
    label: str = ""  # the recipe's name in words, for tables and figures (default: ``name``)

    @property
    def title(self) -> str:
        """The recipe's name in words (its identifier ``name`` if it has no ``label``)."""
        return self.label or self.name

    def config(self, seed: int, quick: bool) -> TrainConfig:
        """The configuration of one run: :attr:`recipe` with the seed and :attr:`tag`."""
        return self.recipe.for_run(seed, quick, self.tag)

    @property
    def tag(self) -> str:
        """Everything about the recipe that the numbers of :class:`TrainConfig` do not say."""
        augment = self.augment.__name__ if self.augment else "none"
        return (f"aug={augment},cosine={self.schedule},loss={self.loss.__name__},"
                f"pretrained={self.pretrained},labels={self.label_fraction}")

    def describe(self) -> dict[str, Any]:
        """The recipe as plain values, for tables and the report."""
        return {"variant": self.name, "change": self.change, "model": self.model.__name__,
                "epochs": self.recipe.epochs, "batch_size": self.recipe.batch_size,
                "lr": self.recipe.lr,
                "augment": self.augment.__name__ if self.augment else "none",
                "schedule": "cosine" if self.schedule else "constant",
                "loss": self.loss.__name__, "pretrained": self.pretrained,
                "label_fraction": self.label_fraction, "study": self.study}


@dataclass
class RunSpec:
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
class Experiment:
    """One sweep's part in the engine (a course Task's recipes): how to load its data, build
    a run and score a model."""

    name: str
    load_data: Callable[[Context], Any]
    prepare: Callable[[Variant, int, Any, Context], RunSpec]
    score: Callable[[nn.Module, Variant, Any], dict]
    variants: tuple[Variant, ...]  # every recipe of the sweep, in table order
    final: Variant | None  # the recipe the notebook reports, if the experiment has one
    score_keys: tuple[str, ...]  # what ``score`` returns: a row without one is scored again
    ablation_seeds: int = len(SEEDS)  # seeds per non-final variant in a full sweep
    every_seed: tuple[str, ...] = ()  # other variants whose gains the report ranks: all seeds

    def results_file(self, paths: OutputPaths) -> Path:
        return paths.results / f"{self.name}_ablation.json"

    def checkpoint(self, paths: OutputPaths, variant: Variant, seed: int) -> Path:
        return paths.checkpoint(f"{self.name}/{variant.name}_seed{seed}")


def build_model(variant: Variant, seed: int) -> nn.Module:
    """The variant's model, initialised from ``seed``."""
    seed_everything(seed)
    return variant.model()


def train_or_reuse(experiment: Experiment, variant: Variant, seed: int, data: Any, context: Context,
                   row: dict | None = None) -> tuple[nn.Module, dict]:
    """The trained model of one (variant, seed) and its row.

    ``row`` (the recorded one, if any) is reused when the checkpoint on disk is a finished run
    with the row's fingerprint (and scored again from those weights if the experiment now
    reports more than the row holds, or the row was scored on other data files); otherwise the
    run trains
    (resuming a partial checkpoint) and a fresh row is made from the weights that now exist.
    """
    run = experiment.prepare(variant, seed, data, context)
    checkpoint = experiment.checkpoint(context.paths, variant, seed)
    run_id = fingerprint(run.model, run.config, run.train)
    digest = fingerprint_digest(run_id)
    done = checkpoint_epochs(checkpoint, run_id)
    if row and row.get("fingerprint") == digest and done == run.config.epochs:
        model = load_weights(run.model, checkpoint, run_id).eval()
        if not set(experiment.score_keys) <= set(row) or row.get("data") != context.data_digest():
            # the same training data, but the row lacks a score or other files were scored
            row = {**row, **experiment.score(model, variant, data), "data": context.data_digest()}
        return model, row
    if run.initialise and done is None:
        run.initialise(run.model)
    history = fit(run.model, run.train, run.val, run.step, run.config, checkpoint=checkpoint,
                  desc=f"{variant.name} seed {seed}", **run.fit_options)
    scores = experiment.score(run.model.eval(), variant, data)
    row = {**variant.describe(), "seed": seed, "quick": context.quick, "epochs": run.config.epochs,
           "tag": variant.tag, "fingerprint": digest, "data": context.data_digest(),
           "train_examples": len(run.train[0]),
           "parameters": count_parameters(run.model),
           "train_seconds": float(sum(history.epoch_seconds)), **scores}
    return run.model.eval(), row


def run_sweep(experiment: Experiment, variants: Sequence[Variant], seeds: Sequence[int],
              context: Context, data: Any = None, force: bool = False) -> list[dict]:
    """Train (or reuse) every (variant, seed); returns all rows of the experiment's ablation
    file.

    Rows are written after every run, so an interrupted sweep resumes where it stopped.
    ``force`` retrains every listed run from scratch and replaces its row.
    """
    data = experiment.load_data(context) if data is None else data
    rows = read_results(experiment.results_file(context.paths)).get("rows", [])
    for variant in variants:
        for seed in seeds:
            _, _, rows = _run_and_record(experiment, variant, seed, data, context, rows, force)
    return rows


def final_model(experiment: Experiment, variant: Variant, seed: int, context: Context,
                data: Any = None) -> tuple[nn.Module, dict]:
    """The trained final recipe of ``experiment`` for one seed (trained now if no valid checkpoint
    exists); its row in the ablation file is kept up to date."""
    data = experiment.load_data(context) if data is None else data
    rows = read_results(experiment.results_file(context.paths)).get("rows", [])
    model, row, _ = _run_and_record(experiment, variant, seed, data, context, rows)
    return model, row


def _run_and_record(experiment: Experiment, variant: Variant, seed: int, data: Any,
                    context: Context, rows: list[dict], force: bool = False
                    ) -> tuple[nn.Module, dict, list[dict]]:
    """:func:`train_or_reuse` one run; a new row replaces the old one in ``rows`` and in the
    experiment's ablation file. Returns the model, its row and the updated rows."""
    if force:
        experiment.checkpoint(context.paths, variant, seed).unlink(missing_ok=True)
    old = _find_row(rows, variant, seed, context.quick)
    model, row = train_or_reuse(experiment, variant, seed, data, context, None if force else old)
    if row is not old:  # merged into the file's current rows: another sweep may have written
        def replaced(current: list[dict] | None) -> list[dict]:
            return [r for r in current or [] if _run_key(r) != _run_key(row)] + [row]

        rows = change_results(experiment.results_file(context.paths), "rows", replaced)["rows"]
    return model, row, rows


def _run_key(row: dict) -> tuple:
    """What one run of a sweep is: its variant, seed and mode."""
    return row["variant"], row["seed"], row.get("quick")


def _find_row(rows: list[dict], variant: Variant, seed: int, quick: bool) -> dict | None:
    return next((r for r in rows if _run_key(r) == (variant.name, seed, quick)), None)


def mode_rows(paths: OutputPaths, experiment: Experiment, quick: bool,
              data_dir: Path | None = None) -> list[dict]:
    """The ablation rows of ``experiment``'s variants recorded in the given mode (quick or
    full) and, with ``data_dir``, computed from the dataset files there (rows of other data
    are left out, with one line saying how many)."""
    names = {variant.name for variant in experiment.variants}  # rows of dropped variants: left out
    rows = [r for r in read_results(experiment.results_file(paths)).get("rows", [])
            if r.get("quick") == quick and r["variant"] in names]
    if data_dir is None:
        return rows
    digest = data_source(data_dir)["digest"]
    mine = [r for r in rows if r.get("data") == digest]
    if len(mine) < len(rows):
        print(f"{experiment.name}: {len(rows) - len(mine)} recorded rows come from other data "
              f"(not {digest}) and are left out; `python -m bballs experiments {experiment.name}` "
              "computes them for these files")
    return mine


def summarise(rows: list[dict], metrics: tuple[str, ...],
              order: Sequence[Variant] = ()) -> list[dict]:
    """Mean and standard deviation over seeds of each metric, one row per variant, in the
    order of ``order`` (variants not in it last); a variant of ``order`` also gets its
    ``title`` (its name in words, shown by the report's tables) and its ``change`` as the code
    states it now."""
    known = [v.name for v in order]
    names = sorted(dict.fromkeys(r["variant"] for r in rows),
                   key=lambda name: known.index(name) if name in known else len(known))
    table = []
    for name in names:
        group = [r for r in rows if r["variant"] == name]
        entry = {key: group[0].get(key)
                 for key in ("variant", "change", "study", "epochs", "parameters", "batch_size",
                             "train_examples")}
        if name in known:
            recipe = order[known.index(name)]
            entry.update(title=recipe.title, change=recipe.change)
        entry.update(seeds=len(group),
                     train_seconds=float(np.mean([r["train_seconds"] for r in group])))
        entry.update(seed_summary(group, metrics))
        if all("families" in r for r in group):
            entry["families"] = mean_by_level([r["families"] for r in group])
            entry["families_by_seed"] = [r["families"] for r in group]
            entry["families_std"] = {  # per level, over the seeds
                family: [sample_std(level) for level in zip(*(r["families"][family]
                                                              for r in group))]
                for family in group[0]["families"]}
        table.append(entry)
    return table


def by_variant(table: list[dict]) -> dict[str, dict]:
    """Summary rows keyed by variant name (for the report's placeholders)."""
    return {row["variant"]: row for row in table}


def restricted(experiment: Experiment, names: Sequence[str]) -> Experiment:
    """``experiment`` with only the variants named (an unknown name is an error listing the
    known ones)."""
    known = {v.name: v for v in experiment.variants}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"{experiment.name} has no variant {unknown}; known: {sorted(known)}")
    final = experiment.final if experiment.final and experiment.final.name in names else None
    return replace(experiment, variants=tuple(known[n] for n in names), final=final)


def sweep(experiment: Experiment, context: Context, seeds: Sequence[int] = SEEDS,
          ablation_seeds: int | None = None, force: bool = False) -> list[dict]:
    """An experiment's whole sweep: the final recipe on the first seed, every other variant on
    the first ``ablation_seeds`` seeds (default: the experiment's), then the final recipe and
    the experiment's ``every_seed`` variants on all seeds."""
    n_ablation = experiment.ablation_seeds if ablation_seeds is None else ablation_seeds
    data = experiment.load_data(context)
    others = tuple(v for v in experiment.variants if v is not experiment.final)
    final = (experiment.final,) if experiment.final else ()
    compared = tuple(v for v in others if v.name in experiment.every_seed)
    stages = ((final, seeds[:1]), (others, seeds[:n_ablation]), (final + compared, seeds))
    done: set[tuple[str, int]] = set()
    for variants, stage_seeds in stages:
        for variant in variants:
            todo = [s for s in stage_seeds if (variant.name, s) not in done]
            rows = run_sweep(experiment, (variant,), todo, context, data, force)
            done.update((variant.name, s) for s in todo)
    return rows
