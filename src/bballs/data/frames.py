"""Single frames for Lab 3 (autoencoders, image-to-image CNNs, generators).

Frames come from ``part2_bballs_sequence.npz`` (radius 1.2, the training distribution), split by
sequence so no split shares a ball trajectory: the first 80 % of the sequences train (as in
Part 2), the next 10 % validate (model choice), the last 10 % are the held-out test frames.
A few frames per sequence are enough: neighbouring frames of one sequence are near copies.
Labels are the file's ball counts; ball positions and radii are the generator's ground truth
(``None`` for official files, which do not carry them).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from bballs.data import physics
from bballs.data.dataset import PART2_SEQUENCES, load_ground_truth, load_npz, to_tensor

FRAME_STEPS = (0, 5)  # frames taken from every sequence (10 frames apart would repeat them)
QUICK_SIZES = {"train": 256, "val": 64, "test": 64}
PIXELS_PER_UNIT = physics.RESOLUTION / physics.BOX_SIZE


@dataclass
class FrameSet:
    """Frames (N, 1, 32, 32) float32 in [0, 1], counts (N,) int64 in 1..3 and, for generated
    files, ball centres (N, 3, 2) in box units and radii (N, 3) (0 = absent ball)."""

    frames: torch.Tensor
    counts: torch.Tensor
    positions: np.ndarray | None = None
    radii: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def has_ground_truth(self) -> bool:
        return self.positions is not None

    def subset(self, n: int) -> FrameSet:
        """The first ``n`` frames."""
        return FrameSet(self.frames[:n], self.counts[:n],
                        None if self.positions is None else self.positions[:n],
                        None if self.radii is None else self.radii[:n])


@dataclass
class FrameData:
    train: FrameSet
    val: FrameSet
    test: FrameSet


def split_sequences(n: int) -> dict[str, slice]:
    """Sequence ranges of the train / val / test splits (80 / 10 / 10 %, in file order)."""
    train_end, val_end = int(round(n * 0.8)), int(round(n * 0.9))
    return {"train": slice(0, train_end), "val": slice(train_end, val_end),
            "test": slice(val_end, n)}


def load_frames(data_dir: str | Path, quick: bool = False,
                steps: tuple[int, ...] = FRAME_STEPS) -> FrameData:
    """Train / val / test frames of the Part 2 file (see the module docstring); ``quick`` keeps
    the first :data:`QUICK_SIZES` frames of each split."""
    path = Path(data_dir) / PART2_SEQUENCES
    sequences, labels = load_npz(path)
    try:
        truth = load_ground_truth(path)
    except ValueError:
        truth = None
    steps = [s for s in steps if s < sequences.shape[1]]
    splits = {}
    for name, rows in split_sequences(len(sequences)).items():
        frames = sequences[rows][:, steps].reshape(-1, 1, *sequences.shape[2:])
        counts = np.repeat(labels[rows], len(steps))
        positions = radii = None
        if truth is not None:
            positions = truth["positions"][rows][:, steps].reshape(-1, physics.MAX_BALLS, 2)
            radii = np.repeat(truth["radii"][rows], len(steps), axis=0)
        frame_set = FrameSet(to_tensor(frames), to_tensor(counts), positions, radii)
        splits[name] = frame_set.subset(QUICK_SIZES[name]) if quick else frame_set
    return FrameData(**splits)


def ball_masks(positions: np.ndarray, radii: np.ndarray, resolution: int = physics.RESOLUTION,
               threshold: float = 0.5) -> np.ndarray:
    """Per-ball instance masks (N, 3, H, W) bool, rendered from the stored state: pixel centres
    where that ball's own intensity exp(-((d²/r²)⁴)) exceeds ``threshold``; absent balls are
    empty. Their union is the foreground mask of the frame at the same threshold."""
    grid = physics.pixel_centres(resolution)  # box units; x is the column, y the row
    x, y = positions[..., 0][..., None, None], positions[..., 1][..., None, None]
    d2 = (grid[None, None, None, :] - x) ** 2 + (grid[None, None, :, None] - y) ** 2
    r2 = np.where(radii > 0, radii, 1.0)[:, :, None, None] ** 2
    intensity = np.exp(-((d2 / r2) ** 4))
    return (intensity > threshold) & (radii > 0)[:, :, None, None]


def instance_labels(positions: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """Label maps (N, H, W) int64 from the generator state: 0 background, k = the k-th ball from
    the left (by centre x); a pixel inside two balls goes to the one with smaller d / r."""
    masks = ball_masks(positions, radii)
    grid = physics.pixel_centres()
    x, y = positions[..., 0][..., None, None], positions[..., 1][..., None, None]
    d2 = (grid[None, None, None, :] - x) ** 2 + (grid[None, None, :, None] - y) ** 2
    scaled = np.where(masks, d2 / np.where(radii > 0, radii, 1.0)[..., None, None] ** 2, np.inf)
    owner = scaled.argmin(axis=1)
    order_x = np.where(radii > 0, positions[..., 0], np.inf)
    rank = np.argsort(np.argsort(order_x, axis=1), axis=1)  # 0 = leftmost present ball
    labels = np.take_along_axis(rank, owner.reshape(len(owner), -1), axis=1).reshape(owner.shape)
    return np.where(masks.any(axis=1), labels + 1, 0).astype(np.int64)


def describe(data: FrameData, seed: int, quick: bool) -> dict:
    """The split sizes, frame steps and seed, for ``results/lab3.json``."""
    return {"train": len(data.train), "val": len(data.val), "test": len(data.test),
            "frame_steps": list(FRAME_STEPS), "seed": seed, "quick": quick,
            "ground_truth": data.train.has_ground_truth}
