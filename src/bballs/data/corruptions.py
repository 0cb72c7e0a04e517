"""Corruptions for the image-to-image tasks that :mod:`bballs.data.shifts` does not hold: square
holes for in-painting and the in-painting input (noise and salt-and-pepper are shifts)."""

from __future__ import annotations

import torch
from scipy import ndimage

from bballs.data import physics
from bballs.data.frames import FrameSet

DEGRADATION_KINDS = ("blur", "noise", "radius")


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


def degrade(frame_set: FrameSet, kind: str, level: float, seed: int = 0) -> torch.Tensor:
    """Real frames made worse: ``noise`` adds Gaussian noise of std ``level`` (clipped to
    [0, 1]); ``blur`` applies a Gaussian blur of ``level`` pixels; ``radius`` re-renders the
    frames from the generator's ground-truth state with every radius times ``level``."""
    frames = frame_set.frames
    if kind == "noise":
        noise = torch.randn(frames.shape, generator=torch.Generator().manual_seed(seed))
        return (frames + level * noise).clamp(0, 1)
    if kind == "blur":
        return torch.from_numpy(ndimage.gaussian_filter(frames.numpy(), (0, 0, level, level)))
    if kind == "radius":
        if not frame_set.has_ground_truth:
            raise ValueError("the radius degradation needs the generator's ground truth")
        rendered = physics.render(frame_set.positions[:, None], frame_set.radii * level)
        return torch.from_numpy(rendered)  # (N, 1, 32, 32): one time step per frame
    raise ValueError(f"unknown degradation {kind!r}; expected one of {DEGRADATION_KINDS}")
