"""Notebook 03 (Proposal 1): train the autoencoders and score them.

Every autoencoder is trained unsupervised on the training frames with the L2 loss by
:func:`bballs.training.loop.fit` and checkpointed as ``checkpoints/lab3/ae_<name>.pt``; runs are
shared between studies (the l=16 transposed, noise-free AE of the latent sweep is also the
design point and the plain AE of the denoising study). Every choice is made on the validation
frames; the test frames are only scored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from bballs.core.files import OutputPaths
from bballs.data.frames import FrameData, FrameSet
from bballs.data.noise import unclipped_noise
from bballs.image_metrics import reconstruction_scores
from bballs.metrics import (
    MSE_FACTOR,
    seed_difference,
    seed_row,
    verdict_summary,
)
from bballs.models.autoencoders import Autoencoder
from bballs.tasks.autoencoder_verdicts import (
    denoising_lead,
    percent,
    pretraining_verdict,
    share_of_labels,
)
from bballs.training.checkpoints import TrainedModel
from bballs.training.loop import TrainConfig, fit, predict, seed_everything

LATENT_SIZES = (2, 4, 8, 16, 32, 64, 128, 256)
DESIGN_LATENTS = (16, 64)  # transposed vs bilinear upsampling at these sizes
N_SEEDS = 3  # seeds of the latent sweep, the upsampling study and their classifiers (quick: 1)
BASE_LATENT = 16  # the shared design point (transposed, no noise)
TRAIN_NOISE = 0.2  # std of the denoising AE's input noise
NOISE_LEVELS = (0.0, 0.1, 0.2, 0.3, 0.5)
TSNE_LATENT = 32


AE_RECIPE = TrainConfig(epochs=6, batch_size=64, lr=2e-3)


def reconstruction_loss(model: nn.Module, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
    """The L2 (mean squared error) loss of the reconstruction against the clean input."""
    x = batch[0]
    return F.mse_loss(model(x), x)


def ae_name(latent: int, upsampling: str = "transposed", noise_std: float = 0.0) -> str:
    """The run name of an autoencoder, e.g. ``ae_l16_transposed`` or ``ae_l16_transposed_n0.2``."""
    return f"ae_l{latent}_{upsampling}" + (f"_n{noise_std:g}" if noise_std else "")


@dataclass
class TrainedAE(TrainedModel):
    """A trained autoencoder (:class:`TrainedModel`) with a cache of its latent codes."""

    model: Autoencoder
    codes: dict = field(default_factory=dict, repr=False)  # cache of split_codes


def train_autoencoder(data: FrameData, paths: OutputPaths, latent: int, *,
                      upsampling: str = "transposed", noise_std: float = 0.0, quick: bool = False,
                      seed: int = 0, device=None) -> TrainedAE:
    """Train (or reuse the checkpoint of) one autoencoder on the training frames; the run name
    carries the seed when it is not 0 (``ae_l16_transposed_seed1``)."""
    name = ae_name(latent, upsampling, noise_std) + (f"_seed{seed}" if seed else "")
    seed_everything(seed)
    model = Autoencoder(latent, upsampling, noise_std)
    tag = f"{upsampling},noise{noise_std:g}"
    history = fit(model, (data.train.frames,), (data.val.frames,), reconstruction_loss,
                  AE_RECIPE.for_run(seed, quick, tag), checkpoint=paths.checkpoint(f"lab3/{name}"),
                  device=device, desc=name)
    return TrainedAE(name, model.eval(), history)


def run_specs(latents: Sequence[int] = LATENT_SIZES, denoising: bool = True
              ) -> list[tuple[int, str, float]]:
    """Every (latent, upsampling, noise std) trained: the sweep, the bilinear design points and
    (with ``denoising``) the denoising AE, each once."""
    specs = [(latent, "transposed", 0.0) for latent in latents]
    specs += [(latent, "bilinear", 0.0) for latent in DESIGN_LATENTS]
    return specs + ([(BASE_LATENT, "transposed", TRAIN_NOISE)] if denoising else [])


def train_all(data: FrameData, paths: OutputPaths, *, quick: bool = False, seed: int = 0,
              device=None, denoising: bool = True) -> dict[str, TrainedAE]:
    """Train every autoencoder of the notebook; returns them by :func:`ae_name`."""
    return {ae_name(latent, upsampling, noise): train_autoencoder(
                data, paths, latent, upsampling=upsampling, noise_std=noise, quick=quick,
                seed=seed, device=device)
            for latent, upsampling, noise in run_specs(denoising=denoising)}


def train_repeats(data: FrameData, paths: OutputPaths, *, quick: bool = False, seed: int = 0,
                  device=None) -> list[dict[str, TrainedAE]]:
    """Every autoencoder again (the sweep, the upsampling study and the denoising AE) for seeds
    ``seed + 1`` .. (quick: none)."""
    return [train_all(data, paths, quick=quick, seed=extra, device=device)
            for extra in range(seed + 1, seed + (1 if quick else N_SEEDS))]


def latent_sweep(runs: dict[str, TrainedAE]) -> dict[int, TrainedAE]:
    """The plain (transposed, noise-free) autoencoders by latent size."""
    return {latent: runs[ae_name(latent)] for latent in LATENT_SIZES if ae_name(latent) in runs}


def encode(model: Autoencoder, frames: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
    """Latent codes (N, l) of frames, in evaluation mode, on the CPU."""
    return predict(model, frames, batch_size, forward=model.encode).cpu()


@torch.no_grad()
def decode(model: Autoencoder, codes: torch.Tensor) -> torch.Tensor:
    """Frames (N, 1, 32, 32) decoded from latent codes, on the CPU."""
    model.eval()
    device = next(model.parameters()).device
    return model.decode(codes.float().to(device)).cpu()


def split_codes(run: TrainedAE, data: FrameData) -> dict[str, torch.Tensor]:
    """Latent codes of the train / val / test frames, computed once per run and data."""
    key = id(data)
    if key not in run.codes:
        run.codes[key] = {split: encode(run.model, getattr(data, split).frames)
                          for split in ("train", "val", "test")}
    return run.codes[key]


def score(model: Autoencoder, frames: torch.Tensor, noise_std: float = 0.0,
          seed: int = 0) -> dict[str, float]:
    """MSE, mean per-frame PSNR and PSNR of the mean MSE of the reconstructions of (optionally
    corrupted) frames against the clean frames."""
    inputs = unclipped_noise(frames, noise_std, seed) if noise_std else frames
    return reconstruction_scores(predict(model, inputs).cpu(), frames)


def _run_row(run: TrainedAE) -> dict:
    return {"parameters": run.parameters, "epochs": run.history.epochs_done,
            "train_seconds": run.train_seconds, "val_mse": run.history.val_loss[-1]}


SCORES = ("mse", "psnr", "psnr_of_mse", "val_mse", "train_seconds")


def sweep_rows(runs: dict[str, TrainedAE], test: FrameSet,
               repeats: Sequence[dict[str, TrainedAE]] = ()) -> list[dict]:
    """One row per latent size: test MSE / PSNR, validation MSE, parameters, training time;
    with ``repeats`` (the runs of further seeds) each score is a mean ± std over the seeds."""
    return [_over_seeds(ae_name(latent), runs, repeats, test, latent=latent)
            for latent in latent_sweep(runs)]


def design_rows(runs: dict[str, TrainedAE], test: FrameSet,
                repeats: Sequence[dict[str, TrainedAE]] = ()) -> list[dict]:
    """Transposed convolution vs bilinear upsampling + convolution at the design latent sizes,
    over the seeds of ``runs`` and ``repeats`` like :func:`sweep_rows`."""
    return [_over_seeds(ae_name(latent, upsampling), runs, repeats, test, latent=latent,
                        upsampling=upsampling)
            for latent in DESIGN_LATENTS for upsampling in ("transposed", "bilinear")]


def _over_seeds(name: str, runs: dict[str, TrainedAE], repeats: Sequence[dict[str, TrainedAE]],
                test: FrameSet, **fields) -> dict:
    """``fields`` and the test scores and run record of autoencoder ``name``, mean ± std over
    the seeds of ``runs`` and ``repeats``."""
    return seed_row([{**fields, **score(seed_runs[name].model, test.frames),
                      **_run_row(seed_runs[name])} for seed_runs in (runs, *repeats)], SCORES)


def input_scores(test: FrameSet, level: float, seed: int = 0) -> dict[str, float] | None:
    """Scores of the noisy input itself against the clean test frames (``None`` at level 0:
    the input is then the clean frame)."""
    if not level:
        return None
    return reconstruction_scores(unclipped_noise(test.frames, level, seed), test.frames)


def noise_rows(runs: dict[str, TrainedAE], test: FrameSet, levels: Sequence[float] = NOISE_LEVELS,
               seed: int = 0, repeats: Sequence[dict[str, TrainedAE]] = ()) -> list[dict]:
    """MSE, PSNR of the mean MSE and mean per-frame PSNR against the clean test frames of the
    noisy input itself, the plain AE and the denoising AE, for inputs corrupted at each noise
    level (the same noise for all); the input's scores are ``None`` at level 0. With
    ``repeats`` (further seeds) each AE's scores are a mean ± std over the seeds, and
    ``lead_verdict`` says whether the denoising AE leads (:func:`seed_difference`)."""
    names = {"plain": ae_name(BASE_LATENT),
             "denoising": ae_name(BASE_LATENT, noise_std=TRAIN_NOISE)}
    rows = []
    for level in levels:
        noisy = unclipped_noise(test.frames, level, seed) if level else test.frames
        row = {"sigma": float(level), **_input_fields(input_scores(test, level, seed))}
        arms = {}
        for key, name in names.items():
            per_seed = [reconstruction_scores(predict(seed_runs[name].model, noisy).cpu(),
                                              test.frames) for seed_runs in (runs, *repeats)]
            arms[key] = seed_row(per_seed, list(per_seed[0]))
            row.update({f"{key}_{field}": value for field, value in arms[key].items()
                        if field != "seeds"})
        row["seeds"] = arms["plain"]["seeds"]
        row["lead_verdict"] = seed_difference(arms["denoising"], arms["plain"], "psnr_of_mse",
                                              ("the denoising AE", "the plain AE"))["verdict"]
        rows.append(row)
    return rows


def _input_fields(scores: dict[str, float] | None) -> dict[str, float | None]:
    return {f"input_{name}": scores[name] if scores else None
            for name in ("psnr", "psnr_of_mse", "mse")}


def run_rows(runs: dict[str, TrainedAE]) -> list[dict]:
    """One row per trained autoencoder: parameters, epochs, training time, final val MSE."""
    return [{"run": run.name, "autoencoder": describe_run(run), "latent": run.model.latent,
             "upsampling": run.model.upsampling, "noise": run.model.noise.std, **_run_row(run)}
            for run in runs.values()]


def describe_run(run: TrainedAE) -> str:
    """An autoencoder in words for tables: ``l = 16, transposed, denoising (σ = 0.2)``."""
    model = run.model
    noise = f", denoising (σ = {model.noise.std:g})" if model.noise.std else ""
    return f"l = {model.latent}, {model.upsampling}{noise}"


PSNR_OF_MSE = "PSNR of the mean MSE (dB)"
FRAME_PSNR = "mean per-frame PSNR (dB)"
TABLE_COLUMNS = {
    "ae_runs": {"autoencoder": "autoencoder", "parameters": "parameters", "epochs": "epochs",
                "train_seconds": "training (s)", "val_mse": "val. MSE (×10⁻³)"},
    "ae_sweep": {"latent": "latent l", "parameters": "parameters", "mse": "test MSE (×10⁻³)",
                 "psnr_of_mse": PSNR_OF_MSE, "psnr": FRAME_PSNR, "pca_psnr_of_mse": "PCA (dB)"},
    "ae_design": {"latent": "latent l", "upsampling": "upsampling", "parameters": "parameters",
                  "mse": "test MSE (×10⁻³)", "psnr_of_mse": PSNR_OF_MSE, "psnr": FRAME_PSNR,
                  "train_seconds": "training (s)"},
    "ae_noise": {"sigma": "test noise σ", "input_psnr_of_mse": "noisy input (dB)",
                 "plain_psnr_of_mse": "plain AE (dB)",
                 "denoising_psnr_of_mse": "denoising AE (dB)"},
    "ae_classification": {"latent": "latent l", "linear_val_accuracy": "linear val. (%)",
                          "linear_test_accuracy": "linear test (%)",
                          "mlp_val_accuracy": "MLP val. (%)", "mlp_test_accuracy": "MLP test (%)"},
    "ae_pretraining": {"percent_labels": "labels (%)", "labels": "labels", "steps": "steps",
                       "scratch_head": "head, scratch", "scratch_test": "scratch, test (%)",
                       "pretrained_head": "head, pre-trained",
                       "pretrained_test": "pre-trained, test (%)", "gain": "gain (points)"},
    "ae_head": {"head": "head", "labels": "labels", "steps": "gradient steps", "seeds": "seeds",
                "scratch_test": "from scratch, test (%)",
                "pretrained_test": "pre-trained, test (%)", "gain": "gain (points)"},
    "ae_probe": {"features": "features", "dims": "dims", "position_test_r2": "1-ball (x, y) R²",
                 "occupancy_test_r2": "4×4 occupancy R²",
                 "position_ridge": "ridge strength, positions",
                 "occupancy_ridge": "ridge strength, occupancy"},
}
PERCENT = {"ae_classification": ["linear_val_accuracy", "linear_test_accuracy",
                                 "mlp_val_accuracy", "mlp_test_accuracy"],
           "ae_pretraining": ["scratch_test", "pretrained_test", "gain"],
           "ae_head": ["scratch_test", "pretrained_test", "gain"]}


POWERS = {"ae_probe": ["position_ridge", "occupancy_ridge"]}  # ridge strengths: 10⁻³ … 10¹


def table_rows(name: str, rows: list[dict]) -> list[dict]:
    """The rows of table ``name`` as the report shows them: a mean and its std over the seeds
    in one cell (``mean ± std``, from ``<metric>_mean`` and ``<metric>_std``), the ridge
    strength of a probe under its own column (shown as a power of ten); other fields unchanged."""
    if name in ("ae_pretraining", "ae_head"):
        return [{**row, "scratch_test_mean": row["scratch_test_accuracy"],
                 "pretrained_test_mean": row["pretrained_test_accuracy"],
                 "gain_mean": row["gain"], "percent_labels": percent(row["fraction"])}
                for row in rows]
    if name == "ae_probe":
        return [{**row, **{f"{key}_ridge": row[f"{key}_alpha"]
                           for key in ("position", "occupancy")}} for row in rows]
    return rows


#: Every MSE is shown in thousandths with two decimals (3.93 ± 0.28), in every table alike.
MSE_FIELDS = ("mse", "val_mse")


def table(name: str, rows: list[dict]) -> dict:
    """Table ``name`` as declared in the results (rendered by
    :func:`bballs.reporting.tables.declared_table`): rows, columns, percent fields, and each MSE
    column in :data:`bballs.metrics.MSE_UNIT` with two decimals."""
    mse = [field for field in MSE_FIELDS if field in TABLE_COLUMNS[name]]
    return {"rows": table_rows(name, rows), "columns": TABLE_COLUMNS[name],
            "percent": PERCENT.get(name, []), "scale": {field: MSE_FACTOR for field in mse},
            "decimals": {field: 2 for field in mse}, "powers": POWERS.get(name, [])}


def _keyed(rows: list[dict], key) -> dict[str, dict]:
    return {key(row): row for row in rows}


def section(rows: dict[str, list[dict]], *, chosen_latent: int, quick: bool,
            seconds: dict[str, float]) -> dict:
    """The notebook's ``lab3.json`` section: every table (under ``tables``), the rows keyed for
    the report's placeholders and a few derived numbers."""
    by_latent = _keyed(rows["ae_sweep"], lambda r: f"l{r['latent']}")
    classification = _keyed(rows["ae_classification"], lambda r: f"l{r['latent']}")
    best = max(rows["ae_sweep"], key=lambda r: r["psnr"])
    best_of_mse = max(rows["ae_sweep"], key=lambda r: r["psnr_of_mse"])
    pretraining = _keyed(rows["ae_pretraining"], lambda r: f"pct{percent(r['fraction'])}")
    shares = [r["fraction"] for r in rows["ae_pretraining"]]
    gains = [r["gain"] for r in rows["ae_pretraining"]]
    design = _keyed(rows["ae_design"], lambda r: f"l{r['latent']}_{r['upsampling']}")
    head = _keyed(rows["ae_head"], lambda r: "norm" if r["head"].startswith("batch") else "plain")
    return {
        "quick": quick, "n_autoencoders": len(rows["ae_runs"]),
        "epochs": AE_RECIPE.for_run(0, quick).epochs, "latent_sizes": list(LATENT_SIZES),
        "base_latent": BASE_LATENT, "train_noise": TRAIN_NOISE, "tsne_latent": TSNE_LATENT,
        "sweep": by_latent, "sweep_spread": max(r.get("psnr_of_mse_std") or 0.0
                                                for r in rows["ae_sweep"]),
        "best_psnr": {"latent": best["latent"], "psnr": best["psnr"]},
        "best_psnr_of_mse": {"latent": best_of_mse["latent"],
                             "psnr_of_mse": best_of_mse["psnr_of_mse"]}, "design": design,
        "design_gap": {f"l{latent}": seed_difference(design[f"l{latent}_bilinear"],
                                                     design[f"l{latent}_transposed"],
                                                     "psnr_of_mse", ("bilinear", "transposed"))
                       for latent in DESIGN_LATENTS},
        "noise": _keyed(rows["ae_noise"], lambda r: f"sigma{round(100 * r['sigma'])}"),
        "denoising_lead": denoising_lead(rows["ae_noise"]),
        "classification": classification,
        "best_linear": max(rows["ae_classification"], key=lambda r: r["linear_test_accuracy"]),
        "best_mlp": max(rows["ae_classification"], key=lambda r: r["mlp_test_accuracy"]),
        "pretraining_latent": chosen_latent, "pretraining": pretraining,
        "label_shares": f"{percent(min(shares))}–{percent(max(shares))}%" if shares else "",
        "pretraining_gain": {"max": max(gains), "min": min(gains), "mean": float(np.mean(gains)),
                             "max_points": 100 * max(gains)},
        "pretraining_points": {key: {"gain": 100 * row["gain"], "gain_std": 100 * row["gain_std"]}
                               for key, row in pretraining.items()},  # accuracy points
        "pretraining_verdict": {key: pretraining_verdict(row) for key, row in pretraining.items()},
        "pretraining_verdicts": verdict_summary(  # the same, in one sentence
            {share_of_labels(row): pretraining_verdict(row) for row in pretraining.values()},
            "with"),
        "head": head,
        "head_verdict": {key: pretraining_verdict(row) for key, row in head.items()},
        "probe": _keyed(rows["ae_probe"], lambda r: r["features"].replace("latent ", "l")),
        "probe_available": bool(rows["ae_probe"]), "seconds": seconds,
        "tables": {name: table(name, named) for name, named in rows.items()},
    }
