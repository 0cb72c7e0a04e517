"""Proposal 3: generative models, Frechet distance, physical validity, figures."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest
import torch
from rendered_frames import rendered

from bballs.classical import blobs
from bballs.core.parameters import count_parameters
from bballs.data.corruptions import degrade
from bballs.data.frames import FrameSet
from bballs.image_metrics import frechet_distance
from bballs.models.generative import (
    DCGANDiscriminator,
    DCGANGenerator,
    Diffusion,
    NoiseUNet,
    cosine_alpha_bars,
    timestep_embedding,
)
from bballs.reporting import generative_plots
from bballs.tasks import generation, sample_frechet, sample_validity
from bballs.training.loop import TrainConfig, seed_everything

matplotlib.use("Agg")


def test_dcgan_shapes_and_parameters():
    generator, discriminator = DCGANGenerator(64, 32), DCGANDiscriminator(32)
    frames = generator(torch.randn(5, 64))
    assert frames.shape == (5, 1, 32, 32)
    assert frames.min() >= 0 and frames.max() <= 1
    assert discriminator(frames).shape == (5, 1)
    # dense 64 -> 128*16 (no bias) + BN, transposed convs 128->64->32 (no bias) + BN, 32->1
    g = 64 * 2048 + 2 * 2048 + 128 * 64 * 16 + 2 * 64 + 64 * 32 * 16 + 2 * 32 + 32 * 16 + 1
    assert count_parameters(generator) == g
    d = (16 + 1) * 32 + 32 * 64 * 16 + 2 * 64 + 64 * 128 * 16 + 2 * 128 + 128 * 16 + 1
    assert count_parameters(discriminator) == d
    resized = DCGANGenerator(64, 32, upsampling="bilinear", refine=16)
    assert resized(torch.randn(5, 64)).shape == (5, 1, 32, 32)
    # the same dense layer; 3x3 convs 128->64->32 (no bias) + BN; transposed 32->16 (no bias)
    # + BN at 32x32; a 3x3 conv 16->1 draws the frame
    g = (64 * 2048 + 2 * 2048 + 128 * 64 * 9 + 2 * 64 + 64 * 32 * 9 + 2 * 32
         + 32 * 16 * 16 + 2 * 16 + 16 * 9 + 1)
    assert count_parameters(resized) == g
    with pytest.raises(ValueError, match="upsampling"):
        DCGANGenerator(upsampling="nearest")


def test_unet_shapes_and_errors():
    net = NoiseUNet(8, time_dim=16)
    x = torch.randn(3, 1, 32, 32)
    assert net(x, torch.tensor([0, 10, 999])).shape == x.shape
    with pytest.raises(ValueError, match="multiple of 8"):
        NoiseUNet(12)
    with pytest.raises(ValueError, match="even"):
        timestep_embedding(torch.arange(3), 5)
    with pytest.raises(ValueError, match="width"):
        DCGANDiscriminator(0)


def test_cosine_schedule_is_decreasing_from_one_to_zero():
    alpha_bars = cosine_alpha_bars(1000)
    assert alpha_bars.shape == (1000,)
    assert alpha_bars[0] > 0.999 and alpha_bars[-1] < 1e-4
    assert (alpha_bars[1:] <= alpha_bars[:-1]).all()
    with pytest.raises(ValueError):
        cosine_alpha_bars(0)


@pytest.mark.parametrize("prediction, expected", [("noise", 1.0), ("frame", 1 / 3)])
def test_diffusion_loss_compares_the_chosen_target(prediction, expected):
    """An untrained net outputs about 0: the loss is then the target's mean square, 1 for unit
    noise and 1/3 for uniform frames scaled to [-1, 1]."""
    seed_everything(0)
    model = Diffusion(NoiseUNet(8, time_dim=16), steps=50, prediction=prediction)
    torch.nn.init.zeros_(model.net.out[-1].weight)
    torch.nn.init.zeros_(model.net.out[-1].bias)
    loss = model(torch.rand(64, 1, 32, 32))
    assert loss.ndim == 0 and loss.item() == pytest.approx(expected, rel=0.05)
    with pytest.raises(ValueError, match="prediction"):
        Diffusion(NoiseUNet(8, time_dim=16), steps=50, prediction="velocity")


def test_diffusion_sampler():
    seed_everything(0)
    model = Diffusion(NoiseUNet(8, time_dim=16), steps=50)
    samples = model.sample(5, 3, generator=torch.Generator().manual_seed(0), batch_size=2)
    assert samples.shape == (5, 1, 32, 32)
    assert samples.min() >= 0 and samples.max() <= 1
    again = model.sample(5, 3, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(samples, again, atol=1e-3)  # deterministic DDIM, batching irrelevant
    with pytest.raises(ValueError, match="sampling_steps"):
        model.sample(2, 51)
    with pytest.raises(ValueError, match="eta"):
        model.sample(2, 5, eta=2.0)
    noisy = model.sample(4, 3, generator=torch.Generator().manual_seed(0), eta=1.0, batch_size=3)
    again = model.sample(4, 3, generator=torch.Generator().manual_seed(0), eta=1.0)
    assert torch.allclose(noisy, again, atol=1e-3) and not torch.allclose(noisy, samples[:4])


@pytest.mark.parametrize("prediction", ["noise", "frame"])
@pytest.mark.parametrize("eta", [0.0, 1.0])
def test_ddim_recovers_a_perfect_denoiser(prediction, eta):
    """With the true noise (or the true clean frame) of a fixed frame, DDIM must land on that
    frame, deterministic or ancestral."""
    target = torch.zeros(1, 1, 32, 32)
    target[..., 10:20, 10:20] = 1.0
    model = Diffusion(NoiseUNet(8, time_dim=16), steps=100, prediction=prediction)

    class Oracle(torch.nn.Module):
        def forward(self, x, t):
            if prediction == "frame":
                return (2 * target - 1).expand_as(x)
            a = model.alpha_bars[t][:, None, None, None]
            return (x - a.sqrt() * (2 * target - 1)) / (1 - a).sqrt()

    model.net = Oracle()
    samples = model.sample(2, 10, generator=torch.Generator().manual_seed(1), eta=eta)
    assert torch.allclose(samples, target.expand(2, -1, -1, -1), atol=1e-4)


def test_diffusion_learns_on_a_tiny_subset():
    frames = rendered([[(3.0, 3.0)], [(6.0, 4.0), (2.0, 8.0)]] * 16).frames
    seed_everything(0)
    model = Diffusion(NoiseUNet(8, time_dim=16), steps=100)
    before = sum(model(frames).item() for _ in range(5))
    from bballs.training.loop import fit, model_loss
    history = fit(model, (frames,), (frames,), model_loss, TrainConfig(epochs=4, batch_size=8,
                                                                      lr=3e-3))
    after = sum(model(frames).item() for _ in range(5))
    assert after < 0.7 * before
    assert history.train_loss[-1] < history.train_loss[0]




def test_frechet_distance_of_gaussians_matches_closed_form():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(200_000, 2))  # N(0, I)
    b = rng.normal(size=(200_000, 2)) * [2.0, 3.0] + [1.0, -1.0]  # N((1, -1), diag(4, 9))
    # ||mu||^2 + tr(I + diag(4, 9) - 2 diag(2, 3)) = 2 + (1 + 4 - 4) + (1 + 9 - 6) = 7
    assert frechet_distance(a, b) == pytest.approx(7.0, rel=0.02)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    # a correlated case against scipy-free closed form: equal covariances, shifted mean
    cov = np.array([[2.0, 0.8], [0.8, 1.0]])
    c = rng.multivariate_normal([0, 0], cov, size=100_000)
    assert frechet_distance(c, c + [3.0, 4.0]) == pytest.approx(25.0, rel=1e-6)


def test_frechet_distance_with_a_dead_feature():
    """A feature that is always 0 (a dead ReLU channel) makes the covariances singular; the
    distance must equal that of the live features."""
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(2000, 3)), rng.normal(size=(2000, 3)) + 0.5
    a[:, 2] = b[:, 2] = 0.0
    assert frechet_distance(a, b) == pytest.approx(frechet_distance(a[:, :2], b[:, :2]), rel=1e-3)


def test_frechet_distance_errors():
    with pytest.raises(ValueError, match="equal D"):
        frechet_distance(np.zeros((5, 2)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="two samples"):
        frechet_distance(np.zeros((1, 2)), np.zeros((5, 2)))


def test_validity_on_known_frames():
    frames = rendered([
        [(3.0, 3.0)],                            # one ball: valid
        [(2.0, 2.0), (8.0, 8.0), (2.0, 8.0)],    # three apart: valid
        [(5.0, 5.0), (6.6, 5.0)],                # two touching: one elongated blob
        [],                                      # empty frame: no ball
    ]).frames
    big = rendered([[(5.0, 5.0)]], radius=1.6).frames  # a third too large
    scores = sample_validity.validity(torch.cat([frames, big]))
    assert scores["n_blobs"].tolist() == [1, 3, 1, 0, 1]
    assert scores["valid"].tolist() == [True, True, False, False, False]
    assert scores["round_ok"].tolist() == [True, True, False, True, True]
    assert scores["radius_ok"][4] == np.False_
    four = rendered([[(2.0, 2.0), (8.0, 8.0), (2.0, 8.0)]]).frames.clone()
    four[0, 0, 16, 16] = 1.0  # a one-pixel speck: a fourth blob
    assert sample_validity.validity(four)["n_blobs"].tolist() == [4]
    assert not sample_validity.validity(four)["valid"][0]
    with pytest.raises(ValueError, match="tolerance"):
        sample_validity.validity(frames, tolerance=0)


def test_validity_calibration():
    data = rendered([[(3.0, 3.0)], [(2.0, 2.0), (8.0, 8.0)], [(5.0, 5.0), (6.6, 5.0)]])
    calibration = sample_validity.validity_calibration(data)
    assert calibration["share_separate"] == pytest.approx(2 / 3)
    assert -0.05 < calibration["radius_error_min"] <= calibration["radius_error_max"] < 0.05
    assert calibration["axis_ratio_min_separate"] > 0.85
    assert calibration["axis_ratio_median_merged"] < 0.6


def test_count_shares_and_validity_row():
    shares = sample_validity.count_shares(np.array([0, 1, 1, 3, 7]))
    assert shares.tolist() == [0.2, 0.4, 0, 0.2, 0.2]
    row = sample_validity.validity_row("x", rendered([[(3.0, 3.0)], []]).frames)
    assert row["valid"] == 0.5 and row["blobs_0"] == 0.5 and row["blobs_1"] == 0.5
    assert row["valid_low"] < 0.5 < row["valid_high"]


def test_blob_positions_on_a_grid():
    frames = rendered([[(3.0, 3.0)], [(8.0, 8.0), (3.0, 3.0)], []]).frames
    centres = blobs.all_blob_centres(frames)
    assert centres.shape == (3, 2)
    np.testing.assert_allclose(np.sort(centres[:, 0]), [9.6, 9.6, 25.6], atol=0.6)
    shares = sample_validity.position_shares(frames)
    assert len(shares) == 16 and shares[5] == pytest.approx(2 / 3)  # cell (1, 1)
    assert shares[15] == pytest.approx(1 / 3) and sum(shares) == pytest.approx(1.0)
    assert sample_validity.position_shares(frames[2:]) == [0.0] * 16  # no blob


def test_degradations():
    data = rendered([[(3.0, 3.0)], [(6.0, 4.0), (2.0, 8.0)]])
    assert torch.equal(degrade(data, "radius", 1.0), data.frames)
    bigger = degrade(data, "radius", 1.3)
    assert float(bigger.sum()) > float(data.frames.sum())
    blurred = degrade(data, "blur", 1.0)
    assert float(blurred.max()) < 1
    assert float(blurred.sum()) == pytest.approx(float(data.frames.sum()), rel=1e-3)
    noisy = degrade(data, "noise", 0.1)
    assert noisy.min() >= 0 and noisy.max() <= 1 and not torch.equal(noisy, data.frames)
    with pytest.raises(ValueError, match="unknown degradation"):
        degrade(data, "rotate", 1.0)
    with pytest.raises(ValueError, match="ground truth"):
        degrade(FrameSet(data.frames, data.counts), "radius", 1.2)


def test_features_and_frechet_rows():
    data = rendered([[(3.0, 3.0)], [(6.0, 4.0), (2.0, 8.0)], [(2.0, 2.0), (8.0, 8.0), (2, 8)]] * 4)
    run = sample_frechet.train_feature_encoder(data, data, TrainConfig(epochs=1, batch_size=4))
    encoder = run.model
    assert run.name == "features" and len(run.history.train_loss) == 1
    features = sample_frechet.encoder_features(encoder, data.frames, batch_size=5)
    assert features.shape == (12, 2 * sample_frechet.FEATURE_WIDTH)
    assert 0 <= sample_frechet.count_accuracy(encoder, data) <= 1
    rows = sample_frechet.frechet_rows([encoder], data.frames, {"same": data.frames,
                                                            "noisy": degrade(
                                                                data, "noise", 0.3)},
                                   {"same": "the same frames"})
    assert rows[0]["fd"] == pytest.approx(0.0, abs=1e-6) and rows[0]["valid"] == 1.0
    assert rows[0]["set"] == "the same frames" and rows[1]["set"] == rows[1]["key"] == "noisy"
    assert rows[1]["fd"] > 0 and "fd_over_floor" not in rows[1]


def test_frechet_rows_average_each_encoders_ratio_to_its_own_floor():
    data = rendered([[(3.0, 3.0)], [(6.0, 4.0), (2.0, 8.0)], [(2.0, 2.0), (8.0, 8.0), (2, 8)]] * 4)
    config = TrainConfig(epochs=1, batch_size=4)
    trained = sample_frechet.train_feature_encoders(data, data, config, [None, None])
    encoders = [run.model for run in trained]
    assert not torch.equal(next(encoders[0].parameters()), next(encoders[1].parameters()))
    candidates = {"floor": degrade(data, "noise", 0.05),
                  "noisy": degrade(data, "noise", 0.3)}
    rows = sample_frechet.frechet_rows(encoders, data.frames, candidates, floor="floor")
    each = [sample_frechet.frechet_rows([e], data.frames, candidates) for e in encoders]
    ratios = [r[1]["fd"] / r[0]["fd"] for r in each]
    assert rows[1]["fd_each"] == pytest.approx([r[1]["fd"] for r in each])
    assert rows[1]["fd"] == pytest.approx(np.mean([r[1]["fd"] for r in each]))
    assert rows[1]["fd_over_floor"] == pytest.approx(np.mean(ratios))
    assert rows[1]["fd_over_floor_sd"] == pytest.approx(np.std(ratios, ddof=1))
    assert rows[0]["fd_over_floor"] == pytest.approx(1.0) and rows[1]["fd_over_floor"] > 1
    assert rows[0]["fd_over_floor_sd"] is None  # the floor's ratio is 1 by construction


def test_figures(tmp_path):
    frames = torch.rand(12, 1, 32, 32)
    image = generative_plots.montage(frames, 5)
    assert image.shape == (3 * 33 - 1, 5 * 33 - 1)
    with pytest.raises(ValueError):
        generative_plots.montage(frames, 0)
    generative_plots.sample_grids({"a": frames, "b": frames}, tmp_path / "grid.png", 3, 2)
    history = {"train_loss": [1, 2], "metrics": {"train_discriminator_loss": [1, 0.5],
                                                 "train_d_real": [0.6, 0.7],
                                                 "train_d_fake": [0.4, 0.3]}}
    generative_plots.training_curves(history, {"train_loss": [1, 0.5], "val_loss": [1, 0.6]},
                                     tmp_path / "curves.png")
    generative_plots.interpolation(frames[:6].reshape(2, 3, 32, 32), [0, 0.5, 1],
                                   np.ones((2, 3)), tmp_path / "interp.png")
    generative_plots.count_histogram({"a": [0.1, 0.2, 0.3, 0.4, 0]}, sample_validity.COUNT_BINS,
                                     tmp_path / "hist.png")
    generative_plots.frechet_bars([{"set": "a", "fd": 1.0}, {"set": "b", "fd": 0.0}],
                                  tmp_path / "fd.png")
    assert len(list(tmp_path.glob("*.png"))) == 5


# --- the adversarial loop (training.gan) ---------------------------------------------------------



















def test_count_comparison_weights_validity_by_the_reference_counts():
    def row(key, shares, valid, positions):
        return {"key": key, **{f"blobs_{b}": s for b, s in zip(sample_validity.COUNT_BINS, shares)},
                **{f"valid_{k}": v for k, v in zip("123", valid)}, "positions": positions}

    real = row("test", (0, 0.4, 0.35, 0.25, 0), (1.0, 0.95, 0.8), [0.25] * 4)
    fewer_threes = row("gen", (0.1, 0.5, 0.4, 0.0, 0), (1.0, 0.95, None), [0.5, 0.5, 0, 0])
    rows = sample_validity.compare_counts([real, fewer_threes])
    assert rows[0]["count_tv"] == 0 and rows[0]["valid_at_real_counts"] == pytest.approx(
        0.4 + 0.35 * 0.95 + 0.25 * 0.8)
    assert rows[1]["valid_at_real_counts"] == pytest.approx(0.4 + 0.35 * 0.95)  # no 3-ball frame
    assert rows[1]["count_tv"] == pytest.approx(0.5 * (0.1 + 0.1 + 0.05 + 0.25))
    assert rows[0]["position_tv"] == 0 and rows[1]["position_tv"] == pytest.approx(0.5)


def test_the_latent_spread_scales_the_codes_and_is_chosen_by_the_score():
    seed_everything(0)
    generator = DCGANGenerator(latent_dim=8, width=8).eval()
    wide = generation.gan_samples(generator, 6, seed=3, scale=2.0)
    z = 2.0 * torch.randn(6, 8, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        torch.testing.assert_close(wide, generator(z))
    spreads = []

    def score(model, scale):  # a selection score whose best spread is 1.5
        spreads.append(scale)
        return abs(scale - 1.5)

    chosen, scores = generation.latent_scale(generator, score)
    assert chosen == 1.5 and spreads == list(generation.LATENT_SCALES)
    assert scores == {f"{s:g}": abs(s - 1.5) for s in generation.LATENT_SCALES}


def test_the_report_gives_the_valid_shares_their_intervals_once_the_results_hold_them():
    from bballs.metrics import share_interval
    from bballs.reporting.generator_text import valid_intervals as _valid_intervals

    rows = {key: {"n": 1000, **dict(zip(("valid_low", "valid_high"),
                                        share_interval(900, 1000)))}
            for key in ("dcgan", "ddpm_ancestral", "test")}
    text = _valid_intervals({"generative": {"validity": rows}})
    assert text.startswith(" (95% intervals over 1,000 frames each: DDPM 88.0% to 91.7%")
    del rows["test"]["valid_low"]
    assert _valid_intervals({"generative": {"validity": rows}}) == ""  # older results: nothing


def test_the_generators_optimiser_steps_are_counted_from_their_budget():
    from bballs.reporting.generator_text import generator_steps as _generator_steps

    generative = {"frames": {"train": 8000}, "epochs": {"dcgan": 30, "ddpm": 20},
                  "budget": {"gan": {"batch_size": 64}, "diffusion": {"batch_size": 64}}}
    text = _generator_steps({"generative": generative})
    assert "3,750 for the DCGAN" in text and "2,500 for the DDPM" in text
    assert _generator_steps({"generative": {**generative, "budget": {}}}) == ""


def test_each_sampler_is_judged_against_every_goal():
    from bballs.reporting.generator_text import generator_goals as _generator_goals

    def scores(valid: float, ratio: float, count_tv: float, position_tv: float):
        return ({"valid": valid, "count_tv": count_tv, "position_tv": position_tv},
                {"fd_over_floor": ratio})

    validity = {"train": {"valid": 0.93, "count_tv": 0.044, "position_tv": 0.055},
                "test": {"valid": 0.935, "count_tv": 0.0, "position_tv": 0.0}}
    frechet = {"floor": {"set": "floor", "fd_over_floor": 1.0, "n": 1000},
               "blur": {"set": "blurred", "fd_over_floor": 38.0}}
    for key, name, *values in (("a", "GAN", 0.9, 5.0, 0.05, 0.2),
                               ("b", "DDPM", 0.93, 2.0, 0.05, 0.08),
                               ("c", "VAE", 0.5, 2.5, 0.3, 0.05)):
        validity[key], frechet[key] = scores(*values)
        frechet[key]["set"] = name
    text = _generator_goals({"generative": {"validity": validity, "frechet": frechet}})
    assert ("the GAN meets 2 of 4 (missed: distance 5.00×, positions 0.200)"
            in text["gen_goals"])
    assert "the DDPM meets all 4" in text["gen_goals"]
    assert "the VAE meets 2 of 4 (missed: validity 50.0%, count mix 0.300)" in text["gen_goals"]
    assert "floor meets" not in text["gen_goals"] and "blurred" not in text["gen_goals"]
    goals = text["gen_goal_list"]
    assert "at least 85% physically valid, 91% of the real test frames' 93.5%" in goals
    assert "13 times below the mildest calibrated defect (38.0×)" in goals
    assert "0.044 and 0.055" in goals
    assert goals.startswith("We set four goals for a generator's 1,000")
    assert _generator_goals({"generative": {}})["gen_goals"] == ""


def _three_counts(repeat: int, seed: int) -> FrameSet:
    """Frames of one, two and three balls at random places (``repeat`` of each)."""
    rng = np.random.default_rng(seed)
    return rendered([[tuple(xy) for xy in rng.uniform(2, 8, (count, 2))]
                     for _ in range(repeat) for count in (1, 2, 3)])


def test_the_seed_study_trains_scores_and_records_every_run_for_its_data_only(tmp_path):
    from bballs.core.files import output_paths
    from bballs.data.frames import FrameData
    from bballs.tasks import generation_seeds

    data = FrameData(_three_counts(22, 0), _three_counts(8, 1), _three_counts(8, 2))
    paths = output_paths(tmp_path)
    source = {"digest": "abc"}
    record = generation_seeds.run(data, paths, quick=True, source=source, seed=3)
    assert [run["seed"] for run in record["runs"]] == [3, 4]
    assert (paths.checkpoints / "lab3" / "gen_dcgan.pt").is_file()  # the notebook's for seed 3
    assert (paths.checkpoints / "lab3" / "gen_ddpm_seed4.pt").is_file()
    rows = {row["key"]: row for row in record["summary"]}
    assert set(rows) == {"dcgan", "ddpm_ddim", "ddpm_ancestral"}
    for key, row in rows.items():
        ratios = [run["scores"][key]["fd_over_floor"] for run in record["runs"]]
        assert row["fd_runs"] == ratios and row["seeds"] == 2
        assert row["fd_over_floor_mean"] == pytest.approx(np.mean(ratios))
        assert row["fd_over_floor_std"] == pytest.approx(np.std(ratios, ddof=1))
        assert 0 <= row["valid_mean"] <= 1
    assert generation_seeds.recorded(paths, source, True, seed=3) == record
    assert generation_seeds.recorded(paths, {"digest": "other"}, True, seed=3) is None
    assert generation_seeds.recorded(paths, source, True, seed=0) is None  # other seeds
    assert generation_seeds.recorded(paths, source, False, seed=3) is None  # full mode
    first = record["runs"][0]["scores"]
    assert generation_seeds.recorded(paths, source, True, seed=3, first=first) == record
    elsewhere = {key: {**row, "fd_over_floor": row["fd_over_floor"] * 1.01}
                 for key, row in first.items()}  # the notebook's run trained on another machine
    assert generation_seeds.recorded(paths, source, True, seed=3, first=elsewhere) is None
    table = generation_seeds.tables({"seeds": record})["gen_seeds"]
    assert [row["model"] for row in table["rows"]] == ["DCGAN", "DDPM (DDIM, 5 steps)",
                                                       "DDPM (ancestral, 5 steps)"]
    assert table["rows"][0]["fd_runs_text"].count(", ") == 1
    assert generation_seeds.tables({}) == {}
    again = generation_seeds.run(data, paths, quick=True, source=source, seed=3)
    assert again["summary"] == record["summary"]  # checkpoints reused: the same numbers


def _study(dcgan: list[tuple[float, float]], ddpm: list[tuple[float, float]]) -> dict:
    """A seed study's record from each run's (ratio to the floor, valid share)."""
    from bballs.tasks.generation_seeds import summary_rows

    runs = [{"seed": seed, "selected_epoch": 28 + seed, "latent_scale": 1.5, "scores": {
        "dcgan": {"fd_over_floor": a[0], "valid": a[1], "count_tv": 0.0, "position_tv": 0.1},
        "ddpm_ancestral": {"fd_over_floor": b[0], "valid": b[1], "count_tv": 0.1,
                           "position_tv": 0.1}}} for seed, (a, b) in enumerate(zip(dcgan, ddpm))]
    names = {"dcgan": "DCGAN", "ddpm_ancestral": "DDPM (ancestral, 50 steps)"}
    return {"generative": {"feature_encoder": {"count": 5}, "epochs": {"dcgan": 30},
                           "seeds": {"runs": runs, "summary": summary_rows(runs, names)}}}


def test_the_report_judges_the_generators_over_their_runs_and_says_when_there_is_one():
    from bballs.reporting.generator_text import headline, seed_texts

    lab3 = _study([(5.0, 0.88), (6.0, 0.86), (7.0, 0.80)], [(2.0, 0.93), (2.2, 0.92), (2.1, 0.93)])
    text = seed_texts(lab3)
    assert "trained 3 times, from seeds 0 to 2" in text["gen_runs"]
    assert "(epochs kept: 28, 29, 30; spreads 1.5, 1.5, 1.5)" in text["gen_runs"]
    assert text["gen_runs_epochs"] == (" (the other runs: epochs 29, 30; a run that keeps "
                                       "epoch 30 may have wanted more)")
    assert "(Table 4.4, mean ± standard deviation over the runs)" in text["gen_runs"]
    assert "on the distance the DDPM is better beyond seed noise; on validity" in text["gen_runs"]
    assert "for the DCGAN 2 of 3 runs meet the validity goal and 0 the distance goal" in (
        text["gen_runs"])
    assert "for the DDPM 3 of 3 runs meet the validity goal and 3 the distance goal" in (
        text["gen_runs"])
    assert text["gen_runs_ranking"].startswith(
        "Over 3 training runs of each (Section 4.6), the DDPM lies at 2.10 ± 0.10 and the "
        "DCGAN at 6.00 ± 1.00 times the floor")
    assert text["gen_runs_ranking"].endswith("for the DDPM 3 of 3 runs meet the validity goal "
                                             "and 3 the distance goal")
    assert "beyond seed noise" not in text["gen_runs_ranking"]  # no verdict between the two
    assert "count mix" not in text["gen_runs"]  # the DCGAN is told the count
    assert "on validity and on the positions, within seed noise" in text["gen_runs"]
    close = seed_texts(_study([(2.0, 0.9), (3.0, 0.9), (2.5, 0.9)],
                              [(2.2, 0.9), (2.4, 0.9), (2.6, 0.9)]))
    assert ("on the distance, on validity and on the positions, within seed noise"
            in close["gen_runs"])  # one verdict for all three, said once
    one_run = {"feature_encoder": {"count": 5},
               "frechet": {"dcgan": {"fd_over_floor": 5.48},
                           "ddpm_ancestral": {"fd_over_floor": 2.01}},
               "validity": {"dcgan": {"valid": 0.878}, "ddpm_ancestral": {"valid": 0.93},
                            "test": {"valid": 0.935}}}
    missing = seed_texts({"generative": one_run})
    assert "command of Section 6" in missing["gen_runs"]
    assert missing["gen_runs_ranking"] == (
        "In one training run each, the DDPM lies at 2.01 and the DCGAN at 5.48 times the floor on "
        "the counting CNNs' features; with one run of each, their ranking is not established")
    assert headline({"generative": one_run}) == (
        "a diffusion model draws 93.0% physically valid frames (real frames 93.5%) at 2.01 "
        "times the real-vs-real Fréchet floor, and a count-conditioned DCGAN 87.8% at 5.48 "
        "times (in one training run each; Section 4)")
    lab3["generative"].update(one_run)
    assert headline(lab3).startswith("a diffusion model draws 92.7% ± 0.6% physically valid "
                                     "frames (real frames 93.5%) at 2.10 ± 0.10 times")
    assert headline(lab3).endswith("(over 3 training runs each; Section 4)")


def test_no_lab3_sentence_takes_the_name_of_a_table():
    import json

    from bballs.core.files import project_root
    from bballs.reporting import lab3_report

    lab3 = json.loads((project_root() / "results" / "lab3.json").read_text())
    assert "gen_seeds" in lab3_report.tables(lab3)  # the committed results hold the study
    lab3["generative"]["tables"]["gen_runs"] = lab3["generative"]["tables"]["gen_seeds"]
    with pytest.raises(ValueError, match="sentences named like tables: gen_runs"):
        lab3_report.tables(lab3)
