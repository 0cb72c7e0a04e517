"""Long roll-outs and per-horizon curves (``bballs.tasks.rollout``)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bballs.classical import physics_predictor
from bballs.tasks import part2_recipes, rollout


def test_roll_out_feeds_predictions_back():
    calls = []

    def shift(window):
        calls.append(window.copy())
        return window + 1

    out = rollout.roll_out(shift, np.zeros((2, 5, 4, 4), np.float32), 12)
    assert out.shape == (2, 12, 4, 4) and len(calls) == 3
    assert out[0, 0, 0, 0] == 1 and out[0, 5, 0, 0] == 2 and out[0, 10, 0, 0] == 3


def test_long_sequences_are_fresh_and_deterministic():
    a, b = rollout.long_sequences(4, 12), rollout.long_sequences(4, 12)
    assert a.shape == (4, 12, 32, 32) and np.array_equal(a, b)


def test_horizon_curves_count_the_visibly_wrong_sequences_per_horizon():
    truth = np.zeros((4, 3, 8, 8), np.float32)
    guess = truth.copy()
    guess[1, 1:, :2, :2] = 1.0  # one sequence goes wrong from its second frame on (MSE 1/16)
    curves = rollout.horizon_curves({"model": guess}, truth)["model"]
    assert curves["off"] == [0, 1, 1]
    assert curves["mse"] == pytest.approx([0.0, 1 / 64, 1 / 64])  # the mean: that one sequence


def test_physics_prior_inputs_and_roll_out(dataset_dir):
    from bballs.tasks import prediction

    data = prediction.load_prediction_data(dataset_dir, quick=True)
    extended = prediction.with_physics_prior(data)
    assert extended.x_val.shape == (len(data.x_val), 10, 32, 32)
    assert torch.equal(extended.x_val[:, :5], data.x_val)
    variant = next(v for v in part2_recipes.TASK7_VARIANTS if part2_recipes.uses_physics_prior(v))
    predictor = part2_recipes.rollout_predictor(variant, variant.model())
    inputs = data.x_val[:3].numpy()
    forecast = physics_predictor.predict(inputs)  # untrained: exactly the physics forecast
    assert np.allclose(predictor(inputs), np.clip(forecast, 1e-3, 1 - 1e-3), atol=1e-5)
