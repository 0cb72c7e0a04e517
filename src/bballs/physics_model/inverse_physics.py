"""Inverse graphics for bouncing balls: the world's constants and each sequence's state are
fitted so that simulated and rendered frames reproduce the observed ones.

Lengths are in pixels and pixel ``i`` is centred at coordinate ``i``, so every constant is
identifiable from frames: the ball radius, the box (walls at ``-offset`` and ``box - offset`` on
both axes), the exponent p of the profile ``exp(-(d^2/r^2)^p)`` and, under the *shared speed*
hypothesis, the total speed (the norm of all velocities of a sequence, which reflections and
elastic collisions conserve). A sequence's state is the centres of its balls at one frame and a
direction per ball; its velocities are the directions scaled to the total speed, or, under the
*per-ball speed* hypothesis, the directions themselves. Under the *per-ball radius* hypothesis
a state also holds each ball's radius, fitted with the rest. System identification
(:mod:`~bballs.physics_model.system_identification`) fits the constants and picks the
hypotheses.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import permutations

import numpy as np
import torch
from torch import Tensor

from bballs.classical.blobs import detect_balls
from bballs.data import physics
from bballs.physics_model import gauss_newton as gn
from bballs.physics_model import torch_physics as tp
from bballs.physics_model.world import INITIAL_GUESS as INITIAL_GUESS  # re-exported
from bballs.physics_model.world import RADIUS_HYPOTHESES as RADIUS_HYPOTHESES
from bballs.physics_model.world import SPEED_HYPOTHESES as SPEED_HYPOTHESES
from bballs.physics_model.world import WorldConstants

MAX_BALLS = tp.MAX_BALLS
EXACT = 1e-6  # mean squared pixel error below which a fit reproduces noise-free frames
NOISE_MARGIN = 1.5  # a fit to noisy frames is exact below this many times their noise floor
BACKGROUND_LEVEL = 0.1  # pixels whose 5 x 5 neighbourhood stays below this are background
SCHEDULE = ((2, 6), (3, 5), (None, 8))  # (frames fitted, Gauss-Newton iterations) per stage
CONVERGED = 1e-9  # inference stops refining a state this close to the frames' noise floor


def _background(frames: Tensor | np.ndarray) -> tuple[Tensor, Tensor]:
    """Frames (N, T, H, W) as a float tensor and the mask of their background pixels, those
    whose 5 x 5 neighbourhood stays below :data:`BACKGROUND_LEVEL`, both flattened to (N, -1)."""
    frames = torch.as_tensor(frames, dtype=torch.float32)
    flat = frames.reshape(-1, 1, *frames.shape[-2:])
    near_ball = torch.nn.functional.max_pool2d(flat, 5, stride=1, padding=2)
    background = (near_ball < BACKGROUND_LEVEL).reshape(frames.shape).flatten(1).float()
    return frames.flatten(1), background


def background_mean(frames: Tensor | np.ndarray, power: int = 1) -> Tensor:
    """The mean of the background pixels' values (raised to ``power``) of each sequence (N,) of
    frames (N, T, H, W): 0 for noise-free frames, the level noise adds where no ball is."""
    values, background = _background(frames)
    return (values ** power * background).sum(1) / background.sum(1).clamp_min(1.0)


def noise_floor(frames: Tensor | np.ndarray) -> Tensor:
    """The mean squared value of each sequence's background pixels (N,) in frames (N, T, H,
    W): the error that even the right state leaves where the renderer draws nothing (0 for
    noise-free frames)."""
    return background_mean(frames, power=2)


PEAK_TOLERANCE = 0.01  # a brightest value within this of 1 is the renderer's own


def intensity_peak(frames: np.ndarray) -> float:
    """The brightness of a ball's centre in frames (N, T, H, W): the median over frames of their
    brightest pixel, or exactly 1 (the renderer's) when within :data:`PEAK_TOLERANCE` of it."""
    brightest = np.asarray(frames, dtype=np.float32).reshape(-1, np.shape(frames)[-1] ** 2)
    peak = float(np.median(brightest.max(axis=1)))
    return 1.0 if abs(peak - 1.0) <= PEAK_TOLERANCE or peak <= 0 else peak


def exact_threshold(frames: Tensor | np.ndarray, tolerance: float = EXACT) -> Tensor:
    """The mean squared error (N,) below which a fit reproduces each sequence of frames (N, T,
    H, W): ``tolerance`` above :data:`NOISE_MARGIN` times its :func:`noise_floor`, so noisy
    frames that the model explains count as reproduced too."""
    return tolerance + NOISE_MARGIN * noise_floor(frames)


@dataclass
class State:
    """States of N sequences: centres (N, B, 2), directions (N, B, 2), real ball slots (N, B)
    and, under the per-ball radius hypothesis, each ball's radius (N, B) in pixels."""

    position: Tensor
    direction: Tensor
    present: Tensor
    radius: Tensor | None = None

    def velocity(self, speed: Tensor | float | None) -> Tensor:
        """Velocities whose norm over all real balls of a sequence is ``speed``; with ``speed``
        None (per-ball speed), the directions of the real balls as they are."""
        direction = self.direction * self.present[..., None]
        if speed is None:
            return direction
        norm = direction.flatten(1).norm(dim=1).clamp_min(1e-8)
        return direction * (speed / norm)[:, None, None]

    def theta(self) -> Tensor:
        """Centres, directions and radii (if per ball) as one (N, 4B[+B]) array."""
        radius = [] if self.radius is None else [self.radius]
        return torch.cat([self.position.flatten(1), self.direction.flatten(1), *radius], dim=1)

    @classmethod
    def from_theta(cls, theta: Tensor, present: Tensor) -> State:
        position, direction, radius = gn.split(theta, present.shape[1])
        return cls(position, direction, present, radius)

    def detach(self) -> State:
        radius = None if self.radius is None else self.radius.detach()
        return State(self.position.detach(), self.direction.detach(), self.present, radius)

    def rows(self, index: Tensor) -> State:
        """The states of the sequences ``index``."""
        radius = None if self.radius is None else self.radius[index]
        return State(self.position[index], self.direction[index], self.present[index], radius)

    def radii(self, constants: WorldConstants) -> Tensor:
        """Each ball's radius (N, B), or the world's radius when not fitted per ball."""
        return self.radius if self.radius is not None else constants.radius

    def with_radius(self, constants: WorldConstants) -> State:
        """The states with a radius per ball (the world's, where none is fitted yet) when the
        constants fit one per ball; otherwise as they are."""
        if not bool(constants.radius_per_ball) or self.radius is not None:
            return self
        radius = torch.full(self.present.shape, float(constants.radius.detach()))
        return State(self.position, self.direction, self.present, radius)


def present_mask(counts: Tensor | np.ndarray) -> Tensor:
    """Ball slots in use (N, MAX_BALLS) for ball counts (N,)."""
    counts = torch.as_tensor(np.asarray(counts)).long()
    return torch.arange(MAX_BALLS)[None, :] < counts[:, None]


def simulate_track(state: State, constants: WorldConstants, n_frames: int) -> Tensor:
    """Ball centres (N, n_frames, B, 2) in pixels."""
    track, _ = tp.simulate(state.position, state.velocity(constants.speed_constraint),
                           state.present, state.radii(constants), constants.high, n_frames,
                           substeps=int(constants.substeps), low=constants.low)
    return track


def simulate_render(state: State, constants: WorldConstants, n_frames: int) -> Tensor:
    """Frames (N, n_frames, 32, 32) simulated and rendered from ``state``."""
    track = simulate_track(state, constants, n_frames)
    return tp.render(track, state.present, state.radii(constants), constants.exponent, 0.0, 1.0)


def sequence_loss(state: State, constants: WorldConstants, frames: Tensor) -> Tensor:
    """Mean squared error per sequence (N,) between the rendered state and ``frames``."""
    rendered = simulate_render(state, constants, frames.shape[1])
    return ((rendered - frames) ** 2).flatten(1).mean(dim=1)


# --- counting and a first guess from blobs -----------------------------------------------------

def ball_mass(constants: WorldConstants) -> float:
    """Total intensity of one ball in the middle of the frame."""
    with torch.no_grad():
        centre = torch.full((1, 1, 1, 2), 15.5)
        frame = tp.render(centre, torch.ones(1, 1, dtype=torch.bool), constants.radius,
                          constants.exponent, 0.0, 1.0)
    return float(frame.sum())


def count_balls(frames: np.ndarray, constants: WorldConstants) -> np.ndarray:
    """Number of balls (N,) from frames (N, T, H, W): the largest total intensity of a frame
    above the background level in units of one ball's (overlapping balls are clipped, so the
    largest frame counts best); when the radius varies from ball to ball (so intensity does not
    count them), the most blobs seen apart in one frame."""
    if bool(constants.radius_per_ball):
        return np.clip(blob_centres(frames)[1].max(axis=1), 1, MAX_BALLS).astype(np.int64)
    frames = np.asarray(frames, dtype=np.float64)
    level = background_mean(frames).double().numpy()[:, None]  # what noise adds per pixel
    mass = (frames.sum(axis=(2, 3)) - level * frames[0, 0].size).max(axis=1)
    return np.clip(np.rint(mass / ball_mass(constants)), 1, MAX_BALLS).astype(np.int64)


def blob_centres(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centroids (N, T, B, 2) of the largest B blobs (x = column, y = row, in pixels), NaN where
    missing, and the number of blobs (N, T) of frames (N, T, H, W): the classical predictor's
    blob detection (:func:`bballs.classical.blobs.detect_balls`) in pixel units."""
    centres, _, counts = detect_balls(np.asarray(frames))
    return centres * physics.RESOLUTION / physics.BOX_SIZE - 0.5, counts


def _matched(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """b reordered to match a's rows with the smallest total displacement."""
    k = len(a)
    best = min(permutations(range(k)), key=lambda p: np.linalg.norm(a - b[list(p)], axis=1).sum())
    return b[list(best)]


def blob_state(frames: np.ndarray, counts: np.ndarray, seed: int = 0) -> State:
    """A guess of the state at the first of ``frames`` (N, T, H, W) from blob centroids: centres
    from the first frame that shows every ball, moved back along velocities from the next such
    frame (no bounce assumed). Balls never seen apart start on the blobs of the first frame that
    shows the most, moving with them, shifted at random (``seed``) so that they can part."""
    centres, n_blobs = blob_centres(frames)
    n = len(frames)
    position = np.full((n, MAX_BALLS, 2), 15.5)
    direction = np.zeros((n, MAX_BALLS, 2))
    stacked = np.zeros((n, MAX_BALLS), dtype=bool)
    for i in range(n):
        k = int(counts[i])
        seen = min(k, int(n_blobs[i].max()))
        if seen == 0:
            continue
        full = np.flatnonzero(n_blobs[i] == seen)
        if full.size == 0:  # more blobs than balls in every frame: the largest ones
            full = np.flatnonzero(n_blobs[i] >= seen)
        slot = np.arange(k) % seen  # a ball never seen apart shares a blob
        stacked[i, seen:k] = True
        first = centres[i, full[0], :seen]
        position[i, :k] = first[slot]
        if full.size > 1:
            later = _matched(first, centres[i, full[1], :seen])
            direction[i, :k] = ((later - first) / (full[1] - full[0]))[slot]
            position[i, :k] -= full[0] * direction[i, :k]
    return _as_state(position, direction, counts, stacked, seed)


def _as_state(position: np.ndarray, direction: np.ndarray, counts: np.ndarray,
              stacked: np.ndarray, seed: int) -> State:
    """States from centres and directions (N, B, 2); balls ``stacked`` (N, B) on another are
    moved by a random 0.3 pixels and nudged, balls without a direction get a random one."""
    present = present_mask(counts)
    generator = torch.Generator().manual_seed(seed)
    stacked = torch.as_tensor(stacked)[..., None]
    position = torch.as_tensor(position, dtype=torch.float32)
    position = position + 0.3 * torch.randn(position.shape, generator=generator) * stacked
    direction = torch.as_tensor(direction, dtype=torch.float32)
    direction = direction + 0.1 * torch.randn(direction.shape, generator=generator) * stacked
    still = (direction.abs().sum(-1) == 0) & present
    random = torch.randn(direction.shape, generator=generator)
    return State(position, torch.where(still[..., None], random, direction), present)


# --- fitting states to frames -------------------------------------------------------------------

def fit_states(state: State, frames: Tensor, constants: WorldConstants,
               schedule: tuple = SCHEDULE, physics: dict | None = None, early_stop: bool = False
               ) -> tuple[State, Tensor]:
    """Gauss-Newton fit of states to ``frames`` (N, T, H, W) over a growing number of frames
    (first 2, then 3, then all): each stage starts close enough for the next frame's bounces and
    collisions to be timed right. Returns the states and each sequence's mean squared error.
    ``physics`` overrides ``constants.frozen()`` (e.g. walls per sequence, shape (N, 1, 1)).
    ``early_stop``: on all frames, a sequence within :data:`CONVERGED` of its noise floor stops."""
    physics = physics or constants.frozen()
    theta = state.with_radius(constants).theta()
    error = torch.zeros(len(frames))
    converged = CONVERGED + noise_floor(frames) if early_stop else 0.0
    for n_frames, iterations in schedule:
        n_frames = min(n_frames or frames.shape[1], frames.shape[1])
        stop = converged if n_frames == frames.shape[1] else 0.0  # earlier stages time bounces
        theta, error = gn.fit_states(theta, state.present, frames[:, :n_frames], physics,
                                     iterations, converged=stop)
    return State.from_theta(theta, state.present), error


# --- inference: several guesses, later start frames for what stays unexplained ------------------

def fit_sequences(frames: Tensor, counts: np.ndarray, constants: WorldConstants,
                  guesses: tuple[State, ...] = (), max_start: int = 2, restarts: int = 4
                  ) -> tuple[State, Tensor, Tensor]:
    """Fit every sequence's state to its frames (N, T, H, W).

    The blob guess is fitted first, then each guess (states at frame 0) where no fit so far
    reproduces the sequence exactly (:func:`exact_threshold`), keeping the lowest error. A sequence
    not reproduced exactly whose balls are never all seen apart is fitted again from up to
    ``restarts`` other random splits of its stacked balls. A sequence that is still not reproduced
    exactly (a bounce or collision between the first frames spoils the first stages) is fitted
    again from a blob guess at frame 1, then 2, and keeps the first exact fit. Returns states, the
    frame each state belongs to (N,) and the mean squared error over the frames fitted.
    """
    frames = torch.as_tensor(frames, dtype=torch.float32)
    numpy_frames = frames.numpy()
    best, error = fit_states(blob_state(numpy_frames, counts), frames, constants, early_stop=True)
    threshold = exact_threshold(frames)
    for guess in guesses:
        todo = torch.nonzero(error >= threshold).flatten()
        if len(todo) == 0:
            break
        state, err = fit_states(guess.rows(todo), frames[todo], constants, early_stop=True)
        better = err < error[todo]
        assign(best, todo[better], state, better)
        error[todo[better]] = err[better]
    start = torch.zeros(len(frames), dtype=torch.long)
    _restart_stacked(best, error, threshold, frames, counts, constants, restarts)
    todo = torch.nonzero(error >= threshold).flatten()
    for first in range(1, max_start + 1):
        if len(todo) == 0:
            break
        sub = todo.numpy()
        state, err = fit_states(blob_state(numpy_frames[sub, first:], counts[sub]),
                                frames[todo, first:], constants, early_stop=True)
        exact = err < threshold[todo]
        assign(best, todo[exact], state, exact)
        error[todo[exact]], start[todo[exact]] = err[exact], first
        todo = todo[~exact]
    return best, start, error


def _restart_stacked(best: State, error: Tensor, threshold: Tensor, frames: Tensor,
                     counts: np.ndarray, constants: WorldConstants, restarts: int) -> None:
    """Fit the sequences not reproduced whose balls are never all seen apart again from other
    random splits of the stacked balls (:func:`blob_state` seeds 1 .. ``restarts``), keeping
    (in place) each one's best fit until one is exact."""
    todo = torch.nonzero(error >= threshold).flatten()
    if len(todo) == 0:
        return
    sub = todo.numpy()
    hidden = blob_centres(frames[todo].numpy())[1].max(axis=1) < counts[sub]
    todo = todo[torch.as_tensor(hidden)]
    for seed in range(1, restarts + 1):
        if len(todo) == 0:
            return
        sub = todo.numpy()
        state, err = fit_states(blob_state(frames[todo].numpy(), counts[sub], seed), frames[todo],
                                constants, early_stop=True)
        better = err < error[todo]
        assign(best, todo[better], state, better)
        error[todo[better]] = err[better]
        todo = todo[error[todo] >= threshold[todo]]


def assign(best: State, index: Tensor, state: State, mask: Tensor) -> None:
    """Rows ``index`` of ``best`` become the rows ``mask`` of ``state``, ball slots included."""
    for name in ("position", "direction", "present", "radius"):
        if getattr(best, name) is not None:
            getattr(best, name)[index] = getattr(state, name)[mask]


def predict_from_states(state: State, start: Tensor, constants: WorldConstants, n_seen: int,
                        horizon: int) -> Tensor:
    """Frames n_seen .. n_seen + horizon - 1 (N, horizon, H, W) simulated from states that
    belong to frame ``start`` (N,)."""
    out = torch.zeros(len(start), horizon, tp.RESOLUTION, tp.RESOLUTION)
    with torch.no_grad():
        for first in start.unique().tolist():
            rows = torch.nonzero(start == first).flatten()
            frames = simulate_render(state.rows(rows), constants, n_seen - first + horizon)
            out[rows] = frames[:, n_seen - first:]
    return out
