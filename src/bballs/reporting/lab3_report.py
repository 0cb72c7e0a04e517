"""Lab 3's report tables: every table its notebooks declared in ``results/lab3.json``, and the
sentences generated from those tables (``{text[...]}``; :data:`bballs.reporting.report.REPORTS`
names :func:`tables`)."""

from __future__ import annotations

import torch

from bballs.core.parameters import forward_flops
from bballs.data.identity import section_sources
from bballs.metrics import seed_difference
from bballs.models import image_to_image
from bballs.reporting.tables import declared_tables
from bballs.training.loop import optimiser_steps


def tables(lab3: dict) -> dict[str, str]:
    """The declared tables of ``lab3`` and the generated sentences."""
    return {**declared_tables(lab3), **_inpaint_frame_psnr(lab3), "data_note": _data_note(lab3),
            "gen_valid_intervals": _valid_intervals(lab3), "gen_steps": _generator_steps(lab3),
            "i2i_skip_flops": skip_flops(), "gen_goals": _generator_goals(lab3)}


VALID_GOAL, FRECHET_GOAL = 0.85, 3.0  # the goals set for the generators' samples


def _generator_goals(lab3: dict) -> str:
    """Each sampler against the goals set for the generators: a valid share of at least
    :data:`VALID_GOAL` and a Fréchet distance within :data:`FRECHET_GOAL` times the floor, met
    or not (empty where the results lack either score)."""
    generative = lab3.get("generative") or {}
    validity, frechet = generative.get("validity") or {}, generative.get("frechet") or {}
    samplers = [(key, row["set"]) for key, row in frechet.items()
                if key in validity and row.get("fd_over_floor") is not None
                and key not in ("floor", "test")]
    if not samplers:
        return ""

    def verdict(key: str, name: str) -> str:
        valid, ratio = validity[key]["valid"], frechet[key]["fd_over_floor"]
        met = [valid >= VALID_GOAL, ratio <= FRECHET_GOAL]
        word = ("meets both" if all(met) else "meets neither" if not any(met) else
                "meets the validity goal only" if met[0] else "meets the distance goal only")
        return f"the {name} {word} ({valid:.1%} valid, {ratio:.2f}× the floor)"

    return (f"Against the goals set for the generators, at least {VALID_GOAL:.0%} of the samples "
            f"valid and a Fréchet distance within {FRECHET_GOAL:g}× the floor: "
            + "; ".join(verdict(key, name) for key, name in samplers) + ".")


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


def _generator_steps(lab3: dict) -> str:
    """Each generator's optimiser steps, a cost that does not depend on the machine's load, as
    a parenthesis (empty where the results do not say): epochs times the batches of the
    training frames."""
    generative = lab3.get("generative") or {}
    n, budget = (generative.get("frames") or {}).get("train"), generative.get("budget") or {}
    epochs = generative.get("epochs") or {}
    if not n or not all(k in budget for k in ("gan", "diffusion")) or not epochs:
        return ""
    steps = {key: optimiser_steps(epochs[name], n, budget[key]["batch_size"])
             for key, name in (("gan", "dcgan"), ("diffusion", "ddpm"))}
    return (f" In optimiser steps: {steps['gan']:,} for the DCGAN (each updates the "
            f"discriminator, then the generator) and {steps['diffusion']:,} for the DDPM.")


def _valid_intervals(lab3: dict) -> str:
    """The 95 % intervals of the valid shares of the samples and the test frames, as a
    parenthesis (empty where the results hold none): how far a fresh draw of as many samples
    could move each share."""
    validity = (lab3.get("generative") or {}).get("validity") or {}
    named = [("DDPM", "ddpm_ancestral"), ("DCGAN", "dcgan"), ("test frames", "test")]
    parts = [f"{name} {row['valid_low']:.1%} to {row['valid_high']:.1%}" for name, key in named
             if "valid_low" in (row := validity.get(key) or {})]
    if len(parts) < len(named):
        return ""
    n = validity["dcgan"]["n"]
    return f" (95% intervals over {n:,} frames each: {'; '.join(parts)})"


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
