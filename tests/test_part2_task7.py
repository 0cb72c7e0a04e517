"""The Task 7 gate: physics forecast where the fitted world explains the inputs, else learnt."""

import numpy as np
import pytest

from bballs.tasks import part2_task7 as t7


def test_threshold_keeps_physics_exactly_where_it_beats_the_learnt_network():
    residual = np.array([0.001, 0.002, 0.003, 0.5, 0.6])
    physics_error = np.array([0.0, 0.0, 0.0, 0.9, 0.9])
    learnt_error = np.full(5, 0.1)
    assert t7.choose_threshold(residual, physics_error, learnt_error) == pytest.approx(0.003)


def test_threshold_sends_everything_to_the_learnt_network_when_physics_never_helps():
    residual = np.linspace(0, 1, 6)
    assert t7.choose_threshold(residual, np.ones(6), np.zeros(6)) is None
    frames = np.ones((6, 5, 4, 4))
    combined, used = t7.apply_gate(frames, np.zeros_like(frames), residual, None)
    assert not used.any() and combined.max() == 0


def test_gate_picks_per_sequence_and_never_loses_to_either_path_on_its_calibration_data():
    rng = np.random.default_rng(0)
    target = rng.random((40, 5, 8, 8)).astype(np.float32)
    residual = rng.random(40)
    fits = residual < 0.5  # the physics model is exact where its fit residual is small
    physics = np.where(fits[:, None, None, None], target, 1 - target)
    learnt = target + 0.1
    errors = t7.sequence_mse(physics, target), t7.sequence_mse(learnt, target)
    threshold = t7.choose_threshold(residual, *errors)
    combined, used = t7.apply_gate(physics, learnt, residual, threshold)
    assert np.array_equal(used, fits)
    assert t7.sequence_mse(combined, target).mean() <= min(e.mean() for e in errors)


class _FakePhysics:
    """A physics model whose world explains the first half of the sequences only."""

    def predict_with_residual(self, inputs, horizon):
        n = len(inputs)
        residual = np.where(np.arange(n) < n // 2, 1e-6, 0.2)
        target = np.repeat(inputs[:, -1:], horizon, axis=1)
        wrong = 1 - target
        return np.where(residual[:, None, None, None] < 1e-3, target, wrong), residual


def test_final_system_reports_path_shares_and_is_no_worse_than_the_learnt_network():
    rng = np.random.default_rng(1)
    inputs = rng.random((20, 5, 8, 8)).astype(np.float32)
    targets = np.repeat(inputs[:, -1:], 5, axis=1)
    learnt = lambda x: np.clip(np.repeat(x[:, -1:], 5, axis=1) + 0.05, 0, 1)  # noqa: E731
    gate = t7.calibrate(_FakePhysics(), learnt, inputs, targets)
    assert gate["train_physics_share"] == pytest.approx(0.5)
    scores, combined = t7.final_system(_FakePhysics(), learnt, gate, inputs, targets)
    assert scores["physics_share"] + scores["learnt_share"] == pytest.approx(1.0)
    assert scores["physics_share"] == pytest.approx(0.5)
    assert scores["mse"] <= scores["learnt_alone"]["mse"]
    assert scores["mse"] < scores["physics_alone"]["mse"]
    assert combined.shape == targets.shape


def test_benchmark_rows_of_other_settings_or_given_counts_are_left_out(dataset_dir, tmp_path):
    from dataclasses import replace

    from bballs.core.files import output_paths, update_results
    from bballs.data.identity import data_source
    from bballs.physics_model import inverse_predictor as ipred
    from bballs.tasks import task7_bench

    paths = output_paths(tmp_path)
    config = ipred.InverseConfig()
    first_layout = ipred.config_key(replace(config, seed=2)).replace(
        "'encoder': {'epochs': 15, 'batch_size': 64, 'lr': 0.002, 'weight_decay': 0.0, "
        "'seed': 0, 'tag': ''}", "'encoder_epochs': 15")
    assert "encoder_epochs" in first_layout
    read = {"counts": task7_bench.COUNTS_READ, "fit": ipred.FIT_PROCEDURE}
    rows = [{"seed": 0, "config": ipred.config_key(replace(config, seed=0)), **read},
            {"seed": 2, "config": first_layout, **read},
            {"seed": 1, "config": "an older configuration", **read},
            {"seed": 3, "config": ipred.config_key(replace(config, seed=3)),
             "fit": ipred.FIT_PROCEDURE},  # scored with the file's counts
            {"seed": 4, "config": ipred.config_key(replace(config, seed=4)),
             "counts": task7_bench.COUNTS_READ}]  # fitted before the recount
    results = paths.results / task7_bench.RESULTS_FILE
    update_results(results, "data_source", data_source(dataset_dir))
    update_results(results, "rows", rows)
    assert task7_bench.recorded_rows(paths, dataset_dir, config) == rows[:2]
    assert task7_bench.recorded_rows(paths, dataset_dir) == rows[:3]
    assert task7_bench.describe_runs([], 3) == "seed 3, this notebook's run"
    assert "mean over seeds 0 of" in task7_bench.describe_runs(rows[:1], 0)


def test_variant_rows_of_a_partial_run_replace_only_their_own():
    from bballs.tasks.task7_variants import VARIANTS, merged_rows

    names = list(VARIANTS)
    recorded = [{"variant": n, "run": "old"} for n in names[:4]]
    new = [{"variant": names[2], "run": "new"}, {"variant": names[5], "run": "new"}]
    merged = merged_rows(recorded, new)
    assert [r["variant"] for r in merged] == [names[i] for i in (0, 1, 2, 3, 5)]
    assert [r["run"] for r in merged] == ["old", "old", "new", "old", "new"]


def test_the_counts_effect_uses_the_benchmark_seeds_and_says_when_nothing_changes():
    from bballs.tasks.part2_task7 import counts_effect

    rows = [{"seed": s, "psnr_of_mse": p, "given_counts": {"psnr_of_mse": g}}
            for s, p, g in ((0, 46.0, 46.0), (1, 44.0, 45.0))]
    assert counts_effect(rows, {}, {}, 0) == ("given the file's ball counts instead, it scores "
                                              "45.50 dB, not 45.00 dB (mean over seeds 0, 1)")
    assert "the same, 46.00 dB (mean over seeds 0)" in counts_effect(rows[:1], {}, {}, 0)
    seed_only = counts_effect([], {"psnr_of_mse": 30.0}, {"psnr_of_mse": 31.0}, 2)
    assert seed_only.endswith("31.00 dB, not 30.00 dB (seed 2)")


def test_the_seeds_phrase_gives_mean_and_std_only_over_several_seeds():
    from bballs.tasks.part2_task7 import seeds_phrase

    row = {"variant": "v", "seeds": 3, "psnr_of_mse_mean": 29.39, "psnr_of_mse_std": 0.11,
           "ssim_mean": 0.9844, "ssim_std": 0.0004}
    scores = {"psnr_of_mse": 29.36, "ssim": 0.9844}
    assert seeds_phrase([row], "v", scores) == ("29.39 ± 0.11 dB and SSIM 0.9844 ± 0.0004 (mean ± "
                                                "std over 3 seeds)")
    assert seeds_phrase([{**row, "seeds": 1}], "v", scores).endswith("(one run)")
    assert seeds_phrase([], "v", scores) == "29.36 dB and SSIM 0.9844 (one run)"
