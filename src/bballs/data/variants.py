"""Sequence files from variants of the generator, one change each, for testing what was built on
our own files against worlds it was not written for.

Each variant returns frames (N, T, 32, 32) float32 in [0, 1] and ball counts (N,). The changes:
constants (smaller, faster balls), a softer ball profile, four sub-steps per frame, a speed
drawn per ball instead of one shared by the sequence, a radius per ball, dimmer balls, frames
stored as 8-bit, a little noise, and, outside the family our physics model can express, frames
rendered at four times the resolution and averaged down (anti-aliased balls) and bounces (walls
and balls) that lose a fifth of the speed.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from bballs.data import physics
from bballs.data.dataset import draw_radii

Frames = tuple[np.ndarray, np.ndarray]


def _track(radii: np.ndarray, n_frames: int, rng: np.random.Generator, speed_scale: float = 1.0,
           per_ball_speed: bool = False, substeps: int = physics.SUBSTEPS,
           wall_restitution: float = 1.0) -> np.ndarray:
    """Ball centres (N, T, 3, 2) as :func:`bballs.data.physics.simulate` makes them, with the
    changes asked for."""
    positions, velocities = physics.initial_state(radii, rng)
    velocities *= speed_scale
    if per_ball_speed:  # each ball its own speed, uniform in [0.5, 1.5] x the shared one
        norms = np.linalg.norm(velocities, axis=2, keepdims=True)
        speeds = rng.uniform(0.5, 1.5, size=norms.shape) * physics.SPEED * speed_scale
        velocities = np.where(norms > 0, velocities / np.maximum(norms, 1e-12) * speeds, 0.0)
    track = np.empty((len(radii), n_frames, physics.MAX_BALLS, 2))
    for t in range(n_frames):
        track[:, t] = positions
        before = velocities.copy()
        physics.step(positions, velocities, radii, substeps)
        bounced = np.sign(before) != np.sign(velocities)  # a wall or ball reversed it
        velocities[:] = np.where(bounced, velocities * wall_restitution, velocities)
    return track


def _render(track: np.ndarray, radii: np.ndarray, power: float = physics.PROFILE_POWER,
            supersample: int = 1, peak: float = 1.0) -> np.ndarray:
    frames = peak * physics.render(track, radii, physics.RESOLUTION * supersample, power=power)
    if supersample > 1:
        n, t, h, w = frames.shape
        frames = frames.reshape(n, t, h // supersample, supersample, w // supersample,
                                supersample).mean(axis=(3, 5))
    return frames.astype(np.float32)


def _make(n: int, n_frames: int, rng: np.random.Generator, radius_range=None,
          power: float = physics.PROFILE_POWER, supersample: int = 1, peak: float = 1.0,
          **motion) -> Frames:
    counts, radii = draw_radii(n, radius_range, rng)
    track = _track(radii, n_frames, rng, **motion)
    return _render(track, radii, power, supersample, peak), counts


def _stored_as_8_bit(frames: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return (np.round(frames * 255) / 255).astype(np.float32)


def _noisy(frames: np.ndarray, rng: np.random.Generator, sigma: float = 0.02) -> np.ndarray:
    noisy = frames + sigma * rng.standard_normal(frames.shape)
    return np.clip(noisy, 0, 1).astype(np.float32)


GeneratorVariant = Callable[[int, int, np.random.Generator], Frames]
VARIANTS: dict[str, GeneratorVariant] = {
    "ours": lambda n, t, rng: _make(n, t, rng),
    "smaller, faster balls (radius 0.9, speed x1.4)":
        lambda n, t, rng: _make(n, t, rng, (0.9, 0.9), speed_scale=1.4),
    "softer profile (power 2)": lambda n, t, rng: _make(n, t, rng, power=2.0),
    "4 sub-steps per frame": lambda n, t, rng: _make(n, t, rng, substeps=4),
    "speed per ball": lambda n, t, rng: _make(n, t, rng, per_ball_speed=True),
    "radius per ball 0.9-1.5": lambda n, t, rng: _make(n, t, rng, (0.9, 1.5)),
    "dimmer balls (peak 0.8)": lambda n, t, rng: _make(n, t, rng, peak=0.8),
    "8-bit frames": lambda n, t, rng: _make(n, t, rng),
    "Gaussian noise (std 0.02)": lambda n, t, rng: _make(n, t, rng),
    "rendered at 4x and averaged down (outside)":
        lambda n, t, rng: _make(n, t, rng, supersample=4),
    "bounces keep 80% of the speed (outside)":
        lambda n, t, rng: _make(n, t, rng, wall_restitution=0.8),
}

Observation = Callable[[np.ndarray, np.random.Generator], np.ndarray]
#: How a variant's stored frames differ from the frames its world renders (information lost).
OBSERVATIONS: dict[str, Observation] = {"8-bit frames": _stored_as_8_bit,
                                        "Gaussian noise (std 0.02)": _noisy}


#: The variants in the order their random streams were assigned (new ones go last, so that the
#: sequences of the others never change).
SEED_ORDER = ("4 sub-steps per frame", "8-bit frames", "bounces keep 80% of the speed (outside)",
              "Gaussian noise (std 0.02)", "ours", "radius per ball 0.9-1.5",
              "rendered at 4x and averaged down (outside)",
              "smaller, faster balls (radius 0.9, speed x1.4)", "softer profile (power 2)",
              "speed per ball", "dimmer balls (peak 0.8)")


def require_known(names) -> None:
    """Raise a clear error if a name is not one of :data:`VARIANTS`."""
    unknown = sorted(set(names) - set(VARIANTS))
    if unknown:
        raise ValueError(f"unknown generator variant(s) {unknown}; known: {sorted(VARIANTS)}")


def variant_sequences(name: str, n: int, n_frames: int = 10, seed: int = 0,
                      observed: bool = True) -> Frames:
    """``n`` sequences of ``n_frames`` from the variant ``name`` of :data:`VARIANTS`, as stored
    (or, with ``observed`` False, as rendered, before :data:`OBSERVATIONS` loses anything)."""
    require_known((name,))
    rng = np.random.default_rng([seed, SEED_ORDER.index(name)])
    frames, counts = VARIANTS[name](n, n_frames, rng)
    if observed and name in OBSERVATIONS:
        frames = OBSERVATIONS[name](frames, rng)
    return frames, counts
