"""The classical blob-tracking predictor (``bballs.classical.physics_predictor``)."""

from __future__ import annotations

import numpy as np
from generated import generated_sequences

from bballs.classical import blobs, physics_predictor
from bballs.data import physics
from bballs.metrics import video_scores


def test_physics_predictor_finds_balls_and_beats_the_last_frame():
    frames, arrays = generated_sequences(40, 10, seed=5)
    centres, radii, counts = blobs.detect_balls(frames[:, :1])
    truth = arrays["positions"][:, 0]
    one = arrays["labels"] == 1
    assert np.allclose(centres[one, 0, 0], truth[one, 0], atol=0.1)
    assert np.allclose(radii[one, 0, 0], physics.RADIUS, atol=0.25)
    predicted = physics_predictor.predict(frames[:, :5])
    assert predicted.shape == (40, 5, 32, 32)
    ours = video_scores(predicted, frames[:, 5:])["ssim"]
    baseline = video_scores(np.repeat(frames[:, 4:5], 5, axis=1), frames[:, 5:])["ssim"]
    assert ours > baseline


def test_velocity_fit_sees_through_a_wall_bounce():
    radius = np.array([1.2])
    start, velocity = np.array([[[8.6, 5.0]]]), np.array([[[0.4, 0.1]]])
    track, _ = physics_predictor._walls_only(start, velocity, radius[:, None, None], 2)
    observed = np.concatenate([start, track[:, 0]], axis=1)  # (1, 3, 2): bounces off x = 10
    fitted = physics_predictor.fit_velocities(observed, radius)
    _, expected = physics_predictor._walls_only(start, velocity, radius[:, None, None], 2)
    assert np.allclose(fitted, expected[:, 0], atol=0.01) and fitted[0, 0] < 0
