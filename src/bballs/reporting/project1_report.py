"""Project 1's report tables: the replication tables generated from its recipes and model
classes, the tables its notebooks declared in ``results/part1.json`` / ``part2.json``, and the
re-identification paragraph of Task 7 (:data:`bballs.reporting.report.REPORTS` names
:func:`tables`; the second assignment's archive leaves this module out)."""

from __future__ import annotations

import inspect
import re
from collections.abc import Sequence

import torch

from bballs.core.numbers import count_word, power_of_ten
from bballs.core.parameters import count_parameters
from bballs.data import augment as aug
from bballs.models.counter import CountNet
from bballs.models.improved import FrameAutoencoder, FramePredictor
from bballs.models.spec import BallCounter, UNet
from bballs.models.unet_variants import UNetConcat, UNetNoSkip
from bballs.physics_model.physics_encoder import StateEncoder
from bballs.reporting import part1_sentences, part2_sentences
from bballs.reporting.layer_tables import layer_tables
from bballs.reporting.tables import (
    declared_tables,
    markdown_table,
    minus_sign,
    unbroken,
)
from bballs.tasks import part1_task4, part2_recipes, task7_variants
from bballs.tasks.loop_benchmark import training_step_flops
from bballs.tasks.part1_task4 import AE_FRAMES, PRETRAIN_RECIPE
from bballs.training.experiments import Variant, build_model

RECIPE_COLUMNS = {"variant": "variant", "model": "model", "epochs": "epochs", "batch": "batch",
                  "lr": "lr", "schedule": "schedule", "loss": "loss",
                  "augmentation": "augmentation", "pre-training": "pre-training"}
MODEL_COLUMNS = {"model": "model", "what": "what it is", "settings": "settings",
                 "parameters": "params"}


def _code_tables() -> dict[str, str]:
    """Replication tables generated from the recipes and model classes in the code."""
    task7 = {k: v for k, v in RECIPE_COLUMNS.items() if k != "pre-training"}
    counters = {v.model for v in part1_task4.TASK4.variants} - {BallCounter, CountNet}
    classes = [BallCounter, CountNet, *sorted(counters, key=lambda c: c.__name__),
               FrameAutoencoder, UNet, UNetNoSkip, UNetConcat,
               FramePredictor, *{v.model for v in part2_recipes.TASK7.variants} - {
                   UNet, FramePredictor}, StateEncoder]
    return {
        "recipes_task4": markdown_table(recipe_rows(part1_task4.TASK4.variants), RECIPE_COLUMNS),
        "recipes_task7": markdown_table(
            recipe_rows(part2_recipes.TASK5.variants + part2_recipes.TASK7.variants), task7),
        "models": markdown_table(model_rows(classes), MODEL_COLUMNS),
        "procedures": markdown_table(procedure_rows(), {"name": "name", "what": "what it does"}),
        **layer_tables(),
    }


def tables(part1: dict, part2: dict) -> dict[str, str]:
    """Markdown tables of the report: the replication tables from the code, then every table
    the notebooks declared in the results (one missing from the results is left out, so its
    placeholder is reported as missing)."""
    tables = {**_code_tables(), **declared_tables(part1), **declared_tables(part2)}
    variants = part2.get("task7_variants") or {}
    texts = {"task7_reidentified_text": _reidentified(part2.get("task7_reidentified") or {}),
             **_transfer(variants), **_outside_family(variants),
             "task7_fixed_gate": _fixed_gate(variants.get("summary")),
             "task7_gate_vs_physics": _gate_vs_physics(variants.get("rows") or []),
             "task7_variant_names": _variant_names(variants.get("rows") or []),
             "task7_step_cost": step_cost(), **_heldout(part1.get("improved") or {}),
             **part1_sentences.sentences(part1), **part2_sentences.sentences(part2)}
    if clash := sorted(tables.keys() & texts.keys()):
        raise ValueError(f"report: sentences named like tables: {', '.join(clash)}")
    return {**tables, **texts}


def step_cost(batch_size: int = 4) -> str:
    """How much arithmetic one optimiser step of the learnt network (Task 6 budget) takes
    against one of the baseline U-Net, both at ``batch_size`` (PyTorch's FLOP counter, forward
    and backward, on random frames: the cost does not depend on the data)."""
    frames = torch.rand(2, batch_size, 5, 32, 32, generator=torch.Generator().manual_seed(0))
    learnt, baseline = (training_step_flops(model, *frames) / 1e9 for model in (
        build_model(part2_recipes.TASK7_LONG, 0), UNet()))
    return (f"One optimiser step of batch {batch_size} costs the learnt network "
            f"{learnt:.2f} GFLOP and the baseline U-Net {baseline:.2f} GFLOP (forward and "
            f"backward, PyTorch's FLOP counter): the Task 6 budget equalises steps, not "
            f"arithmetic ({learnt / baseline:.1f}× as much).")


def _heldout(improved: dict) -> dict[str, str]:
    """The selected Task 4 model's accuracy under the held-out shifts (the selection score),
    mean ± std over its seeds (``task4_heldout``), from its row of the recipe table."""
    row = (improved.get("by_variant") or {}).get(improved.get("model"))
    if not row or row.get("heldout_val_accuracy_mean") is None:
        return {}
    return {"task4_heldout": f"{row['heldout_val_accuracy_mean']:.1%} ± "
                             f"{row.get('heldout_val_accuracy_std') or 0:.1%}"}


def _outside_family(record: dict) -> dict[str, str]:
    """The physics model against the learnt network on the generator variants its hypotheses
    do not cover (names ending in "(outside)"), both unchanged (``task7_outside``)."""
    rows = [r for r in record.get("table", []) if r["variant"].endswith("(outside)")]
    if not rows:
        return {"task7_outside": ""}
    physics = " and ".join(f"{r['physics_psnr_of_mse']:.2f}" for r in rows)
    learnt = " and ".join(f"{r['learnt_psnr_of_mse']:.2f}" for r in rows)
    return {"task7_outside": (
        f" On the {count_word(len(rows))} "
        f"generator{'s' if len(rows) > 1 else ''} outside that family it "
        f"scores {physics} dB, against {learnt} dB for the learnt network.")}


def _transfer(record: dict) -> dict[str, str]:
    """Where the physics model, applied unchanged to a generator variant, falls below the learnt
    network (PSNR of the mean MSE) and where it stays ahead: a sentence (``task7_transfer``) and
    the count in words (``task7_transfer_count``, "6 of the 10"). Each variant ran once, so the
    sentence ranks nothing and says so."""
    rows = [r for r in record.get("table", []) if r["variant"] != "ours"]
    if not rows:
        return {"task7_transfer": "", "task7_transfer_count": "none"}
    gaps = {r["variant"]: r["physics_psnr_of_mse"] - r["learnt_psnr_of_mse"] for r in rows}
    below = [name for name, gap in gaps.items() if gap < 0]
    ahead = [name for name, gap in gaps.items() if gap >= 0]
    count = f"{len(below)} of the {len(rows)}"
    text = f"On {count} variants the physics model alone falls below the learnt network"
    if below:
        worst = min(gaps.values())
        text += f", by up to {-worst:.2f} dB of PSNR of the mean MSE: {'; '.join(below)}"
    text += "."
    if ahead:
        text += f" On the other {count_word(len(ahead))} it stays ahead."
    text += " Each variant ran once, so by our rule none of these gaps is established."
    return {"task7_transfer": text, "task7_transfer_count": count}


def _fixed_gate(summary: dict | None) -> str:
    """A sentence on the variants' gated system kept at the threshold chosen on our own files
    (empty where the variant rows do not hold it)."""
    gap = (summary or {}).get("vs_learnt_fixed_gate_psnr_of_mse")
    if gap is None:
        return ""
    return (" Kept at the threshold chosen on our files instead, it differs from the learnt "
            f"network by at worst {minus_sign(f'{gap:+.2f}')} dB.")


def _gate_vs_physics(rows: list[dict]) -> str:
    """Where the gated system falls furthest below the physics model alone (PSNR of the mean
    MSE), as a sentence; empty without rows."""
    gaps = [(r["final_system"]["psnr_of_mse"] - r["physics_model"]["psnr_of_mse"], r["variant"])
            for r in rows]
    if not gaps:
        return ""
    gap, name = min(gaps)
    if gap >= 0:
        return " It never falls below the physics model alone."
    return (f" Against the physics model alone it loses up to {-gap:.2f} dB, on "
            f"\"{task7_variants.variant_title(name)}\", where the gate hands the learnt network "
            f"sequences that the physics model predicts better.")


def _variant_names(rows: list[dict]) -> str:
    """How many generator variants were benchmarked (our own generator left out) and which."""
    names = [task7_variants.variant_title(r["variant"]) for r in rows if r["variant"] != "ours"]
    return (f"{count_word(len(names))} variants of our generator "
            f"({'; '.join(names)})" if names else "no variant of our generator")


def _reidentified(record: dict) -> str:
    """The re-identification benchmark in one paragraph (its table is notebook 02's), or a line
    saying how to compute it."""
    if not record.get("rows"):
        return ("*Not computed for these files: `python -m bballs bench-physics --variants` "
                "identifies the physics model on each variant; notebook 02 then shows it.*")
    s = record["summary"]
    config = task7_variants.reidentify_config()
    return (
        f"Identified again on each variant's own {record['training_sequences']:,} training "
        f"sequences (a smaller budget: {config.sysid_sequences} for system identification, "
        f"{config.encoder.epochs} encoder epochs; {record['sequences']:,} sequences scored; "
        f"the variants above), the physics model reads each world from its frames. "
        f"{_met(s)}{_lowest(s)}{_ceilings(s)}. {_against_learnt(s)}"
        f"{_gate_vs_physics(record['rows'])}")


def _lowest(summary: dict) -> str:
    """The lowest PSNR of the mean MSE and SSIM within the family, with their variants."""
    db = f"{summary['inside_min_psnr_of_mse']:.2f} dB"
    ssim = f"SSIM {summary['inside_min_ssim']:.4f}"
    worst, worst_ssim = summary["inside_worst_variant"], summary.get("inside_min_ssim_variant")
    if worst_ssim in (None, worst):
        return f"Its lowest scores within the family, {db} and {ssim}, are both on \"{worst}\""
    return (f"Its lowest scores within the family are {db} on \"{worst}\" and {ssim} on "
            f"\"{worst_ssim}\"")


def _met(summary: dict) -> str:
    """How many variants within the family meet the targets (older records: nothing)."""
    if "inside_met" not in summary:
        return ""
    missed = summary.get("inside_missed") or []
    names = (f" (not reached: {', '.join(task7_variants.variant_title(n) for n in missed)})"
             if missed else "")
    target_ssim, target_db = task7_variants.TARGET_SSIM, task7_variants.TARGET_PSNR_OF_MSE
    return (f"{summary['inside_met']} of the {summary['inside_variants']} other generators "
            f"within the family reach both targets set before this benchmark ran (SSIM within "
            f"{1 - target_ssim:.2f}, MSE within {power_of_ten(10 ** (-target_db / 10))} of a "
            f"perfect forecast's){names}. ")


def _against_learnt(summary: dict) -> str:
    """The gated system's smallest gain over the learnt network, in words."""
    ssim, db = summary["vs_learnt_ssim"], summary["vs_learnt_psnr_of_mse"]
    if ssim >= 0 and db >= 0:
        return (f"On every variant the gated system scores at least as well as the learnt "
                f"network, which was not trained again (smallest gains {ssim:+.4f} SSIM and "
                f"{db:+.2f} dB).")
    return (f"The gated system falls below the learnt network, which was not trained again, "
            f"by up to {min(ssim, 0):+.4f} SSIM and {min(db, 0):+.2f} dB.")


def _ceilings(summary: dict) -> str:
    """Where stored frames lose information: what a perfect forecast (the frames as rendered
    before the noise, scored against the frames as stored) scores, as a clause."""
    named = [(c, task7_variants.variant_title(c["variant"]))
             for c in summary.get("ceilings", []) if c["psnr_of_mse"] < 60]
    parts = [f"{c['psnr_of_mse']:.2f} dB and SSIM {c['ssim']:.4f}"
             + ("" if title == summary.get("inside_worst_variant") else f" on \"{title}\"")
             for c, title in named]
    return f", where a perfect forecast scores {'; '.join(parts)}" if parts else ""


def recipe_rows(variants: Sequence[Variant]) -> list[dict]:
    """Every hyper-parameter of each recipe, read from the variants themselves (for the report's
    replication tables; :func:`procedure_rows` spells out the augmentations and pre-training)."""
    return [{"variant": v.title, "model": model_title(v.model), "epochs": v.recipe.epochs,
             "batch": v.recipe.batch_size, "lr": power_of_ten(v.recipe.lr),
             "schedule": "cosine" if v.schedule else "constant",
             "loss": unbroken(LOSS_WORDS.get(v.loss.__name__, v.loss.__name__)),  # one line
             "augmentation": aug.short_name(v.augment),
             "pre-training": "autoencoder" if v.pretrained else "none",
             "labels": f"{v.label_fraction:.0%}"} for v in variants]


#: A recipe's loss class in words.
LOSS_WORDS = {"CrossEntropyLoss": "cross-entropy", "BCELoss": "binary cross-entropy",
              "BCEWithLogitsLoss": "binary cross-entropy", "MSELoss": "MSE", "L1Loss": "L1"}
MODEL_TITLES = {"BallCounter": "baseline CNN", "UNet": "baseline U-Net",
                "UNetNoSkip": "U-Net without skips", "UNetConcat": "U-Net, concatenation skips",
                "NormalisedCountNet": "normalised CountNet", "DensityCountNet": "density counter",
                "FramePredictor": "frame predictor",
                "PhysicsPriorPredictor": "physics-prior predictor",
                "FrameAutoencoder": "frame autoencoder", "StateEncoder": "state encoder",
                "FrameStandardiser": "standardiser that divides each frame by its brightest pixel"}
#: A model's constructor arguments in words (the report's model table): a phrase around the
#: value, and for a yes/no argument the phrase for each answer.
SETTING_WORDS = {"n_classes": "{} output classes", "in_frames": "{} input frames",
                 "out_frames": "{} output frames", "n_frames": "{} input frames",
                 "width": "{} channels in the first layer",
                 "widths": "{} channels per level",
                 "sharpness": "class k scored −{}·(count − k)²"}
SETTING_CHOICES = {"prior": ("with the physics prior", "without the physics prior")}


def model_title(model: type) -> str:
    """A model class's name in words (the class name where it is already a word)."""
    return MODEL_TITLES.get(model.__name__, model.__name__)


def procedure_rows() -> list[dict]:
    """What each part of the augmentations and the autoencoder pre-training do, with their
    settings (a recipe's augmentation names the parts it combines)."""
    rows = [{"name": name, "what": what} for name, what in aug.building_blocks()]
    rows.append({"name": "autoencoder", "what": (
        f"a frame autoencoder trained to reconstruct {AE_FRAMES:,} single frames of the Part 2 "
        f"training split (MSE, Adam lr 10⁻³, batch {PRETRAIN_RECIPE.batch_size}, "
        f"{PRETRAIN_RECIPE.epochs} epochs); its encoder initialises CountNet's convolutional "
        "layers")})
    return rows


def _first_line(doc: str | None) -> str:
    return doc.strip().splitlines()[0] if doc and doc.strip() else ""


def plain_text(text: str) -> str:
    """Docstring markup as plain words: ``:class:`~a.b.Name``` -> the model's name in words,
    ````x```` -> x, and the specification's tables as the assignment's ("Table 2" -> "the
    assignment's Table 2"), so they are not read as the report's own."""
    text = re.sub(r":\w+:`~?(?:[\w]+\.)*([^`]+)`",
                  lambda m: MODEL_TITLES.get(m.group(1), m.group(1)), text)
    text = re.sub(r"\bTable (\d+)'s\b", r"the assignment's Table \1", text.replace("``", ""))
    text = re.sub(r"^Table (\d)", r"the assignment's Table \1", text)
    return text[:1].upper() + text[1:]


def _setting(name: str, value) -> str:
    """A constructor argument in words: ``in_frames=5`` -> "5 input frames"."""
    if name in SETTING_CHOICES:
        return SETTING_CHOICES[name][0 if value else 1]
    if isinstance(value, tuple):
        value = ", ".join(map(str, value))
    return SETTING_WORDS.get(name, name.replace("_", " ") + " {}").format(value)


def model_rows(classes: Sequence[type]) -> list[dict]:
    """Each model class: what it is (its docstring's first line), its constructor's defaults
    (widths, ...) and its parameter count."""
    rows = []
    for cls in classes:
        defaults = "; ".join(_setting(name, p.default) for name, p in
                             inspect.signature(cls).parameters.items()
                             if p.default is not inspect.Parameter.empty)
        rows.append({"model": model_title(cls), "what": plain_text(_first_line(cls.__doc__)),
                     "settings": defaults or "-", "parameters": count_parameters(cls())})
    return rows
