"""A classical video predictor: find the balls, estimate their motion, simulate, render.

1. Find the balls of every input frame as blobs (:func:`bballs.classical.blobs.detect_balls`):
   centres and radii.
2. The number of balls is the largest blob count over the inputs (touching balls merge into one
   blob). The latest frames showing that many blobs give positions and, after matching the balls
   between frames, velocities fitted so that flight with wall reflections reproduces the observed
   track (a bounce between two frames would fool a finite difference); the velocities are then
   rescaled to the dataset's constant total speed (0.5: collisions and reflections preserve it).
3. The dataset's own physics (:mod:`bballs.data.physics`) runs forward and renders the future
   frames.
"""

from __future__ import annotations

from itertools import permutations

import numpy as np

from bballs.classical.blobs import detect_balls
from bballs.data import physics


def _match(a: np.ndarray, b: np.ndarray, k: int) -> np.ndarray:
    """Order of b's first k balls that best matches a's (smallest total displacement)."""
    best = min(permutations(range(k)),
               key=lambda p: np.linalg.norm(a[:k] - b[list(p)], axis=1).sum())
    return np.array(best)


def _walls_only(start: np.ndarray, velocity: np.ndarray, radius: np.ndarray,
                n_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Free flight with wall reflections for many balls and candidate velocities at once.

    start (M, 1, 2), velocity (M, K, 2), radius (M, 1, 1); returns the positions after each
    step (M, K, n_steps, 2) and the velocities after the last step (M, K, 2).
    """
    position = np.broadcast_to(start, velocity.shape).copy()
    velocity = velocity.copy()
    track = []
    for _ in range(n_steps):
        for _ in range(physics.SUBSTEPS):
            position += velocity / physics.SUBSTEPS
            velocity = np.where(position - radius < 0, np.abs(velocity), velocity)
            velocity = np.where(position + radius > physics.BOX_SIZE, -np.abs(velocity), velocity)
        track.append(position.copy())
    return np.stack(track, axis=2), velocity


def fit_velocities(tracks: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """Velocity at the last observed frame of each ball from its positions over earlier frames.

    tracks (M, F, 2) observed centres at F consecutive frames, radius (M,). A finite difference
    is wrong whenever a ball bounces between two frames; instead the velocity at the first frame
    is searched on a coarse then a fine grid so that free flight with wall reflections
    reproduces every later observation, and the velocity after that flight is returned.
    """
    n_steps = tracks.shape[1] - 1
    start, observed, r = tracks[:, :1], tracks[:, None, 1:], radius[:, None, None]
    best = np.zeros((len(tracks), 1, 2))
    for span, count in ((physics.SPEED, 41), (physics.SPEED / 20, 21)):
        offsets = np.linspace(-span, span, count)
        grid = np.stack(np.meshgrid(offsets, offsets, indexing="ij"), -1).reshape(1, -1, 2)
        candidates = best + grid
        flown, _ = _walls_only(start, candidates, r, n_steps)
        error = ((flown - observed) ** 2).sum(axis=(2, 3))
        best = candidates[np.arange(len(tracks)), error.argmin(axis=1)][:, None]
    _, after = _walls_only(start, best, r, n_steps)
    return after[:, 0]


def estimate_state(inputs: np.ndarray, n_fit: int = 3
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Positions (N, 3, 2), velocities (N, 3, 2), radii (N, 3) at frame ``start`` (N,) per
    sequence, from input frames (N, T, H, W); absent balls have radius 0.

    Velocities are fitted over the last ``n_fit`` consecutive frames that show every ball
    (a finite difference of the last two such frames when fewer are available).
    """
    centres, radii, counts = detect_balls(inputs)
    n, t = counts.shape
    positions = np.zeros((n, 3, 2))
    ball_radii = np.zeros((n, 3))
    velocities = np.zeros((n, 3, 2))
    start = np.full(n, t - 1)
    tracks = np.full((n, 3, n_fit, 2), np.nan)
    for i in range(n):
        k = max(int(counts[i].max()), 1)
        full = np.flatnonzero(counts[i] == k)
        last = full[-1] if full.size else t - 1
        start[i] = last
        positions[i, :k] = np.nan_to_num(centres[i, last, :k], nan=physics.BOX_SIZE / 2)
        ball_radii[i, :k] = np.nanmean(radii[i, full][:, :k], axis=0) if full.size else 1.2
        frames = list(range(last - n_fit + 1, last + 1))
        if full.size and frames[0] >= 0 and all(counts[i, f] == k for f in frames):
            tracks[i, :k, -1] = positions[i, :k]
            for j in range(n_fit - 2, -1, -1):  # match each frame to the one after it
                order = _match(tracks[i, :k, j + 1], centres[i, frames[j], :k], k)
                tracks[i, :k, j] = centres[i, frames[j], order]
        elif full.size > 1:
            previous = full[-2]
            order = _match(positions[i, :k], centres[i, previous, :k], k)
            velocities[i, :k] = (positions[i, :k] - centres[i, previous, order]) / (last - previous)
    fitted = ~np.isnan(tracks).any(axis=(2, 3)) & (ball_radii > 0)
    velocities[fitted] = fit_velocities(tracks[fitted], ball_radii[fitted])
    speed = np.linalg.norm(velocities.reshape(n, -1), axis=1)
    moving = speed > 0
    velocities[moving] *= (physics.SPEED / speed[moving])[:, None, None]
    return positions, velocities, np.nan_to_num(ball_radii), start


def predict(inputs, n_future: int = 5) -> np.ndarray:
    """The next ``n_future`` frames (N, n_future, H, W) after input frames (N, T, H, W)."""
    inputs = np.asarray(inputs, dtype=np.float32)
    n, t = inputs.shape[:2]
    positions, velocities, radii, start = estimate_state(inputs)
    steps = t - 1 - start.min() + n_future
    track = np.empty((n, steps + 1, 3, 2))
    track[:, 0] = positions
    for k in range(1, steps + 1):
        physics.step(positions, velocities, radii)
        track[:, k] = positions
    wanted = (t + np.arange(n_future))[None, :] - start[:, None]  # steps after each start
    future = track[np.arange(n)[:, None], wanted]
    return physics.render(future, radii)
