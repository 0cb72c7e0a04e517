"""The differentiable simulator and renderer against the NumPy generator."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bballs.data import physics
from bballs.data.dataset import draw_radii
from bballs.physics_model import torch_physics as tp


@pytest.fixture(scope="module")
def generated():
    """Initial states and 30-frame tracks of 300 generated sequences (1-3 balls)."""
    rng = np.random.default_rng(3)
    _, radii = draw_radii(300, None, rng)
    position, velocity = physics.initial_state(radii, rng)
    start = (position.copy(), velocity.copy())
    track = np.empty((300, 30, 3, 2))
    for t in range(30):
        track[:, t] = position
        physics.step(position, velocity, radii)
    return start, track, radii


def _torch_track(generated, n_frames=30, **options):
    (position, velocity), _, radii = generated
    present = torch.from_numpy(radii > 0)
    return tp.simulate(torch.from_numpy(position), torch.from_numpy(velocity), present,
                       physics.RADIUS, physics.BOX_SIZE, n_frames, **options)


def test_simulation_matches_generator_through_bounces_and_collisions(generated):
    _, track, radii = generated
    ours, _ = _torch_track(generated)
    np.testing.assert_allclose(ours.numpy(), track, atol=1e-9)
    turns = np.diff(np.sign(np.diff(track, axis=1)), axis=1) != 0
    assert turns.any(axis=(1, 2, 3)).mean() > 0.5  # most sequences bounce or collide
    close = np.linalg.norm(track[:, :, 0] - track[:, :, 1], axis=-1) < 2 * physics.RADIUS
    assert (close & (radii[:, 1] > 0)[:, None]).any()  # collisions happen


def test_render_matches_generator_frames(generated):
    _, track, radii = generated
    present = torch.from_numpy(radii > 0)
    ours = tp.render(torch.from_numpy(track), present, physics.RADIUS, 4.0)
    np.testing.assert_allclose(ours.numpy(), physics.render(track, radii), atol=1e-5)
    varied = np.random.default_rng(0).uniform(0.8, 1.6, radii.shape) * (radii > 0)
    ours = tp.render(torch.from_numpy(track[:20]), present[:20], torch.from_numpy(varied[:20]),
                     4.0)
    np.testing.assert_allclose(ours.numpy(), physics.render(track[:20], varied[:20]), atol=1e-5)


def test_gradients_reach_state_and_constants_without_changing_the_forward(generated):
    (position, velocity), _, radii = generated
    present = torch.from_numpy(radii > 0)
    pos = torch.from_numpy(position).requires_grad_()
    vel = torch.from_numpy(velocity).requires_grad_()
    radius, box, exponent = (torch.tensor(v, dtype=torch.float64, requires_grad=True)
                             for v in (physics.RADIUS, physics.BOX_SIZE, 4.0))
    track, _ = tp.simulate(pos, vel, present, radius, box, 12)
    plain, _ = _torch_track(generated, 12)
    assert torch.equal(track.detach(), plain)  # the wall surrogate adds exactly zero
    frames = tp.render(track, present, radius, exponent)
    (frames**2).mean().backward()
    for value in (pos, vel, radius, box, exponent):
        assert torch.isfinite(value.grad).all() and value.grad.abs().sum() > 0


def test_mirror_option_changes_only_gradients(generated):
    mirrored, _ = _torch_track(generated, 12, mirror=True)
    plain, _ = _torch_track(generated, 12)
    assert torch.equal(mirrored, plain)


def test_render_jacobian_matches_autograd():
    torch.manual_seed(0)
    track = (torch.rand(2, 2, 3, 2, dtype=torch.float64) * 20 + 6).requires_grad_()
    present = torch.tensor([[True, True, False], [True, True, True]])
    frames, jac = tp.render_jacobian(track.detach(), present, 3.84, 4.0, 0.0, 1.0)
    rendered = tp.render(track, present, 3.84, 4.0, 0.0, 1.0).reshape(2, 2, -1)
    assert torch.allclose(frames, rendered)
    weights = torch.randn_like(rendered)
    (rendered * weights).sum().backward()
    expected = (jac @ weights[..., None])[..., 0].view(2, 2, 3, 2)
    assert torch.allclose(track.grad, expected, atol=1e-10)


def test_render_jacobian_with_respect_to_each_radius_matches_autograd():
    torch.manual_seed(1)
    track = torch.rand(2, 2, 3, 2, dtype=torch.float64) * 20 + 6
    present = torch.tensor([[True, True, False], [True, True, True]])
    radius = (torch.rand(2, 3, dtype=torch.float64) * 2 + 3).requires_grad_()
    frames, jac = tp.render_jacobian(track, present, radius.detach(), 4.0, 0.0, 1.0,
                                     radius_derivative=True)
    assert jac.shape == (2, 2, 9, 32 * 32)
    rendered = tp.render(track, present, radius, 4.0, 0.0, 1.0).reshape(2, 2, -1)
    assert torch.allclose(frames, rendered)
    weights = torch.randn_like(rendered)
    (rendered * weights).sum().backward()
    expected = (jac[:, :, 6:] @ weights[..., None])[..., 0].sum(1)  # summed over frames
    assert torch.allclose(radius.grad, expected, atol=1e-10)
