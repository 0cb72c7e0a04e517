"""One training loop for every model: seeded, batched on-device, checkpointed and resumable."""

from __future__ import annotations

import math
import os
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Union

import numpy as np
import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from bballs.training.checkpoints import History, fingerprint, resume_checkpoint, save_checkpoint

Augment = Callable[[torch.Tensor, torch.Tensor, torch.Generator], tuple[torch.Tensor, torch.Tensor]]
SchedulerFactory = Callable[[torch.optim.Optimizer, int], torch.optim.lr_scheduler.LRScheduler]


TEXT_PROGRESS = "BBALLS_TEXT_PROGRESS"  # set (as headless runs do): one line per training


class OneLine:
    """Progress for saved notebook outputs: nothing while running, then one line with the
    count, the time and the last postfix (``set_postfix`` as in tqdm)."""

    def __init__(self, iterable, desc: str = "", unit: str = "it", disable: bool = False,
                 **_) -> None:
        self.iterable, self.desc, self.unit, self.postfix = iterable, desc, unit, {}
        self.disable = disable

    def set_postfix(self, values: dict | None = None, refresh: bool = False, **more) -> None:
        self.postfix = {**(values or {}), **more}

    def __iter__(self):
        start, done = time.perf_counter(), 0
        for item in self.iterable:
            yield item
            done += 1
        if self.disable:
            return
        shown = ", ".join(f"{k}={v}" for k, v in self.postfix.items())
        print(f"{self.desc}: {done} {self.unit}s in {time.perf_counter() - start:.0f} s"
              + (f" ({shown})" if shown else ""), flush=True)


def progress(iterable, **options):
    """A tqdm progress bar (a widget in an interactive notebook, text in a terminal); with
    ``BBALLS_TEXT_PROGRESS`` set, as in executed notebooks, one :class:`OneLine` line instead."""
    if os.environ.get(TEXT_PROGRESS):
        return OneLine(iterable, **options)
    from tqdm.auto import tqdm
    return tqdm(iterable, **options)


def pick_device(preferred: str | None = None) -> torch.device:
    """``preferred`` if given, else CUDA, then Apple MPS, then the CPU."""
    if preferred:
        return torch.device(preferred)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and PyTorch (all devices) from one number."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


@dataclass(frozen=True)
class TrainConfig:
    """A training recipe, and one run of it: the only recipe type of the package (the
    specification's recipes included). The defaults are the specification's (Adam, lr 1e-3,
    batch 4).

    ``tag`` names anything not captured by the numbers (augmentation, schedule, ...) so that a
    checkpoint is only reused by a run with the same configuration.
    """

    epochs: int
    batch_size: int = 4
    lr: float = 1e-3
    weight_decay: float = 0.0
    seed: int = 0
    tag: str = ""

    def for_run(self, seed: int, quick: bool = False, tag: str | None = None) -> TrainConfig:
        """This recipe for one seed (1 epoch in quick mode; ``tag`` replaces the tag if given)."""
        return replace(self, seed=seed, epochs=1 if quick else self.epochs,
                       tag=self.tag if tag is None else tag)


def optimiser_steps(epochs: int, examples: int, batch_size: int) -> int:
    """Optimiser steps of ``epochs`` over ``examples`` in batches of ``batch_size``: one per
    batch (the last may be partial) and epoch."""
    return epochs * math.ceil(examples / batch_size)


Batch = tuple[torch.Tensor, ...]
StepResult = Union[torch.Tensor, tuple[torch.Tensor, dict[str, torch.Tensor]]]
Step = Callable[[nn.Module, Batch], StepResult]
OptimizerFactory = Callable[[Iterable[nn.Parameter], TrainConfig], torch.optim.Optimizer]


class Supervised:
    """The step of a supervised model: ``loss_fn(model(x), y)``, plus the accuracy when
    ``classification`` (the default step of :func:`fit` is the method's own)."""

    def __init__(self, loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
                 classification: bool = False) -> None:
        self.loss_fn, self.classification = loss_fn, classification

    def __call__(self, model: nn.Module, batch: Batch) -> StepResult:
        x, y = batch
        output = model(x)
        loss = self.loss_fn(output, y)
        if not self.classification:
            return loss
        return loss, {"accuracy": (output.argmax(1) == y).float().mean()}


def model_loss(model: nn.Module, batch: Batch) -> StepResult:
    """The step of a model whose ``forward(*batch)`` returns its own loss (an autoencoder with
    its reconstruction loss, a diffusion model with its denoising loss)."""
    return model(*batch)


def cosine(optimizer: torch.optim.Optimizer, epochs: int
           ) -> torch.optim.lr_scheduler.CosineAnnealingLR:
    """Cosine decay of the learning rate to 0 over the run, stepped once per epoch."""
    return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, epochs)


def adam(parameters: Iterable[nn.Parameter], config: TrainConfig) -> torch.optim.Optimizer:
    """The specification's optimiser: Adam with the run's learning rate and weight decay."""
    return torch.optim.Adam(parameters, lr=config.lr, weight_decay=config.weight_decay)


def fit(
    model: nn.Module,
    train: Batch,
    val: Batch,
    step: Step,
    config: TrainConfig,
    *,
    checkpoint: str | Path | None = None,
    augment: Augment | None = None,
    make_scheduler: SchedulerFactory | None = None,
    make_optimizer: OptimizerFactory = adam,
    device: torch.device | str | None = None,
    desc: str = "train",
    ema_decay: float | None = None,
) -> History:
    """Train ``model`` in place and return its history.

    ``train`` and ``val`` are tuples of equally long tensors (``(x, y)``, or ``(x,)`` for an
    autoencoder); ``step(model, batch)`` returns the batch's mean loss, or the loss and a dict
    of metrics: the method owns its loss (:class:`Supervised`, :func:`model_loss`, ...).
    Batches are drawn from tensors kept on ``device`` in an order fixed by ``config.seed`` and
    the epoch number, and the global torch generator (noise a step draws) is re-seeded from
    them every epoch. Validation runs after every epoch. With ``checkpoint`` the state is
    written atomically after every epoch and a matching checkpoint is resumed (a finished one
    returns at once), so an interrupted run ends with the same weights as an uninterrupted one.
    With ``ema_decay`` an exponential moving average of the weights is kept after every step
    (:func:`weight_average`) and loaded into ``model`` at the end; validation during training
    scores the raw weights.
    """
    device = pick_device(str(device) if device else None)
    model.to(device)
    train, val = _on(train, device), _on(val, device)
    optimizer = make_optimizer(model.parameters(), config)
    scheduler = make_scheduler(optimizer, config.epochs) if make_scheduler else None
    average = weight_average(model, ema_decay)
    run_id = {**fingerprint(model, config, train), **average_fingerprint(ema_decay)}
    history, epochs = start_or_resume(checkpoint, run_id, config.epochs, desc, model=model,
                                      optimizer=optimizer, scheduler=scheduler, average=average)
    for epoch in epochs:
        started = time.perf_counter()
        generator = epoch_generator(config.seed, epoch)
        history.record("train", *_train_epoch(model, train, step, optimizer, config.batch_size,
                                              generator, augment, average))
        if scheduler:
            scheduler.step()
        history.record("val", *evaluate(model, val, step))
        history.epoch_seconds.append(time.perf_counter() - started)
        epochs.set_postfix(_postfix(history), refresh=False)
        if checkpoint:
            save_checkpoint(checkpoint, run_id, history, model=model, optimizer=optimizer,
                            scheduler=scheduler, average=average)
    use_average(model, average)
    return history


def weight_average(model: nn.Module, decay: float | None) -> AveragedModel | None:
    """An exponential moving average of ``model``'s weights and buffers (``decay`` per step,
    as torch's ``AveragedModel`` keeps it), or None without a decay."""
    if decay is None:
        return None
    if not 0 < decay < 1:
        raise ValueError(f"ema_decay must be in (0, 1), got {decay}")
    return AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)


def average_fingerprint(decay: float | None) -> dict:
    """What a weight average adds to a run's fingerprint: its decay (nothing without one)."""
    return {} if decay is None else {"ema_decay": decay}


def use_average(model: nn.Module, average: AveragedModel | None) -> None:
    """Load the averaged weights into ``model`` (nothing without an average)."""
    if average is not None:
        model.load_state_dict(average.module.state_dict())


def start_or_resume(checkpoint: str | Path | None, run_id: dict, epochs: int, desc: str,
                    **states) -> tuple[History, Iterable[int]]:
    """The history so far and a progress bar over the epochs left: a matching checkpoint is
    loaded into ``states``; a finished one prints one line on it and leaves no epochs."""
    history = History()
    if checkpoint and Path(checkpoint).is_file():
        history = resume_checkpoint(checkpoint, run_id, **states) or History()
    if checkpoint and history.epochs_done == epochs:
        print(reuse_log(checkpoint, history, desc))
        return history, ()
    return history, progress(range(history.epochs_done, epochs), desc=desc, unit="epoch",
                             initial=history.epochs_done, total=epochs, mininterval=5)


def epoch_generator(seed: int, epoch: int) -> torch.Generator:
    """The generator of one epoch's batch order and augmentation; it also re-seeds the global
    torch generator, so a resumed run draws the same noise as an uninterrupted one."""
    torch.manual_seed(seed * 100_003 + epoch + 1)
    return torch.Generator().manual_seed(seed * 100_003 + epoch)


def _on(tensors: Batch, device: torch.device) -> Batch:
    tensors = tuple(tensors)
    if len({len(t) for t in tensors}) != 1:
        raise ValueError(f"tensors of a split differ in length: {[len(t) for t in tensors]}")
    return tuple(t.to(device) for t in tensors)


def reuse_log(checkpoint: str | Path | None, history: History, desc: str) -> str:
    """One line on a finished run whose checkpoint is reused: its epochs, time and last
    losses (the whole log stays in the checkpoint's history)."""
    last = {"loss": history.train_loss[-1]} if history.train_loss else {}
    if history.val_loss:
        last["val_loss"] = history.val_loss[-1]
    if history.val_accuracy:
        last["val_acc"] = history.val_accuracy[-1]
    shown = ", ".join(f"{k} {v:.4g}" for k, v in last.items())
    return (f"{desc}: reused {Path(checkpoint).name} (trained {history.epochs_done} epochs in "
            f"{sum(history.epoch_seconds):.0f} s; last epoch {shown})")


def _split_result(result: StepResult) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    return result if isinstance(result, tuple) else (result, {})


def _train_epoch(model, data, step, optimizer, batch_size, generator, augment, average=None):
    model.train()
    n = len(data[0])
    order = torch.randperm(n, generator=generator).to(data[0].device)
    sums: dict[str, torch.Tensor] = {}
    for start in range(0, n, batch_size):
        index = order[start:start + batch_size]
        batch = tuple(t[index] for t in data)
        if augment:
            batch = augment(*batch, generator)
        loss, metrics = _split_result(step(model, batch))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if average is not None:
            average.update_parameters(model)
        _accumulate(sums, {"loss": loss, **metrics}, len(index))
    means = {name: (total / n).item() for name, total in sums.items()}
    return means.pop("loss"), means


def _accumulate(sums: dict[str, torch.Tensor], values: dict[str, torch.Tensor], weight: int):
    for name, value in values.items():
        sums[name] = sums.get(name, 0) + value.detach() * weight


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, batch_size: int = 512,
            forward: Callable[[torch.Tensor], torch.Tensor] | None = None) -> torch.Tensor:
    """Outputs of ``forward`` (default: the model itself; e.g. ``model.encode``) for ``x``, with
    the model in evaluation mode, batched, on the model's device."""
    model.eval()
    forward = forward or model
    device = next(model.parameters()).device
    return torch.cat([forward(x[i:i + batch_size].to(device))
                      for i in range(0, len(x), batch_size)])


@torch.no_grad()
def evaluate(model: nn.Module, data: Batch, step: Step, batch_size: int = 512
             ) -> tuple[float, dict[str, float]]:
    """Mean loss and metrics of ``step`` over ``data``, in evaluation mode, batched."""
    model.eval()
    device = next(model.parameters()).device
    n = len(data[0])
    sums: dict[str, torch.Tensor] = {}
    for start in range(0, n, batch_size):
        batch = tuple(t[start:start + batch_size].to(device) for t in data)
        loss, metrics = _split_result(step(model, batch))
        _accumulate(sums, {"loss": loss, **metrics}, len(batch[0]))
    means = {name: (total / n).item() for name, total in sums.items()}
    return means.pop("loss"), means


def _postfix(history: History) -> dict[str, str]:
    postfix = {"loss": f"{history.train_loss[-1]:.4g}", "val_loss": f"{history.val_loss[-1]:.4g}"}
    if history.val_accuracy:
        postfix["val_acc"] = f"{history.val_accuracy[-1]:.3f}"
    return postfix
