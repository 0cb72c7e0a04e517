"""System identification: the world constants (and the speed and radius hypotheses) fitted to
training sequences with known ball counts, states and constants together, by Gauss-Newton on
the states and Adam on both (:mod:`~bballs.physics_model.inverse_physics` holds the model)."""

from __future__ import annotations

import copy
import math

import numpy as np
import torch
from torch import Tensor

from bballs.physics_model.inverse_physics import (
    State,
    WorldConstants,
    blob_state,
    exact_threshold,
    fit_states,
    sequence_loss,
)
from bballs.physics_model.world import CONSTANT_NAMES
from bballs.training.loop import progress as progress_bar

ONE_POINT = 0.01  # a share of sequences reproduced exactly that counts as fitting more of them


def refine_jointly(state: State, constants: WorldConstants, frames: Tensor, steps: int,
                   lr: float = 0.005, constants_lr: float = 0.005, walls_lr: float = 0.02,
                   keep: float = 0.75) -> tuple[State, Tensor]:
    """Adam on the states and the constants together; the constants only see the ``keep``
    fraction of sequences that are fitted best (the others may sit in a wrong local minimum)."""
    position = state.position.detach().clone().requires_grad_()
    direction = state.direction.detach().clone().requires_grad_()
    radius = None if state.radius is None else state.radius.detach().clone().requires_grad_()
    per_sequence = [position, direction, *([] if radius is None else [radius])]
    optimizer = torch.optim.Adam([{"params": per_sequence, "lr": lr},
                                  {"params": constants.shape_parameters(), "lr": constants_lr},
                                  {"params": constants.walls(), "lr": walls_lr}])
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps, eta_min=lr * 0.01)
    current = State(position, direction, state.present, radius)
    for _ in range(steps):
        loss = sequence_loss(current, constants, frames)
        weight = (loss <= loss.quantile(keep)).float().detach()
        optimizer.zero_grad(set_to_none=True)
        (loss * weight).sum().backward()
        optimizer.step()
        schedule.step()
    with torch.no_grad():
        final = sequence_loss(current, constants, frames)
    return current.detach(), final


def identify_constants(frames: np.ndarray, counts: np.ndarray, rounds: int = 4,
                       steps: int = 100, constants: WorldConstants | None = None,
                       progress: bool = True, wall_spans: tuple[float, ...] = (0.24, 0.06, 0.015),
                       placements: int = 3) -> tuple[WorldConstants, dict[str, list[float]]]:
    """Fit the world constants to training sequences (N, T, H, W) with known ball counts.

    Starting from :data:`INITIAL_GUESS` and blob centroids, each of ``rounds`` rounds fits the
    states alone (Gauss-Newton), then states and constants together (Adam). Then, up to
    ``placements`` times, the walls are placed where the most sequences are reproduced exactly
    (:func:`place_walls`) and the other constants are polished with the walls fixed; the walls
    are placed again only if the polish made a point or more of the sequences fit. Returns the
    constants and their values after every round, with the fraction of exactly fitted
    sequences before the round's Adam steps.
    """
    constants = constants or WorldConstants()
    target = torch.as_tensor(frames, dtype=torch.float32)
    threshold = exact_threshold(target)
    trace: dict[str, list[float]] = {name: [] for name in [*CONSTANT_NAMES, "exact"]}
    placements = max(placements, 1)
    for k in progress_bar(range(rounds + placements), desc="system identification",
                          unit="round", disable=not progress):
        placing = k >= rounds
        if placing and wall_spans:
            place_walls(frames, counts, constants, wall_spans)
        state, loss = fit_states(blob_state(frames, counts), target, constants)
        exact = float((loss < threshold).float().mean())
        trace["exact"].append(exact)
        refine_jointly(state, constants, target, steps, walls_lr=0.0 if placing else 0.02)
        for name, value in constants.as_dict().items():
            trace[name].append(value)
        if placing and (not wall_spans or k + 1 == rounds + placements
                        or fit_quality(frames, counts, constants)["exact"] < exact + ONE_POINT):
            break  # the polish fitted no more sequences: the walls need not move again
    return constants, trace


def fit_quality(frames: np.ndarray, counts: np.ndarray,
                constants: WorldConstants) -> dict[str, float]:
    """How well ``constants`` explain sequences (N, T, H, W) fitted from a blob guess: the
    fraction reproduced exactly and the median mean squared error."""
    _, loss = fit_states(blob_state(frames, counts), torch.as_tensor(frames), constants)
    return _quality(loss, frames)


def _quality(loss: Tensor, frames: np.ndarray) -> dict[str, float]:
    """The fraction of sequences (N, T, H, W) reproduced exactly and the median error, of
    their errors (N,)."""
    exact = loss < exact_threshold(frames)
    return {"exact": float(exact.float().mean()), "median_error": float(loss.median())}


def choose_substeps(frames: np.ndarray, counts: np.ndarray, constants: WorldConstants,
                    options: tuple[int, ...]) -> tuple[int, dict[int, dict[str, float]]]:
    """The number of sub-steps per frame (how finely bounces and collisions are timed) under
    which the most training sequences are reproduced exactly, or, while none is, the median
    error is lowest; set in ``constants`` (in place; a tie keeps the current number). Returns
    it and the :func:`fit_quality` of every option."""
    current = int(constants.substeps)
    quality = {}
    for substeps in options:
        constants.substeps.fill_(substeps)
        quality[substeps] = fit_quality(frames, counts, constants)
    chosen = max(options, key=lambda n: (quality[n]["exact"], -quality[n]["median_error"],
                                         n == current))
    constants.substeps.fill_(chosen)
    return chosen, quality


#: Share of training sequences reproduced exactly below which a radius per ball is tried.
RADIUS_TRIGGER = 0.9
RADIUS_SPREAD = 0.01  # relative spread of fitted radii that still counts as one radius


def _radius_evidence(frames: np.ndarray, counts: np.ndarray,
                     constants: WorldConstants) -> dict[str, float | None]:
    """:func:`fit_quality` under a radius per ball, with the relative spread of the radii of
    the balls in exactly reproduced sequences (while fewer than 8 balls are, in the better
    half of the fits)."""
    state, loss = fit_states(blob_state(frames, counts), torch.as_tensor(frames), constants)
    fitted = loss < exact_threshold(frames)
    if int(state.present[fitted].sum()) < 8:
        fitted = loss <= loss.median()
    radii = state.radius[state.present & fitted[:, None]].detach().numpy()
    enough = len(radii) >= 8
    return {**_quality(loss, frames), "balls_measured": int(len(radii)),
            "spread": float(np.std(radii) / np.median(radii)) if enough else None,
            "median_radius": float(np.median(radii)) if enough else None}


def choose_radius_hypothesis(frames: np.ndarray, counts: np.ndarray, constants: WorldConstants,
                             steps: int = 100, wall_spans: tuple[float, ...] = (0.24, 0.06, 0.015),
                             placements: int = 3, shared: dict[str, float] | None = None
                             ) -> tuple[str, dict]:
    """One radius for the world or a radius per ball, decided on training sequences (N, T, H,
    W). While one radius reproduces at least :data:`RADIUS_TRIGGER` of them exactly it stays.
    Otherwise the constants are identified again with a radius fitted per ball (two rounds of
    joint fitting, then the walls placed again), and that is kept if the fitted radii differ
    (relative spread at least :data:`RADIUS_SPREAD`) and a point or more of the sequences more
    is reproduced exactly, or, while none is, the median error halves. Else the world keeps one
    radius, the fitted radii's median with the trial's other constants if those reproduce a
    point or more of the sequences more (the trial fits the walls and profile again, which can
    leave a poor first identification's basin), or else the constants as they were
    (``constants`` in place). ``shared``: the :func:`fit_quality` of the constants as they are,
    if already measured. Returns the hypothesis and the evidence."""
    evidence = {"shared": shared or fit_quality(frames, counts, constants)}
    if bool(constants.radius_per_ball) or evidence["shared"]["exact"] >= RADIUS_TRIGGER:
        return constants.radius_hypothesis, evidence
    saved = copy.deepcopy(constants.state_dict())
    constants.radius_per_ball.fill_(True)
    identify_constants(frames, counts, 2, steps, constants, False, wall_spans, placements)
    evidence["per ball"] = per_ball = _radius_evidence(frames, counts, constants)
    shared = evidence["shared"]
    varies = per_ball["spread"] is not None and per_ball["spread"] >= RADIUS_SPREAD
    better = (per_ball["exact"] >= shared["exact"] + ONE_POINT
              or (per_ball["exact"] >= shared["exact"]
                  and per_ball["median_error"] < 0.5 * shared["median_error"]))
    if not (varies and better):
        _one_radius(frames, counts, constants, saved, evidence)
    return constants.radius_hypothesis, evidence


def _one_radius(frames: np.ndarray, counts: np.ndarray, constants: WorldConstants,
                saved: dict, evidence: dict) -> None:
    """Back to one radius after a rejected per-ball trial: the trial's constants with the
    median fitted radius if they reproduce a point or more of the sequences more than the
    ``saved`` constants did (``evidence["one radius"]`` and ``["trial_constants_kept"]`` record
    it), else the ``saved`` ones."""
    median = evidence["per ball"]["median_radius"]
    needed = evidence["shared"]["exact"] + ONE_POINT
    if median is not None and evidence["per ball"]["exact"] >= needed:
        with torch.no_grad():
            constants.radius_per_ball.fill_(False)
            constants.log_radius.fill_(math.log(median))
        evidence["one radius"] = quality = fit_quality(frames, counts, constants)
        evidence["trial_constants_kept"] = quality["exact"] >= needed
        if evidence["trial_constants_kept"]:
            return
    constants.load_state_dict(saved)


SHARED_SPEED_SPREAD = 0.01  # relative spread of fitted total speeds that counts as one speed


def total_speeds(frames: np.ndarray, counts: np.ndarray, constants: WorldConstants) -> np.ndarray:
    """The total speed (norm of all velocities) of every training sequence that the constants
    reproduce exactly, fitted with free per-ball velocities (pixels per frame)."""
    free = WorldConstants(shared_speed=False)
    free.load_state_dict({**constants.state_dict(), "shared_speed": torch.tensor(False)})
    state, loss = fit_states(blob_state(frames, counts), torch.as_tensor(frames), free)
    speeds = state.velocity(None).flatten(1).norm(dim=1)
    return speeds[loss < exact_threshold(frames)].numpy()


def choose_speed_hypothesis(frames: np.ndarray, counts: np.ndarray,
                            constants: WorldConstants) -> tuple[str, dict[str, float]]:
    """Shared or per-ball speed, decided on training sequences (N, T, H, W) with constants
    identified under per-ball speed (the weaker assumption): when the total speeds of the
    exactly fitted sequences agree within :data:`SHARED_SPEED_SPREAD` (relative standard
    deviation), the sequences share one speed; ``constants`` then switch to the shared
    hypothesis with that speed (in place). Returns the hypothesis and the evidence."""
    speeds = total_speeds(frames, counts, constants)
    evidence = {"sequences_fitted": int(len(speeds)), "spread": None, "median_speed": None}
    if len(speeds) >= 8:  # fewer: too few fitted to tell, the weaker assumption stays
        median = float(np.median(speeds))
        evidence.update(median_speed=median, spread=float(np.std(speeds) / median))
    shared = evidence["spread"] is not None and evidence["spread"] < SHARED_SPEED_SPREAD
    with torch.no_grad():
        constants.shared_speed.fill_(shared)
        if shared:
            constants.log_speed.fill_(math.log(evidence["median_speed"]))
    return constants.hypothesis, evidence


def place_walls(frames: np.ndarray, counts: np.ndarray, constants: WorldConstants,
                spans: tuple[float, ...] = (0.24, 0.06, 0.015), candidates: int = 7) -> None:
    """Move each wall (in place) to the middle of the shifts, on a grid around it, under which
    the most sequences are reproduced exactly (left where it is while none is: the other
    constants are not good enough yet, :func:`identify_constants` polishes them and places the
    walls again): the timing of every bounce brackets the wall, which a gradient cannot see
    inside a bounce-free piece of the error surface."""
    target = torch.as_tensor(frames, dtype=torch.float32)
    n = len(frames)
    threshold = exact_threshold(target).repeat(candidates)
    for wall in constants.walls():
        for span in spans:
            shifts = torch.linspace(-span, span, candidates)
            physics = constants.frozen()
            name = "low" if wall is constants.low else "high"
            physics[name] = (float(wall.detach()) + shifts).repeat_interleave(n)[:, None, None]
            guess = blob_state(np.tile(frames, (candidates, 1, 1, 1)), np.tile(counts, candidates))
            _, error = fit_states(guess, target.repeat(candidates, 1, 1, 1), constants,
                                  physics=physics)
            exact = (error < threshold).view(candidates, n).sum(1)
            if exact.max() == 0:  # nothing fits yet: no bounce timing to go by
                break
            with torch.no_grad():
                wall += shifts[exact == exact.max()].mean()
