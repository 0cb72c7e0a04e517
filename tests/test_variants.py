"""Generator variants (one change each) and Task 7 scored on them."""

from __future__ import annotations

import numpy as np
import pytest

from bballs.data import physics, variants
from bballs.data.dataset import draw_radii
from bballs.tasks import task7_variants


@pytest.mark.parametrize("name", list(variants.VARIANTS))
def test_every_variant_makes_files_in_the_official_value_range(name):
    frames, counts = variants.variant_sequences(name, 6, n_frames=4)
    assert frames.shape == (6, 4, 32, 32) and frames.dtype == np.float32
    assert frames.min() >= 0 and frames.max() <= 1 and set(counts) <= {1, 2, 3}
    again, _ = variants.variant_sequences(name, 6, n_frames=4)
    assert np.array_equal(frames, again)  # one seed, the same file


def test_variants_change_what_they_say():
    eight_bit, _ = variants.variant_sequences("8-bit frames", 4, 3)
    assert np.allclose(eight_bit * 255, np.round(eight_bit * 255), atol=1e-4)
    ours, _ = variants.variant_sequences("ours", 4, 3)
    soft, _ = variants.variant_sequences("softer profile (power 2)", 4, 3)
    grey = lambda f: np.mean((f > 0.05) & (f < 0.95))  # noqa: E731 - ball edges
    assert grey(soft) > grey(ours)
    rng = np.random.default_rng(0)
    _, radii = draw_radii(50, None, rng)
    shared = variants._track(radii, 2, np.random.default_rng(1))
    own = variants._track(radii, 2, np.random.default_rng(1), per_ball_speed=True)
    def speeds(track):
        return np.linalg.norm(track[:, 1] - track[:, 0], axis=2)[radii > 0]
    total = np.sqrt((np.linalg.norm(shared[:, 1] - shared[:, 0], axis=2) ** 2).sum(axis=1))
    exact = np.isclose(total, physics.SPEED)  # one speed shared (where no bounce intervenes)
    assert exact.mean() > 0.8
    assert speeds(own).std() > speeds(shared).std()
    slow = variants._track(radii, 60, np.random.default_rng(1), wall_restitution=0.8)
    assert speeds(slow[:, -2:]).mean() < 0.8 * speeds(shared).mean()


class _Physics:
    """Exact where the frames are still (residual 0), wrong elsewhere."""

    def predict_with_residual(self, inputs, horizon):
        still = np.abs(inputs[:, -1] - inputs[:, 0]).reshape(len(inputs), -1).max(axis=1) == 0
        last = np.repeat(inputs[:, -1:], horizon, axis=1)
        return np.where(still[:, None, None, None], last, 1 - last), np.where(still, 0.0, 1.0)

    def predict(self, inputs, horizon):
        return self.predict_with_residual(inputs, horizon)[0]


def test_variant_rows_report_each_path_and_the_gate_never_loses_to_the_learnt_network():
    def learnt(inputs):
        return np.repeat(inputs[:, -1:], 5, axis=1)

    row = task7_variants.score_variant("speed per ball", _Physics(), learnt, n_calibrate=12,
                                       n_eval=20)
    assert row["physics_share"] == 0.0  # moving balls: the fake world never fits
    assert row["final_system"]["mse"] <= row["learnt"]["mse"] + 1e-12
    assert set(row["physics_model"]) >= {"ssim", "psnr_of_mse", "exact_share"}
    assert "fixed_gate" not in row
    trusting = {"threshold": 2.0}  # a gate from other files that keeps every physics forecast
    kept = task7_variants.score_variant("speed per ball", _Physics(), learnt, n_calibrate=12,
                                        n_eval=20, fixed_gate=trusting)
    assert kept["fixed_gate"]["physics_share"] == 1.0  # the wrong world is kept everywhere
    assert kept["fixed_gate"]["mse"] > kept["final_system"]["mse"]
    summary = task7_variants.gate_summary([kept])
    assert summary["vs_learnt_fixed_gate_psnr_of_mse"] == pytest.approx(
        kept["fixed_gate"]["psnr_of_mse"] - kept["learnt"]["psnr_of_mse"])
    assert summary["vs_learnt_fixed_gate_psnr_of_mse"] < 0
    assert task7_variants.table_rows([kept])[0]["fixed_psnr_of_mse"] == kept["fixed_gate"][
        "psnr_of_mse"]


def test_reidentified_rows_carry_the_world_fitted_to_each_variant(tmp_path):
    from bballs.core.files import output_paths
    from bballs.physics_model.inverse_predictor import InverseConfig

    def learnt(inputs):
        return np.repeat(inputs[:, -1:], 5, axis=1)

    rows = task7_variants.reidentified_benchmark(
        learnt, output_paths(tmp_path), names=("4 sub-steps per frame",),
        config=InverseConfig.quick(), n_train=40, progress=False, n_calibrate=8, n_eval=8)
    assert rows[0]["training_sequences"] == 40
    assert "sub-steps" in rows[0]["world"] and rows[0]["constants"]["substeps"] in (2, 4)
    assert list((tmp_path / "checkpoints" / "task7" / "variants").glob("4_sub_steps*.pt"))
    summary = task7_variants.targets(rows)
    assert summary["inside_worst_variant"] == "4 sub-steps per frame"
    assert summary["inside_min_psnr_of_mse"] == rows[0]["physics_model"]["psnr_of_mse"]
    assert {"vs_learnt_ssim", "vs_physics_psnr_of_mse"} <= set(summary)
    from bballs.reporting.project1_report import _reidentified

    section = _reidentified(task7_variants.reidentified_record(rows))
    assert "reads each world from its frames" in section and "4 sub-steps per frame" in section
    assert "bench-physics --variants" in _reidentified({})  # not run: says how


def test_recorded_rebenchmark_is_reused_only_for_the_same_files_and_fitting(tmp_path,
                                                                             dataset_dir, capsys):
    from bballs.core.files import output_paths, update_results
    from bballs.data.identity import data_source
    from bballs.physics_model.inverse_predictor import FIT_PROCEDURE

    paths = output_paths(tmp_path)
    results = paths.results / task7_variants.RESULTS_FILE
    row = {"variant": "ours", "physics_share": 1.0, "world": "radius 1.20",
           "physics_model": {"ssim": 1.0, "psnr_of_mse": 50.0, "mse": 1e-5, "exact_share": 1.0},
           "learnt": {"ssim": 0.9, "psnr_of_mse": 30.0, "mse": 1e-3},
           "final_system": {"ssim": 1.0, "psnr_of_mse": 50.0, "mse": 1e-5},
           "training_sequences": 10, "calibration_sequences": 5, "sequences": 5}
    update_results(results, "data_source", data_source(dataset_dir))
    update_results(results, "reidentified_rows", [row])
    assert task7_variants.recorded_reidentified(paths, dataset_dir) == {}  # fitted before
    assert "bench-physics --variants" in capsys.readouterr().out
    update_results(results, "fit_procedure", FIT_PROCEDURE)
    assert task7_variants.recorded_reidentified(paths, dataset_dir)["rows"] == [row]
    key = task7_variants.models_key
    physics = type("Physics", (), {"run_id": {"data": "x"}})()
    assert key(physics, "a") != key(physics, "b")


def test_variants_that_lose_information_have_a_ceiling_below_a_perfect_score():
    stored, _ = variants.variant_sequences("Gaussian noise (std 0.02)", 30, 10)
    rendered, _ = variants.variant_sequences("Gaussian noise (std 0.02)", 30, 10, observed=False)
    assert 1e-4 < ((stored - rendered) ** 2).mean() < 4e-4
    ceiling = task7_variants._ceiling("Gaussian noise (std 0.02)", stored[10:, 5:], 30,
                                      0)["ceiling"]
    assert 0.5 < ceiling["ssim"] < 0.9 and 33 < ceiling["psnr_of_mse"] < 40
    ours, _ = variants.variant_sequences("ours", 5, 4)
    assert np.array_equal(ours, variants.variant_sequences("ours", 5, 4, observed=False)[0])
    assert task7_variants._ceiling("ours", ours, 5, 0) == {}


def test_targets_count_what_the_model_adds_beyond_a_perfect_forecast():
    def row(ssim, mse, ceiling=None):
        return {"physics_model": {"ssim": ssim, "mse": mse},
                **({"ceiling": ceiling} if ceiling else {})}

    assert task7_variants.met_target(row(0.995, 2e-4))
    assert not task7_variants.met_target(row(0.985, 2e-4))  # SSIM below 0.99
    assert not task7_variants.met_target(row(0.995, 4e-4))  # below 35 dB
    noisy = {"ssim": 0.72, "mse": 2.2e-4}  # a perfect forecast of noisy frames
    assert task7_variants.met_target(row(0.715, 2.2e-4 + 2e-4, noisy))
    assert not task7_variants.met_target(row(0.70, 2.2e-4 + 2e-4, noisy))
    assert not task7_variants.met_target(row(0.715, 2.2e-4 + 4e-4, noisy))


def test_the_benchmark_command_scores_each_variant_with_the_gate_of_our_own_files(
        tmp_path, dataset_dir, monkeypatch):
    from bballs.core.files import output_paths, read_results

    def learnt(inputs):
        return np.repeat(inputs[:, -1:], 5, axis=1)

    monkeypatch.setattr(task7_variants, "trained_models",
                        lambda data_dir, paths, seed: (_Physics(), learnt, "models-key"))
    paths = output_paths(tmp_path)
    rows = task7_variants.run(dataset_dir, paths, names=("speed per ball",), reidentify=False)
    assert [r["variant"] for r in rows] == ["speed per ball"] and "fixed_gate" in rows[0]
    recorded = read_results(paths.results / task7_variants.RESULTS_FILE)
    assert recorded["models"] == "models-key" and recorded["rows"] == rows


def test_the_targets_count_other_generators_not_our_own():
    def row(name, db):
        return {"variant": name, "physics_model": {"ssim": 1.0, "psnr_of_mse": db,
                                                   "mse": 10 ** (-db / 10)},
                "learnt": {"ssim": 0.9, "psnr_of_mse": 30.0},
                "final_system": {"ssim": 1.0, "psnr_of_mse": db}}

    summary = task7_variants.targets([row("ours", 20.0), row("speed per ball", 40.0),
                                      row("bounces keep 80% of the speed (outside)", 25.0)])
    assert (summary["inside_met"], summary["inside_variants"]) == (1, 1)
    assert summary["inside_worst_variant"] == "speed per ball"
