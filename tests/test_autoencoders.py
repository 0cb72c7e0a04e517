"""Notebook 03 (autoencoders): models, losses, metrics, probes and helpers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage.metrics import peak_signal_noise_ratio

from bballs.core.files import output_paths
from bballs.core.parameters import count_parameters
from bballs.data import noise
from bballs.data.frames import FrameData, FrameSet, load_frames
from bballs.image_metrics import reconstruction_scores
from bballs.metrics import psnr_from_mse
from bballs.models.autoencoders import (
    Autoencoder,
    ConvDecoder,
    ConvEncoder,
    EncoderClassifier,
    GaussianNoise,
    LatentClassifier,
)
from bballs.tasks import autoencoder_verdicts
from bballs.tasks import autoencoding as ae
from bballs.tasks import latent_classifiers as clf
from bballs.tasks import latent_space as space
from bballs.training.loop import TrainConfig, evaluate, fit


def encoder_parameters(latent: int) -> int:
    return (1 * 16 * 9 + 16) + (16 * 32 * 9 + 32) + (2048 * latent + latent)


@pytest.mark.parametrize("latent", [2, 16, 256])
def test_encoder_shapes_and_parameters(latent):
    encoder = ConvEncoder(latent)
    x = torch.rand(3, 1, 32, 32)
    shapes = []
    for layer in encoder:
        x = layer(x)
        shapes.append(tuple(x.shape[1:]))
    assert shapes[2] == (16, 16, 16) and shapes[5] == (32, 8, 8) and shapes[-1] == (latent,)
    assert count_parameters(encoder) == encoder_parameters(latent)


def test_decoder_shapes_parameters_and_range():
    transposed = ConvDecoder(16)
    bilinear = ConvDecoder(16, upsampling="bilinear")
    z = torch.randn(4, 16) * 10
    for decoder in (transposed, bilinear):
        out = decoder(z)
        assert out.shape == (4, 1, 32, 32) and out.min() >= 0 and out.max() <= 1
    dense = 16 * 2048 + 2048
    assert count_parameters(transposed) == dense + (32 * 16 * 4 + 16) + (16 * 16 * 4 + 16) \
        + (16 * 9 + 1)
    assert count_parameters(bilinear) == dense + (32 * 16 * 9 + 16) + (16 * 16 * 9 + 16) \
        + (16 * 9 + 1)
    # the output starts near the frames' mean intensity, not at 0.5
    with torch.no_grad():
        assert abs(float(transposed(torch.zeros(2, 16)).mean()) - 0.08) < 0.05


def test_autoencoder_encode_decode_and_noise_layer():
    model = Autoencoder(8, noise_std=0.5)
    x = torch.rand(5, 1, 32, 32)
    assert model.encode(x).shape == (5, 8)
    assert model.decode(model.encode(x)).shape == x.shape
    noise = GaussianNoise(0.5)
    assert torch.equal(noise.eval()(x), x)
    noisy = noise.train()(x)
    assert not torch.equal(noisy, x) and abs(float((noisy - x).std()) - 0.5) < 0.1
    model.eval()
    assert torch.equal(model(x), model.decode(model.encode(x)))


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="latent"):
        ConvEncoder(0)
    with pytest.raises(ValueError, match="upsampling"):
        ConvDecoder(4, upsampling="nearest")
    with pytest.raises(ValueError, match="std"):
        GaussianNoise(-1)
    with pytest.raises(ValueError, match="fraction"):
        clf.label_subset(100, 0.0)
    with pytest.raises(ValueError, match="latent sizes differ"):
        EncoderClassifier(4).load_encoder(Autoencoder(8))
    with pytest.raises(ValueError, match="equal"):
        reconstruction_scores(np.zeros((2, 4, 4)), np.zeros((3, 4, 4)))
    with pytest.raises(ValueError, match="2-D codes"):
        space.lattice(Autoencoder(3), torch.zeros(10, 3))
    with pytest.raises(ValueError, match="ground-truth"):
        space.probe_targets(FrameSet(torch.zeros(2, 1, 32, 32), torch.ones(2, dtype=torch.long)))


def test_reconstruction_scores_match_skimage():
    rng = np.random.default_rng(0)
    target = rng.random((4, 1, 8, 8))
    predicted = np.clip(target + rng.normal(0, 0.1, target.shape), 0, 1)
    scores = reconstruction_scores(predicted, target)
    per_frame = [peak_signal_noise_ratio(t, p, data_range=1.0) for t, p in zip(target, predicted)]
    assert scores["psnr"] == pytest.approx(np.mean(per_frame))
    mse = np.mean((predicted - target) ** 2)
    assert scores["mse"] == pytest.approx(mse)
    assert scores["psnr_of_mse"] == pytest.approx(psnr_from_mse(mse))
    # an MSE of 0.01 is 20 dB; predictions are clipped to [0, 1] first
    assert reconstruction_scores(np.full((1, 2, 2), 0.1), np.zeros((1, 2, 2)))["psnr"] \
        == pytest.approx(20.0)
    assert reconstruction_scores(np.full((1, 2, 2), -5.0), np.zeros((1, 2, 2)))["mse"] == 0.0


def test_training_lowers_reconstruction_loss():
    torch.manual_seed(0)
    x = torch.zeros(128, 1, 32, 32)
    x[:, :, 10:20, 10:20] = torch.rand(128, 1, 1, 1)
    model = Autoencoder(4)
    before = evaluate(model, (x,), ae.reconstruction_loss)[0]
    fit(model, (x,), (x[:16],), ae.reconstruction_loss, TrainConfig(2, 8, 3e-3))
    assert evaluate(model, (x,), ae.reconstruction_loss)[0] < 0.7 * before


def test_latent_classifier_standardises_and_separates():
    torch.manual_seed(0)
    z = torch.randn(300, 2) * 100 + 50
    y = (z[:, 0] > 50).long()
    model = LatentClassifier(z.mean(0), z.std(0), hidden=(8,), n_classes=2)
    assert count_parameters(model) == 2 * 8 + 8 + 8 * 2 + 2  # buffers are not parameters
    from bballs.training.loop import Supervised
    step = Supervised(torch.nn.CrossEntropyLoss(), classification=True)
    fit(model, (z, y), (z, y), step, TrainConfig(20, 32, 1e-2))
    assert evaluate(model, (z, y), step)[1]["accuracy"] > 0.95


def test_encoder_classifier_copies_encoder():
    auto = Autoencoder(8)
    classifier = EncoderClassifier(8).load_encoder(auto).eval()
    x = torch.rand(3, 1, 32, 32)
    assert torch.equal(classifier.encoder(x), auto.encode(x))
    assert classifier(x).shape == (3, 3)
    assert count_parameters(classifier) == encoder_parameters(8) + 2 * 8 + 8 * 3 + 3
    assert count_parameters(EncoderClassifier(8, normalise=False)) == \
        encoder_parameters(8) + 8 * 3 + 3


def test_corrupt_label_subset_and_epochs():
    x = torch.zeros(1000, 1, 4, 4)
    noisy = noise.unclipped_noise(x, 0.3, seed=1)
    assert torch.equal(noisy, noise.unclipped_noise(x, 0.3, seed=1))
    assert float(noisy.std()) == pytest.approx(0.3, rel=0.05)
    subset = clf.label_subset(1000, 0.05, seed=0)
    assert len(subset) == 50 and len(set(subset.tolist())) == 50
    assert clf.finetune_epochs(80, quick=False) == clf.FINETUNE_RECIPE.epochs
    assert clf.finetune_epochs(8000, quick=False) == 4 and clf.finetune_epochs(80, quick=True) == 1
    assert ae.ae_name(16, "bilinear", 0.2) == "ae_l16_bilinear_n0.2"


def test_probe_targets_and_linear_probe():
    positions = np.array([[[1.0, 1.0], [9.0, 9.0], [0, 0]],
                          [[6.0, 1.0], [0, 0], [0, 0]]])
    radii = np.array([[1.2, 1.2, 0.0], [1.2, 0.0, 0.0]])
    frames = FrameSet(torch.zeros(2, 1, 32, 32), torch.tensor([2, 1]), positions, radii)
    targets = space.probe_targets(frames)
    mask, xy = targets["position"]
    assert mask.tolist() == [False, True] and xy.tolist() == [[6.0, 1.0]]
    occupancy = targets["occupancy"][1]
    assert occupancy[0, 0] == 1 and occupancy[0, 15] == 1 and occupancy[0].sum() == 2
    assert occupancy[1, 2] == 1 and occupancy[1].sum() == 1  # x = 6 is the third column
    rng = np.random.default_rng(0)
    features = {s: rng.normal(size=(200, 5)) for s in ("train", "val", "test")}
    weights = rng.normal(size=(5, 2))
    exact = space.linear_probe(features, {s: f @ weights for s, f in features.items()})
    assert exact["test_r2"] > 0.999
    noise = space.linear_probe(features, {s: rng.normal(size=(200, 2)) for s in features})
    assert noise["test_r2"] < 0.1


def test_lattice_and_traversal_shapes():
    model = Autoencoder(2)
    codes = torch.randn(50, 2)
    grid, axes = space.lattice(model, codes, n=3)
    assert grid.shape == (3, 3, 32, 32) and axes.shape == (2, 3)
    frames, dims = space.traversal_from_codes(Autoencoder(4), torch.randn(20, 4), n_dims=2, steps=5)
    assert frames.shape == (2, 5, 32, 32) and len(dims) == 2


def test_pipeline_runs_on_a_tiny_subset(dataset_dir, tmp_path):
    data = load_frames(dataset_dir, quick=True)
    small = FrameData(data.train.subset(64), data.val.subset(32), data.test.subset(32))
    paths = output_paths(tmp_path)
    runs = {r.name: r for r in (ae.train_autoencoder(small, paths, latent, quick=True)
                                for latent in (2, 16))}
    rows = ae.sweep_rows(runs, small.test)
    assert [r["latent"] for r in rows] == [2, 16] and all(r["psnr"] > 0 for r in rows)
    assert paths.checkpoint("lab3/ae_l16_transposed").is_file()
    probes = space.probe_rows(runs, small)
    assert [r["features"] for r in probes] == ["latent 2", "latent 16", "pixels"]
    result = clf.train_encoder_classifier(runs["ae_l16_transposed"], 16, small, paths, 0.5,
                                         quick=True)
    assert result["labels"] == 32 and 0 <= result["test_accuracy"] <= 1


def test_sweep_rows_average_the_seeds_of_repeated_runs(dataset_dir, tmp_path):
    data = load_frames(dataset_dir, quick=True)
    small = FrameData(data.train.subset(64), data.val.subset(32), data.test.subset(32))
    paths = output_paths(tmp_path)
    by_seed = [{ae.ae_name(2): ae.train_autoencoder(small, paths, 2, quick=True, seed=seed)}
               for seed in (0, 1)]
    assert by_seed[1][ae.ae_name(2)].name == "ae_l2_transposed_seed1"
    assert paths.checkpoint("lab3/ae_l2_transposed_seed1").is_file()
    single = ae.sweep_rows(by_seed[0], small.test)[0]
    other = ae.sweep_rows(by_seed[1], small.test)[0]
    assert single["psnr"] != other["psnr"]  # another seed, another network
    row = ae.sweep_rows(by_seed[0], small.test, by_seed[1:])[0]
    assert row["seeds"] == 2 and row["latent"] == 2
    for metric in ("mse", "psnr_of_mse"):
        values = [single[metric], other[metric]]
        assert row[metric] == row[f"{metric}_mean"] == pytest.approx(np.mean(values))
        assert row[f"{metric}_std"] == pytest.approx(np.std(values, ddof=1))
    assert single["seeds"] == 1 and single["mse_std"] is None
    assert ae.train_repeats(small, paths, quick=True) == []  # quick mode: one seed


def test_latent_classifiers_are_averaged_over_the_autoencoders_seeds(monkeypatch):
    calls = []

    def fake(run, data, paths, *, hidden=(), quick=False, seed=0, device=None):
        calls.append((run, seed))
        accuracy = 0.5 + 0.1 * seed + (0.05 if hidden else 0.0)
        return None, {"val": accuracy, "test": accuracy}

    monkeypatch.setattr(clf, "train_latent_classifier", fake)
    runs = [{ae.ae_name(4): f"ae{seed}"} for seed in range(3)]
    rows = clf.classification_rows(runs[0], None, None, seed=0, repeats=runs[1:])
    assert [(run, seed) for run, seed in calls[::2]] == [("ae0", 0), ("ae1", 1), ("ae2", 2)]
    (row,) = rows
    assert row["seeds"] == 3 and row["linear_test_accuracy"] == pytest.approx(0.6)
    assert row["mlp_val_accuracy_mean"] == pytest.approx(0.65)
    assert row["linear_test_accuracy_std"] == pytest.approx(np.std([0.5, 0.6, 0.7], ddof=1))


def test_fine_tuning_points_average_over_seeds_with_each_init_s_best_head(monkeypatch):
    def fake(source, latent, data, paths, fraction, *, seed=0, normalise=True, **options):
        pretrained = source is not None
        accuracy = 0.5 + 0.1 * seed + (0.2 if pretrained else 0.0)
        if normalise != pretrained:  # scratch does best with the plain head, pre-trained with norm
            accuracy -= 0.3
        return {"labels": 10, "epochs": 2, "val_accuracy": accuracy, "test_accuracy": accuracy,
                "train_seconds": 1.0}

    monkeypatch.setattr(clf, "train_encoder_classifier", fake)
    run = ae.TrainedAE.__new__(ae.TrainedAE)
    run.model = Autoencoder(4)
    rows = clf.pretraining_rows(run, None, None, fractions=(0.1,), seed=0)
    row = rows[0]
    assert row["seeds"] == clf.N_SEEDS == 3
    assert row["scratch_test_accuracy"] == pytest.approx(0.6)
    assert row["pretrained_test_accuracy"] == pytest.approx(0.8)
    assert row["scratch_test_std"] == pytest.approx(np.std([0.5, 0.6, 0.7], ddof=1))
    assert row["gain"] == pytest.approx(0.2) and row["gain_std"] == pytest.approx(0.0)
    assert row["scratch_train_seconds"] == 3.0
    assert (row["scratch_head"], row["pretrained_head"]) == ("linear only", "batch norm + linear")
    heads = clf.head_rows(run, None, None, quick=True)
    assert [h["head"] for h in heads] == ["batch norm + linear", "linear only"]
    assert all(h["seeds"] == 1 for h in heads)
    assert heads[0]["scratch_test_accuracy"] == pytest.approx(0.2)  # the head it was given


def test_report_tables_merge_mean_and_std_and_count_steps():
    assert clf.finetune_steps(80, 40) == 80 and clf.finetune_steps(400, 40) == 280
    assert clf.finetune_steps(8000, 4) == 500  # the last partial batch is a step
    row = {"fraction": 0.01, "labels": 80, "steps": 80, "seeds": 3,
           "scratch_test_accuracy": 0.686, "scratch_test_std": 0.051,
           "pretrained_test_accuracy": 0.803, "pretrained_test_std": 0.0,
           "gain": 0.117, "gain_std": 0.065}
    from bballs.reporting.tables import declared_table

    text = declared_table(ae.table("ae_pretraining", [row]))
    assert "68.6\u00a0±\u00a05.1" in text and "11.7\u00a0±\u00a06.5" in text
    assert "| 80.3\u00a0±\u00a00.0 |" in text  # all seeds agreed: a spread of 0, shown
    assert text.splitlines()[2].startswith("| 1 | 80 |")  # labels in whole percent
    sweep = declared_table(ae.table("ae_sweep", [{"latent": 16, "parameters": 10, "seeds": 3,
                                                  "mse_mean": 3.927e-3, "mse_std": 2.85e-4}]))
    assert "test MSE (×10⁻³)" in sweep and "3.93\u00a0±\u00a00.28" in sweep  # one MSE format
    probe = declared_table(ae.table("ae_probe", [
        {"features": "pixels", "dims": 1024, "position_test_r2": 0.9, "occupancy_test_r2": 0.5,
         "position_alpha": 0.001, "occupancy_alpha": 10.0}]))
    assert "| 10⁻³ | 10¹ |" in probe  # ridge strengths as powers of ten, one format


def test_noise_rows_hold_both_psnr_conventions(dataset_dir, tmp_path):
    data = load_frames(dataset_dir, quick=True)
    test = data.test.subset(16)
    scores = ae.input_scores(test, 0.3, seed=0)
    assert scores["psnr_of_mse"] == pytest.approx(psnr_from_mse(scores["mse"]))
    assert ae.input_scores(test, 0.0) is None
    model = Autoencoder(16)
    run = ae.TrainedAE(ae.ae_name(16), model, None)
    runs = {ae.ae_name(16): run, ae.ae_name(16, noise_std=ae.TRAIN_NOISE): run}
    rows = ae.noise_rows(runs, test, levels=(0.0, 0.3))
    assert rows[0]["input_psnr_of_mse"] is None
    assert rows[1]["input_psnr_of_mse"] == pytest.approx(scores["psnr_of_mse"])
    assert rows[1]["plain_psnr_of_mse"] == pytest.approx(psnr_from_mse(rows[1]["plain_mse"]))
    assert rows[1]["seeds"] == 1 and rows[1]["lead_verdict"].startswith("not established")
    three = ae.noise_rows(runs, test, levels=(0.3,), repeats=[runs, runs])  # 3 identical seeds
    assert three[0]["seeds"] == 3 and three[0]["plain_psnr_of_mse_std"] == pytest.approx(0.0)
    assert three[0]["lead_verdict"] == "within seed noise"  # the same network in both arms


def test_pre_training_is_called_better_only_beyond_twice_the_seed_spread():
    row = {"seeds": 3, "pretrained_test_accuracy": 0.79, "pretrained_test_std": 0.04,
           "scratch_test_accuracy": 0.96, "scratch_test_std": 0.02}
    verdict = autoencoder_verdicts.pretraining_verdict
    assert verdict(row).startswith("training from scratch is better")
    close = {**row, "pretrained_test_accuracy": 0.93}
    assert verdict(close) == "within seed noise"
    assert "not established" in verdict({**row, "seeds": 1})


def test_label_shares_below_one_percent_keep_their_digits():
    from bballs.tasks.latent_classifiers import LABEL_FRACTIONS

    share = autoencoder_verdicts.share_of_labels
    assert [share({"fraction": f}) for f in LABEL_FRACTIONS] == [
        "0.25%", "0.5%", "1%", "5%", "10%", "25%", "50%", "all labels"]
    keys = {f"pct{autoencoder_verdicts.percent(f)}" for f in LABEL_FRACTIONS}
    assert len(keys) == len(LABEL_FRACTIONS) and "pct1" in keys and "pct100" in keys


def test_the_denoising_lead_counts_only_levels_where_it_beats_the_seed_noise():
    from bballs.tasks.autoencoder_verdicts import denoising_lead

    better = "the denoising AE is better beyond seed noise"
    noise = "within seed noise"
    rows = [{"sigma": s, "lead_verdict": v}
            for s, v in ((0.0, noise), (0.1, noise), (0.3, better), (0.5, better))]
    assert denoising_lead(rows) == ("from σ = 0.3 on the denoising AE leads beyond seed noise")
    rows[-1]["lead_verdict"] = noise  # ahead at 0.3 alone
    assert denoising_lead(rows).endswith("at σ = 0.3")
    assert denoising_lead([{**r, "lead_verdict": noise} for r in rows]).startswith("at no")
    one_seed = [{**r, "lead_verdict": "not established (fewer than 3 seeds)"} for r in rows]
    assert "is established (fewer than 3 seeds)" in denoising_lead(one_seed)


def test_frame_grid_labels_print_negative_codes_with_a_minus_sign():
    from bballs.reporting import autoencoder_plots as plots

    fig = plots.frame_grid(torch.zeros(2, 2, 32, 32), row_labels=["1.5", "-0.5"],
                           col_labels=["-2.0", "+2.0σ"])
    axes = fig.axes
    assert [axes[0].get_ylabel(), axes[2].get_ylabel()] == ["1.5", "\u22120.5"]
    assert [axes[2].get_xlabel(), axes[3].get_xlabel()] == ["\u22122.0", "+2.0σ"]


def test_pretraining_curve_zooms_in_on_the_accuracies_shown():
    from bballs.reporting import autoencoder_plots as plots

    rows = [{"labels": n, "scratch_test_accuracy": a, "pretrained_test_accuracy": b,
             "scratch_test_std": 0.01, "pretrained_test_std": 0.05}
            for n, a, b in ((80, 0.96, 0.79), (8000, 1.0, 1.0))]
    low, high = plots.pretraining_curve(rows).axes[0].get_ylim()
    assert 60 <= low <= 74 and 100 <= high <= 102  # the lowest bar end, 74 %, stays in view


def test_the_noise_curve_shows_the_seed_spread_of_both_autoencoders():
    from bballs.reporting import autoencoder_plots as plots

    rows = [{"sigma": s, "plain_psnr_of_mse": 20.0, "plain_psnr_of_mse_std": 0.5,
             "denoising_psnr_of_mse": 22.0, "denoising_psnr_of_mse_std": 0.25,
             "input_psnr_of_mse": 15.0} for s in (0.1, 0.3)]
    ax = plots.noise_curve(rows).axes[0]
    bars = [c for c in ax.containers if type(c).__name__ == "ErrorbarContainer"]
    spans = sorted(float(np.ptp(seg[:, 1])) for c in bars for seg in c[2][0].get_segments())
    assert len(bars) == 2 and spans == [0.5, 0.5, 1.0, 1.0]


def test_a_pca_code_rebuilds_frames_of_that_many_dimensions_exactly_and_improves_with_size():
    from bballs.classical.pca import pca_scores, with_pca

    generator = torch.Generator().manual_seed(0)
    basis = torch.rand(3, 1, 8, 8, generator=generator)
    weights = torch.rand(60, 3, generator=generator) / 3
    frames = torch.einsum("nk,kchw->nchw", weights, basis)  # frames in a 3-dimensional space
    scores = pca_scores(frames[:40], frames[40:], [1, 2, 3])
    assert scores[1]["mse"] > scores[2]["mse"] > scores[3]["mse"]
    assert scores[3]["mse"] < 1e-10  # three components hold every frame
    rows = with_pca([{"latent": 1, "psnr_of_mse": 5.0}, {"latent": 3, "psnr_of_mse": 6.0}],
                    frames[:40], frames[40:])
    assert rows[0]["pca_psnr_of_mse"] == pytest.approx(scores[1]["psnr_of_mse"])
    assert rows[1]["psnr_of_mse"] == 6.0 and "pca_psnr_of_mse" in rows[1]


def test_the_pca_sentence_applies_the_verdict_rule_at_each_size():
    from bballs.reporting.autoencoder_text import pca_comparison

    sweep = {f"l{latent}": {"latent": latent, "psnr_of_mse": ae_db, "psnr_of_mse_std": 0.3,
                            "seeds": 3, "pca_psnr_of_mse": pca_db}
             for latent, ae_db, pca_db in ((2, 14.0, 12.0), (4, 16.0, 13.0), (8, 20.0, 19.8),
                                           (16, 24.0, 27.0))}
    text = pca_comparison({"sweep": sweep})
    assert "the AE's code is better beyond seed noise at l = 2–4" in text
    assert "the PCA code is better beyond seed noise at l = 16" in text
    assert "within seed noise (or rests on one seed) at l = 8" in text
    assert pca_comparison({"sweep": {"l2": {"latent": 2, "psnr_of_mse": 1.0}}}) == ""
