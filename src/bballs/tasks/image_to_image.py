"""Image-to-image tasks on single frames (Lab 3, Proposal 2): denoising, in-painting and
segmentation with the encoder-decoder of :mod:`bballs.models.image_to_image`, each against
classical baselines.

Tasks (corruption levels fixed here and documented in the report):

* ``denoise_gaussian``: additive Gaussian noise of std :data:`GAUSSIAN_SIGMA`, clipped to [0, 1].
* ``denoise_salt_pepper``: a fraction :data:`SALT_PEPPER` of the pixels set to 0 or 1 (half each).
* ``inpaint``: a :data:`HOLE` x :data:`HOLE` square set to 0; the network gets the masked frame
  and the mask as two channels. Training holes are at the centre for half the frames and at a
  uniformly random position for the other half; both positions are scored separately.
* ``segment_binary``: per-pixel ball / background; ``segment_instance``: per-pixel background or
  ball 1..3, balls numbered from left to right by the x coordinate of their centre, a pixel
  covered by two balls belonging to the one it is closer to (relative to the radius). Targets
  are rendered from the generator's stored state (ground truth) by
  :func:`bballs.data.frames.ball_masks`. Clean frames make the foreground a plain threshold of
  the input, so the networks train on frames with Gaussian noise of a per-frame std drawn from
  U(0, :data:`SEGMENT_NOISE_MAX`) and are scored on clean frames and on frames with noise of
  std :data:`GAUSSIAN_SIGMA`.

Restoration networks end in a linear head clipped to [0, 1] and train with the mean squared error
against the clean frame over the whole frame (a sigmoid trained with cross-entropy left a faint
grey background that SSIM punishes; the clipped head outputs exact zeros there). Segmentation
networks output logits and train with cross-entropy. Every run uses Adam, batch 64, lr 2e-3 with
cosine decay (:data:`RECIPES`). Training corruptions are drawn
afresh in every step (reproducibly: :func:`bballs.training.loop.fit` re-seeds the global torch
generator every epoch); evaluation corruptions are drawn once from fixed seeds.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from bballs.core.files import OutputPaths
from bballs.data import physics
from bballs.data.corruptions import inpaint_input, square_masks
from bballs.data.frames import FrameSet, instance_labels, load_frames
from bballs.data.noise import gaussian_noise, salt_and_pepper
from bballs.image_metrics import restoration_scores, segmentation_scores
from bballs.models.image_to_image import (
    SKIPS,
    Skip,
    build,
)
from bballs.training.checkpoints import TrainedModel
from bballs.training.loop import TrainConfig, cosine, fit, predict, seed_everything

GAUSSIAN_SIGMA = 0.2
SALT_PEPPER = 0.1
HOLE = 8
SEGMENT_NOISE_MAX = 0.3
N_SEEDS = 3  # seeds of every network of the skip study (quick mode: 1)
EVAL_SEED = 1234


@dataclass(frozen=True)
class ImageTask:
    """One image-to-image task: its kind ("restore" or "segment") and the network's channels."""

    name: str
    kind: str
    in_channels: int
    out_channels: int
    title: str


IMAGE_TASKS = {task.name: task for task in (
    ImageTask("denoise_gaussian", "restore", 1, 1, f"Gaussian noise (std {GAUSSIAN_SIGMA})"),
    ImageTask("denoise_salt_pepper", "restore", 1, 1,
              f"salt and pepper ({SALT_PEPPER:.0%} pixels)"),
    ImageTask("inpaint", "restore", 2, 1, f"in-painting ({HOLE}×{HOLE} hole)"),
    ImageTask("segment_binary", "segment", 1, 2, "binary segmentation"),
    ImageTask("segment_instance", "segment", 1, 1 + physics.MAX_BALLS, "instance segmentation"),
)}


def image_task(name: str) -> ImageTask:
    """The task called ``name`` (a clear error for an unknown one)."""
    if name not in IMAGE_TASKS:
        raise ValueError(f"unknown task {name!r}; choose from {tuple(IMAGE_TASKS)}")
    return IMAGE_TASKS[name]


def training_input(name: str, clean: torch.Tensor) -> torch.Tensor:
    """A freshly corrupted training input for task ``name`` (global torch generator)."""
    if name == "denoise_gaussian":
        return gaussian_noise(clean, GAUSSIAN_SIGMA)
    if name == "denoise_salt_pepper":
        return salt_and_pepper(clean, SALT_PEPPER)
    if name == "inpaint":
        return inpaint_input(clean, square_masks(len(clean), "mixed", HOLE))
    image_task(name)
    return gaussian_noise(clean, torch.rand(len(clean)) * SEGMENT_NOISE_MAX)


class ImageTaskStep:
    """The training step of a task: corrupt the clean frames afresh, then the mean squared error
    against the clean frame (restoration) or cross-entropy against the label map
    (segmentation)."""

    def __init__(self, name: str) -> None:
        self.image_task = image_task(name)

    def __call__(self, model: nn.Module, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
        clean, target = batch
        output = model(training_input(self.image_task.name, clean))
        if self.image_task.kind == "restore":
            return F.mse_loss(output, target)
        return F.cross_entropy(output, target)


# --- data -------------------------------------------------------------------------------------

@dataclass
class Split:
    """Clean frames (N, 1, H, W) and their label maps (N, H, W): foreground and instances."""

    frames: torch.Tensor
    binary: torch.Tensor
    instance: torch.Tensor

    def target(self, name: str) -> torch.Tensor:
        """The training target of task ``name``."""
        kind = image_task(name).kind
        if kind == "restore":
            return self.frames
        return self.binary if name == "segment_binary" else self.instance


def make_split(frame_set: FrameSet) -> Split:
    """Frames and ground-truth label maps of one split (the file must carry the state)."""
    if not frame_set.has_ground_truth:
        raise ValueError("segmentation targets need the generator's state (positions, radii)")
    labels = instance_labels(frame_set.positions, frame_set.radii)
    return Split(frame_set.frames, torch.from_numpy((labels > 0).astype(np.int64)),
                 torch.from_numpy(labels))


@dataclass
class Data:
    train: Split
    val: Split
    test: Split


def load_data(data_dir: str | Path, quick: bool = False) -> Data:
    """Train / val / test splits of :func:`bballs.data.frames.load_frames` with label maps."""
    frames = load_frames(data_dir, quick)
    return Data(*(make_split(getattr(frames, s)) for s in ("train", "val", "test")))


# --- fixed evaluation inputs --------------------------------------------------------------------

@dataclass
class Condition:
    """One scored condition of a task: a key, a title, the network input and what the
    baselines see."""

    name: str
    title: str
    inputs: torch.Tensor
    corrupted: torch.Tensor  # the corrupted frame (N, 1, H, W)
    mask: torch.Tensor | None = None  # in-painting hole (N, 1, H, W)


def conditions(name: str, split: Split, seed: int = EVAL_SEED) -> list[Condition]:
    """The evaluation conditions of task ``name`` on ``split``, drawn from ``seed``."""
    clean = split.frames
    generator = torch.Generator().manual_seed(seed)
    if name == "denoise_gaussian":
        noisy = gaussian_noise(clean, GAUSSIAN_SIGMA, generator)
        return [Condition("noisy", f"Gaussian, std {GAUSSIAN_SIGMA}", noisy, noisy)]
    if name == "denoise_salt_pepper":
        noisy = salt_and_pepper(clean, SALT_PEPPER, generator)
        return [Condition("noisy", f"salt and pepper, {SALT_PEPPER:.0%} of pixels", noisy,
                          noisy)]
    if name == "inpaint":
        out = []
        for position in ("centre", "random"):
            mask = square_masks(len(clean), position, HOLE, generator=generator)
            inputs = inpaint_input(clean, mask)
            out.append(Condition(position, f"{position} hole", inputs, inputs[:, :1], mask))
        return out
    image_task(name)
    noisy = gaussian_noise(clean, GAUSSIAN_SIGMA, generator)
    return [Condition("clean", "clean", clean, clean),
            Condition("noisy", f"noisy (std {GAUSSIAN_SIGMA})", noisy, noisy)]


def condition_titles(name: str) -> dict[str, str]:
    """The titles of task ``name``'s evaluation conditions by key (they do not depend on the
    frames)."""
    size = physics.RESOLUTION
    empty = Split(torch.zeros(1, 1, size, size), torch.zeros(1, size, size, dtype=torch.int64),
                  torch.zeros(1, size, size, dtype=torch.int64))
    return {c.name: c.title for c in conditions(name, empty)}


PRIMARY = {"restore": "psnr", "segment": "iou"}


# --- training -----------------------------------------------------------------------------------

@dataclass
class TrainedNetwork(TrainedModel):
    """A trained network (:class:`TrainedModel`) of one task and skip type."""

    image_task: str
    skip: Skip
    checkpoint: Path


def build_model(name: str, skip: Skip) -> nn.Module:
    """The ``skip`` variant for task ``name`` (same parameter budget for all three skips),
    in channels-last memory layout (much faster convolutions on the CPU)."""
    spec = image_task(name)
    output = "image" if spec.kind == "restore" else "logits"
    model = build(skip, spec.in_channels, spec.out_channels, output)
    return model.to(memory_format=torch.channels_last)


#: The recipe of every run by task kind: Adam, batch 64, lr 2e-3 with cosine decay (see
#: :func:`train`), 4 epochs; the tag names the loss (segmentation keeps the tag of its unchanged
#: cross-entropy recipe), so checkpoint fingerprints stay as they were.
RECIPES = {kind: TrainConfig(epochs=4, batch_size=64, lr=2e-3, tag=tag)
           for kind, tag in (("restore", "i2i-mse-cosine"), ("segment", "i2i-bce-cosine"))}


def train(name: str, skip: Skip, data: Data, paths: OutputPaths, quick: bool,
          device: torch.device | str | None = None, seed: int = 0,
          epochs: int | None = None, suffix: str = "") -> TrainedNetwork:
    """Train (or reuse the checkpoint of) the ``skip`` network on task ``name`` (checkpoint
    ``lab3/i2i_<task>_<skip><suffix>``, with ``_seed<seed>`` for a seed other than 0);
    ``epochs`` replaces the recipe's 4 (1 in quick mode)."""
    seed_everything(seed)
    model = build_model(name, skip)
    checkpoint = paths.checkpoint(f"lab3/i2i_{name}_{skip}{suffix}"
                                  + (f"_seed{seed}" if seed else ""))
    splits = [(s.frames, s.target(name)) for s in (data.train, data.val)]
    recipe = RECIPES[image_task(name).kind]
    recipe = recipe if epochs is None else replace(recipe, epochs=epochs)
    history = fit(model, *splits, ImageTaskStep(name), recipe.for_run(seed, quick),
                  checkpoint=checkpoint, make_scheduler=cosine, device=device,
                  desc=f"{name} ({skip}{', ' + str(epochs) + ' epochs' if epochs else ''})")
    return TrainedNetwork(checkpoint.stem, model, history, image_task=name, skip=skip,
                          checkpoint=checkpoint)


def train_all(data: Data, paths: OutputPaths, quick: bool,
              device: torch.device | str | None = None,
              image_tasks: tuple[str, ...] = tuple(IMAGE_TASKS), skips: tuple[Skip, ...] = SKIPS,
              seed: int = 0) -> dict[str, dict[str, TrainedNetwork]]:
    """Every task with every skip type: ``runs[task][skip]``."""
    return {name: {skip: train(name, skip, data, paths, quick, device, seed) for skip in skips}
            for name in image_tasks}


def train_repeats(data: Data, paths: OutputPaths, quick: bool,
                  device: torch.device | str | None = None, seed: int = 0
                  ) -> list[dict[str, dict[str, TrainedNetwork]]]:
    """:func:`train_all` again for seeds ``seed + 1`` .. (:data:`N_SEEDS` in all; quick: none)."""
    return [train_all(data, paths, quick, device, seed=extra)
            for extra in range(seed + 1, seed + (1 if quick else N_SEEDS))]


def network_output(run: TrainedNetwork, condition: Condition) -> np.ndarray:
    """The network's output for a condition: an image (N, H, W) or a label map (N, H, W)."""
    out = predict(run.model, condition.inputs)
    if image_task(run.image_task).kind == "segment":
        return out.argmax(1).cpu().numpy()
    return out[:, 0].cpu().numpy()


def score_network(run: TrainedNetwork, split: Split) -> dict[str, dict[str, float]]:
    """The network's scores on every condition of its task on ``split``."""
    spec = image_task(run.image_task)
    out = {}
    for condition in conditions(run.image_task, split):
        output = network_output(run, condition)
        if spec.kind == "restore":
            out[condition.name] = restoration_scores(output, split.frames, condition.mask)
        else:
            target = split.target(run.image_task).numpy()
            out[condition.name] = segmentation_scores(output, target,
                                                      run.image_task != "segment_binary")
    return out
