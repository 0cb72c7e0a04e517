"""Proposal 3's Fréchet distance: counting CNNs trained on real frames give the features,
several of them (from consecutive seeds) so that no one network's quirks decide the distance;
real frames degraded in known ways calibrate it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from bballs.data.frames import FrameSet
from bballs.image_metrics import frechet_distance
from bballs.models.counter import CountNet
from bballs.tasks.sample_validity import validity
from bballs.training.checkpoints import TrainedModel
from bballs.training.loop import Supervised, TrainConfig, fit, predict, seed_everything

FEATURE_WIDTH = 16
DEGRADATIONS = {"noise": (0.05, 0.2), "blur": (0.7, 1.4), "radius": (1.15, 1.4)}
FEATURE_RECIPE = TrainConfig(epochs=3, batch_size=64, lr=2e-3, tag="counts")  # each feature net


def train_feature_encoder(data: FrameSet, val: FrameSet, config: TrainConfig,
                          checkpoint: str | Path | None = None,
                          device: torch.device | str | None = None) -> TrainedModel:
    """The feature network of the Frechet distance (its run record): a :class:`CountNet`
    trained to count the balls of real training frames (labels 1-3 become classes 0-2)."""
    seed_everything(config.seed)
    model = CountNet(FEATURE_WIDTH)
    history = fit(model, (data.frames, data.counts - 1), (val.frames, val.counts - 1),
                  Supervised(F.cross_entropy, classification=True), config,
                  checkpoint=checkpoint, device=device, desc="features")
    return TrainedModel(Path(checkpoint).stem if checkpoint else "features", model.eval(),
                        history)


def count_accuracy(model: CountNet, frame_set: FrameSet) -> float:
    """The share of ``frame_set``'s frames whose ball count the feature network gets right."""
    logits = predict(model, frame_set.frames, 500)
    return float((logits.argmax(1).cpu() == frame_set.counts - 1).float().mean())


def encoder_features(model: CountNet, frames: torch.Tensor, batch_size: int = 500
                     ) -> np.ndarray:
    """Globally pooled encoder features (N, 2 * width) of the counting CNN, batched."""
    pool = model.head[:2]  # average pool + flatten, before the classifier layer
    return predict(model, frames, batch_size,
                   forward=lambda x: pool(model.encoder(x))).cpu().numpy()


def degradation_key(kind: str, level: float) -> str:
    """The results key of a degraded real set, e.g. ``radius_1.15``."""
    return f"{kind}_{level:g}"


def degradation_label(kind: str, level: float) -> str:
    """A degraded real set in words; the radius level is a factor on the true radius."""
    if kind == "noise":
        return f"real + noise, std {level:g}"
    if kind == "blur":
        return f"real + blur, std {level:g} px"
    if kind == "radius":
        return f"real + radius ×{level:g}"
    raise ValueError(f"unknown degradation {kind!r}; expected one of {sorted(DEGRADATIONS)}")


def train_feature_encoders(data: FrameSet, val: FrameSet, config: TrainConfig,
                           checkpoints: Sequence[str | Path | None],
                           device: torch.device | str | None = None
                           ) -> list[TrainedModel]:
    """One feature network (:func:`train_feature_encoder`) per checkpoint path, the k-th from
    seed ``config.seed + k``: the Fréchet distance is averaged over them, so that no single
    encoder's quirks decide it."""
    return [train_feature_encoder(data, val, replace(config, seed=config.seed + k), path, device)
            for k, path in enumerate(checkpoints)]


def frechet_rows(encoders: Sequence[CountNet], reference: torch.Tensor,
                 candidates: dict[str, torch.Tensor], labels: dict[str, str] | None = None,
                 floor: str | None = None) -> list[dict]:
    """Fréchet distance of each candidate set to ``reference`` on each encoder's features, and
    the candidate's validity share. Rows carry the candidate's ``key``, its label ``set``, the
    distance averaged over the encoders (``fd``) and per encoder (``fd_each``); with ``floor``
    (a candidate's key), also ``fd_over_floor``: the mean over encoders of the distance divided
    by that encoder's floor, with its standard deviation ``fd_over_floor_sd``."""
    refs = [encoder_features(encoder, reference) for encoder in encoders]
    labels = labels or {}
    rows = [{"key": key, "set": labels.get(key, key), "n": len(frames),
             "fd_each": [frechet_distance(encoder_features(encoder, frames), ref)
                         for encoder, ref in zip(encoders, refs)],
             "valid": float(validity(frames)["valid"].mean())}
            for key, frames in candidates.items()]
    base = next((np.array(row["fd_each"]) for row in rows if row["key"] == floor), None)
    for row in rows:
        row["fd"] = float(np.mean(row["fd_each"]))
        if base is not None:
            ratios = np.array(row["fd_each"]) / base
            row["fd_over_floor"] = float(ratios.mean())
            row["fd_over_floor_sd"] = (float(ratios.std(ddof=1)) if len(ratios) > 1
                                       and row["key"] != floor else None)  # floor: 1 by design
    return rows


# --- the table -----------------------------------------------------------------------------------

FRECHET_COLUMNS = {"set": "frames vs test frames", "n": "n", "fd": "Fréchet distance",
                   "fd_over_floor": "× floor (± std)", "valid": "valid (%)"}


def frechet_table(rows) -> dict:
    """The Fréchet table of :func:`frechet_rows` (with ``fd_over_floor``); a degraded real set
    is labelled in words by its key (:func:`degradation_label`)."""
    labels = {degradation_key(kind, level): degradation_label(kind, level)
              for kind, levels in DEGRADATIONS.items() for level in levels}
    return {"columns": FRECHET_COLUMNS, "percent": ["valid"],
            "significant": ["fd", "fd_over_floor"],  # three digits; the s.d. to the same decimals
            "rows": [{**row, "set": labels.get(row["key"], row["set"]),
                      "fd_over_floor_mean": row["fd_over_floor"],
                      "fd_over_floor_std": row.get("fd_over_floor_sd")} for row in rows]}
