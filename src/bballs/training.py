"""One training loop for every model: seeded, batched on-device, checkpointed and resumable."""

from __future__ import annotations

import hashlib
import json
import os
import random
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

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


@dataclass
class History:
    """Per-epoch metrics of a run; accuracy lists stay empty for regression."""

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    epoch_seconds: list[float] = field(default_factory=list)

    def to_dict(self) -> dict[str, list[float]]:
        return {key: value for key, value in asdict(self).items() if value}

    @property
    def epochs_done(self) -> int:
        return len(self.train_loss)


def fit(
    model: nn.Module,
    train: tuple[torch.Tensor, torch.Tensor],
    val: tuple[torch.Tensor, torch.Tensor],
    loss_fn: nn.Module,
    config: TrainConfig,
    *,
    classification: bool = False,
    checkpoint: str | Path | None = None,
    augment: Augment | None = None,
    make_scheduler: SchedulerFactory | None = None,
    device: torch.device | str | None = None,
    desc: str = "train",
) -> History:
    """Train ``model`` in place with Adam and return its history.

    Batches are drawn from tensors kept on ``device`` in an order fixed by ``config.seed`` and the
    epoch number. Validation runs after every epoch. With ``checkpoint`` the state is written
    atomically after every epoch and a matching checkpoint is resumed (a finished one returns at
    once), so an interrupted run ends with the same weights as an uninterrupted one.
    """
    device = pick_device(str(device) if device else None)
    model.to(device)
    x_train, y_train = (t.to(device) for t in train)
    x_val, y_val = (t.to(device) for t in val)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    scheduler = make_scheduler(optimizer, config.epochs) if make_scheduler else None
    history = History()
    run_id = fingerprint(model, config, len(x_train))
    if checkpoint and Path(checkpoint).is_file():
        history = _resume(checkpoint, run_id, model, optimizer, scheduler) or History()

    if checkpoint and history.epochs_done == config.epochs:
        print(reuse_log(checkpoint, history, desc))
        return history
    epochs = progress(range(history.epochs_done, config.epochs), desc=desc, unit="epoch",
                      initial=history.epochs_done, total=config.epochs, mininterval=5)
    for epoch in epochs:
        started = time.perf_counter()
        generator = torch.Generator().manual_seed(config.seed * 100_003 + epoch)
        train_loss, train_acc = _train_epoch(
            model, x_train, y_train, loss_fn, optimizer, config.batch_size, generator,
            augment, classification,
        )
        if scheduler:
            scheduler.step()
        val_loss, val_acc = evaluate_loss(model, x_val, y_val, loss_fn, classification)
        _record(history, train_loss, val_loss, train_acc, val_acc, time.perf_counter() - started)
        epochs.set_postfix(_postfix(history), refresh=False)
        if checkpoint:
            _save(checkpoint, run_id, model, optimizer, scheduler, history)
    return history


def reuse_log(checkpoint: str | Path | None, history: History, desc: str) -> str:
    """The recorded training log of a finished run whose checkpoint is reused."""
    lines = [f"{desc}: reused {Path(checkpoint).name} (trained {history.epochs_done} epochs in "
             f"{sum(history.epoch_seconds):.0f} s); recorded log:"]
    for epoch in range(history.epochs_done):
        values = {"loss": history.train_loss[epoch], "val_loss": history.val_loss[epoch]}
        if history.val_accuracy:
            values["val_acc"] = history.val_accuracy[epoch]
        shown = "  ".join(f"{k} {v:.4g}" for k, v in values.items())
        lines.append(f"  epoch {epoch + 1:3d}: {shown}  ({history.epoch_seconds[epoch]:.1f} s)")
    return "\n".join(lines)


def _train_epoch(model, x, y, loss_fn, optimizer, batch_size, generator, augment, classification):
    model.train()
    order = torch.randperm(len(x), generator=generator).to(x.device)
    loss_sum = torch.zeros((), device=x.device)
    correct = torch.zeros((), device=x.device)
    for start in range(0, len(x), batch_size):
        index = order[start:start + batch_size]
        xb, yb = x[index], y[index]
        if augment:
            xb, yb = augment(xb, yb, generator)
        output = model(xb)
        loss = loss_fn(output, yb)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        loss_sum += loss.detach() * len(xb)
        if classification:
            correct += (output.argmax(1) == yb).sum()
    accuracy = (correct / len(x)).item() if classification else None
    return (loss_sum / len(x)).item(), accuracy


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
    """Model outputs for ``x`` in evaluation mode, batched, on the model's device."""
    model.eval()
    device = next(model.parameters()).device
    return torch.cat([model(x[i:i + batch_size].to(device)) for i in range(0, len(x), batch_size)])


@torch.no_grad()
def evaluate_loss(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss_fn: nn.Module,
    classification: bool = False,
) -> tuple[float, float | None]:
    """Mean loss over (x, y) and, for classification, the accuracy."""
    output = predict(model, x)
    y = y.to(output.device)
    accuracy = (output.argmax(1) == y).float().mean().item() if classification else None
    return loss_fn(output, y).item(), accuracy


def _record(history, train_loss, val_loss, train_acc, val_acc, seconds):
    history.train_loss.append(train_loss)
    history.val_loss.append(val_loss)
    history.epoch_seconds.append(seconds)
    if train_acc is not None:
        history.train_accuracy.append(train_acc)
        history.val_accuracy.append(val_acc)


def _postfix(history: History) -> dict[str, str]:
    postfix = {"loss": f"{history.train_loss[-1]:.4g}", "val_loss": f"{history.val_loss[-1]:.4g}"}
    if history.val_accuracy:
        postfix["val_acc"] = f"{history.val_accuracy[-1]:.3f}"
    return postfix


def fingerprint(model: nn.Module, config: TrainConfig, n_train: int) -> dict:
    """What identifies a run: model class and tensor shapes, configuration, training-set size.

    A checkpoint is resumed, reused or loaded only by a run with an equal fingerprint.
    """
    shapes = ",".join(f"{k}:{tuple(v.shape)}" for k, v in model.state_dict().items())
    return {"model": type(model).__name__, **asdict(config), "n_train": n_train,
            "shapes": hashlib.sha1(shapes.encode()).hexdigest()[:12]}


def fingerprint_digest(fingerprint: dict) -> str:
    """A short stable digest of a fingerprint, for result rows."""
    return hashlib.sha1(json.dumps(fingerprint, sort_keys=True).encode()).hexdigest()[:16]


class CheckpointError(RuntimeError):
    """A checkpoint that is missing, unreadable or from another configuration."""


def _save(path, run_id, model, optimizer, scheduler, history) -> None:
    """Write the checkpoint to a temporary file, then rename it over the old one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {
        "fingerprint": run_id,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict() if scheduler else None,
        "history": history.to_dict(),
    }
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def _resume(path, run_id, model, optimizer, scheduler) -> History | None:
    try:
        state = read_checkpoint(path)
    except CheckpointError as error:
        warnings.warn(f"{error}; training from scratch.", stacklevel=3)
        return None
    if state.get("fingerprint") != run_id:
        warnings.warn(f"{path}: checkpoint is from another configuration "
                      f"({_difference(state.get('fingerprint'), run_id)}); training from scratch.",
                      stacklevel=3)
        return None
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    if scheduler and state["scheduler"]:
        scheduler.load_state_dict(state["scheduler"])
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
        raise CheckpointError(f"{path}: not a checkpoint written by bballs.training.fit")
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
            f"{checkpoint}: checkpoint of another configuration "
            f"({_difference(state['fingerprint'], run_id)}). Delete it to retrain.")
    model.load_state_dict(state["model"])
    return model


def _difference(stored, expected: dict) -> str:
    """The fields in which two fingerprints differ, as 'field: stored -> expected'."""
    if not isinstance(stored, dict):
        return f"stored {stored!r}, expected {expected}"
    keys = sorted(set(stored) | set(expected))
    return "; ".join(f"{k}: {stored.get(k)!r} -> {expected.get(k)!r}"
                     for k in keys if stored.get(k) != expected.get(k))
