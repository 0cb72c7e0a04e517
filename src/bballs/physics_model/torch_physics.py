"""Differentiable bouncing-balls simulator and renderer in PyTorch, batched over sequences.

The forward pass follows :mod:`bballs.data.physics` step for step: ``substeps`` moves of v/substeps
per frame, each followed by wall reflections (a velocity component is turned inwards once the
ball's edge has crossed a wall) and elastic equal-mass collisions processed pair by pair in the
generator's order. Frames are ``min(sum_b exp(-(d^2/r^2)^p), 1)`` sampled at pixel centres
``(i + offset) * scale``; coordinate 0 of a centre is the column (x), coordinate 1 the row (y).

Gradients flow through positions and velocities (the exact derivative of the piecewise-smooth
dynamics) and through the render constants. The box size and the ball radius enter the dynamics
only through comparisons, which have no derivative; a wall reflection therefore also adds
``2 * (wall - stop_gradient(wall))`` to the position, which is exactly zero in the forward pass
but carries the derivative of a continuous reflection about the wall (the position after a
bounce moves by twice any shift of the wall), so that the box size can be fitted too.
"""

from __future__ import annotations

import math
from typing import Union

import torch
from torch import Tensor

from bballs.data.physics import MAX_BALLS as MAX_BALLS  # the generator's constants, re-exported
from bballs.data.physics import RESOLUTION, SUBSTEPS

Number = Union[float, Tensor]

TAIL = -math.log(1e-8)  # a ball renders below 1e-8 where (d^2/r^2)^p exceeds this


def _pairs(n_balls: int) -> list[tuple[int, int]]:
    return [(i, j) for i in range(n_balls) for j in range(i)]


def _surrogate(value: Tensor) -> Tensor:
    """Zero in the forward pass, the derivative of ``value`` in the backward pass."""
    return value - value.detach()


def _walls(pos: Tensor, vel: Tensor, radius: Tensor, low: Tensor, high: Tensor,
           mirror: bool) -> tuple[Tensor, Tensor]:
    """Turn velocity components inwards where a ball's edge is beyond a wall.

    A reflection adds ``2 * surrogate(wall)`` to the position (``mirror`` False) or
    ``2 * surrogate(wall - position)`` (``mirror`` True: the derivative of a ball mirrored at
    the wall, which does not depend on the sub-step at which the bounce happens).
    """
    moved = pos if mirror else torch.zeros_like(pos)
    below = pos - radius < low
    pos = pos + torch.where(below & (vel < 0), 2 * _surrogate(low + radius - moved), 0.0)
    vel = torch.where(below, vel.abs(), vel)
    above = pos + radius > high
    pos = pos + torch.where(above & (vel > 0), 2 * _surrogate(high - radius - moved), 0.0)
    vel = torch.where(above, -vel.abs(), vel)
    return pos, vel


def _collide(pos: Tensor, vel: Tensor, radius: Tensor, present: Tensor, i: int, j: int) -> Tensor:
    """Exchange the velocity components along the line of centres of touching balls i and j."""
    offset = pos[:, i] - pos[:, j]
    dist2 = (offset**2).sum(-1)
    dist = dist2.clamp_min(1e-24).sqrt()
    hit = present[:, i] & present[:, j] & (dist < radius[:, i] + radius[:, j]) & (dist2 > 0)
    w = offset / torch.where(hit, dist, 1.0)[:, None]
    exchange = (w * (vel[:, j] - vel[:, i])).sum(-1, keepdim=True) * w
    exchange = torch.where(hit[:, None], exchange, 0.0)
    return torch.stack([vel[:, k] + exchange if k == i else vel[:, k] - exchange if k == j
                        else vel[:, k] for k in range(vel.shape[1])], dim=1)


def step(pos: Tensor, vel: Tensor, present: Tensor, radius: Number, box: Number,
         substeps: int = SUBSTEPS, mirror: bool = False, low: Number = 0.0
         ) -> tuple[Tensor, Tensor]:
    """One frame: positions and velocities (N, B, 2) after ``substeps`` moves, reflections and
    collisions. ``present`` (N, B) marks real balls; ``radius`` broadcasts to (N, B); the walls
    are at ``low`` and ``box`` on both axes."""
    radius = torch.as_tensor(radius, dtype=pos.dtype).expand(present.shape)
    low, high = (torch.as_tensor(v, dtype=pos.dtype) for v in (low, box))
    r = radius[..., None]
    for _ in range(substeps):
        pos = pos + vel / substeps
        pos, vel = _walls(pos, vel, r, low, high, mirror)
        for i, j in _pairs(pos.shape[1]):
            vel = _collide(pos, vel, radius, present, i, j)
    return pos, vel


def simulate(pos: Tensor, vel: Tensor, present: Tensor, radius: Number, box: Number,
             n_frames: int, substeps: int = SUBSTEPS, mirror: bool = False,
             low: Number = 0.0) -> tuple[Tensor, Tensor]:
    """Centres (N, n_frames, B, 2) from the state at frame 0, and the velocities after them."""
    track = []
    for t in range(n_frames):
        track.append(pos)
        if t + 1 < n_frames:
            pos, vel = step(pos, vel, present, radius, box, substeps, mirror, low)
    return torch.stack(track, dim=1), vel


def pixel_grid(offset: Number = 0.5, scale: Number = 10.0 / RESOLUTION,
               resolution: int = RESOLUTION, dtype: torch.dtype = torch.float32) -> Tensor:
    """Coordinates (resolution,) of the pixel centres along one axis."""
    index = torch.arange(resolution, dtype=dtype)
    return (index + torch.as_tensor(offset, dtype=dtype)) * torch.as_tensor(scale, dtype=dtype)


def _half_window(radius: Tensor, exponent: Tensor, scale: Tensor) -> int:
    """Half the side of a square of pixels outside which every ball renders below 1e-8."""
    reach = float((radius.max() / scale) * TAIL ** (1 / (2 * exponent)))
    return int(math.ceil(reach)) + 1


def _windows(track: Tensor, present: Tensor, radius: Number, exponent: Number, offset: Number,
             scale: Number, resolution: int) -> dict[str, Tensor]:
    """Each ball on the square of pixels around it where it is visible: its blob values, the
    scaled squared distances ``u`` and offsets ``dx``, ``dy`` (all (N, T, B, side[, side])) and
    the flat pixel index of every window pixel."""
    dtype = track.dtype
    radius = torch.as_tensor(radius, dtype=dtype).expand(present.shape)
    exponent, offset, scale = (torch.as_tensor(v, dtype=dtype) for v in (exponent, offset, scale))
    side = min(2 * _half_window(radius.detach(), exponent.detach(), scale.detach()), resolution)
    centre = (track.detach() / scale.detach() - offset.detach()).floor().long()
    first = (centre - side // 2 + 1).clamp(0, resolution - side)  # (N, T, B, 2)
    index = first[..., None] + torch.arange(side)  # (N, T, B, 2, side) pixel indices
    coord = (index.to(dtype) + offset) * scale
    inv_r2 = (1.0 / radius.clamp_min(1e-6) ** 2)[:, None, :, None]
    dx = coord[..., 0, :] - track[..., 0:1]
    dy = coord[..., 1, :] - track[..., 1:2]
    u = (dy**2 * inv_r2)[..., :, None] + (dx**2 * inv_r2)[..., None, :]  # (N, T, B, side, side)
    blobs = torch.exp(-(u**exponent)) * present[:, None, :, None, None]
    flat = index[..., 1, :, None] * resolution + index[..., 0, None, :]
    return {"blobs": blobs, "u": u, "dx": dx, "dy": dy, "flat": flat, "inv_r2": inv_r2,
            "exponent": exponent}


def _scatter(values: Tensor, flat: Tensor, resolution: int) -> Tensor:
    """Sum window values (N, T, K, side, side) into frames (N, T, resolution**2)."""
    n, t = values.shape[:2]
    frames = torch.zeros(n, t, resolution * resolution, dtype=values.dtype)
    return frames.scatter_add(2, flat.reshape(n, t, -1), values.reshape(n, t, -1))


def render(track: Tensor, present: Tensor, radius: Number, exponent: Number,
           offset: Number = 0.5, scale: Number = 10.0 / RESOLUTION,
           resolution: int = RESOLUTION) -> Tensor:
    """Frames (N, T, H, W) of centres (N, T, B, 2); absent balls (``present`` False) are blank.

    Each ball is evaluated only on the square of pixels around it where it is visible (values
    below 1e-8 are dropped) and added into the frame, which is then clipped to 1.
    """
    n, t = track.shape[:2]
    w = _windows(track, present, radius, exponent, offset, scale, resolution)
    frames = _scatter(w["blobs"], w["flat"], resolution)
    return frames.clamp_max(1.0).reshape(n, t, resolution, resolution)


@torch.no_grad()
def render_jacobian(track: Tensor, present: Tensor, radius: Number, exponent: Number,
                    offset: Number = 0.5, scale: Number = 10.0 / RESOLUTION,
                    resolution: int = RESOLUTION, radius_derivative: bool = False
                    ) -> tuple[Tensor, Tensor]:
    """Flat frames (N, T, P) and their derivatives (N, T, B * 2, P) with respect to every
    centre coordinate (ball-major: x0, y0, x1, ...), P = resolution ** 2; with
    ``radius_derivative``, (N, T, B * 3, P): then with respect to each ball's radius."""
    n, t, b = track.shape[:3]
    w = _windows(track, present, radius, exponent, offset, scale, resolution)
    total = _scatter(w["blobs"], w["flat"], resolution)
    p = w["exponent"]
    slope = (w["blobs"] * p * w["u"] ** (p - 1) * 2 * w["inv_r2"][..., None])  # -dblob/du * 2/r^2
    d_x = slope * w["dx"][..., None, :]
    d_y = slope * w["dy"][..., :, None]
    side = d_x.shape[-1]
    grads = torch.stack([d_x, d_y], dim=3).reshape(n, t * b * 2, side, side)
    flat = w["flat"][:, :, :, None].expand(-1, -1, -1, 2, -1, -1).reshape(n, t * b * 2, -1)
    jac = torch.zeros(n, t * b * 2, resolution * resolution, dtype=track.dtype)
    jac = jac.scatter_add(2, flat, grads.reshape(n, t * b * 2, -1)).reshape(n, t, b * 2, -1)
    if radius_derivative:  # d blob / d r = blob * p * u^p * 2 / r
        radius = w["inv_r2"].rsqrt()[..., None]
        d_r = w["blobs"] * p * w["u"] ** p * 2 / radius
        jac_r = torch.zeros(n, t * b, resolution * resolution, dtype=track.dtype)
        jac_r = jac_r.scatter_add(2, w["flat"].reshape(n, t * b, -1), d_r.reshape(n, t * b, -1))
        jac = torch.cat([jac, jac_r.reshape(n, t, b, -1)], dim=2)
    unclipped = (total < 1.0)[:, :, None, :]
    return total.clamp_max(1.0), jac * unclipped
