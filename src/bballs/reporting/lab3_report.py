"""Lab 3's report tables: every table its notebooks declared in ``results/lab3.json``, and the
sentences generated from those tables (``{text[...]}``; :data:`bballs.reporting.report.REPORTS`
names :func:`tables`)."""

from __future__ import annotations

import inspect

import torch

from bballs.core.numbers import power_of_ten
from bballs.core.parameters import forward_flops
from bballs.data.identity import section_sources
from bballs.metrics import (
    MSE_FACTOR,
    MSE_UNIT,
    NARROW,
    in_words,
    narrowly,
    seed_difference,
    seed_summary,
)
from bballs.models import image_to_image
from bballs.models.autoencoders import ENCODER_CHANNELS
from bballs.models.generative import NoiseUNet
from bballs.reporting.autoencoder_text import (
    pca_comparison,
    pca_overtakes,
    per_frame_design_gap,
    pretraining_benefit,
    pretraining_result,
    sweep_steps,
)
from bballs.reporting.generator_text import (
    feature_accuracies,
    generator_goals,
    generator_steps,
    headline,
    seed_texts,
    valid_intervals,
)
from bballs.reporting.tables import declared_tables, markdown_table
from bballs.tasks.autoencoding import AE_RECIPE
from bballs.tasks.image_to_image_study import SHORT_NAMES, SKIP_TITLES
from bballs.tasks.latent_classifiers import (
    FINETUNE_MIN_EPOCHS,
    FINETUNE_RECIPE,
    FINETUNE_STEPS,
    LATENT_RECIPE,
)
from bballs.tasks.latent_space import PROBE_ALPHAS


def tables(lab3: dict) -> dict[str, str]:
    """The declared tables of ``lab3`` and the generated sentences (a sentence never takes a
    table's name: both are looked up in this one mapping)."""
    declared = declared_tables(lab3)
    texts = _sentences(lab3)
    if clash := sorted(declared.keys() & texts.keys()):
        raise ValueError(f"lab3 report: sentences named like tables: {', '.join(clash)}")
    return {**declared, **texts}


def _sentences(lab3: dict) -> dict[str, str]:
    autoencoders = lab3.get("autoencoders") or {}
    return {**_inpaint_frame_psnr(lab3), "data_note": _data_note(lab3),
            "gen_valid_intervals": valid_intervals(lab3),
            "gen_feature_accuracies": feature_accuracies(lab3), "gen_steps": generator_steps(lab3),
            "i2i_skip_flops": skip_flops(), **generator_goals(lab3), **seed_texts(lab3),
            "gen_headline": headline(lab3),
            "ae_pca": pca_comparison(autoencoders),
            "ae_sweep_steps": sweep_steps(autoencoders),
            "ae_pca_overtakes": pca_overtakes(autoencoders),
            "ae_pretraining_result": pretraining_result(autoencoders),
            "ae_pretraining_benefit": pretraining_benefit(autoencoders),
            "ae_design_frame_gap": per_frame_design_gap(autoencoders, 16),
            **_random_holes(lab3.get("image_to_image") or {}),
            "i2i_long_runner_up": _runner_up(lab3.get("image_to_image") or {}),
            "i2i_unstable_after": _unstable_after(lab3.get("image_to_image") or {}),
            "settings_note": _settings_note(lab3),
            **_baseline_words(lab3.get("image_to_image") or {}),
            "i2i_denoise_margins": _denoise_margins(lab3.get("image_to_image") or {}),
            "narrow_factor": f"{NARROW:g}",
            "ae_denoising_lead": _denoising_lead(lab3.get("autoencoders") or {}),
            "ae_widths": " and ".join(str(c) for c in ENCODER_CHANNELS),
            "finetune_rule": _finetune_rule()}


def _random_holes(i2i: dict) -> dict[str, str]:
    """The in-painting networks' MSE inside the random holes (the second test placement) per
    skip type after the main study's and the longer study's epochs: a table in 10⁻³, mean ± std
    over the seeds (``i2i_random_holes_table``), and a sentence with the lowest type against each
    other type (``i2i_random_holes``); both empty without the studies."""
    studies = [(i2i.get("settings", {}).get("epochs"), (i2i.get("skips") or {}).get("inpaint")),
               ((i2i.get("long") or {}).get("settings", {}).get("epochs"),
                ((i2i.get("long") or {}).get("skips") or {}).get("inpaint"))]
    studies = [(epochs, by_skip) for epochs, by_skip in studies if by_skip and epochs is not None]
    if not studies:
        return {"i2i_random_holes": "", "i2i_random_holes_table": ""}
    table: dict[str, dict] = {}
    parts = []
    for epochs, by_skip in studies:
        rows = []
        for skip, entry in by_skip.items():
            runs = [{"value": -run["scores"]["random"]["hole_mse"] * MSE_FACTOR}
                    for run in (entry, *entry.get("repeats", []))]
            summary = seed_summary(runs, ("value",))
            rows.append({"value": summary["value_mean"], "value_std": summary["value_std"],
                         "seeds": len(runs), "title": SKIP_TITLES[skip]})
            table.setdefault(skip, {"skip": SKIP_TITLES[skip]}).update(
                {f"e{epochs}_mean": -summary["value_mean"], f"e{epochs}_std": summary["value_std"]})
        best, *others = sorted(rows, key=lambda r: -r["value"])
        beyond = [other["title"] for other in others if "beyond" in seed_difference(
            best, other, "value", (best["title"], other["title"]))["verdict"]]
        within = [other["title"] for other in others if other["title"] not in beyond]
        parts.append(f"after {epochs} epochs {best['title']} has the lowest MSE"
                     + (f", beyond seed noise of {in_words(beyond)}" if beyond else "")
                     + (f"{' and' if beyond else ','} within seed noise of {in_words(within)}"
                        if within else ""))
    columns = {"skip": "skip type", **{f"e{epochs}": f"after {epochs} epochs"
                                        for epochs, _ in studies}}
    return {"i2i_random_holes": ("Inside the random holes, the other test placement (Table 3.9), "
                                 + "; ".join(parts) + "."),
            "i2i_random_holes_table": markdown_table(
                list(table.values()), columns, decimals={key: 2 for key in columns}),
            }


def _runner_up(i2i: dict) -> str:
    """Per task of the longer study, its best skip type against the second best on the task's
    decisive measure, with the verdict (``i2i_long_runner_up``; the best-against-worst verdicts
    alone would read as a ranking of all three)."""
    long = i2i.get("long") or {}
    rows = [row for table in ("i2i_long_restore", "i2i_long_segment")
            for row in ((i2i.get("tables") or {}).get(table) or {}).get("rows", [])]
    beyond, within = [], []
    for name, gap in (long.get("gaps") or {}).items():
        key = gap["skip_measure"]
        sign = -1 if key == "hole_mse" else 1
        ranked = sorted(({"value": sign * row[f"{key}_mean"], "value_std": row.get(f"{key}_std"),
                          "seeds": row["seeds"], "title": row["skip_title"]}
                         for row in rows if row["task"] == name), key=lambda r: -r["value"])
        if len(ranked) < 2:
            continue
        best, second = ranked[:2]
        verdict = seed_difference(best, second, "value", (best["title"], second["title"]))
        task = SHORT_NAMES.get(name, name)
        if "beyond" in verdict["verdict"]:
            beyond.append(f"{task} ({best['title']} against {second['title']})")
        else:
            within.append(task)
    if not beyond and not within:
        return ""
    lead = (f"Against the second best, the best type leads beyond seed noise for "
            f"{in_words(beyond)}" if beyond else "Against the second best, the best type never "
            "leads beyond seed noise")
    return lead + (f"; for {in_words(within)} the two best are within seed noise." if within
                   else ".")


def _unstable_after(i2i: dict) -> str:
    """The short study's worst in-painting network (inside the centre hole) after the longer
    training: its hole MSE in 10⁻³, mean ± std over the seeds (``i2i_unstable_after``)."""
    worst = (((i2i.get("long") or {}).get("short_gaps") or {}).get("inpaint") or {}).get(
        "skip_worst")
    rows = (((i2i.get("tables") or {}).get("i2i_long_restore")) or {}).get("rows", [])
    row = next((r for r in rows if r["task"] == "inpaint" and r["skip_title"] == worst), None)
    if row is None:
        return ""
    mean, std = MSE_FACTOR * row["hole_mse_mean"], MSE_FACTOR * (row.get("hole_mse_std") or 0)
    return f"{mean:.2f} ± {std:.2f}{MSE_UNIT}"


def _finetune_rule() -> str:
    """How many steps a fine-tuning run takes (:func:`bballs.tasks.latent_classifiers.
    finetune_epochs`), in words (``finetune_rule``)."""
    return (f"Each run aims at about {FINETUNE_STEPS} gradient steps, in at least "
            f"{FINETUNE_MIN_EPOCHS} and at most {FINETUNE_RECIPE.epochs} epochs")


def _recipe(epochs: int, batch_size: int, lr: float) -> str:
    return f"{epochs} epochs of batch {batch_size} at learning rate {power_of_ten(lr)}"


#: The classical baselines in prose, by the method keys the study records.
BASELINE_WORDS = {"input": "the corrupted input unchanged", "median": "a median filter",
                  "gaussian": "a Gaussian filter", "nl_means": "non-local means",
                  "tv": "total-variation denoising",
                  "nearest": "every hole pixel copied from the nearest known pixel",
                  "biharmonic": "biharmonic in-painting, the smoothest surface through the "
                                "known pixels"}


def _denoising_lead(autoencoders: dict) -> str:
    """Where the denoising AE leads the plain AE beyond seed noise (the notebook's words), and
    at which of those noise levels only narrowly (``ae_denoising_lead``)."""
    lead = autoencoders.get("denoising_lead", "")
    narrow = [row["sigma"] for row in (autoencoders.get("noise") or {}).values()
              if row.get("lead_verdict", "").startswith("the denoising AE") and narrowly(
                  row["denoising_psnr_of_mse_mean"] - row["plain_psnr_of_mse_mean"],
                  max(row.get("denoising_psnr_of_mse_std") or 0.0,
                      row.get("plain_psnr_of_mse_std") or 0.0))]
    if not narrow:
        return lead
    return f"{lead} (narrowly at σ = {in_words([f'{s:g}' for s in sorted(narrow)])})"


def _denoise_margins(i2i: dict) -> str:
    """The network against the best filter on each noise, in PSNR of the mean MSE, as a
    sentence (``i2i_denoise_margins``; empty without the headline)."""
    noises = (("denoise_gaussian", "Gaussian noise"), ("denoise_salt_pepper", "salt and pepper"))
    rows = [((i2i.get("headline") or {}).get(key) or {}).get("noisy") for key, _ in noises]
    if not all(rows):
        return ""
    parts = [f"{row['margin']:.1f} dB on {words} (best filter: {row['baseline_title']})"
             for row, (_, words) in zip(rows, noises)]
    if min(row["margin"] for row in rows) > 0:
        return f"The network beats every filter we tried in PSNR, by {in_words(parts)}."
    return f"Network minus best filter in PSNR: {in_words(parts)}."


def _baseline_words(i2i: dict) -> dict[str, str]:
    """The denoising and in-painting baselines the results hold, in words
    (``i2i_denoise_baselines``, ``i2i_inpaint_baselines``), and what the in-painting figure's
    rows show (``i2i_inpaint_rows``: the hole's colour and the baseline row)."""
    tasks = i2i.get("tasks") or {}

    def methods(task: str) -> list[str]:
        conditions = tasks.get(task) or {}
        first = next(iter(conditions.values()), {})
        return [m for m in first if m != "network"]

    inpaint = methods("inpaint")
    grey = "biharmonic" in inpaint  # the study that added it also draws the hole grey
    return {"i2i_denoise_baselines": in_words([BASELINE_WORDS.get(m, m)
                                               for m in methods("denoise_gaussian")]),
            "i2i_inpaint_baselines": in_words([BASELINE_WORDS.get(m, m) for m in inpaint]),
            "i2i_inpaint_rows": ("input (hole drawn grey), network output, biharmonic fill"
                                 if grey else
                                 "input (hole black), network output, nearest-pixel filling")}


def _filter_settings(i2i: dict) -> str:
    """The classical baselines' search grids, in words."""
    def grid(key: str) -> str:
        return ", ".join(f"{v:g}" for v in i2i.get(key, []))

    nl_means = (f"; non-local means h {grid('nl_means_h')} ({i2i['nl_means_patch']}×"
                f"{i2i['nl_means_patch']} patches searched within {i2i['nl_means_distance']} px)"
                if "nl_means_h" in i2i else "")
    tv = f"; total-variation weight {grid('tv_weights')}" if "tv_weights" in i2i else ""
    return (f"filter settings searched (picked on the validation frames): median sizes "
            f"{grid('median_sizes')}; Gaussian σ {grid('gaussian_sigmas')} px{nl_means}{tv}; "
            f"smoothing σ before thresholding {grid('smoothing_sigmas')} px")


def _settings_note(lab3: dict) -> str:
    """The settings the sections leave out, from the code and the results
    (``settings_note``): recipes, search grids, the Fréchet feature CNNs, the noise network."""
    i2i = (lab3.get("image_to_image") or {}).get("settings") or {}
    generative = lab3.get("generative") or {}
    encoder = generative.get("feature_encoder") or {}
    features = (generative.get("budget") or {}).get("features") or {}
    noise_net = {name: p.default for name, p in inspect.signature(NoiseUNet).parameters.items()}
    parts = [f"autoencoders {_recipe(AE_RECIPE.epochs, AE_RECIPE.batch_size, AE_RECIPE.lr)}",
             f"classifiers on frozen codes "
             f"{_recipe(LATENT_RECIPE.epochs, LATENT_RECIPE.batch_size, LATENT_RECIPE.lr)}",
             f"fine-tuned counters at most "
             f"{_recipe(FINETUNE_RECIPE.epochs, FINETUNE_RECIPE.batch_size, FINETUNE_RECIPE.lr)}",
             "ridge strengths searched: " + ", ".join(map(power_of_ten, PROBE_ALPHAS))]
    if i2i:
        parts.append(_filter_settings(i2i))
    if encoder and features:
        parts.append(f"the {encoder['count']} Fréchet feature CNNs: the counting CNN with "
                     f"{encoder['width']} channels in its first layer ({encoder['feature_dim']} "
                     f"features), "
                     f"{_recipe(features['epochs'], features['batch_size'], features['lr'])}")
    parts.append(f"the DDPM's noise network: {noise_net['width']} channels in its first layer, "
                 f"a time embedding of {noise_net['time_dim']} numbers")
    return "Adam without weight decay throughout; " + "; ".join(parts) + "."


def skip_flops() -> str:
    """Each skip type's forward arithmetic on one 32x32 frame at the matched parameter budget
    (the one-channel denoiser; PyTorch's FLOP counter), as a sentence."""
    frame = torch.zeros(1, 1, 32, 32)
    flops = {skip: forward_flops(image_to_image.build(skip), frame) / 1e6
             for skip in ("none", "add", "concat")}
    return (f"Per 32×32 frame the forward pass costs {flops['none']:.1f} million floating-point "
            f"operations without skips, {flops['add']:.1f} with addition and "
            f"{flops['concat']:.1f} with concatenation (PyTorch's FLOP counter, which counts "
            f"convolutions and matrix products, not the additions of a skip).")


def _data_note(lab3: dict) -> str:
    """A sentence for the title block when the lab's sections record different data files
    (empty when they agree)."""
    if len({source.get("digest") for source in section_sources(lab3).values()}) < 2:
        return ""
    return ("The sections ran on different data files: each line above names the sections "
            "that used it (files generated with the same seed by an earlier version of the "
            "generator differ in the last bits of the frames from one CPU kind to another).")


def _inpaint_frame_psnr(lab3: dict) -> dict[str, str]:
    """In words, how the skip types of the longer in-painting study compare on the whole-frame
    PSNR (``i2i_long_inpaint_psnr``): the highest against the lowest, with the seed verdict."""
    table = lab3.get("image_to_image", {}).get("tables", {}).get("i2i_long_restore")
    rows = [r for r in (table or {}).get("rows", []) if r.get("task") == "inpaint"]
    if len(rows) < 2:
        return {}
    ranked = sorted(rows, key=lambda r: r["score_mean"])
    worst, best = ranked[0], ranked[-1]
    verdict = seed_difference(best, worst, "score",
                              (best["skip_title"], worst["skip_title"]))["verdict"]
    return {"i2i_long_inpaint_psnr": (
        f"{best['skip_title']} {best['score_mean']:.2f} ± {best.get('score_std') or 0:.2f} dB "
        f"against {worst['skip_title']} {worst['score_mean']:.2f} ± "
        f"{worst.get('score_std') or 0:.2f} dB, {verdict}")}
