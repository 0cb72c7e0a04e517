"""Task 4 / Task 7 building blocks: augmentations, improved models, physics predictor, roll-outs,
experiment bookkeeping, report and package."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest
import torch

from bballs.classical import blobs, physics_predictor
from bballs.data import augment, physics
from bballs.data.dataset import FileSpec, generate_arrays
from bballs.metrics import video_scores
from bballs.models.counter import CountNet
from bballs.models.improved import (
    DensityCountNet,
    FrameAutoencoder,
    FramePredictor,
    PhysicsPriorPredictor,
)
from bballs.reporting import tables
from bballs.tasks import part1_task4, part2_recipes, rollout
from bballs.training import experiments


def _frames(n=6, t=10, seed=0):
    arrays = generate_arrays(FileSpec("x", n, t), np.random.default_rng(seed))
    return arrays["data"].reshape(n, t, 32, 32), arrays


def test_dihedral_augmentation_keeps_pixel_values_and_is_seeded():
    x = torch.rand(16, 1, 32, 32)
    a = augment.dihedral(x, torch.Generator().manual_seed(0))
    b = augment.dihedral(x, torch.Generator().manual_seed(0))
    assert torch.equal(a, b)
    assert torch.allclose(a.sum(dim=(1, 2, 3)), x.sum(dim=(1, 2, 3)))
    assert not torch.equal(a, x)


def test_ball_size_jitter_grows_or_shrinks_balls_in_place():
    frames, _ = _frames(8, 1)
    x = torch.from_numpy(frames)
    out = augment.resize_balls(x, torch.Generator().manual_seed(1))
    area_in, area_out = (x > 0.5).sum(dim=(1, 2, 3)), (out > 0.5).sum(dim=(1, 2, 3))
    assert (area_out != area_in).any()
    centre = lambda img: (img * torch.arange(32.0)).sum() / img.sum()  # noqa: E731
    for before, after in zip(x[:, 0], out[:, 0]):
        assert abs(centre(before) - centre(after)) < 0.5


def test_sequence_augmentation_transforms_inputs_and_targets_together():
    frames, _ = _frames(8, 10)
    seq = torch.from_numpy(frames)
    x, y = augment.sequence_augment(seq[:, :5], seq[:, 5:], torch.Generator().manual_seed(3))
    joined = torch.cat([x, y], dim=1)
    for i in range(8):
        views = [seq[i], seq[i].flip(0)]
        variants = []
        for v in views:
            for t in (v, v.transpose(-1, -2)):
                variants += [t, t.flip(-1), t.flip(-2), t.flip(-1).flip(-2)]
        assert any(torch.equal(joined[i], v) for v in variants)


@pytest.mark.parametrize("model, shape, out", [
    (CountNet(), (2, 1, 32, 32), (2, 3)),
    (DensityCountNet(), (2, 1, 32, 32), (2, 3)),
    (FrameAutoencoder(), (2, 1, 32, 32), (2, 1, 32, 32)),
    (FramePredictor(), (2, 5, 32, 32), (2, 5, 32, 32)),
])
def test_improved_models_have_the_right_shapes(model, shape, out):
    assert model(torch.rand(shape)).shape == out


def test_density_counter_predicts_the_count_nearest_to_its_density_sum():
    model = DensityCountNet().eval()
    with torch.no_grad():
        model.density.bias.fill_(0.0)
        x = torch.rand(6, 1, 32, 32)
        count = model.count(x)
        expected = (count[:, None] - torch.arange(1, 4)).abs().argmin(dim=1)
        assert torch.equal(model(x).argmax(dim=1), expected)
        assert model.density_map(x).shape == (6, 1, 16, 16) and (model.density_map(x) >= 0).all()


def test_density_counter_sees_only_a_neighbourhood():
    """A pixel changed in one corner leaves the density in the far corner unchanged."""
    model = DensityCountNet().eval()
    x = torch.rand(1, 1, 32, 32)
    y = x.clone()
    y[..., 0, 0] += 1.0
    with torch.no_grad():
        near, far = (model.density_map(x) - model.density_map(y)).abs()[0, 0, [0, 15], [0, 15]]
    assert near > 0 and far == 0


def test_frame_predictor_starts_as_the_last_frame_and_stays_in_range():
    x = torch.rand(3, 5, 32, 32)
    y = FramePredictor()(x)
    assert torch.allclose(y, x[:, -1:].clamp(1e-3, 1 - 1e-3).expand_as(y), atol=1e-5)
    assert y.min() >= 0 and y.max() <= 1


def test_physics_predictor_finds_balls_and_beats_the_last_frame():
    frames, arrays = _frames(40, 10, seed=5)
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


def test_summarise_and_markdown_table():
    rows = [{"variant": "a", "change": "x", "parameters": 5, "train_seconds": 1.0, "acc": v}
            for v in (0.5, 1.0)]
    table = experiments.summarise(rows + [{**rows[0], "variant": "b"}], ("acc",))
    assert table[0]["acc_mean"] == 0.75 and table[0]["seeds"] == 2
    assert table[0]["acc_std"] == pytest.approx(0.5 ** 0.5 / 2)  # sample std, n - 1
    assert table[1]["seeds"] == 1 and table[1]["acc_std"] is None
    text = tables.markdown_table(table, {"variant": "v", "acc": "accuracy"})
    assert "| a | 0.75\u00a0±\u00a00.35 |" in text and "| b | 0.50 |" in text  # one seed: no ±
    assert text.splitlines()[1] == "|---|---:|"  # numbers right-aligned, words left


def test_tables_name_recipes_in_words_and_dash_empty_cells():
    recipe = part1_task4.TASK4_BY_NAME["countnet+sym+scale+looks"]
    rows = [{"variant": name, "change": change, "parameters": 1, "train_seconds": 1.0, "acc": 0.5}
            for name, change in ((recipe.name, "old words"), ("not a recipe", "kept"))]
    table = experiments.summarise(rows, ("acc",), part1_task4.TASK4.variants)
    assert table[0]["title"] == recipe.title and "title" not in table[1]
    text = tables.markdown_table(table, {"variant": "variant", "change": "change", "n": "n"})
    assert f"| {recipe.title} | {recipe.change} | — |" in text  # as the code states it now
    assert "| not a recipe | kept | — |" in text and "countnet+" not in text
    assert recipe.title != recipe.name and " " in recipe.title
    every = (*part1_task4.TASK4.variants, *part2_recipes.TASK5.variants,
             *part2_recipes.TASK7.variants)
    assert all("+" not in v.title.replace(" + ", "") for v in every)  # words, no identifiers


@pytest.mark.parametrize("values, texts", [
    ((0.9994, 0.672), ("0.9994", "0.6720")),  # fixed decimals from the largest value
    ((79.42, 13.0), ("79.42", "13.00")),
    ((0.0, 0.1, 0.5), ("0.0", "0.1", "0.5")),  # settings keep the decimals they have
    ((0.0517, 8.4e-6), ("5.17×10⁻²", "8.40×10⁻⁶")),  # wide span: a power of ten everywhere
    ((2515.0, 1.0, 17900.0), ("2,515", "1", "17,900")),  # wide span of numbers at least 1
    ((0.00748, 1.132, 2.404), ("0.00748", "1.13", "2.40")),  # wide span: 3 digits, no 10ⁿ
    ((10.0, 0.001), ("10.0", "0.00100")),
])
def test_every_number_of_a_column_has_one_format(values, texts):
    text = tables.markdown_table([{"x": v} for v in values], {"x": "x"})
    assert [line.strip("| ") for line in text.splitlines()[2:]] == list(texts)


def test_sweep_rows_are_recorded_once_and_reused(dataset_dir, tmp_path):
    from bballs.core.files import output_paths

    context = experiments.Context(output_paths(tmp_path), dataset_dir, quick=True)
    variant = part1_task4.TASK4_VARIANTS[0]
    first = experiments.run_sweep(part1_task4.TASK4, (variant,), (0,), context)
    again = experiments.run_sweep(part1_task4.TASK4, (variant,), (0,), context)
    assert len(first) == len(again) == 1 and first == again
    assert {"seed", "epochs", "batch_size", "test_accuracy", "train_seconds"} <= set(first[0])


def test_report_fills_numbers_from_results_and_can_show_missing_ones(tmp_path):
    from bballs.core.files import update_results
    from bballs.reporting.report import MISSING, build, render_markdown

    update_results(tmp_path / "results" / "part1.json", "spec",
                   {"test_accuracy": 0.875, "parameters": 84467})
    update_results(tmp_path / "results" / "part2.json", "last_frame",
                   {"psnr": float("inf"), "ssim": 1.0, "mse": 0.0, "psnr_of_mse": 1.0})
    text = render_markdown(tmp_path, allow_missing=True)
    assert "87.5%" in text and "84,467" in text and MISSING in text
    assert "inf" in text  # a non-finite PSNR stored as "inf" formats like the float
    pdf = build(root=tmp_path, out=tmp_path / "r.pdf", allow_missing=True)
    from pypdf import PdfReader

    assert "87.5%" in "".join(p.extract_text() for p in PdfReader(pdf).pages)


def test_package_excludes_data_and_checkpoints(tmp_path):
    from bballs.reporting.package import build_zip

    root = tmp_path / "project"
    (root / "src" / "pkg" / "__pycache__").mkdir(parents=True)
    (root / "src" / "pkg" / "a.py").write_text("x = 1\n")
    (root / "src" / "pkg" / "__pycache__" / "a.pyc").write_bytes(b"0")
    (root / "src" / "pkg" / "weights.pt").write_bytes(b"0")
    (root / "data").mkdir()
    (root / "data" / "README.md").write_text("card")
    (root / "data" / "part1_bballs_test.npz").write_bytes(b"0")
    (root / "README.md").write_text("readme")
    names = zipfile.ZipFile(build_zip(tmp_path / "c.zip", root)).namelist()
    assert sorted(names) == ["bballs/README.md", "bballs/data/README.md", "bballs/src/pkg/a.py"]


def test_physics_prior_model_starts_from_the_forecast():
    x = torch.rand(2, 10, 32, 32)
    y = PhysicsPriorPredictor()(x)
    assert torch.allclose(y, x[:, 5:].clamp(1e-3, 1 - 1e-3), atol=1e-5)


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


def test_velocity_fit_sees_through_a_wall_bounce():
    radius = np.array([1.2])
    start, velocity = np.array([[[8.6, 5.0]]]), np.array([[[0.4, 0.1]]])
    track, _ = physics_predictor._walls_only(start, velocity, radius[:, None, None], 2)
    observed = np.concatenate([start, track[:, 0]], axis=1)  # (1, 3, 2): bounces off x = 10
    fitted = physics_predictor.fit_velocities(observed, radius)
    _, expected = physics_predictor._walls_only(start, velocity, radius[:, None, None], 2)
    assert np.allclose(fitted, expected[:, 0], atol=0.01) and fitted[0, 0] < 0
