"""One training loop for every model: seeded, batched on-device, checkpointed and resumable."""

from __future__ import annotations

import hashlib
import json
import os
import random
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Union

import numpy as np
import torch
from torch import nn

from bballs.data.identity import array_digest

Augment = Callable[[torch.Tensor, torch.Tensor, torch.Generator], tuple[torch.Tensor, torch.Tensor]]
SchedulerFactory = Callable[[torch.optim.Optimizer, int], torch.optim.lr_scheduler.LRScheduler]


TEXT_PROGRESS = "BBALLS_TEXT_PROGRESS"  # set (as headless runs do) for plain-text progress bars


def progress(iterable, **options):
    """A tqdm progress bar: a widget in an interactive notebook, plain text in a terminal or
    when ``BBALLS_TEXT_PROGRESS`` is set (so executed notebooks store readable text)."""
    if os.environ.get(TEXT_PROGRESS):
        from tqdm.std import tqdm
    else:
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


@dataclass
class TrainConfig:
    """Hyper-parameters of one run; the defaults are the specification's (Adam, lr 1e-3, batch 4).

    ``tag`` names anything not captured by the numbers (augmentation, schedule, ...) so that a
    checkpoint is only reused by a run with the same configuration.
    """

    epochs: int
    batch_size: int = 4
    lr: float = 1e-3
    weight_decay: float = 0.0
    seed: int = 0
    tag: str = ""


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
    its reconstruction loss, a diffusion model with its noise-prediction loss)."""
    return model(*batch)


def cosine(optimizer: torch.optim.Optimizer, epochs: int
           ) -> torch.optim.lr_scheduler.CosineAnnealingLR:
    """Cosine decay of the learning rate to 0 over the run, stepped once per epoch."""
    return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, epochs)


def adam(parameters: Iterable[nn.Parameter], config: TrainConfig) -> torch.optim.Optimizer:
    """The specification's optimiser: Adam with the run's learning rate and weight decay."""
    return torch.optim.Adam(parameters, lr=config.lr, weight_decay=config.weight_decay)


@dataclass
class History:
    """Per-epoch losses and metrics of a run (accuracy lists stay empty for regression; other
    metrics a step reports are kept under ``metrics`` as ``train_<name>`` / ``val_<name>``)."""

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    epoch_seconds: list[float] = field(default_factory=list)
    metrics: dict[str, list[float]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {key: value for key, value in asdict(self).items() if value}

    @property
    def epochs_done(self) -> int:
        return len(self.train_loss)

    def record(self, split: str, loss: float, metrics: dict[str, float]) -> None:
        """Append one epoch's mean loss and metrics of ``split`` ("train" or "val")."""
        getattr(self, f"{split}_loss").append(loss)
        for name, value in metrics.items():
            if name == "accuracy":
                getattr(self, f"{split}_accuracy").append(value)
            else:
                self.metrics.setdefault(f"{split}_{name}", []).append(value)


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
    """
    device = pick_device(str(device) if device else None)
    model.to(device)
    train, val = _on(train, device), _on(val, device)
    optimizer = make_optimizer(model.parameters(), config)
    scheduler = make_scheduler(optimizer, config.epochs) if make_scheduler else None
    run_id = fingerprint(model, config, train)
    history, epochs = start_or_resume(checkpoint, run_id, config.epochs, desc, model=model,
                                      optimizer=optimizer, scheduler=scheduler)
    for epoch in epochs:
        started = time.perf_counter()
        generator = epoch_generator(config.seed, epoch)
        history.record("train", *_train_epoch(model, train, step, optimizer, config.batch_size,
                                              generator, augment))
        if scheduler:
            scheduler.step()
        history.record("val", *evaluate(model, val, step))
        history.epoch_seconds.append(time.perf_counter() - started)
        epochs.set_postfix(_postfix(history), refresh=False)
        if checkpoint:
            save_checkpoint(checkpoint, run_id, history, model=model, optimizer=optimizer,
                            scheduler=scheduler)
    return history


def start_or_resume(checkpoint: str | Path | None, run_id: dict, epochs: int, desc: str,
                    **states) -> tuple[History, Iterable[int]]:
    """The history so far and a progress bar over the epochs left: a matching checkpoint is
    loaded into ``states``; a finished one prints its recorded log and leaves no epochs."""
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
    """The recorded training log of a finished run whose checkpoint is reused."""
    lines = [f"{desc}: reused {Path(checkpoint).name} (trained {history.epochs_done} epochs in "
             f"{sum(history.epoch_seconds):.0f} s); recorded log:"]
    for epoch in range(history.epochs_done):
        values = {"loss": history.train_loss[epoch]}
        if history.val_loss:
            values["val_loss"] = history.val_loss[epoch]
        if history.val_accuracy:
            values["val_acc"] = history.val_accuracy[epoch]
        shown = "  ".join(f"{k} {v:.4g}" for k, v in values.items())
        lines.append(f"  epoch {epoch + 1:3d}: {shown}  ({history.epoch_seconds[epoch]:.1f} s)")
    return "\n".join(lines)


def _split_result(result: StepResult) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    return result if isinstance(result, tuple) else (result, {})


def _train_epoch(model, data, step, optimizer, batch_size, generator, augment):
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


def fingerprint(model: nn.Module, config: TrainConfig, train: Batch) -> dict:
    """What identifies a run: model class and tensor shapes, configuration, training-set size
    and the digest of the training tensors' content (``data``).

    A checkpoint is resumed, reused or loaded only by a run with an equal fingerprint, so a
    checkpoint trained on other data (other files, one frame changed) is never reused.
    """
    shapes = ",".join(f"{k}:{tuple(v.shape)}" for k, v in model.state_dict().items())
    return {"model": type(model).__name__, **asdict(config), "n_train": len(train[0]),
            "data": array_digest(*train),
            "shapes": hashlib.sha1(shapes.encode()).hexdigest()[:12]}


def fingerprint_digest(fingerprint: dict) -> str:
    """A short stable digest of a fingerprint, for result rows."""
    return hashlib.sha1(json.dumps(fingerprint, sort_keys=True).encode()).hexdigest()[:16]


class CheckpointError(RuntimeError):
    """A checkpoint that is missing, unreadable or from another configuration."""


def save_checkpoint(path: str | Path, run_id: dict, history: History, **states) -> None:
    """Write ``states`` (modules, optimisers, schedulers; None is kept as None) with the run's
    fingerprint and history to a temporary file, then rename it over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {"fingerprint": run_id, "history": history.to_dict(),
             **{name: obj.state_dict() if obj is not None else None
                for name, obj in states.items()}}
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def resume_checkpoint(path: str | Path, run_id: dict, **states) -> History | None:
    """Load a checkpoint of the run ``run_id`` into ``states`` and return its history; a missing
    or unreadable one, or one of another configuration, warns and returns None."""
    try:
        state = read_checkpoint(path)
    except CheckpointError as error:
        warnings.warn(f"{error}; training from scratch.", stacklevel=3)
        return None
    if state.get("fingerprint") != run_id:
        print(f"{Path(path).name}: {mismatch(state.get('fingerprint'), run_id)}; "
              "training from scratch")
        return None
    for name, obj in states.items():
        if obj is not None and state.get(name) is not None:
            obj.load_state_dict(state[name])
    return History(**state["history"])


def read_checkpoint(path: str | Path) -> dict:
    """The state saved by :func:`fit` (tensors and plain values only: never unpickles code)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - any unreadable file is reported the same way
        raise CheckpointError(f"{path}: unreadable checkpoint ({type(error).__name__})") from error
    if not isinstance(state, dict) or not {"fingerprint", "model", "history"} <= set(state):
        raise CheckpointError(f"{path}: not a checkpoint written by bballs.training.loop.fit")
    return state


def checkpoint_epochs(path: str | Path, run_id: dict) -> int | None:
    """Epochs trained by the checkpoint at ``path`` if it belongs to the run ``run_id``, else
    None (missing, unreadable or another configuration)."""
    try:
        state = read_checkpoint(path)
    except CheckpointError:
        return None
    return len(state["history"].get("train_loss", [])) if state["fingerprint"] == run_id else None


def load_weights(model: nn.Module, checkpoint: str | Path, run_id: dict) -> nn.Module:
    """Load the weights of a checkpoint written by :func:`fit` for the run ``run_id``
    (see :func:`fingerprint`); a checkpoint of any other configuration is refused."""
    state = read_checkpoint(checkpoint)
    if state["fingerprint"] != run_id:
        raise CheckpointError(
            f"{checkpoint}: {mismatch(state['fingerprint'], run_id)}. Delete it to retrain.")
    model.load_state_dict(state["model"])
    return model


def mismatch(stored, expected: dict) -> str:
    """Why a checkpoint's fingerprint is not the run's, in one phrase: ``data changed: train
    digest 3f2a... -> 91c0...`` (plus any other field that differs) when the data differ, else
    the differing fields."""
    if isinstance(stored, dict) and "data" not in stored:
        return "checkpoint without a training-data digest (written by an older version)"
    if isinstance(stored, dict) and stored.get("data") != expected.get("data"):
        changed = f"data changed: train digest {stored.get('data')} -> {expected.get('data')}"
        others = {k: v for k, v in stored.items() if k != "data"}
        rest = _difference(others, {k: v for k, v in expected.items() if k != "data"})
        return f"{changed}; also {rest}" if rest else changed
    return f"checkpoint of another configuration ({_difference(stored, expected)})"


def _difference(stored, expected: dict) -> str:
    """The fields in which two fingerprints differ, as 'field: stored -> expected'."""
    if not isinstance(stored, dict):
        return f"stored {stored!r}, expected {expected}"
    keys = sorted(set(stored) | set(expected))
    return "; ".join(f"{k}: {stored.get(k)!r} -> {expected.get(k)!r}"
                     for k in keys if stored.get(k) != expected.get(k))
