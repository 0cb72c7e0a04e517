"""Report tables and figures: one unit per quantity, plain names, like-for-like rows."""

from pathlib import Path

import matplotlib
import numpy as np
import pytest

from bballs.models.improved import (
    FramePredictor,
)
from bballs.models.spec import BallCounter, UNet
from bballs.reporting import prediction_plots as pplots
from bballs.reporting import tables
from bballs.reporting.project1_report import (
    _against_learnt,
    _reidentified,
    model_rows,
    plain_text,
)
from bballs.reporting.tables import declared_table, mark_long_tables, markdown_table, scaled
from bballs.tasks import (
    part1_task4,
    part2_recipes,
    part2_task7,
    prediction,
    robustness,
    task7_variants,
)
from bballs.training import experiments

matplotlib.use("Agg")


def test_mse_is_shown_in_thousandths_with_its_std():
    rows = [{"variant": "a", "mse_mean": 2.975e-3, "mse_std": None, "seeds": 1},
            {"variant": "b", "mse_mean": 3.44e-5, "mse_std": 7.6e-6, "seeds": 3},
            {"variant": "c", "mse_mean": 0.05176}]
    assert scaled(rows, ["mse"], 1e3)[1]["mse_std"] == pytest.approx(7.6e-3)
    assert rows[1]["mse_mean"] == 3.44e-5  # the rows given are not changed
    table = declared_table(prediction.declare_table(rows))
    assert "MSE (×10⁻³)" in table
    assert "| 2.975 |" in table and "| 51.760 |" in table  # three decimals, mean and std alike
    assert "0.034\u00a0±\u00a00.008" in table
    assert "×10⁻⁵" not in table and "e-0" not in table


def test_model_table_speaks_of_the_assignments_tables_in_words():
    rows = {row["model"]: row for row in model_rows([BallCounter, UNet])}
    assert set(rows) == {"baseline CNN", "baseline U-Net"}
    assert rows["baseline CNN"]["what"].startswith("The assignment's Table 2:")
    assert rows["baseline CNN"]["settings"] == "3 output classes"
    assert rows["baseline U-Net"]["settings"] == "5 input frames; 5 output frames"
    predictor = model_rows([FramePredictor])[0]["settings"]
    assert predictor.endswith("32, 64, 128 channels per level; without the physics prior")
    assert plain_text("Table 3's U-Net with :class:`~a.b.FramePredictor` inside") == (
        "The assignment's Table 3 U-Net with frame predictor inside")


class _Physics:
    parameters, train_seconds = 10, 5.0


def _scores(value: float) -> dict:
    return {"ssim": value, "psnr": 10 * value, "psnr_of_mse": 5 * value, "mse": value / 100}


def test_physics_rows_lead_with_counts_read_from_frames_and_cost_the_gated_system():
    bench = [{"seed": s, "trained_seconds": 100.0 + s, **_scores(0.9 + s / 100)}
             for s in (0, 1, 2)]
    final = {**_scores(0.95), "physics_share": 0.97}
    learnt = {"parameters": 5, "train_seconds": 2.0}
    rows = part2_task7.physics_rows(_Physics(), bench, _scores(0.9), _scores(0.91), final, 0,
                                    learnt)
    assert [r["seeds"] for r in rows] == [1, 1, 3, 1]
    assert rows[0]["variant"] == "physics model (counts read from the frames)"
    assert rows[0]["ssim_mean"] == 0.91 and "(seed 0)" in rows[0]["change"]
    assert rows[2]["ssim_mean"] == pytest.approx(0.91) and rows[2]["ssim_std"] > 0
    assert part2_task7.seeds_row(rows) is rows[2]
    assert (rows[-1]["parameters"], rows[-1]["train_seconds"]) == (15, 7.0)  # both models
    assert (rows[-1]["gate_share"], rows[-1]["gate_seed"]) == (0.97, 0)
    assert all("epochs" not in r for r in rows)  # encoder epochs are not network epochs
    every = {**final, "physics_share": 1.0}  # the gate keeps every sequence: no copied row
    same = part2_task7.physics_rows(_Physics(), [], _scores(0.9), _scores(0.9), every, 0)
    assert [r["variant"] for r in same] == ["physics model (counts read from the frames)"]
    assert "the file's ball counts give the same scores" in same[0]["change"]
    assert "also the gated system" in same[0]["change"] and same[0]["gate_share"] == 1.0
    assert part2_task7.seeds_row(same) is same[0]
    table = declared_table(prediction.declare_table(same, prediction.TASK7_COLUMNS))
    assert "| physics model (counts read from the frames) | — |" in table
    assert table.rstrip().endswith("| 10 |")  # parameters, no seconds: steps are the cost
    assert "time" not in table


def test_task7_summary_names_each_row_by_its_role_in_the_answer():
    rows = [{"variant": name, **_scores(0.9)} for name in
            ("classical predictor", "baseline U-Net", "last frame",
             "physics model (counts read from the frames)")]
    rows.append({"variant": "gated system (reference)", "gate_share": 0.999, "gate_seed": 0,
                 **_scores(0.9)})
    summary = part2_task7.summary_rows(rows)
    assert [r["variant"] for r in summary] == [
        "last frame repeated (baseline)", "baseline U-Net (baseline)",
        "physics model, counts read from the frames (model-based reference)",
        "gated system, seed 0 (physics model on 99.9%, else learnt network)"]  # no learnt row
    assert rows[0]["variant"] == "classical predictor"  # the rows given are not changed
    mean = {"variant": part2_task7.MEAN_OF_SEEDS, "seeds": 3, **_scores(0.8)}
    physics = part2_task7.summary_rows([*rows, mean])[2]
    assert physics["seeds"] == 3 and physics["ssim"] == 0.8  # the mean over seeds, if any
    merged = [{**rows[3], "gate_share": 1.0, "gate_seed": 0, "parameters": 10}, mean,
              {"variant": part2_task7.TASK7_LONG.name, "parameters": 5, **_scores(0.7)}]
    system = part2_task7.summary_rows(merged)[-1]  # the seed-0 physics row is the system
    assert system["variant"].startswith("gated system, seed 0 (physics model on 100.0%")
    assert system["parameters"] == 15  # it holds both models, as its own row would say
    assert merged[0]["parameters"] == 10  # the physics model's own row keeps its count


def _variant_row(name: str, ssim: float, db: float) -> dict:
    scores = {"ssim": ssim, "psnr_of_mse": db, "mse": 10 ** (-db / 10), "psnr": db}
    return {"variant": name, "physics_model": {**scores, "exact_share": 1.0},
            "learnt": scores, "final_system": scores, "physics_share": 1.0}


def test_worst_ssim_and_worst_psnr_are_named_separately():
    rows = [_variant_row("noisy", 0.72, 36.0), _variant_row("radius", 0.998, 33.9)]
    summary = task7_variants.targets(rows)
    assert summary["inside_worst_variant"] == "radius"
    assert summary["inside_min_ssim_variant"] == "noisy"
    table = task7_variants.declare_table(task7_variants.table_rows(rows))
    record = {"rows": rows, "summary": summary, "tables": {"task7_reidentified": table},
              "training_sequences": 10, "calibration_sequences": 5, "sequences": 5}
    text = _reidentified(record)
    assert '33.90 dB on "radius"' in text and 'SSIM 0.7200 on "noisy"' in text


def test_gains_over_the_learnt_network_are_worded_by_their_sign():
    assert "at least as well" in _against_learnt({"vs_learnt_ssim": 0.001,
                                                  "vs_learnt_psnr_of_mse": 0.5})
    assert "falls below" in _against_learnt({"vs_learnt_ssim": -0.01,
                                             "vs_learnt_psnr_of_mse": 0.5})


def test_error_maps_draw_errors_on_one_colour_scale_with_a_bar(tmp_path):
    truth = np.zeros((2, 5, 32, 32), dtype=np.float32)
    guess = truth.copy()
    guess[0, 0, :4, :4] = 0.3
    fig = pplots.error_maps({"model": guess}, truth, tmp_path / "e.png")
    images = [im for ax in fig.axes for im in ax.get_images()]
    errors = [im for im in images if im.get_cmap().name == "Reds"]
    assert len(errors) == 10 and {im.get_clim() for im in errors} == {(0.0, 0.3)}
    assert any(ax.get_ylabel() == "|prediction − truth|" for ax in fig.axes)
    labels = [text.get_text() for ax in fig.axes for text in ax.texts]
    assert f"{1e3 * 16 * 0.09 / 1024:.2f}" in labels and labels.count("0.00") == 9  # MSE ×10⁻³
    guess[1, 0, :2, :2] = 1.0  # 4 outlying pixels of 1044: the scale ends below them
    guess[1, 1] = 0.3
    fig = pplots.error_maps({"model": guess}, truth, tmp_path / "e.png")
    assert {im.get_clim() for ax in fig.axes for im in ax.get_images()
            if im.get_cmap().name == "Reds"} == {(0.0, 0.3)}


def test_horizon_panels_plot_the_psnr_of_the_mean_mse():
    curves = {"model": {"mse": [1e-2, 1e-3], "ssim": [0.9, 0.95], "psnr": [99.0, 99.0]}}
    fig = pplots.horizon_curves(curves, None, trained_horizon=1)
    psnr_axis = next(ax for ax in fig.axes if "PSNR" in ax.get_ylabel())
    assert psnr_axis.get_ylabel() == "PSNR of the mean MSE (dB)"
    assert psnr_axis.lines[0].get_ydata().tolist() == pytest.approx([20.0, 30.0])


def test_only_tables_longer_than_the_limit_may_break_across_pages():
    def table(rows):
        body = "".join(f"<tr><td>{i}</td></tr>" for i in range(rows))
        return f"<table>\n<thead><tr><th>h</th></tr></thead><tbody>{body}</tbody></table>"

    html = f"<p>x</p>{table(3)}<p>y</p>{table(9)}"
    marked = mark_long_tables(html, rows=8)
    assert marked.count('<table class="long">') == 1 and marked.count("<table>") == 1
    assert marked.index("<table>") < marked.index('<table class="long">')
    assert mark_long_tables(marked, rows=8) == marked
    css = (Path(__file__).parents[1] / "report" / "style.css").read_text()
    assert "table.long" in css and "p.lead" in css


def test_a_paragraph_right_before_a_table_is_kept_with_it():
    html = "<p>intro</p>\n<p>Lead-in:</p>\n<table>\n<tr><td>1</td></tr></table><p>after</p>"
    marked = mark_long_tables(html)
    assert marked.count('<p class="lead">') == 1
    assert '<p class="lead">Lead-in:</p>' in marked and "<p>intro</p>" in marked
    figure = '<p><img src="a.png"/>\n<em class="caption">Figure 1</em></p>\n<table></table>'
    assert '<p class="lead">' not in mark_long_tables(figure)  # a figure may part from it
    caption = '<table></table>\n<p><em class="caption">Table 1: a.</em></p>\n<table></table>'
    assert '<p class="lead">' not in mark_long_tables(caption)  # it belongs to the table above


def test_a_value_that_rounds_to_zero_has_no_minus_sign():
    text = markdown_table([{"v": "a", "gain": -0.0003}, {"v": "b", "gain": 0.2}],
                          {"v": "v", "gain": "gain"}, percent=["gain"])
    assert "| a | 0.0 |" in text and "-0.0" not in text


def test_only_values_of_the_sweeps_fall_back_to_n_a():
    from bballs.reporting.pipeline import from_sweeps

    assert from_sweeps("part1[improved][by_variant][spec][test_accuracy_mean]", "report")
    assert from_sweeps("table[task4_robustness]", "report")
    assert from_sweeps("table[skips]", "report")
    assert from_sweeps("text[task4_layout_gaps]", "report")
    assert from_sweeps("text[task4_baseline_cnn]", "report")
    assert not from_sweeps("part1[spec][test_accuracy]", "report")
    assert not from_sweeps("part2[physics_model][ssim]", "report")


def test_the_transfer_sentence_names_where_the_physics_model_falls_below_the_learnt_network():
    from bballs.reporting.project1_report import _transfer

    rows = [{"variant": "ours", "physics_psnr_of_mse": 45.0, "learnt_psnr_of_mse": 29.0},
            {"variant": "a", "physics_psnr_of_mse": 14.0, "learnt_psnr_of_mse": 17.5},
            {"variant": "b", "physics_psnr_of_mse": 30.0, "learnt_psnr_of_mse": 28.0}]
    text = _transfer({"table": rows})
    assert text["task7_transfer_count"] == "1 of the 2"
    assert ("falls below the learnt network, by up to 3.50 dB of PSNR of the mean MSE: a."
            in text["task7_transfer"])
    assert text["task7_transfer"].endswith("On the other one it stays ahead. Each variant ran "
                                           "once, so by our rule none of these gaps is "
                                           "established.")
    assert _transfer({})["task7_transfer"] == ""


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


def test_the_headline_weighs_families_equally_and_leaves_out_the_selection_shifts():
    from bballs.reporting.part1_sentences import _family_means

    families = {"gamma": {"selected counter": [0.0, 0.0], "baseline CNN": [0.0, 0.0]},
                "blur": {"selected counter": [1.0, 1.0, 1.0, 0.6], "baseline CNN": [0.5] * 4},
                "noise": {"selected counter": [0.8], "baseline CNN": [0.5]}}
    means = _family_means(families)
    assert means["task4_families"] == "85.0%"  # (0.9 + 0.8) / 2: gamma left out, equal weights
    assert means["task4_families_baseline"] == "50.0%" and means["task4_unseen_families"] == "two"


def test_the_task4_text_quotes_the_sweep_of_table_2_not_the_notebooks_retrained_models():
    from bballs.reporting.part1_sentences import sentences

    notebook = {"levels": [1, 2], "unit": "strength", "selected counter": [0.5, 0.5],
                "baseline CNN": [0.4, 0.4]}
    part1 = {"shift_families": {"blur": notebook},
             "improved": {"model": "best", "by_variant": {
                 "best": {"families": {"blur": [0.9, 0.7]}},
                 "spec": {"families": {"blur": [0.6, 0.6]}}}}}
    texts = sentences(part1)
    assert texts["task4_families"] == "80.0%" and texts["task4_families_baseline"] == "60.0%"
    assert texts["task4_weakest"] == "70.0% (blur, strength = 2)"
    del part1["improved"]["by_variant"]["spec"]  # no sweep row: the notebook's, one source
    assert sentences(part1)["task4_families"] == "50.0%"


def test_the_architecture_control_says_whether_its_gap_is_beyond_seed_noise():
    from bballs.reporting.part1_sentences import CONTROL, _architecture_control

    def row(variant, blur, touching, std):
        return {"variant": variant, "seeds": 3, "gamma": 0.0, "blur": blur,
                "touching balls": touching, "worst level": 0.0, "max. std": std}

    improved = {"model": "density", "robustness": [row("density", 0.98, 0.9, 0.01),
                                                    row(CONTROL, 0.90, 0.5, 0.01)]}
    text = _architecture_control(improved)
    assert "beyond seed noise" in text["task4_control_short"]
    assert "(24.0 points below the selected recipe in the same sweep" in text["task4_control"]
    assert text["task4_control_short"].endswith("83% of them on touching balls")
    assert "Touching balls carry 83% of that gap (50.0% against 90.0%" in text["task4_control"]
    improved["robustness"][1] = row(CONTROL, 0.97, 0.85, 0.02)
    assert "within seed noise" in _architecture_control(improved)["task4_control_short"]
    assert _architecture_control({"model": "density", "robustness": []}) == {}


def test_the_quoted_layout_gaps_get_the_verdict_rule():
    from bballs.reporting.part1_sentences import DENSITY, WIDE, _layout_gaps

    def row(radius, touching, std, seeds=3):
        return {"seeds": seeds, "families": {"ball radius": radius, "touching balls": touching},
                "families_std": {"ball radius": [std] * 2, "touching balls": [std] * 3}}

    rows = {DENSITY: row([0.97, 0.99], [1, 1, 0.78], 0.01),
            WIDE: row([0.92, 0.95], [1, 1, 0.85], 0.01)}
    text = _layout_gaps({"by_variant": rows})["task4_layout_gaps"]
    assert text == ("By our rule for calling a gap real (3 seeds each, a gap above twice the "
                    "larger seed std): "
                    "the density counter is better beyond seed noise for radius "
                    "0.8; CountNet is better beyond seed noise for strongly "
                    "overlapping balls")
    rows[WIDE] = row([0.92, 0.98], [1, 1, 0.79], 0.01)  # both gaps within the seeds' noise
    assert _layout_gaps({"by_variant": rows})["task4_layout_gaps"].endswith(
        "within seed noise for radius 0.8 and strongly overlapping balls")
    rows[WIDE]["seeds"] = 1
    one = _layout_gaps({"by_variant": rows})["task4_layout_gaps"]
    assert one.startswith("By our rule for calling a gap real (1 seed each")
    assert "not established" in one
    assert _layout_gaps({"by_variant": {DENSITY: rows[DENSITY]}}) == {}
    del rows[WIDE]["families_std"]  # rows recorded without shift families
    assert _layout_gaps({"by_variant": rows}) == {}


def test_the_baseline_cnn_of_task_4_carries_its_seed_std_or_says_it_ran_once():
    from bballs.reporting.part1_sentences import _baseline_cnn

    three = {"test_accuracy_mean": 0.877, "test_accuracy_std": 0.025, "seeds": 3}
    assert _baseline_cnn({"by_variant": {"spec": three}})["task4_baseline_cnn"] == "87.7% ± 2.5%"
    one = {"test_accuracy_mean": 0.5, "test_accuracy_std": None, "seeds": 1}
    assert _baseline_cnn({"by_variant": {"spec": one}})["task4_baseline_cnn"] == "50.0% (one seed)"
    assert _baseline_cnn({}) == {}


def test_test_accuracies_carry_their_interval_over_the_test_frames():
    from bballs.reporting.part1_sentences import _test_intervals

    matrix = [[60, 7, 0], [0, 60, 6], [0, 0, 67]]  # 200 frames
    texts = _test_intervals({"spec": {"test_accuracy": 0.935, "confusion_matrix": matrix},
                             "classical": {"test_accuracy": 0.89}})
    assert texts["task3_cnn_interval"] == ("95% Wilson interval 89.2% to 96.2% over the 200 test "
                                         "frames")
    assert "not established" in texts["task3_difference"]
    apart = _test_intervals({"spec": {"test_accuracy": 0.99, "confusion_matrix": matrix},
                             "classical": {"test_accuracy": 0.80}})
    assert apart["task3_difference"] == "the intervals do not overlap"
    assert _test_intervals({}) == {}
    paired = {"spec": {"test_accuracy": 0.88, "confusion_matrix": matrix},
              "classical": {"test_accuracy": 0.935,
                            "paired": {"only_a": 9, "only_b": 20, "p_value": 0.061}}}
    assert _test_intervals(paired)["task3_difference"] == (
        "of the 29 frames only one counter gets right, the CNN gets 9 and connected components "
        "20 (McNemar's exact test: p = 0.061), so at this test-set size the difference is not "
        "established")
    for p_value, shown, established in ((0.0496, "p = 0.050", True), (0.0504, "p = 0.050", False),
                                        (0.0004, "p < 0.001", True)):
        paired["classical"]["paired"]["p_value"] = p_value
        text = _test_intervals(paired)["task3_difference"]
        assert f"(McNemar's exact test: {shown})" in text
        assert text.endswith("in favour of connected components") == established
    paired["classical"]["paired"] = {"only_a": 0, "only_b": 0, "p_value": 1.0}
    assert "right on the same frames" in _test_intervals(paired)["task3_difference"]


def test_a_shift_level_is_quoted_with_its_seed_std_where_there_are_seeds():
    from bballs.reporting.part1_sentences import _level

    families = {"noise": {"selected counter": [1.0, 0.95], "baseline CNN": [1.0, 0.6],
                          "std": {"baseline CNN": [0.0, 0.27]}}}
    assert _level(families, "noise", "baseline CNN", 1) == "60.0% ± 27.0%"
    assert _level(families, "noise", "selected counter", 1) == "95.0%"  # one run: no spread
    assert _level(families, "blur", "baseline CNN", 1) == "n/a"


def test_task7_gains_are_ranked_and_established_only_by_three_seeds_beyond_noise():
    from bballs.reporting.part2_sentences import GAIN_CHAIN, sentences

    def row(name, psnr, seeds, std=None):
        return {"variant": name, "seeds": seeds, "psnr_of_mse_mean": psnr, "psnr_of_mse_std": std}

    names = [name for name, _ in GAIN_CHAIN]
    ablation = [row(names[0], 24.0, 1), row(names[1], 26.0, 1), row(names[2], 26.3, 1),
                row(names[3], 26.8, 3, 0.1), row(names[4], 27.3, 3, 0.1),
                row(names[5], 27.4, 3, 0.2)]
    text = sentences({"learnt": {"ablation": ablation}})["task7_gains"]
    parts = text.split("; ")
    assert parts[0] == "the frame predictor +2.00 dB (one seed, not established)"
    assert "binary cross-entropy +0.50 dB (3 seeds, beyond seed noise)" in parts
    assert "the Task 6 budget +0.10 dB (3 seeds, within seed noise)" in parts
    assert len(parts) == 5 and sentences({}) == {
        "layout_spread": "", "task7_overtaken": "", "task7_training_control": "",
        "task6_curves": "", "task7_test": "", "task7_test_gap": "not measured",
        "physics_steps": ""}


def test_the_skip_types_and_the_learnt_network_are_judged_over_the_sweeps_seeds():
    from bballs.reporting.part2_sentences import sentences
    from bballs.tasks.part2_recipes import TASK7_LONG

    def row(name, mean, std, seeds=3, ssim=0.95):
        return {"variant": name, "psnr_of_mse_mean": mean, "psnr_of_mse_std": std,
                "seeds": seeds, "ssim_mean": ssim}

    skips = {"unet-add-skips": row("unet-add-skips", 25.3, 0.2, ssim=0.96),
             "unet-no-skips": row("unet-no-skips", 23.7, 0.3, ssim=0.93),
             "unet-concat-skips": row("unet-concat-skips", 25.4, 0.3)}
    texts = sentences({"skips": {"by_model": skips}, "spec_unet": {"psnr_of_mse": 25.0},
                       "learnt": {"ablation": [row(TASK7_LONG.name, 29.37, 0.12)]}})
    assert "without skips −1.60 dB (3 seeds, beyond seed noise), SSIM 0.9300 against 0.9600" in (
        texts["task5_skips"])
    assert "concatenation instead of addition +0.10 dB (3 seeds, within seed noise)" in (
        texts["task5_skips"])
    assert texts["task5_short"] == ("without skips, the PSNR of the mean MSE changes by −1.60 dB "
                                    "(3 seeds, beyond seed noise)")
    assert "+4.07 dB (3 seeds, beyond seed noise)" in texts["task7_vs_baseline"]
    assert "25.30 ± 0.20 dB" in texts["task7_vs_baseline"]  # the baseline's seeds, not Task 6
    one = sentences({"skips": {"by_model": {k: {**v, "seeds": 1} for k, v in skips.items()}}})
    assert "one seed, not established" in one["task5_skips"]
    assert "task5_skips" not in sentences({"skips": {"by_model": {}}})


def test_the_learnt_network_against_the_single_run_baseline_is_not_a_ranking():
    from bballs.reporting.part2_sentences import sentences
    from bballs.tasks.part2_recipes import TASK7_LONG

    learnt = {"variant": TASK7_LONG.name, "seeds": 3, "psnr_of_mse_mean": 29.35,
              "psnr_of_mse_std": 0.12}
    text = sentences({"learnt": {"ablation": [learnt]},
                      "spec_unet": {"psnr_of_mse": 25.27}})["task7_vs_baseline"]
    assert text.startswith("The learnt network is 4.08 dB ahead of the baseline U-Net")
    assert "34 times its own seed std over 3 seeds" in text and "not established" in text
    assert "task7_vs_baseline" not in sentences({"learnt": {"ablation": [learnt]}})
    once = sentences({"learnt": {"psnr_of_mse": 26.0}, "spec_unet": {"psnr_of_mse": 25.0}})
    assert "1.00 dB ahead" in once["task7_vs_baseline"] and "both ran once" in once[
        "task7_vs_baseline"]  # quick mode: one seed, no ablation rows


def test_a_seed_spread_above_zero_never_prints_as_zero():
    from bballs.reporting.tables import _spread

    assert _spread("0.0000", 3e-5) == "<0.0001"
    assert _spread("0.0000", 0.0) == "0.0000"  # really no spread
    assert _spread("0.0012", 0.0012) == "0.0012"
    assert _spread("0.0000", 3e-5, extra=2) == "0.00003"  # its first digit, where it is near
    assert _spread("0.0000", 3e-8, extra=2) == "<0.0001"


def test_the_task2_sentence_names_every_epoch_a_curve_goes_the_wrong_way():
    from bballs.reporting.part1_sentences import _curves

    history = {"train_loss": [1.0, 0.4, 0.1], "val_loss": [0.9, 0.2, 0.3],
               "val_accuracy": [0.5, 0.9, 0.9]}
    text = _curves(history)["task2_curves"]
    assert text.startswith("the training loss falls every epoch")
    assert ("the validation loss goes from 0.900 to 0.300 but rises at epoch 3 (0.200 to 0.300)"
            in text)
    assert "the validation accuracy never falls" in text  # flat at epoch 3 is no rise
    assert text.endswith("lowest after epoch 2, which may mean over-fitting.")
    assert _curves({"train_loss": [1.0]}) == {}
    assert "single epoch" in _curves({"val_loss": [0.5]})["task2_curves"]  # quick mode


def test_the_per_sequence_psnr_orders_are_named_and_the_headline_pairs_checked():
    from bballs.reporting.part2_sentences import PHYSICS_MEAN, _psnr_orders
    from bballs.tasks.part2_recipes import TASK7_LONG

    def row(name, of_mse, per_sequence):
        return {"variant": name, "psnr_of_mse_mean": of_mse, "psnr_mean": per_sequence}

    rows = [row("last frame", 12.9, 13.0), row("baseline U-Net", 25.0, 27.7),
            row("classical predictor", 23.1, 32.2), row(TASK7_LONG.name, 29.4, 33.3),
            row(PHYSICS_MEAN, 47.8, 91.7)]
    text = _psnr_orders(rows)["psnr_orders"]
    assert "one pair of Table 7's rows changes order: " in text
    assert "the classical predictor (32.20 dB) above the baseline U-Net (27.70 dB)" in text
    assert "keep their order" in text
    grouped_rows = [*rows, row("physics-prior+sym", 25.6, 30.0)]  # raised by the same row
    text = _psnr_orders(grouped_rows)["psnr_orders"]
    assert text.count("the classical predictor (32.20 dB)") == 1
    assert ("above the baseline U-Net (27.70 dB) and the physics-prior predictor + symmetries "
            "(30.00 dB)") in text
    rows[1] = row("baseline U-Net", 25.0, 34.0)  # now above the learnt network per sequence
    rows.append(row("physics-prior+sym", 25.6, 32.4))  # below the baseline U-Net per sequence
    assert "2 pairs of Table 7's rows change order, among them" in _psnr_orders(rows)[
        "psnr_orders"]
    assert ("One of these reversals touches a comparison that the answers rest on: the baseline "
            "U-Net now leads the learnt network (Task 6 budget). A conclusion drawn from it "
            "depends on the convention.") in _psnr_orders(rows)["psnr_orders"]
    same = [row("a", 2.0, 2.0), row("b", 1.0, 1.0)]
    assert _psnr_orders(same)["psnr_orders"].endswith("no two rows of Table 7 change order.")
    assert _psnr_orders(same[:1]) == {}


def test_the_gate_cost_and_the_weakest_shift_level_are_generated():
    from bballs.reporting.part1_sentences import _weakest_level
    from bballs.reporting.part2_evaluation_text import gate_cost as _gate_cost

    final = {"psnr_of_mse": 45.51, "physics_alone": {"psnr_of_mse": 46.56}}
    assert _gate_cost(final)["gate_cost"].startswith(
        ", and \N{MINUS SIGN}1.05 dB against the physics model alone (46.56 dB): on the "
        "sequences it hands over, the physics model would have done better")
    better = {"psnr_of_mse": 46.6, "physics_alone": {"psnr_of_mse": 46.56}}
    assert _gate_cost(better)["gate_cost"].endswith("(46.56 dB)")
    assert _gate_cost({}) == {}
    families = {"blur": {"levels": [0.0, 2.0], "unit": "sigma (pixels)",
                         "selected counter": [1.0, 0.6]},
                "touching": {"levels": [1.0], "selected counter": [0.9]}, "note": "text"}
    assert _weakest_level(families)["task4_weakest"] == "60.0% (blur, sigma = 2)"
    assert _weakest_level({}) == {}


def test_the_physics_models_long_horizon_steps_are_counted_from_the_curves():
    from bballs.reporting.part2_evaluation_text import physics_steps

    horizon = {"sequences": 300, "curves": {"physics model": {"off": [1, 1, 2, 2, 4]}}}
    assert physics_steps(horizon) == (
        " Few sequences set that curve: the number the physics model gets visibly wrong (frame "
        "MSE above 10⁻³) is one of 300 at t = 5 and four at t = 9, rising at t = 7 and 9; its "
        "PSNR steps down where a sequence joins them.")
    late = {"sequences": 300, "curves": {"physics model": {"off": [0, 3]}}}
    assert "is none of 300 at t = 5 and three at t = 6, rising at t = 6;" in physics_steps(late)
    exact = {"sequences": 300, "curves": {"physics model": {"off": [0, 0]}}}
    assert physics_steps(exact) == (" The physics model gets none of the 300 sequences visibly "
                                    "wrong (frame MSE above 10⁻³) in 2 frames.")
    assert physics_steps({}) == ""


def test_header_hyphens_between_letters_do_not_break():
    text = markdown_table([{"name": "cross-entropy", "gap": -0.5}],
                          {"name": "per-sequence loss", "gap": "a-1 gap"})
    assert "| per\u2011sequence loss | a-1 gap |" in text and "per-sequence" not in text
    assert "cross-entropy" in text and "\u2011" not in text.splitlines()[-1]  # cells as given


def test_the_outside_family_sentence_quotes_both_models_per_variant():
    from bballs.reporting.project1_report import _outside_family

    rows = [{"variant": "ours", "physics_psnr_of_mse": 47.0, "learnt_psnr_of_mse": 29.0},
            {"variant": "wide (outside)", "physics_psnr_of_mse": 25.14,
             "learnt_psnr_of_mse": 26.36}]
    assert _outside_family({"table": rows})["task7_outside"] == (
        " On the one generator outside that family it scores 25.14 dB, against 26.36 dB for "
        "the learnt network.")
    assert _outside_family({"table": rows[:1]}) == {"task7_outside": ""}


def test_task7_rows_count_optimiser_steps_from_each_recipe():
    from bballs.tasks.part2_recipes import TASK7_LONG

    rows = [{"variant": "baseline U-Net", "epochs": 20, **_scores(0.9)},
            {"variant": "predictor", "epochs": 10, **_scores(0.9)},
            {"variant": TASK7_LONG.name, "epochs": 20, **_scores(0.9)},
            {"variant": "last frame", **_scores(0.5)}]
    steps = {r["variant"]: r.get("steps") for r in part2_task7.with_steps(rows, 4000)}
    assert steps == {"baseline U-Net": 20 * 1000, "predictor": 10 * 250,
                     TASK7_LONG.name: 20 * 1000, "last frame": None}  # batches of 4 and 16
    table = part2_task7.declare_tables(rows, [], [], n_train=4000)["task7"]
    assert "steps" in table["columns"] and "epochs" not in table["columns"]
    assert "epochs" in part2_task7.declare_tables(rows, [], [])["task7"]["columns"]


def test_the_task7_answer_shows_the_baseline_over_the_sweep_seeds_where_there_are_several():
    rows = [{"variant": "baseline U-Net", "epochs": 20, **_scores(0.9)},
            {"variant": "classical predictor", **_scores(0.8)}]
    swept = {"variant": "unet-add-skips", "seeds": 3, **_scores(0.7)}

    def baseline(sweep_row):
        declared = part2_task7.declare_tables(rows, [], [], baseline_seeds=sweep_row)
        return declared["task7_summary"]["rows"][0], declared["task7"]["rows"]

    summary, full = baseline(swept)
    assert summary["seeds"] == 3 and summary["ssim"] == 0.7
    counted = part2_task7.declare_tables(rows, [], [], n_train=4000,
                                         baseline_seeds={**swept, "epochs": 20})
    assert counted["task7_summary"]["rows"][0]["steps"] == 20_000  # batches of 4
    assert "steps" in counted["task7_summary"]["columns"]
    assert summary["variant"] == "baseline U-Net (baseline)"
    assert [r["variant"] for r in full] == ["baseline U-Net", part2_task7.SWEEP_BASELINE,
                                            "classical predictor"]
    assert [r["variant"] for r in baseline({**swept, "seeds": 1})[1]] == [
        "baseline U-Net", "classical predictor"]
    assert baseline({**swept, "seeds": 1})[0]["ssim"] == 0.9  # one seed: the Task 6 run
    assert baseline(None)[0]["ssim"] == 0.9


def test_a_repeated_group_label_is_shown_on_its_first_row_only():
    rows = [{"task": "denoising", "method": "network", "score": 1.0},
            {"task": "denoising", "method": "median", "score": 2.0},
            {"task": "in-painting", "method": "network", "score": 3.0},
            {"task": "in-painting", "method": "network", "score": 3.0}]
    lines = markdown_table(rows, {"task": "task", "method": "method", "score": "score"})
    body = [line.split("|")[1:-1] for line in lines.splitlines()[2:]]
    assert [cells[0].strip() for cells in body] == ["denoising", "", "in-painting", ""]
    assert [cells[1].strip() for cells in body] == ["network", "median", "network", ""]
    assert all(cells[2].strip() for cells in body)  # numbers are never grouped


def test_the_shift_table_headers_do_not_wrap_to_three_lines():
    rows = robustness.robustness_rows([{"variant": "v", "seeds": 1, "families": {
        "salt and pepper": [1.0, 0.9], "near the walls": [0.8, 0.7]}}])
    headers = robustness.robustness_table(rows)["columns"]
    assert headers["salt and pepper"] == "salt & pepper"
    assert headers["near the walls"] == "near walls"


def test_the_step_cost_sentence_compares_the_two_networks_per_step():
    import re

    from bballs.reporting.project1_report import step_cost
    text = step_cost()
    learnt, baseline, ratio = map(float, re.findall(r"(\d+\.\d+)(?: GFLOP|×)", text))
    assert learnt > baseline > 0  # the learnt network is the larger one
    assert abs(learnt / baseline - ratio) < 0.051
    assert step_cost(batch_size=8) != text  # the cost grows with the batch


def test_a_spread_has_the_decimals_of_its_mean_and_a_cell_below_the_last_digit_says_so():
    def cell(mean, std, **formats):
        rows = [{"variant": "a", "x_mean": mean, "x_std": std, "seeds": 3}]
        return markdown_table(rows, {"variant": "v", "x": "x"}, **formats).splitlines()[-1]

    assert "2.01\u00a0±\u00a00.41 |" in cell(2.0134, 0.4091, significant=["x"])
    assert "1,770\u00a0±\u00a01,530 |" in cell(1774.5, 1528.9, significant=["x"])
    assert "| <0.01 |" in cell(1.2e-6, 5e-7, decimals={"x": 2})  # no "0.00 ± <0.01"
    assert "0.50\u00a0±\u00a00.0001 |" in cell(0.5, 1e-4, decimals={"x": 2})
    assert "0.50\u00a0±\u00a0<0.01 |" in cell(0.5, 1e-6, decimals={"x": 2})
    assert "| <0.01 |" in cell(1e-4, 2e-3, decimals={"x": 2})  # no "0.00 ± 0.002"


def test_the_layout_spread_clause_needs_the_sweeps_seeds():
    from bballs.reporting.part2_sentences import sentences

    sweep = {"variant": "unet-add-skips", "seeds": 3, "psnr_of_mse_mean": 25.23,
             "psnr_of_mse_std": 0.23, "ssim_mean": 0.96}
    texts = sentences({"spec_unet": {"psnr_of_mse": 25.39}, "machine": {"torch_threads": 2},
                       "skips": {"by_model": {"unet-add-skips": sweep}}})
    assert texts["layout_spread"] == (
        ": the Task 5 sweep's addition-skip U-Net scores 25.23 ± 0.23 dB over its 3 seeds (one "
        "thread, default layout), the Task 6 run of seed 0 25.39 dB (two threads, channels-last "
        "layout)")
    assert "seed 0 25.39 dB (one thread, channels-last" in sentences(
        {"spec_unet": {"psnr_of_mse": 25.39}, "machine": {"torch_threads": 1},
         "skips": {"by_model": {"unet-add-skips": sweep}}})["layout_spread"]
    assert "seed 0 25.39 dB (channels-last" in sentences(  # no thread count recorded
        {"spec_unet": {"psnr_of_mse": 25.39},
         "skips": {"by_model": {"unet-add-skips": sweep}}})["layout_spread"]
    one_seed = {**sweep, "seeds": 1, "psnr_of_mse_std": None}  # quick mode
    assert sentences({"spec_unet": {"psnr_of_mse": 25.39},
                      "skips": {"by_model": {"unet-add-skips": one_seed}}})["layout_spread"] == ""
    assert sentences({})["layout_spread"] == ""


def test_the_baseline_unet_is_quoted_over_the_sweeps_seeds_where_it_has_several():
    from bballs.reporting.part2_sentences import sentences

    spec = {"psnr_of_mse": 25.4, "ssim": 0.965}
    sweep = {"variant": "unet-add-skips", "seeds": 3, "psnr_of_mse_mean": 25.2,
             "psnr_of_mse_std": 0.23, "ssim_mean": 0.962, "ssim_std": 0.0018}
    text = sentences({"spec_unet": spec, "skips": {"table": [sweep]}})["baseline_over_seeds"]
    assert text == ("25.20 ± 0.23 dB and SSIM 0.9620 ± 0.0018 (mean ± std over 3 seeds)")
    one = sentences({"spec_unet": spec, "skips": {"table": [{**sweep, "seeds": 1}]}})
    assert one["baseline_over_seeds"] == "25.40 dB and SSIM 0.9650 (one run)"
    assert "baseline_over_seeds" not in sentences({"skips": {"table": [sweep]}})


def test_the_task4_recipe_table_counts_each_recipes_optimiser_steps():
    from bballs.tasks.part1_task4 import sweep_tables

    rows = [{"variant": "spec", "study": "ablation", "epochs": 5, "train_examples": 400,
             "batch_size": 4},
            {"variant": "x", "study": "ablation", "epochs": 80, "train_examples": 400,
             "batch_size": 32},
            {"variant": "old", "study": "ablation", "epochs": 5},  # recorded without a batch
            {"variant": "final", "study": "final", "epochs": 5}]
    table = sweep_tables(rows)["task4"]
    assert [r.get("steps") for r in table["rows"]] == [500, 80 * 13, None]
    assert table["columns"]["steps"] == "steps"


def test_each_task4_model_change_is_judged_on_the_test_file_and_the_held_out_shifts():
    from bballs.reporting.part1_sentences import _model_changes

    def row(test, heldout, std):
        return {"seeds": 3, "title": "before", "test_accuracy_mean": test,
                "test_accuracy_std": std, "heldout_val_accuracy_mean": heldout,
                "heldout_val_accuracy_std": std}

    rows = {"spec+long": row(0.88, 0.85, 0.01), "countnet+long": row(0.84, 0.93, 0.01)}
    text = _model_changes({"by_variant": rows})["task4_model_changes"]
    assert text.startswith("CountNet instead of the baseline CNN: 84.0% ± 1.0% against 88.0% ± "
                           "1.0% on the test file (before is better beyond seed noise")
    assert ("93.0% ± 1.0% against 85.0% ± 1.0% under the selection shifts (CountNet is better"
            in text)
    assert "pre-training" not in text  # its rows are missing
    assert _model_changes({}) == {}


def test_the_roll_out_sentence_says_where_the_classical_predictor_overtakes_the_network():
    from bballs.reporting.part2_sentences import _overtaken

    curves = {"learnt (Task 6 budget)": {"ssim": [0.99, 0.9, 0.8], "mse": [1, 2, 4]},
              "classical predictor": {"ssim": [0.95, 0.92, 0.9], "mse": [2, 3, 3]}}
    assert _overtaken(curves) == (" The classical predictor, which simulates our generator's "
                                  "physics, overtakes it in SSIM from t = 6 and in PSNR of the "
                                  "mean MSE from t = 7.")
    curves["classical predictor"] = {"ssim": [0.5] * 3, "mse": [9] * 3}
    assert _overtaken(curves) == "" and _overtaken({}) == ""


def test_each_task7_change_is_set_against_what_was_expected_of_it():
    from bballs.reporting.part2_sentences import _expectations

    def link(phrase: str, gain: float, verdict: str, spread: float = 0.1
             ) -> tuple[str, float, str, float, float]:
        return phrase, gain, verdict, 0.01, spread

    mixed = ("symmetries", 0.3, "3 seeds, beyond seed noise", -0.003, 0.1)
    assert _expectations([mixed]).endswith("SSIM \N{MINUS SIGN}0.0030: mixed: the PSNR rose, "
                                           "the SSIM fell.")
    chain = [link("the frame predictor", 2.0, "3 seeds, beyond seed noise"),
             link("symmetries", -0.1, "one seed, not established"),
             link("time reversal", 0.1, "one seed, not established"),
             link("binary cross-entropy", 0.5, "3 seeds, beyond seed noise"),
             link("the Task 6 budget", 2.5, "3 seeds, beyond seed noise")]
    text = _expectations(chain)
    lines = text.splitlines()
    assert lines[0].startswith("- the frame predictor: expected the largest gain; +2.00 dB")
    assert lines[0].endswith(": not as expected;") and len(lines) == 5
    assert "- symmetries: expected a small gain; \N{MINUS SIGN}0.10 dB" in text
    assert ("- time reversal: expected a small gain; +0.10 dB (one seed, not established), SSIM "
            "+0.0100: undecided;") in text
    assert "- binary cross-entropy: expected a gain; +0.50 dB (3 seeds, beyond seed noise)" in text
    assert lines[-1].endswith("SSIM +0.0100: as expected.")
    chain[-1] = link("the Task 6 budget", 2.1, "3 seeds, beyond seed noise", spread=0.2)
    first = _expectations(chain).splitlines()[0]  # 0.1 dB below the largest, noise 0.2 dB
    assert first.endswith(": established, but whether it is the largest gain is undecided;")
    chain[0] = link("the frame predictor", 2.2, "3 seeds, beyond seed noise")
    assert _expectations(chain).splitlines()[0].endswith(": as expected;")
    chain[1] = link("symmetries", 0.25, "3 seeds, beyond seed noise")  # threshold 0.2 dB
    assert _expectations(chain).splitlines()[1].endswith(
        ": as expected, narrowly (a lead worth more seeds);")


def test_the_families_the_selected_recipe_trains_on_are_counted():
    from bballs.reporting.part1_sentences import _untrained_families

    def row(variant, value):
        return {"variant": variant, "ball radius": value, "gamma": value, "near the walls": value,
                "soft profile": value, "noise": value}

    improved = {"model": "countnet+sym+scale+looks",
                "robustness": [row("spec", 0.9), row("countnet+sym+scale+looks", 1.0)]}
    text = _untrained_families(improved)["task4_untrained"]
    assert text.startswith("the selected recipe trains on changes like two of these four")
    assert "(not on near the walls or soft profile, where the baseline CNN already scores " \
           "90.0% and 90.0% and the selected recipe 100.0% and 100.0%)" in text
    improved["model"] = "countnet+sym+scale+walls+looks"
    improved["robustness"][1]["variant"] = improved["model"]
    assert "(not on soft profile," in _untrained_families(improved)["task4_untrained"]
    assert _untrained_families({"model": "x", "robustness": []}) == {}


def test_table_1_counts_the_frames_each_recipe_sees_and_no_seconds():
    from bballs.tasks.part1_task4 import sweep_tables

    rows = [{"variant": "a", "study": "ablation", "epochs": 5, "train_examples": 400,
             "batch_size": 4},
            {"variant": "b", "study": "ablation", "steps": 9}]
    seen = sweep_tables(rows)["task4"]
    columns = list(seen["columns"])
    assert columns[columns.index("steps"):] == ["steps", "frames_seen"]  # times do not compare
    assert [r.get("frames_seen") for r in seen["rows"]] == [2000, None]
    assert "frames_seen" not in rows[0]  # the summary rows are not changed


def test_every_project1_recipe_trains_without_weight_decay_as_the_recipe_captions_say():
    from bballs.tasks import part1_task4, part2_recipes

    variants = (*part1_task4.TASK4.variants, *part2_recipes.TASK5.variants,
                *part2_recipes.TASK7.variants)
    assert variants and all(v.recipe.weight_decay == 0 for v in variants)
    assert "without weight decay" in (
        Path(__file__).resolve().parents[1] / "report" / "report.md").read_text()


def test_mse_figures_use_the_tables_unit_of_ten_to_the_minus_three():
    from bballs.reporting import plots

    line = plots.loss_curve([0.02, 0.01], "loss (MSE, ×10⁻³)", scale=1e3).axes[0].lines[0]
    assert list(line.get_ydata()) == [20.0, 10.0]
    scores = {"baseline U-Net": {"mse": [0.002, 0.004], "ssim": [0.9, 0.8]}}
    mse_axis = pplots.per_horizon(scores).axes[0]
    assert list(mse_axis.lines[0].get_ydata()) == pytest.approx([2.0, 4.0])
    assert "×10⁻³" in mse_axis.get_ylabel()


def test_the_reports_describe_the_generator_constants_the_code_uses():
    from bballs.data import physics

    assert (physics.SPEED, physics.SUBSTEPS, physics.BOX_SIZE) == (0.5, 2, 10.0)
    report = Path(__file__).resolve().parents[1] / "report" / "report.md"
    text = " ".join(report.read_text().split())
    assert "scaled together to norm 0.5 box units per frame, applied in two sub-steps" in text


def test_a_value_just_below_one_is_not_printed_as_exactly_one():
    from bballs.reporting.tables import markdown_table

    table = markdown_table([{"name": "a", "r2": 0.99997}, {"name": "b", "r2": 0.3077},
                            {"name": "c", "r2": 1.0}], {"name": "probe", "r2": "R²"})
    assert [line.split("|")[2].strip() for line in table.splitlines()[2:]] == [
        "> 0.9999", "0.3077", "1.0000"]


def test_the_training_control_splits_the_learnt_networks_lead_with_verdicts():
    from bballs.reporting.part2_sentences import _training_control
    from bballs.tasks.part2_recipes import TASK7_CONTROL, TASK7_LONG

    def row(mean, std, seeds=3):
        return {"psnr_of_mse_mean": mean, "psnr_of_mse_std": std, "seeds": seeds}

    rows = {TASK7_CONTROL.name: row(27.0, 0.2), TASK7_LONG.name: row(27.3, 0.3)}
    text = _training_control(rows, row(25.0, 0.3))
    assert "same 20,000 steps" in text and "the baseline U-Net reaches 27.00 dB" in text
    assert "the training alone changes it by +2.00 dB (3 seeds, beyond seed noise)" in text
    assert "architecture and loss then add +0.30 dB (3 seeds, within seed noise" in text
    assert "training alone" not in _training_control(rows, row(25.0, 0.0, seeds=1))
    assert _training_control({TASK7_LONG.name: row(27.3, 0.3)}, None) == ""


def test_the_frozen_test_walls_test_set_and_task6_sentences_follow_the_numbers():
    from bballs.reporting.part2_evaluation_text import task6_curves as _task6_curves
    from bballs.reporting.part2_evaluation_text import test_set as _test_set
    from bballs.reporting.task4_text import _frozen_test, _walls

    rows = [{"shift": "motion blur", "seeds": 3, "selected_mean": 0.97, "selected_std": 0.01,
             "baseline_mean": 0.80, "baseline_std": 0.02, "components": 0.85,
             "verdict": "selected counter is better beyond seed noise"},
            {"shift": "grid lines", "seeds": 3, "selected_mean": 0.60, "selected_std": 0.10,
             "baseline_mean": 0.55, "baseline_std": 0.05, "components": 0.37,
             "verdict": "within seed noise"}]
    text = _frozen_test({"rows": rows})
    assert "97.0% ± 1.0% and 60.0% ± 10.0%" in text and "85.0% and 37.0%" in text
    assert ("selected counter is better beyond seed noise on motion blur; within seed noise on "
            "grid lines") in text
    assert _frozen_test(None) == ""
    broken = {"shift": "textured background", "seeds": 3, "selected_mean": 0.33,
              "selected_std": 0.0, "baseline_mean": 0.34, "baseline_std": 0.01, "components": 0.89,
              "verdict": "within seed noise"}
    reading = _frozen_test({"rows": [*rows, broken]})
    assert ("On the three new shifts the selected counter averages 63.3%, above the baseline "
            "CNN's 56.3%: some of its robustness carries over") in reading
    assert ("The textured background breaks both networks (33.0% and 34.0%), while connected "
            "components keep 89.0%.") in reading
    from bballs.reporting.task4_text import _frozen_short
    assert _frozen_short({"rows": rows}) == ("78.5% on average under the two new shifts "
                                             "(baseline CNN 67.5%; Table 3)")
    fresh = {**broken, "shift": "fresh test frames", "selected_mean": 0.99,
             "baseline_mean": 0.8}
    assert _frozen_short({"rows": [fresh, *rows]}) == (
        "99.0% of fresh test-like frames (baseline CNN 80.0%) and 78.5% on average under the two "
        "new shifts (baseline CNN 67.5%; Table 3)")
    assert _frozen_short(None) == "not run for these results"
    from bballs.reporting.task4_text import _recipe
    assert _recipe("countnet+sym+scale+looks") == (
        "80 epochs of batch 32 at learning rate 10⁻³, cosine decay; augmentation: symmetries + "
        "scale + appearance")
    assert _recipe(None) == "see Table 9"

    def variant(mean, std):
        return {"test_accuracy_mean": mean, "test_accuracy_std": std, "seeds": 3}
    hurt = {"by_variant": {"countnet+sym+scale+looks": variant(0.99, 0.009),
                           "countnet+sym+scale+walls+looks": variant(0.967, 0.003)}}
    assert _walls(hurt).startswith("lowered the test accuracy to 96.7% ± 0.3% from 99.0% ± 0.9%")
    same = {"by_variant": {"countnet+sym+scale+looks": variant(0.99, 0.02),
                           "countnet+sym+scale+walls+looks": variant(0.98, 0.02)}}
    assert _walls(same).startswith("left the test accuracy where it was")

    scores = {name: {"test": {"psnr_of_mse": db}, "validation": {"psnr_of_mse": db + 0.3}}
              for name, db in (("learnt (Task 6 budget)", 29.0), ("baseline U-Net", 25.0),
                               ("physics model", 45.0), ("last frame", 13.0))}
    texts = _test_set({"sequences": 1000, "scores": scores})
    assert "the learnt network 29.00 dB (validation 29.30)" in texts["task7_test"]
    assert texts["task7_test"].endswith("the same order as on validation.")
    assert texts["task7_test_gap"] == "0.30 dB higher than on the test set"
    assert _test_set({}) == {"task7_test": "", "task7_test_gap": "not measured"}

    falling = _task6_curves({"train_loss": [0.02, 0.005, 0.002], "val_loss": [0.01, 0.004, 0.003]})
    assert "lies above the validation MSE (20.00 against 10.00)" in falling
    assert falling.endswith("lowest in the last epoch, 70% below its best before the last five "
                            "epochs: still falling.")
    level = _task6_curves({"train_loss": [0.02, 0.005, 0.002], "val_loss": [0.01, 0.003, 0.004]})
    assert level.endswith("lowest in epoch 2 (3.00), so it has levelled off.")


def test_the_gated_systems_losses_against_the_physics_model_are_said():
    from bballs.reporting.project1_report import _gate_vs_physics, _variant_names

    def row(name: str, final: float, physics: float) -> dict:
        return {"variant": name, "final_system": {"psnr_of_mse": final},
                "physics_model": {"psnr_of_mse": physics}}

    rows = [row("ours", 47.0, 47.5), row("8-bit frames", 53.75, 57.3), row("speed x1.4", 40, 39)]
    assert _gate_vs_physics(rows) == (
        " Against the physics model alone it loses up to 3.55 dB, on \"8-bit frames\", where the "
        "gate hands the learnt network sequences that the physics model predicts better.")
    assert _gate_vs_physics(rows[2:]) == " It never falls below the physics model alone."
    assert _gate_vs_physics([]) == ""
    assert _variant_names(rows) == "two variants of our generator (8-bit frames; speed ×1.4)"
    assert _variant_names(rows[:1]) == "no variant of our generator"
