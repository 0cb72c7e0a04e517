"""Pixel noise on batches of frames (N, 1, H, W) in [0, 1]: additive Gaussian noise and
salt-and-pepper, with one strength per frame (a tensor of N values, or one number for all)."""

from __future__ import annotations

import torch

Strength = torch.Tensor | float


def per_frame(value: Strength, x: torch.Tensor) -> torch.Tensor:
    """``value`` as one strength per frame of ``x``, shaped (N, 1, 1, 1) to broadcast."""
    value = torch.as_tensor(value, dtype=x.dtype, device=x.device)
    return value.expand(len(x)).view(-1, 1, 1, 1)


def gaussian_noise(x: torch.Tensor, sigma: Strength,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """Additive Gaussian noise of standard deviation ``sigma``, clipped to [0, 1] (the global
    torch generator when ``generator`` is None)."""
    noise = torch.randn(x.shape, generator=generator).to(x.device)
    return (x + per_frame(sigma, x) * noise).clamp(0, 1)


def salt_and_pepper(x: torch.Tensor, share: Strength,
                    generator: torch.Generator | None = None) -> torch.Tensor:
    """A ``share`` (in [0, 1]) of the pixels set to 0 or 1 (half each)."""
    if not bool((torch.as_tensor(share) >= 0).all() and (torch.as_tensor(share) <= 1).all()):
        raise ValueError(f"the share of pixels must be in [0, 1], got {share}")
    draw = torch.rand(x.shape, generator=generator).to(x.device)
    share = per_frame(share, x)
    x = torch.where(draw < share / 2, torch.zeros_like(x), x)
    return torch.where((draw >= share / 2) & (draw < share), torch.ones_like(x), x)


def unclipped_noise(frames: torch.Tensor, std: float, seed: int = 0) -> torch.Tensor:
    """Frames plus N(0, std²) noise (not clipped, like a training noise layer), drawn from
    ``seed``."""
    if std < 0:
        raise ValueError(f"noise std must be >= 0, got {std}")
    generator = torch.Generator().manual_seed(seed)
    return frames + std * torch.randn(frames.shape, generator=generator)
