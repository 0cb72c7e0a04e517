"""Batched Levenberg-Marquardt fit of initial states to observed frames (fixed constants).

Each sequence has 4 * B parameters: the centres (B, 2) and velocities (B, 2) at frame 0, and,
under the *per-ball radius* hypothesis, B more: each ball's radius. The Jacobian of the frames
is the product of the renderer's analytic Jacobian with respect to the centres (and radii) of
every frame and the simulator's Jacobian (forward-mode automatic differentiation), so one
iteration costs about two renders. A step is kept only where it lowers that sequence's
error (the damping shrinks) and is otherwise retried with more damping: the error never grows,
so a sequence never leaves the smooth piece of the error surface (same bounces and collisions)
it has reached. After every step the velocities are rescaled to the total speed (under the
shared-speed hypothesis).
"""

from __future__ import annotations

import warnings

import torch
from torch import Tensor

from bballs.physics_model import torch_physics as tp

MIN_RADIUS = 0.3  # pixels: the smallest radius a per-ball fit may reach


def split(theta: Tensor, n_balls: int) -> tuple[Tensor, Tensor, Tensor | None]:
    """Centres (N, B, 2), velocities (N, B, 2) and radii (N, B; None unless fitted per ball)
    of parameters (N, 4B[+B])."""
    position, velocity = theta[:, :4 * n_balls].reshape(len(theta), 2, n_balls, 2).unbind(1)
    return position, velocity, theta[:, 4 * n_balls:] if per_ball_radius(theta, n_balls) else None


def per_ball_radius(theta: Tensor, n_balls: int) -> bool:
    """Whether parameters (N, 4B or 5B) carry a radius per ball."""
    return theta.shape[1] == 5 * n_balls


def _radius(theta: Tensor, present: Tensor, constants: dict) -> Tensor | float:
    """Each ball's radius (N, B) from the parameters, or the shared radius."""
    radius = split(theta, present.shape[1])[2]
    return constants["radius"] if radius is None else radius


def project_speed(theta: Tensor, present: Tensor, speed: float | None) -> Tensor:
    """Parameters (N, 4B[+B]) with absent balls zeroed, velocities rescaled to norm ``speed``
    (None: per-ball speed, velocities kept) and radii (if any) kept above :data:`MIN_RADIUS`."""
    n_balls = present.shape[1]
    position, velocity, radius = split(theta, n_balls)
    radius = [] if radius is None else [radius.clamp_min(MIN_RADIUS)]
    velocity = velocity * present[..., None]
    if speed is not None:
        norm = velocity.flatten(1).norm(dim=1).clamp_min(1e-8)
        velocity = velocity * (speed / norm)[:, None, None]
    return torch.cat([position.flatten(1), velocity.flatten(1), *radius], dim=1)


def _track(theta: Tensor, present: Tensor, constants: dict, n_frames: int) -> Tensor:
    position, velocity, _ = split(theta, present.shape[1])
    radius = _radius(theta, present, constants)
    track, _ = tp.simulate(position, velocity, present, radius, constants["high"],
                           n_frames, substeps=constants.get("substeps", tp.SUBSTEPS),
                           low=constants["low"])
    return track.flatten(2)  # (N, T, 2B)


def track_jacobian(theta: Tensor, present: Tensor, constants: dict,
                   n_frames: int) -> tuple[Tensor, Tensor]:
    """Centres (N, T, B, 2) and their derivatives (N, T, 2B, 4B) with respect to ``theta``."""
    n, size = theta.shape
    basis = torch.eye(size, dtype=theta.dtype)[:, None, :].expand(size, n, size)

    def tangent(direction: Tensor) -> tuple[Tensor, Tensor]:
        return torch.func.jvp(lambda x: _track(x, present, constants, n_frames),
                              (theta,), (direction,))

    with warnings.catch_warnings():  # torch's own first-use set-up of forward-mode AD
        warnings.filterwarnings("ignore", "`torch.jit.script` is deprecated", FutureWarning)
        track, jac = torch.func.vmap(tangent, out_dims=(None, 3))(basis)
    return track.view(n, n_frames, -1, 2), jac


def render(theta: Tensor, present: Tensor, constants: dict, n_frames: int) -> Tensor:
    """Frames (N, n_frames, H, W) simulated and rendered from parameters (N, 4B[+B])."""
    track = _track(theta, present, constants, n_frames)
    return tp.render(track.view(*track.shape[:2], -1, 2), present,
                     _radius(theta, present, constants),
                     constants["exponent"], 0.0, 1.0)


def frame_errors(theta: Tensor, present: Tensor, target: Tensor, constants: dict) -> Tensor:
    """Sum of squared pixel errors per sequence (N,) of the frames rendered from ``theta``."""
    frames = render(theta, present, constants, target.shape[1])
    return ((frames - target) ** 2).flatten(1).sum(1)


@torch.no_grad()
def fit_states(theta: Tensor, present: Tensor, target: Tensor, constants: dict,
               iterations: int = 12, damping: float = 1e-3, converged: float | Tensor = 0.0
               ) -> tuple[Tensor, Tensor]:
    """Refine parameters (N, 4B, or 5B with a radius per ball) so that rendered frames match
    ``target`` (N, T, H, W).

    ``constants``: radius, low and high wall, exponent, speed (floats, in pixels; pixel i is
    centred at i; speed None: per-ball speed), optionally sub-steps per frame. A step that
    is not finite counts as a failed one (more damping). A sequence whose mean squared pixel
    error is at or below ``converged`` (a float, or one per sequence) takes no more steps.
    Returns the parameters and each sequence's mean squared pixel error.
    """
    n, t = target.shape[:2]
    flat_target = target.reshape(n, t, -1)
    used = torch.cat([present[..., None].expand(-1, -1, 2).flatten(1)] * 2, dim=1)
    if per_ball_radius(theta, present.shape[1]):
        used = torch.cat([used, present], dim=1)
    theta = project_speed(theta, present, constants["speed"])
    error = frame_errors(theta, present, target, constants)
    lam = torch.full((n,), damping, dtype=theta.dtype)
    for _ in range(iterations):
        rows = torch.nonzero(error > converged * target[0].numel()).flatten()
        if len(rows) == 0:
            break
        sub = rows_of(constants, rows, n)
        candidate = _step(theta[rows], present[rows], flat_target[rows], sub, lam[rows],
                          used[rows])
        finite = torch.isfinite(candidate).all(dim=1)  # a near-singular system can blow up
        candidate = torch.where(finite[:, None], candidate, theta[rows])
        new_error = frame_errors(candidate, present[rows], target[rows], sub)
        better = (new_error < error[rows]) & finite
        theta[rows] = torch.where(better[:, None], candidate, theta[rows])
        error[rows] = torch.where(better, new_error, error[rows])
        lam[rows] = torch.where(better, lam[rows] / 3, lam[rows] * 8).clamp(1e-9, 1e6)
    return theta, error / target[0].numel()


def rows_of(constants: dict, rows: Tensor, n: int) -> dict:
    """``constants`` of the sequences ``rows``: values given per sequence (a tensor whose first
    dimension is the number of sequences ``n``) are indexed, shared ones kept."""
    return {key: value[rows] if isinstance(value, Tensor) and value.dim() and len(value) == n
            else value for key, value in constants.items()}


def _step(theta: Tensor, present: Tensor, flat_target: Tensor, constants: dict, lam: Tensor,
          used: Tensor) -> Tensor:
    """One damped Gauss-Newton step (N, 4B[+B]) from ``theta``."""
    n_balls = present.shape[1]
    per_ball = per_ball_radius(theta, n_balls)
    track, sim_jac = track_jacobian(theta, present, constants, flat_target.shape[1])
    frames, render_jac = tp.render_jacobian(track, present, _radius(theta, present, constants),
                                            constants["exponent"], 0.0, 1.0,
                                            radius_derivative=per_ball)
    if per_ball:  # frames depend on the radii directly as well as through the track
        select = torch.zeros(n_balls, theta.shape[1], dtype=theta.dtype)
        select[range(n_balls), range(4 * n_balls, 5 * n_balls)] = 1.0
        sim_jac = torch.cat([sim_jac, select.expand(*sim_jac.shape[:2], -1, -1)], dim=2)
    residual = frames - flat_target
    normal = render_jac @ render_jac.transpose(2, 3)  # (N, T, 2B, 2B)
    gradient = (render_jac @ residual[..., None])[..., 0]  # (N, T, 2B)
    hessian = torch.einsum("ntai,ntab,ntbj->nij", sim_jac, normal, sim_jac)
    grad = torch.einsum("ntai,nta->ni", sim_jac, gradient) * used
    diag = hessian.diagonal(dim1=1, dim2=2)
    hessian = hessian + torch.diag_embed(lam[:, None] * (diag + 1e-6) + (~used).to(diag.dtype))
    delta = torch.linalg.solve(hessian, -grad[..., None])[..., 0] * used
    return project_speed(theta + delta, present, constants["speed"])
