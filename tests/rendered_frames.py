"""Frames of balls placed by hand, drawn by the dataset's renderer (image and generative tests)."""

from __future__ import annotations

import numpy as np
import torch

from bballs.data import physics
from bballs.data.frames import FrameSet


def rendered(positions: list[list[tuple[float, float]]], radius: float = physics.RADIUS
             ) -> FrameSet:
    """Frames drawn by the dataset's renderer, with their ground truth (absent balls: r 0)."""
    n = len(positions)
    xy = np.full((n, 3, 2), 5.0)
    radii = np.zeros((n, 3))
    for i, balls in enumerate(positions):
        if balls:
            xy[i, :len(balls)] = balls
        radii[i, :len(balls)] = radius
    frames = physics.render(xy[:, None], radii)
    counts = torch.tensor([len(b) for b in positions])
    return FrameSet(torch.from_numpy(frames), counts, xy, radii)
