"""Lab 3, Proposal 2: the image-to-image encoder-decoder, its tasks, baselines and metrics."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bballs import image_metrics
from bballs.classical import restoration
from bballs.core.parameters import count_parameters
from bballs.data import corruptions, noise
from bballs.data.frames import ball_masks, instance_labels
from bballs.image_metrics import dice, instance_scores, iou
from bballs.models.image_to_image import (
    SKIPS,
    ImageToImageNet,
    build,
    matched_widths,
)
from bballs.tasks import image_to_image as i2i
from bballs.training.loop import TrainConfig, evaluate, fit, seed_everything


def _double_conv(a: int, b: int) -> int:  # two 3x3 convolutions without bias, each with BN
    return 9 * a * b + 2 * b + 9 * b * b + 2 * b


def test_parameter_count_matches_the_layer_arithmetic():
    down = _double_conv(1, 16) + _double_conv(16, 32) + _double_conv(32, 64)
    up = (9 * 64 * 32 + 2 * 32 + 9 * 32 * 32 + 2 * 32) + (9 * 32 * 16 + 2 * 16 + 9 * 16 * 16
                                                          + 2 * 16)
    expected = down + up + 16 + 1
    assert count_parameters(ImageToImageNet(skip="none")) == expected
    assert count_parameters(ImageToImageNet(skip="add")) == expected  # a sum has no weights
    concat_extra = (2 * 32 * 32 + 32) + (2 * 16 * 16 + 16)  # the 1x1 mixers
    assert count_parameters(ImageToImageNet(skip="concat")) == expected + concat_extra


@pytest.mark.parametrize("in_ch,out_ch,output", [(1, 1, "image"), (2, 1, "image"),
                                                 (1, 4, "logits")])
def test_every_skip_type_maps_frames_to_frames_at_one_budget(in_ch, out_ch, output):
    x = torch.rand(3, in_ch, 32, 32)
    counts = []
    for skip in SKIPS:
        model = build(skip, in_ch, out_ch, output).eval()
        y = model(x)
        assert y.shape == (3, out_ch, 32, 32)
        if output == "image":
            assert y.min() >= 0 and y.max() <= 1
        counts.append(count_parameters(model))
    assert max(counts) / min(counts) < 1.02
    assert matched_widths("concat", in_ch, out_ch)[-1] < 64  # the narrower bottleneck pays


def test_image_head_is_linear_clipped_to_the_image_range():
    model = ImageToImageNet(skip="add").eval()
    logits = ImageToImageNet(skip="add", output="logits").eval()
    logits.load_state_dict(model.state_dict())
    x = torch.rand(2, 1, 32, 32)
    with torch.no_grad():
        torch.nn.init.constant_(model.head.bias, -5.0)  # far below 0: exact zeros
        torch.nn.init.constant_(logits.head.bias, -5.0)
        assert (model(x) == 0).all()
        torch.nn.init.constant_(model.head.bias, 0.5)
        torch.nn.init.constant_(logits.head.bias, 0.5)
        raw = logits(x)
        torch.testing.assert_close(model(x), raw.clamp(0, 1))
        assert ((raw > 0) & (raw < 1)).any()  # the linear part is used, not only the clip


def test_restoration_step_is_the_mean_squared_error():
    model = ImageToImageNet(skip="none").eval()
    clean = torch.rand(4, 1, 32, 32)
    torch.manual_seed(0)
    loss = i2i.ImageTaskStep("denoise_gaussian")(model, (clean, clean))
    torch.manual_seed(0)
    expected = ((model(i2i.training_input("denoise_gaussian", clean)) - clean) ** 2).mean()
    torch.testing.assert_close(loss, expected)


def test_bottleneck_is_8x8_and_fully_convolutional():
    model = ImageToImageNet(skip="concat").eval()
    seen = {}
    model.bottleneck.register_forward_hook(lambda m, i, o: seen.update(shape=o.shape))
    model(torch.rand(1, 1, 32, 32))
    assert seen["shape"] == (1, 64, 8, 8)
    assert model(torch.rand(1, 1, 48, 64)).shape == (1, 1, 48, 64)  # any multiple of 4
    assert not any(isinstance(m, torch.nn.Linear) for m in model.modules())


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="skip"):
        ImageToImageNet(skip="sum")
    with pytest.raises(ValueError, match="output"):
        ImageToImageNet(output="probabilities")
    with pytest.raises(ValueError, match="multiples of 4"):
        ImageToImageNet()(torch.rand(1, 1, 30, 32))
    with pytest.raises(ValueError, match="unknown task"):
        i2i.image_task("colourise")
    with pytest.raises(ValueError, match="position"):
        corruptions.square_masks(2, "corner", 8)
    with pytest.raises(ValueError, match="share of pixels"):
        noise.salt_and_pepper(torch.zeros(1, 1, 4, 4), 1.5)
    with pytest.raises(ValueError, match="size"):
        restoration.median_denoise(np.zeros((1, 4, 4)), 0)
    with pytest.raises(ValueError, match="shaped"):
        iou(np.zeros((2, 4, 4)), np.zeros((2, 4, 5)))


def test_square_masks_and_inpaint_input():
    masks = corruptions.square_masks(50, "random", 8, generator=torch.Generator().manual_seed(0))
    assert masks.shape == (50, 1, 32, 32) and (masks.sum((1, 2, 3)) == 64).all()
    centre = corruptions.square_masks(1, "centre", 8)[0, 0]
    assert centre[12:20, 12:20].all() and centre.sum() == 64
    x = torch.ones(1, 1, 32, 32)
    inputs = corruptions.inpaint_input(x, centre[None, None])
    assert inputs.shape == (1, 2, 32, 32)
    assert inputs[0, 0, 12:20, 12:20].sum() == 0 and inputs[0, 0].sum() == 1024 - 64


def test_corruptions_have_the_documented_levels():
    g = torch.Generator().manual_seed(0)
    clean = torch.full((200, 1, 32, 32), 0.5)
    noisy = noise.gaussian_noise(clean, 0.2, g)
    assert abs((noisy - clean).std().item() - 0.2) < 0.01
    sp = noise.salt_and_pepper(clean, 0.1, g)
    assert abs((sp == 0).float().mean().item() - 0.05) < 0.005
    assert abs((sp == 1).float().mean().item() - 0.05) < 0.005


def test_iou_and_dice_by_hand():
    a = np.zeros((2, 4, 4), bool)
    b = np.zeros((2, 4, 4), bool)
    a[0, :2] = True  # 8 pixels
    b[0, 1:3] = True  # 8 pixels, 4 shared
    np.testing.assert_allclose(iou(a, b), [4 / 12, 1.0])  # image 1: both empty
    np.testing.assert_allclose(dice(a, b), [8 / 16, 1.0])


def test_instance_scores_count_missed_and_invented_balls():
    truth = np.zeros((1, 4, 8), np.int64)
    truth[0, :, :2] = 1
    truth[0, :, 4:6] = 2
    swapped = np.where(truth == 1, 2, np.where(truth == 2, 1, 0))
    assert instance_scores(truth, truth)["iou"][0] == 1.0
    assert instance_scores(swapped, truth)["iou"][0] == 0.0  # the order is part of the task
    invented = truth.copy()
    invented[0, 0, 7] = 3
    np.testing.assert_allclose(instance_scores(invented, truth)["iou"], [2 / 3])


def test_instance_labels_number_balls_from_the_left():
    positions = np.array([[[7.0, 5.0], [2.0, 5.0], [0.0, 0.0]]])
    radii = np.array([[1.2, 1.2, 0.0]])
    labels = instance_labels(positions, radii)
    assert set(np.unique(labels)) == {0, 1, 2}
    assert labels[0, 16, 6] == 1 and labels[0, 16, 22] == 2  # x = 2 -> column 6; x = 7 -> 22
    np.testing.assert_array_equal(labels > 0, ball_masks(positions, radii).any(1))


def test_classical_baselines_on_known_cases():
    frame = np.zeros((1, 9, 9))
    frame[0, 4, 4] = 1.0  # one salt pixel on black: the median removes it
    assert restoration.median_denoise(frame, 3).max() == 0
    np.testing.assert_allclose(restoration.gaussian_denoise(frame, 0.0), frame)
    half = np.zeros((1, 8, 8))
    half[0, :, :4] = 1.0
    hole = np.zeros((1, 8, 8))
    hole[0, 2:6, 2:6] = 1
    filled = restoration.nearest_fill(half * (1 - hole), hole)
    np.testing.assert_allclose(filled, half)  # every hole pixel's nearest known one is its side
    blobs = np.zeros((1, 10, 12), bool)
    blobs[0, 1:3, 8:11] = True  # the right blob is larger
    blobs[0, 5:7, 1:3] = True
    labels = restoration.component_instances(blobs)
    assert labels[0, 5, 1] == 1 and labels[0, 1, 8] == 2
    assert (restoration.threshold_segment(np.array([[[0.2, 0.7]]])) == [[[False, True]]]).all()


def test_a_filters_offset_is_picked_with_its_setting_and_removes_a_grey_background():
    from bballs.tasks.image_to_image_baselines import _pick_with_offset, less_offset

    clean = np.zeros((4, 8, 8), np.float32)
    clean[:, 2:5, 2:5] = 0.8
    grey = clean + 0.1  # clipped noise, smoothed: everything brighter

    def neg_mse(output):
        return -float(((output - clean) ** 2).mean())

    setting, offset = _pick_with_offset(lambda x, gain: gain * x, (0.5, 1.0), grey, neg_mse)
    assert (setting, offset) == (1.0, 0.1)
    np.testing.assert_allclose(less_offset(grey, 0.1)[:, 0, 0], 0.0)
    assert less_offset(grey, 0.5).min() == 0.0 and less_offset(grey + 0.5, 0.0).max() == 1.0


def test_non_local_means_and_biharmonic_filling_on_known_cases():
    rng = np.random.default_rng(0)
    clean = np.zeros((2, 16, 16), np.float32)
    clean[:, 4:10, 4:10] = 1.0
    noisy = clean + rng.normal(0, 0.2, clean.shape).astype(np.float32)
    denoised = restoration.nl_means_denoise(noisy, 0.2)
    assert denoised.shape == clean.shape and denoised.dtype == np.float32
    assert ((denoised - clean) ** 2).mean() < 0.5 * ((noisy - clean) ** 2).mean()
    with pytest.raises(ValueError, match="h must be positive"):
        restoration.nl_means_denoise(noisy, 0.0)
    smoothed = restoration.tv_denoise(noisy, 0.2)
    assert ((smoothed - clean) ** 2).mean() < 0.5 * ((noisy - clean) ** 2).mean()
    with pytest.raises(ValueError, match="weight must be positive"):
        restoration.tv_denoise(noisy, 0.0)
    ramp = np.tile(np.linspace(0, 1, 12, dtype=np.float32), (1, 12, 1))  # a plane is biharmonic
    hole = np.zeros_like(ramp)
    hole[0, 3:8, 4:9] = 1
    filled = restoration.biharmonic_fill(ramp * (1 - hole), hole)
    np.testing.assert_allclose(filled, ramp, atol=1e-4)
    assert np.abs(restoration.nearest_fill(ramp * (1 - hole), hole) - ramp).max() > 0.05
    np.testing.assert_allclose(restoration.biharmonic_fill(ramp, np.zeros_like(ramp)), ramp)


def test_restoration_scores_of_a_perfect_and_a_zero_output():
    clean = torch.rand(3, 1, 16, 16)
    clean[:, :, :8] = 0  # a black background
    perfect = image_metrics.restoration_scores(clean, clean, mask=torch.ones_like(clean))
    assert perfect["mse"] == 0 and perfect["ssim"] == pytest.approx(1.0)
    assert perfect["psnr"] == float("inf") and perfect["hole_mse"] == 0
    assert perfect["background"] == 0
    grey = image_metrics.restoration_scores(clean + 0.02 * (clean == 0), clean)
    assert grey["background"] == pytest.approx(0.02)  # a faint grey background costs SSIM
    assert grey["ssim"] < 0.9 and grey["psnr"] > 30  # much more than PSNR
    zero = image_metrics.restoration_scores(torch.zeros_like(clean), clean)
    assert zero["mse"] == pytest.approx((clean**2).mean().item())


def test_a_short_training_lowers_the_loss(dataset_dir):
    data = i2i.load_data(dataset_dir, quick=True)
    assert data.train.instance.max() <= 3 and data.train.binary.shape == (256, 32, 32)
    for name in ("denoise_gaussian", "segment_instance"):
        seed_everything(0)
        model = i2i.build_model(name, "add")
        val = (data.val.frames, data.val.target(name))
        step = i2i.ImageTaskStep(name)
        torch.manual_seed(0)
        before, _ = evaluate(model, val, step)
        train = (data.train.frames[:128], data.train.target(name)[:128])
        fit(model, train, val, step, TrainConfig(epochs=2, batch_size=16, lr=2e-3))
        torch.manual_seed(0)
        after, _ = evaluate(model, val, step)
        assert after < 0.8 * before, name


def test_skip_study_selects_and_scores_over_the_seeds(monkeypatch):
    """Selection by the mean validation loss over seeds; the skip table's scores are means ± std
    over the seeds; the verdict names a winner only beyond twice the seed spread."""
    from types import SimpleNamespace

    from bballs.tasks import image_to_image_study as study_module

    def run(val_loss, psnr):
        history = SimpleNamespace(val_loss=[val_loss], epochs_done=1, epoch_seconds=[1.0])
        return SimpleNamespace(history=history, parameters=10, train_seconds=1.0, psnr=psnr)

    # seed 0 alone would pick "add" (lowest loss); over three seeds "concat" is lower on average
    losses = {"none": (0.5, 0.5, 0.5), "add": (0.1, 0.9, 0.9), "concat": (0.2, 0.2, 0.2)}
    psnrs = {"none": (20.0, 20.2, 19.8), "add": (20.0, 20.1, 19.9), "concat": (30.0, 30.1, 29.9)}
    seeds = [{"denoise_gaussian": {skip: run(losses[skip][s], psnrs[skip][s]) for skip in losses}}
             for s in range(3)]
    monkeypatch.setattr(study_module, "score_network",
                        lambda r, split: {"noisy": {"psnr": r.psnr, "ssim": 1.0, "mse": 0.0}})
    monkeypatch.setattr(study_module, "score_baselines",
                        lambda name, data: {"noisy": {"input": {"psnr": 10.0},
                                                            "median": {"psnr": 12.0}}})
    data = SimpleNamespace(test=None)
    study = study_module.evaluate_study(seeds[0], data, seeds[1:])
    assert study.selected == {"denoise_gaussian": "concat"}
    assert study_module.evaluate_study(seeds[0], data).selected["denoise_gaussian"] == "add"
    rows = {r["skip"]: r for r in study_module.skip_rows(study)}
    assert rows["none"]["seeds"] == 3 and rows["none"]["score"] == pytest.approx(20.0)
    assert rows["none"]["score_std"] == pytest.approx(np.std([20.0, 20.2, 19.8], ddof=1))
    assert rows["add"]["val_loss"] == pytest.approx(np.mean(losses["add"]))
    assert rows["none"]["score_2"] is None and rows["concat"]["selected"] == "yes"
    headline = study_module.headline(study)["denoise_gaussian"]
    assert headline["skip_spread"] == pytest.approx(10.0)
    assert headline["skip_verdict"].startswith("concatenation")
    assert headline["skip_best_value"] == pytest.approx(30.0)
    assert headline["skip_worst_value"] == pytest.approx(20.0)

    from bballs.tasks import image_to_image_convergence as longer

    one_seed = study_module.evaluate_study(seeds[0], data)  # the 4-epoch study, here one seed
    section = longer.section(longer.evaluate_long(seeds, data), one_seed, quick=False)
    assert section["gaps"]["denoise_gaussian"]["skip_best"] == "concatenation"
    assert section["short_gaps"]["denoise_gaussian"]["skip_verdict"].startswith("not established")
    rows = {r["skip"]: r for r in section["tables"]["i2i_long_restore"]["rows"]}
    assert rows["none"]["score_std"] > 0 and rows["none"]["short_score"] == pytest.approx(20.0)
    assert "short_score_std" not in rows["none"] or rows["none"]["short_score_std"] is None


def test_the_longer_study_is_shown_only_for_the_data_and_settings_it_ran_on(tmp_path,
                                                                           monkeypatch):
    from types import SimpleNamespace

    from bballs.core.files import output_paths
    from bballs.tasks import image_to_image_convergence as longer
    from bballs.tasks.image_to_image_study import Study

    history = SimpleNamespace(val_loss=[0.3, 0.2])
    runs = [{"inpaint": {"add": SimpleNamespace(history=history)}}]
    monkeypatch.setattr(longer, "train_long", lambda *args: runs)
    monkeypatch.setattr(longer, "evaluate_long", lambda runs, data: Study(
        skips={"inpaint": {"add": {"scores": {"centre": {"psnr": 30.0}}, "repeats": []}}},
        selected={"inpaint": "add"}))
    paths = output_paths(tmp_path)
    ours, theirs = {"digest": "abc123"}, {"digest": "def456"}
    assert longer.recorded(paths, ours, quick=True) is None  # nothing recorded yet
    longer.run(None, paths, True, ours)
    study, losses = longer.recorded(paths, ours, quick=True)
    assert study.selected == {"inpaint": "add"} and losses == {"inpaint": {"add": [0.3, 0.2]}}
    assert study.skips["inpaint"]["add"]["scores"]["centre"]["psnr"] == 30.0
    assert longer.recorded(paths, theirs, quick=True) is None  # other data files
    assert longer.recorded(paths, ours, quick=False) is None  # other settings: full mode
    assert longer.recorded(paths, ours, quick=True, seed=1) is None


def test_error_rows_use_a_visible_scale_and_curves_keep_the_legend_off_the_data():
    from bballs.reporting import image_to_image_plots as i2i_plots

    truth = np.zeros((3, 32, 32), dtype=np.float32)
    error = truth.copy()
    error[0, :4, :4] = 0.9
    fig = i2i_plots.example_grid({"truth": truth, "absolute error": error}, n_examples=3,
                                 errors=["absolute error"])
    maps = [im for ax in fig.axes for im in ax.get_images() if im.get_cmap().name == "magma"]
    assert len(maps) == 3 and {im.get_clim() for im in maps} == {(0.0, i2i_plots.ERROR_CLIP)}
    small = i2i_plots.example_grid({"absolute error": error * 0.03}, n_examples=3,
                                   errors=["absolute error"])  # another figure: the same scale
    assert {im.get_clim() for ax in small.axes for im in ax.get_images()} == {
        (0.0, i2i_plots.ERROR_CLIP)}
    bar, error_row = fig.axes[-1].get_position(), fig.axes[-2].get_position()
    assert bar.x0 > error_row.x1  # the colour bar sits beside the error row, exactly as tall
    assert (bar.y0, bar.y1) == pytest.approx((error_row.y0, error_row.y1))
    curves = i2i_plots.validation_curves({"inpaint": {"none": [0.3, 0.2], "add": [0.2, 0.1]}})
    assert not any(ax.get_legend() for ax in curves.axes) and curves.legends


def test_forward_flops_count_a_convolution_exactly_and_leave_the_mode_alone():
    from bballs.core.parameters import forward_flops
    conv = torch.nn.Conv2d(1, 4, 3, padding=1, bias=False).train()
    assert forward_flops(conv, torch.zeros(2, 1, 8, 8)) == 2 * (2 * 4 * 8 * 8 * 9)
    assert conv.training


def test_the_skip_cost_sentence_orders_concatenation_above_the_others():
    import re

    from bballs.reporting.lab3_report import skip_flops
    none, add, concat = map(float, re.findall(r"(\d+\.\d) ", skip_flops())[:3])
    assert none == add > 0  # addition adds no weights and no counted products
    assert concat > none  # the 1x1 mixers after each concatenation


def _inpaint_runs(hole_mses: list[float]) -> dict:
    runs = [{"scores": {"random": {"hole_mse": value / 1e3}}} for value in hole_mses]
    return {**runs[0], "repeats": runs[1:]}


def test_the_random_hole_mse_is_reported_with_its_verdict_after_each_training_length():
    from bballs.reporting.lab3_report import _random_holes

    short = {"none": _inpaint_runs([3.0, 3.2, 3.4]), "add": _inpaint_runs([2.0, 2.1, 2.2]),
             "concat": _inpaint_runs([2.5, 4.5, 6.5])}
    long = {"none": _inpaint_runs([0.6, 0.65, 0.7]), "add": _inpaint_runs([0.9, 0.95, 1.0]),
            "concat": _inpaint_runs([0.7, 0.7, 0.7])}
    i2i = {"settings": {"epochs": 4}, "skips": {"inpaint": short},
           "long": {"settings": {"epochs": 12}, "skips": {"inpaint": long}}}
    text, table = _random_holes(i2i).values()
    assert ("after 4 epochs additive has the lowest MSE, beyond seed noise of no skips and "
            "within seed noise of concatenation;") in text
    assert ("after 12 epochs no skips has the lowest MSE, beyond seed noise of additive and "
            "within seed noise of concatenation.") in text
    assert table.splitlines()[2].replace("\xa0", " ") == "| no skips | 3.20 ± 0.20 | 0.65 ± 0.05 |"
    assert _random_holes({"settings": {"epochs": 4}, "skips": {}}) == {
        "i2i_random_holes": "", "i2i_random_holes_table": ""}


def test_the_longer_studys_best_skip_type_is_also_judged_against_the_second_best():
    from bballs.reporting.lab3_report import _runner_up

    def row(task, title, mean, std):
        return {"task": task, "skip_title": title, "seeds": 3, "score_mean": mean,
                "score_std": std, "hole_mse_mean": mean, "hole_mse_std": std}

    rows = [row("denoise_salt_pepper", "no skips", 39.0, 0.5),
            row("denoise_salt_pepper", "additive", 39.3, 0.2),
            row("denoise_salt_pepper", "concatenation", 40.2, 0.6),
            row("inpaint", "no skips", 0.4, 0.02), row("inpaint", "additive", 0.8, 0.05),
            row("inpaint", "concatenation", 0.6, 0.03)]
    i2i = {"tables": {"i2i_long_restore": {"rows": rows}},
           "long": {"gaps": {"denoise_salt_pepper": {"skip_measure": "score"},
                             "inpaint": {"skip_measure": "hole_mse"}}}}
    text = _runner_up(i2i)
    assert text == ("Against the second best, the best type leads beyond seed noise for "
                    "in-painting (no skips against concatenation); for salt-and-pepper denoising "
                    "the two best are within seed noise.")
    assert _runner_up({}) == ""


def test_a_skip_lead_just_beyond_seed_noise_is_marked_narrow():
    from bballs.tasks.image_to_image_study import skip_gap

    def rows(gap: float) -> list[dict]:
        return [{"score": 30.0, "score_std": 0.5, "seeds": 3, "skip_title": "no skips"},
                {"score": 30.0 + gap, "score_std": 0.5, "seeds": 3, "skip_title": "additive"}]

    assert skip_gap(rows(1.2), "denoise_gaussian")["skip_verdict"] == (
        "additive is narrowly better beyond seed noise")  # threshold 1.0, below 1.5 of it
    assert skip_gap(rows(2.0), "denoise_gaussian")["skip_verdict"] == (
        "additive is better beyond seed noise")
    assert skip_gap(rows(0.5), "denoise_gaussian")["skip_verdict"] == "within seed noise"
