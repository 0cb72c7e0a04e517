"""Bouncing-balls physics and rendering, vectorised over many sequences.

Follows the published generator of the original dataset (Sutskever, Hinton & Taylor, 2008,
``bouncing_balls.py``): a 10x10 box, start positions uniform in [2, 10)^2 redrawn until every
ball lies inside the box and no two overlap, one Gaussian velocity draw per ball with the whole
(n, 2) array scaled to norm 0.5, two sub-steps of 0.5*v per frame with wall reflections and
elastic equal-mass collisions, and rendering as ``exp(-((d^2/r^2)^4))`` clipped to 1.

Sequences hold up to ``MAX_BALLS`` balls; absent balls have radius 0 and never move or render.
"""

from __future__ import annotations

import numpy as np

BOX_SIZE = 10.0
MAX_BALLS = 3
RADIUS = 1.2
SPEED = 0.5
SUBSTEPS = 2
RESOLUTION = 32


def initial_state(
    radii: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Draw non-overlapping start positions and velocities for radii of shape (N, MAX_BALLS)."""
    n_seq = len(radii)
    present = radii > 0
    positions = np.zeros((n_seq, MAX_BALLS, 2))
    todo = np.arange(n_seq)
    while todo.size:
        positions[todo] = 2.0 + rng.random((todo.size, MAX_BALLS, 2)) * 8.0
        todo = todo[~_valid_configuration(positions[todo], radii[todo])]
    velocities = rng.standard_normal((n_seq, MAX_BALLS, 2)) * present[..., None]
    norms = np.linalg.norm(velocities.reshape(n_seq, -1), axis=1)
    velocities *= SPEED / norms[:, None, None]
    return positions, velocities


def _valid_configuration(positions: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """True where every present ball is inside the box and no two present balls overlap."""
    present = radii > 0
    r = radii[..., None]
    inside = ((positions - r >= 0) & (positions + r <= BOX_SIZE)).all(axis=2) | ~present
    ok = inside.all(axis=1)
    for i, j in _pairs():
        both = present[:, i] & present[:, j]
        dist = np.linalg.norm(positions[:, i] - positions[:, j], axis=1)
        ok &= ~both | (dist >= radii[:, i] + radii[:, j])
    return ok


def _pairs() -> list[tuple[int, int]]:
    return [(i, j) for i in range(MAX_BALLS) for j in range(i)]


def step(positions: np.ndarray, velocities: np.ndarray, radii: np.ndarray,
         substeps: int = SUBSTEPS) -> None:
    """Advance one frame in place: ``substeps`` moves, wall reflections and collisions."""
    present = radii > 0
    r = radii[..., None]
    eps = 1.0 / substeps
    for _ in range(substeps):
        positions += eps * velocities
        velocities[:] = np.where(positions - r < 0, np.abs(velocities), velocities)
        velocities[:] = np.where(positions + r > BOX_SIZE, -np.abs(velocities), velocities)
        for i, j in _pairs():
            _collide(positions, velocities, radii, present, i, j)


def _collide(positions, velocities, radii, present, i: int, j: int) -> None:
    """Exchange the velocity components along the line of centres of touching balls i and j."""
    offset = positions[:, i] - positions[:, j]
    dist = np.linalg.norm(offset, axis=1)
    hit = present[:, i] & present[:, j] & (dist < radii[:, i] + radii[:, j]) & (dist > 0)
    if not hit.any():
        return
    w = offset[hit] / dist[hit, None]
    v_i = (w * velocities[hit, i]).sum(axis=1, keepdims=True)
    v_j = (w * velocities[hit, j]).sum(axis=1, keepdims=True)
    velocities[hit, i] += w * (v_j - v_i)
    velocities[hit, j] += w * (v_i - v_j)


def simulate(
    radii: np.ndarray, n_frames: int, rng: np.random.Generator
) -> np.ndarray:
    """Simulate sequences; returns ball centres of shape (N, n_frames, MAX_BALLS, 2)."""
    positions, velocities = initial_state(radii, rng)
    track = np.empty((len(radii), n_frames, MAX_BALLS, 2))
    for t in range(n_frames):
        track[:, t] = positions
        step(positions, velocities, radii)
    return track


def pixel_centres(resolution: int = RESOLUTION) -> np.ndarray:
    """Coordinates of the pixel centres along one axis, in box units."""
    return (np.arange(resolution) + 0.5) * BOX_SIZE / resolution


PROFILE_POWER = 4  # a ball is exp(-((d^2/r^2)^PROFILE_POWER)): flat top, sharp edge


def render(
    track: np.ndarray, radii: np.ndarray, resolution: int = RESOLUTION, chunk: int = 256,
    power: float = PROFILE_POWER,
) -> np.ndarray:
    """Render centres (N, T, B, 2) with radii (N, B) to float32 frames (N, T, res, res) in [0,1].

    Coordinate 0 of a centre is the column (x), coordinate 1 the row (y), as in the original.
    ``power`` below 4 gives softer ball edges (1: a Gaussian profile). For a whole-number
    ``power`` the frames are the same bits on every CPU (see :func:`profile`).
    """
    n_seq, n_frames = track.shape[:2]
    grid = pixel_centres(resolution)
    chunk = max(1, chunk * RESOLUTION**2 // resolution**2)
    frames = np.empty((n_seq, n_frames, resolution, resolution), dtype=np.float32)
    for start in range(0, n_seq, chunk):
        part = slice(start, start + chunk)
        x = track[part, ..., 0][..., None, None]
        y = track[part, ..., 1][..., None, None]
        r2 = radii[part][:, None, :, None, None] ** 2
        d2 = (grid[None, :] - x) ** 2 + (grid[:, None] - y) ** 2
        blobs = np.where(r2 > 0, profile(d2 / np.where(r2 > 0, r2, 1.0), power), 0.0)
        frames[part] = np.minimum(blobs.astype(np.float32).sum(axis=2), 1.0)
    return frames


def profile(q: np.ndarray, power: float = PROFILE_POWER) -> np.ndarray:
    """A ball's brightness ``exp(-(q ** power))`` at squared distance ratio q = d^2 / r^2.

    Computed in float64 from additions, multiplications and exact scalings only: numpy's
    vectorised ``exp`` and ``power`` differ in the last bit between CPUs (AVX2 vs AVX-512),
    which would make the same seed give different files on different machines. Where the
    brightness is below float32's smallest number (q ** power >= 110) it is 0.
    """
    q = np.asarray(q, dtype=np.float64)
    if float(power).is_integer() and power >= 1:
        z = q
        for _ in range(int(power) - 1):
            z = z * q
    else:  # a fractional power has no exact form; its last bit may depend on the CPU
        z = q**power
    brightness = np.zeros_like(z)
    lit = z < 110.0  # exp(-110) is 0 once stored as float32: skip the pixels far from a ball
    brightness[lit] = _exp_neg(z[lit])
    return brightness


_INV_LN2 = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01  # ln 2 split so that k * _LN2_HI is exact (fdlibm)
_LN2_LO = 1.90821492927058770002e-10


def _exp_neg(z: np.ndarray) -> np.ndarray:
    """exp(-z) for z >= 0 to float64 precision: exp(-z) = 2^-k exp(-r), |r| <= ln2 / 2."""
    z = np.minimum(z, 1100.0)  # exp(-1100) is 0 in float64, as is 2^-1587
    k = np.rint(z * _INV_LN2)
    r = (z - k * _LN2_HI) - k * _LN2_LO
    series = np.ones_like(r)
    for n in range(14, 0, -1):  # Horner: sum of (-r)^n / n!, error < 1e-17
        series = 1.0 - series * r / n
    return np.ldexp(series, -k.astype(np.int64))
