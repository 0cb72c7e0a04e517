"""Run records and checkpoints: the per-epoch :class:`History`, the fingerprint that
identifies a run (model, configuration, training data) and atomic checkpoints that are
resumed, reused or loaded only by a run with the same fingerprint."""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from torch import nn

from bballs.core.files import atomic_path
from bballs.core.parameters import count_parameters
from bballs.data.identity import array_digest

if TYPE_CHECKING:
    from bballs.training.loop import Batch, TrainConfig


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



@dataclass
class TrainedModel:
    """The run record every training workflow returns: the run's name, its trained model
    (in eval mode) and its history."""

    name: str
    model: nn.Module
    history: History

    @property
    def train_seconds(self) -> float:
        return float(sum(self.history.epoch_seconds))

    @property
    def parameters(self) -> int:
        return count_parameters(self.model)


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


Upgrade = Callable[[dict], dict]  # an older layout of a checkpoint's state -> today's


def save_checkpoint(path: str | Path, run_id: dict, history: History, info: dict | None = None,
                    **states) -> None:
    """Write ``states`` (modules, optimisers, schedulers; None is kept as None) with the run's
    fingerprint, history and ``info`` (plain values) to a temporary file, then rename it over
    ``path``."""
    state = {"fingerprint": run_id, "history": history.to_dict(),
             **({"info": info} if info is not None else {}),
             **{name: obj.state_dict() if obj is not None else None
                for name, obj in states.items()}}
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def resume_checkpoint(path: str | Path, run_id: dict, **states) -> History | None:
    """Load a checkpoint of the run ``run_id`` into ``states`` and return its history; a missing
    or unreadable one, or one of another configuration, warns and returns None."""
    state = matching_checkpoint(path, run_id)
    if state is None:
        return None
    for name, obj in states.items():
        if obj is not None and state.get(name) is not None:
            obj.load_state_dict(state[name])
    return History(**state["history"])


def matching_checkpoint(path: str | Path, run_id: dict, required: Sequence[str] = ("model",),
                        upgrade: Upgrade | None = None) -> dict | None:
    """The state of the checkpoint at ``path`` if it belongs to the run ``run_id``; a missing
    or unreadable one warns, one of another configuration prints why, and both return None."""
    try:
        state = read_checkpoint(path, required, upgrade)
    except CheckpointError as error:
        warnings.warn(f"{error}; training from scratch.", stacklevel=3)
        return None
    if state.get("fingerprint") != run_id:
        print(f"{Path(path).name}: {mismatch(state.get('fingerprint'), run_id)}; "
              "training from scratch")
        return None
    return state


def read_checkpoint(path: str | Path, required: Sequence[str] = ("model",),
                    upgrade: Upgrade | None = None) -> dict:
    """The state saved by :func:`save_checkpoint` with the ``required`` states (tensors and plain
    values only: never unpickles code); ``upgrade`` brings an older layout to today's first."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - any unreadable file is reported the same way
        raise CheckpointError(f"{path}: unreadable checkpoint ({type(error).__name__})") from error
    if isinstance(state, dict) and upgrade is not None:
        state = upgrade(state)
    if not isinstance(state, dict) or not {"fingerprint", "history", *required} <= set(state):
        raise CheckpointError(f"{path}: not a checkpoint written by bballs.training")
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
