"""Notebook 03, sections 2.4-2.5: classifiers on frozen autoencoder codes, and a counter whose
encoder starts from the autoencoder's (pre-training) against one trained from scratch, with few
labels. Choices are made on the validation frames; the test frames are only scored."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import torch
from torch import nn

from bballs.core.files import OutputPaths
from bballs.data.frames import FrameData, FrameSet
from bballs.metrics import sample_std, seed_row
from bballs.models.autoencoders import EncoderClassifier, LatentClassifier
from bballs.tasks.autoencoding import (
    TrainedAE,
    ae_name,
    latent_sweep,
    split_codes,
)
from bballs.training.loop import (
    Supervised,
    TrainConfig,
    evaluate,
    fit,
    optimiser_steps,
    seed_everything,
)

LABEL_FRACTIONS = (0.0025, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0)  # 20 to 8,000 labels
MLP_HIDDEN = (64, 64)
N_SEEDS = 3  # label subsets and initialisations per point of the fine-tuning studies
LATENT_RECIPE = TrainConfig(epochs=20, batch_size=128, lr=2e-3)
FINETUNE_RECIPE = TrainConfig(epochs=40, batch_size=64, lr=1e-3)  # epochs: the most, see below
FINETUNE_STEPS = 400  # gradient steps per fine-tuning run (fewer epochs for more labels)
FINETUNE_MIN_EPOCHS = 2  # even the largest label sets


def labels(frames: FrameSet) -> torch.Tensor:
    """Class indices 0..2 (one to three balls) from the file's counts."""
    return frames.counts - 1


def train_latent_classifier(run: TrainedAE, data: FrameData, paths: OutputPaths, *,
                            hidden: tuple[int, ...] = (), quick: bool = False, seed: int = 0,
                            device=None) -> tuple[LatentClassifier, dict]:
    """A classifier of the ball count on the frozen latent codes of ``run``; returns it with
    its validation and test accuracy."""
    codes = split_codes(run, data)
    seed_everything(seed)
    model = LatentClassifier(codes["train"].mean(0), codes["train"].std(0), hidden)
    kind = "mlp" if hidden else "linear"
    step = Supervised(nn.CrossEntropyLoss(), classification=True)
    fit(model, (codes["train"], labels(data.train)), (codes["val"], labels(data.val)), step,
        LATENT_RECIPE.for_run(seed, quick, f"{run.name},{kind}{hidden}"),
        checkpoint=paths.checkpoint(f"lab3/ae_cls_{run.name}_{kind}"), device=device,
        desc=f"{kind} on {run.name}")
    accuracy = {split: evaluate(model, (codes[split], labels(getattr(data, split))), step)[1]
                ["accuracy"] for split in ("val", "test")}
    return model, accuracy


ACCURACIES = tuple(f"{kind}_{split}_accuracy" for kind in ("linear", "mlp")
                   for split in ("val", "test"))


def classification_rows(runs: dict[str, TrainedAE], data: FrameData, paths: OutputPaths, *,
                        quick: bool = False, seed: int = 0, device=None,
                        repeats: Sequence[dict[str, TrainedAE]] = ()) -> list[dict]:
    """Linear layer vs MLP on frozen latents, per latent size: validation and test accuracy;
    with ``repeats`` (the autoencoders of seeds ``seed + 1``, ...) a mean ± std over the seeds,
    each classifier trained with its autoencoder's seed."""
    rows = []
    for latent in latent_sweep(runs):
        per_seed = []
        for offset, seed_runs in enumerate((runs, *repeats)):
            row = {"latent": latent}
            for kind, hidden in (("linear", ()), ("mlp", MLP_HIDDEN)):
                _, accuracy = train_latent_classifier(seed_runs[ae_name(latent)], data, paths,
                                                      hidden=hidden, quick=quick,
                                                      seed=seed + offset, device=device)
                row.update({f"{kind}_val_accuracy": accuracy["val"],
                            f"{kind}_test_accuracy": accuracy["test"]})
            per_seed.append(row)
        rows.append(seed_row(per_seed, ACCURACIES))
    return rows


def choose_pretraining_latent(rows: list[dict]) -> int:
    """The latent size whose frozen code gives the best linear validation accuracy (ties: the
    smaller code); the pre-training study uses that autoencoder."""
    if not rows:
        raise ValueError("no classification rows to choose from")
    return max(rows, key=lambda r: (r["linear_val_accuracy"], -r["latent"]))["latent"]


def label_subset(n: int, fraction: float, seed: int = 0) -> torch.Tensor:
    """Indices of a seeded random ``fraction`` of ``n`` training frames (at least one batch's
    worth of nothing: at least 3 frames)."""
    if not 0 < fraction <= 1:
        raise ValueError(f"label fraction must be in (0, 1], got {fraction}")
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return order[:max(3, int(round(fraction * n)))]


def finetune_epochs(n_labels: int, quick: bool) -> int:
    """Epochs of a fine-tuning run: about :data:`FINETUNE_STEPS` gradient steps, at most
    ``FINETUNE_RECIPE.epochs`` (so small label sets are not validated hundreds of times)."""
    if quick:
        return 1
    batches = math.ceil(n_labels / FINETUNE_RECIPE.batch_size)
    wanted = math.ceil(FINETUNE_STEPS / batches)
    return max(FINETUNE_MIN_EPOCHS, min(FINETUNE_RECIPE.epochs, wanted))


def finetune_steps(n_labels: int, epochs: int) -> int:
    """Gradient steps of a fine-tuning run: one per batch (the last one may be partial) and
    epoch."""
    return optimiser_steps(epochs, n_labels, FINETUNE_RECIPE.batch_size)


def train_encoder_classifier(run: TrainedAE | None, latent: int, data: FrameData,
                             paths: OutputPaths, fraction: float, *, normalise: bool = True,
                             quick: bool = False, seed: int = 0, device=None) -> dict:
    """Encoder + linear head trained on a fraction of the labels, from the AE's encoder
    (``run``) or from random weights (``run=None``); returns validation and test accuracy.
    ``normalise=False``: the head without batch norm (see :class:`EncoderClassifier`)."""
    index = label_subset(len(data.train), fraction, seed)
    seed_everything(seed)
    model = EncoderClassifier(latent, normalise=normalise)
    head = "" if normalise else "_plainhead"
    init = "scratch"
    if run is not None:
        model.load_encoder(run.model)
        init = "pretrained"
    step = Supervised(nn.CrossEntropyLoss(), classification=True)
    config = replace(FINETUNE_RECIPE, epochs=finetune_epochs(len(index), quick), seed=seed,
                     tag=f"{init}:{run.name if run else latent},labels{fraction:g}{head}")
    history = fit(model, (data.train.frames[index], labels(data.train)[index]),
                  (data.val.frames, labels(data.val)), step, config,
                  checkpoint=paths.checkpoint(
                      f"lab3/ae_ft_l{latent}_{init}_{fraction:g}{head}_seed{seed}"),
                  device=device, desc=f"{init} {fraction:.0%} labels")
    test = evaluate(model, (data.test.frames, labels(data.test)), step)[1]["accuracy"]
    return {"labels": len(index), "epochs": config.epochs, "val_accuracy": history.val_accuracy[-1],
            "test_accuracy": test, "train_seconds": float(sum(history.epoch_seconds))}


HEADS = {True: "batch norm + linear", False: "linear only"}  # normalise -> head in words


def _arm(source: TrainedAE | None, latent: int, data: FrameData, paths: OutputPaths,
         fraction: float, seeds: Sequence[int], heads: Sequence[bool], **options
         ) -> tuple[list[dict], bool]:
    """The runs of one initialisation over ``seeds`` with the head of ``heads`` (``normalise``
    flags) whose mean validation accuracy is highest, and that head."""
    by_head = {normalise: [train_encoder_classifier(source, latent, data, paths, fraction,
                                                    normalise=normalise, seed=seed, **options)
                           for seed in seeds]
               for normalise in heads}
    chosen = max(heads, key=lambda h: np.mean([r["val_accuracy"] for r in by_head[h]]))
    return by_head[chosen], chosen


def _compare(run: TrainedAE, data: FrameData, paths: OutputPaths, fraction: float,
             seeds: Sequence[int], heads: Sequence[bool] = (True,), **options) -> dict:
    """Scratch against pre-trained at one label fraction over ``seeds`` (each its own label
    subset and initialisation), each initialisation with its best head of ``heads`` on the
    validation frames: mean validation and test accuracy, the test accuracies' std, the head
    and the mean gain."""
    row: dict = {"fraction": fraction, "seeds": len(seeds)}
    tests = {}
    for init, source in (("scratch", None), ("pretrained", run)):
        results, head = _arm(source, run.model.latent, data, paths, fraction, seeds, heads,
                             **options)
        row["labels"], row["epochs"] = results[0]["labels"], results[0]["epochs"]
        row["steps"] = finetune_steps(row["labels"], row["epochs"])
        row[f"{init}_head"] = HEADS[head]
        tests[init] = np.array([r["test_accuracy"] for r in results])
        for key in ("val_accuracy", "test_accuracy", "train_seconds"):
            row[f"{init}_{key}"] = float(np.mean([r[key] for r in results]))
        row[f"{init}_test_std"] = sample_std(tests[init])
        row[f"{init}_train_seconds"] *= len(seeds)  # total over the seeds
    gains = tests["pretrained"] - tests["scratch"]
    row.update(gain=float(gains.mean()), gain_std=sample_std(gains))
    return row


def pretraining_rows(run: TrainedAE, data: FrameData, paths: OutputPaths, *,
                     fractions: Sequence[float] = LABEL_FRACTIONS, quick: bool = False,
                     seed: int = 0, device=None) -> list[dict]:
    """AE pre-training vs training from scratch, per fraction of the training labels, each
    point over :data:`N_SEEDS` seeds (1 in quick mode) and each initialisation with the head of
    :data:`HEADS` that scores best on the validation frames."""
    seeds = range(seed, seed + (1 if quick else N_SEEDS))
    return [_compare(run, data, paths, fraction, seeds, heads=tuple(HEADS), quick=quick,
                     device=device)
            for fraction in fractions]


def head_rows(run: TrainedAE, data: FrameData, paths: OutputPaths, *, fraction: float = 0.01,
              quick: bool = False, seed: int = 0, device=None) -> list[dict]:
    """The pre-training comparison at one label fraction with the batch-normalised head (the
    study's) and with a plain linear head, over the same seeds: does the conclusion depend on
    the head?"""
    seeds = range(seed, seed + (1 if quick else N_SEEDS))
    return [{"head": HEADS[normalise],
             **_compare(run, data, paths, fraction, seeds, heads=(normalise,), quick=quick,
                        device=device)}
            for normalise in (True, False)]
