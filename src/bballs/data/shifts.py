"""Changes of appearance that keep the number of balls: intensity, blur, quantisation and ball
scale (noise is in :mod:`bballs.data.noise`), on batches of frames (N, 1, H, W) in [0, 1].

Each transform takes one strength per frame (a tensor of N values, or one number for all), so
the same code draws random training augmentations and builds the fixed shift levels on which
counters are evaluated.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from bballs.data.noise import Strength, per_frame

BLUR_RADIUS = 4  # Gaussian kernels are 9x9: enough for sigma <= 2 px


def contrast(x: torch.Tensor, scale: Strength) -> torch.Tensor:
    """Intensities multiplied by ``scale`` and clipped to [0, 1]."""
    return (x * per_frame(scale, x)).clamp(0, 1)


def gamma(x: torch.Tensor, exponent: Strength) -> torch.Tensor:
    """Intensities raised to ``exponent`` (< 1 brightens the ball edges, > 1 darkens them)."""
    return x.clamp(0, 1) ** per_frame(exponent, x)


def blur(x: torch.Tensor, sigma: Strength) -> torch.Tensor:
    """A Gaussian blur of ``sigma`` pixels per frame (0 leaves the frame as it is)."""
    sigma = per_frame(sigma, x).view(-1, 1)
    offsets = torch.arange(-BLUR_RADIUS, BLUR_RADIUS + 1, dtype=x.dtype, device=x.device)
    weights = torch.exp(-0.5 * (offsets / sigma.clamp_min(1e-3)) ** 2)
    weights = torch.where(sigma > 1e-3, weights, (offsets == 0).to(x.dtype))
    weights = weights / weights.sum(dim=1, keepdim=True)  # (N, K)
    n, c, h, w = x.shape
    grouped = x.reshape(1, n * c, h, w)
    rows = weights.repeat_interleave(c, 0).view(n * c, 1, -1, 1)
    cols = weights.repeat_interleave(c, 0).view(n * c, 1, 1, -1)
    grouped = F.conv2d(F.pad(grouped, (0, 0, BLUR_RADIUS, BLUR_RADIUS), mode="replicate"), rows,
                       groups=n * c)
    grouped = F.conv2d(F.pad(grouped, (BLUR_RADIUS, BLUR_RADIUS, 0, 0), mode="replicate"), cols,
                       groups=n * c)
    return grouped.view(n, c, h, w)


def illumination(x: torch.Tensor, strength: Strength, angle: Strength = 0.0) -> torch.Tensor:
    """Uneven lighting: intensities multiplied by a linear ramp from 1 down to 1 - ``strength``
    across the frame, in the direction ``angle`` (radians)."""
    h, w = x.shape[-2:]
    ys, xs = torch.meshgrid(torch.linspace(-1, 1, h, device=x.device),
                            torch.linspace(-1, 1, w, device=x.device), indexing="ij")
    angle = per_frame(angle, x)
    along = (torch.cos(angle) * xs + torch.sin(angle) * ys) / 2 ** 0.5  # in [-1, 1]
    return x * (1 - per_frame(strength, x) * (along + 1) / 2)


def quantise(x: torch.Tensor, levels: int = 256) -> torch.Tensor:
    """Intensities rounded to ``levels`` grey levels (256: frames stored as 8-bit)."""
    return torch.round(x.clamp(0, 1) * (levels - 1)) / (levels - 1)


ANTIALIAS = 0.4  # blur sigma (pixels) per unit of shrinking, 1 / factor - 1, before resampling


def zoom(x: torch.Tensor, factor: Strength, centre: torch.Tensor | None = None) -> torch.Tensor:
    """Every frame resampled by ``factor`` about ``centre`` (N, 2) in [-1, 1] (default: the
    middle): > 1 makes balls larger, < 1 smaller (blurred first, against aliasing); outside
    the frame is black."""
    factor = per_frame(factor, x).view(-1)
    x = blur(x, (ANTIALIAS * (1 / factor - 1)).clamp_min(0))
    centre = torch.zeros(len(x), 2, device=x.device) if centre is None else centre
    theta = torch.zeros(len(x), 2, 3, dtype=x.dtype, device=x.device)
    theta[:, 0, 0] = theta[:, 1, 1] = 1 / factor
    theta[:, :, 2] = centre * (1 - 1 / factor)[:, None]
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def zoom_keeps_everything(x: torch.Tensor, factor: torch.Tensor, centre: torch.Tensor,
                          threshold: float = 0.05) -> torch.Tensor:
    """True for frames whose bright pixels all stay inside the frame after :func:`zoom` (so
    no ball is cut off and the count is kept)."""
    h, w = x.shape[-2:]
    ys = (torch.arange(h, device=x.device) + 0.5) / h * 2 - 1
    xs = (torch.arange(w, device=x.device) + 0.5) / w * 2 - 1
    factor = factor.view(-1, 1, 1)
    inside_x = ((xs.view(1, 1, -1) - centre[:, 0].view(-1, 1, 1)) * factor
                + centre[:, 0].view(-1, 1, 1)).abs() <= 1
    inside_y = ((ys.view(1, -1, 1) - centre[:, 1].view(-1, 1, 1)) * factor
                + centre[:, 1].view(-1, 1, 1)).abs() <= 1
    lost = (x[:, 0] > threshold) & ~(inside_x & inside_y)
    return ~lost.flatten(1).any(dim=1)


def translate(x: torch.Tensor, columns: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """Every frame shifted by whole pixels (N values each; positive: right / down); what leaves
    the frame is lost and what enters is black."""
    n, _, h, w = x.shape
    theta = torch.zeros(n, 2, 3, dtype=x.dtype, device=x.device)
    theta[:, 0, 0] = theta[:, 1, 1] = 1
    theta[:, 0, 2] = -2 * columns.to(x.dtype) / w
    theta[:, 1, 2] = -2 * rows.to(x.dtype) / h
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="nearest", padding_mode="zeros", align_corners=False)


def free_margins(x: torch.Tensor, threshold: float = 0.05) -> torch.Tensor:
    """Per frame, the number of dark rows / columns (< ``threshold``) on each side: (N, 4) as
    left, right, top, bottom (a blank frame has the full size on every side)."""
    h, w = x.shape[-2:]
    bright = x[:, 0] > threshold
    cols, rows = bright.any(dim=1), bright.any(dim=2)  # (N, W), (N, H)

    def sides(mask: torch.Tensor, size: int) -> tuple[torch.Tensor, torch.Tensor]:
        index = torch.arange(size, device=x.device)
        first = torch.where(mask, index, size).amin(dim=1)
        last = torch.where(mask, index, -1).amax(dim=1)
        return first.clamp(max=size), (size - 1 - last).clamp(max=size)

    left, right = sides(cols, w)
    top, bottom = sides(rows, h)
    return torch.stack([left, right, top, bottom], dim=1)


def stretch(x: torch.Tensor, aspect: Strength) -> torch.Tensor:
    """Every frame resampled about its middle with width × sqrt(``aspect``) and height ÷
    sqrt(``aspect``): round balls become ellipses of the same area; outside the frame is
    black."""
    aspect = per_frame(aspect, x).view(-1)
    theta = torch.zeros(len(x), 2, 3, dtype=x.dtype, device=x.device)
    theta[:, 0, 0] = aspect.rsqrt()
    theta[:, 1, 1] = aspect.sqrt()
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def motion_blur(x: torch.Tensor, length: int, direction: torch.Tensor) -> torch.Tensor:
    """A straight motion blur: each frame averaged over ``length`` pixels (odd) along its
    ``direction`` (0: rows, 1: columns, 2 and 3: the two diagonals)."""
    if length < 1 or length % 2 == 0:
        raise ValueError(f"motion blur length must be a positive odd number, got {length}")
    steps, centre = torch.arange(length), length // 2
    kernels = torch.zeros(4, 1, length, length, dtype=x.dtype, device=x.device)
    kernels[0, 0, centre, steps] = 1.0
    kernels[1, 0, steps, centre] = 1.0
    kernels[2, 0, steps, steps] = 1.0
    kernels[3, 0, steps, length - 1 - steps] = 1.0
    blurred = F.conv2d(x, kernels / length, padding=centre)  # (N, 4, H, W): every direction
    index = direction.to(x.device).long().view(-1, 1, 1, 1).expand(-1, 1, *x.shape[-2:])
    return blurred.gather(1, index)


def background_texture(x: torch.Tensor, amplitude: float,
                       generator: torch.Generator | None = None) -> torch.Tensor:
    """A smooth random background added to each frame: uniform noise on a 4x4 grid,
    bilinearly enlarged to the frame and scaled to [0, ``amplitude``] (clipped to 1)."""
    coarse = torch.rand(len(x), 1, 4, 4, generator=generator).to(x)
    field = F.interpolate(coarse, size=x.shape[-2:], mode="bilinear", align_corners=True)
    return (x + amplitude * field).clamp(0, 1)


def grid_lines(x: torch.Tensor, spacing: int, offset: torch.Tensor) -> torch.Tensor:
    """Black lines one pixel wide every ``spacing`` pixels across rows and columns (a window
    grid in front of the balls), shifted by a per-frame ``offset``."""
    h, w = x.shape[-2:]
    offset = offset.to(x.device).long().view(-1, 1)
    rows = (torch.arange(h, device=x.device).view(1, h) - offset) % spacing == 0  # (N, H)
    cols = (torch.arange(w, device=x.device).view(1, w) - offset) % spacing == 0  # (N, W)
    return x.masked_fill((rows[:, :, None] | cols[:, None, :])[:, None], 0.0)
