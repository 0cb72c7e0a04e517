"""Corruptions for the image-to-image tasks that :mod:`bballs.data.shifts` does not hold: square
holes for in-painting and the in-painting input (noise and salt-and-pepper are shifts)."""

from __future__ import annotations

import torch

from bballs.data import physics


def square_masks(n: int, position: str, size: int, resolution: int = physics.RESOLUTION,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """Masks (n, 1, H, W), 1 inside a ``size`` square hole: at the ``"centre"``, at a uniformly
    ``"random"`` position, or ``"mixed"`` (centre for a random half of the frames)."""
    if position not in ("centre", "random", "mixed"):
        raise ValueError(f"position must be 'centre', 'random' or 'mixed', got {position!r}")
    if not 0 < size <= resolution:
        raise ValueError(f"hole size must be in 1..{resolution}, got {size}")
    corner = torch.randint(0, resolution - size + 1, (n, 2), generator=generator)
    centre = torch.full((n, 2), (resolution - size) // 2)
    if position == "centre":
        corner = centre
    elif position == "mixed":
        corner = torch.where(torch.rand(n, 1, generator=generator) < 0.5, centre, corner)
    index = torch.arange(resolution)
    rows = (index >= corner[:, :1]) & (index < corner[:, :1] + size)
    cols = (index >= corner[:, 1:]) & (index < corner[:, 1:] + size)
    return (rows[:, :, None] & cols[:, None, :]).float()[:, None]


def inpaint_input(clean: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The network's in-painting input: the frame with the hole set to 0, and the mask."""
    mask = mask.to(clean.device)
    return torch.cat([clean * (1 - mask), mask], dim=1)
