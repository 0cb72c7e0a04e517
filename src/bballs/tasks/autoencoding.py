"""Notebook 03 (Proposal 1): train the autoencoders and score them.

Every autoencoder is trained unsupervised on the training frames with the L2 loss by
:func:`bballs.training.loop.fit` and checkpointed as ``checkpoints/lab3/ae_<name>.pt``; runs are
shared between studies (the l=16 transposed, noise-free AE of the latent sweep is also the
design point and the plain AE of the denoising study). Every choice is made on the validation
frames; the test frames are only scored.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.linear_model import Ridge
from sklearn.manifold import TSNE
from sklearn.metrics import r2_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from torch import nn

from bballs.core.files import OutputPaths, read_results
from bballs.data.frames import FrameData, FrameSet
from bballs.metrics import reconstruction_scores
from bballs.models.autoencoders import Autoencoder, EncoderClassifier, LatentClassifier
from bballs.models.spec import count_parameters
from bballs.training.loop import (
    History,
    Supervised,
    TrainConfig,
    evaluate,
    fit,
    predict,
    seed_everything,
)

LATENT_SIZES = (2, 4, 8, 16, 32, 64, 128, 256)
DESIGN_LATENTS = (16, 64)  # transposed vs bilinear upsampling at these sizes
BASE_LATENT = 16  # the shared design point (transposed, no noise)
TRAIN_NOISE = 0.2  # std of the denoising AE's input noise
NOISE_LEVELS = (0.0, 0.1, 0.2, 0.3, 0.5)
LABEL_FRACTIONS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0)
TSNE_LATENT = 32
MLP_HIDDEN = (64, 64)
PROBE_ALPHAS = (1e-3, 1e-1, 10.0)
OCCUPANCY_CELLS = 4  # the probe's coarse grid: 4x4 cells of 2.5x2.5 box units
BOX_SIZE = 10.0


@dataclass(frozen=True)
class Recipe:
    """Epochs, batch size and learning rate of one kind of run (quick mode: 1 epoch)."""

    epochs: int
    batch_size: int
    lr: float

    def config(self, quick: bool, seed: int, tag: str = "") -> TrainConfig:
        return TrainConfig(epochs=1 if quick else self.epochs, batch_size=self.batch_size,
                           lr=self.lr, seed=seed, tag=tag)


AE_RECIPE = Recipe(epochs=6, batch_size=64, lr=2e-3)
LATENT_RECIPE = Recipe(epochs=20, batch_size=128, lr=2e-3)
FINETUNE_RECIPE = Recipe(epochs=40, batch_size=64, lr=1e-3)  # epochs: the most, see below
FINETUNE_STEPS = 400  # gradient steps per fine-tuning run (fewer epochs for more labels)


def reconstruction_loss(model: nn.Module, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
    """The L2 (mean squared error) loss of the reconstruction against the clean input."""
    x = batch[0]
    return F.mse_loss(model(x), x)


def ae_name(latent: int, upsampling: str = "transposed", noise_std: float = 0.0) -> str:
    """The run name of an autoencoder, e.g. ``ae_l16_transposed`` or ``ae_l16_transposed_n0.2``."""
    return f"ae_l{latent}_{upsampling}" + (f"_n{noise_std:g}" if noise_std else "")


@dataclass
class TrainedAE:
    """A trained autoencoder with its run name and training history."""

    name: str
    model: Autoencoder
    history: History
    codes: dict = field(default_factory=dict, repr=False)  # cache of split_codes

    @property
    def seconds(self) -> float:
        return float(sum(self.history.epoch_seconds))

    @property
    def parameters(self) -> int:
        return count_parameters(self.model)


def train_autoencoder(data: FrameData, paths: OutputPaths, latent: int, *,
                      upsampling: str = "transposed", noise_std: float = 0.0, quick: bool = False,
                      seed: int = 0, device=None) -> TrainedAE:
    """Train (or reuse the checkpoint of) one autoencoder on the training frames."""
    name = ae_name(latent, upsampling, noise_std)
    seed_everything(seed)
    model = Autoencoder(latent, upsampling, noise_std)
    tag = f"{upsampling},noise{noise_std:g}"
    history = fit(model, (data.train.frames,), (data.val.frames,), reconstruction_loss,
                  AE_RECIPE.config(quick, seed, tag), checkpoint=paths.checkpoint(f"lab3/{name}"),
                  device=device, desc=name)
    return TrainedAE(name, model.eval(), history)


def run_specs(latents: Sequence[int] = LATENT_SIZES) -> list[tuple[int, str, float]]:
    """Every (latent, upsampling, noise std) trained: the sweep, the bilinear design points and
    the denoising AE, each once."""
    specs = [(latent, "transposed", 0.0) for latent in latents]
    specs += [(latent, "bilinear", 0.0) for latent in DESIGN_LATENTS]
    return specs + [(BASE_LATENT, "transposed", TRAIN_NOISE)]


def train_all(data: FrameData, paths: OutputPaths, *, quick: bool = False, seed: int = 0,
              device=None) -> dict[str, TrainedAE]:
    """Train every autoencoder of the notebook; returns them by run name."""
    runs = {}
    for latent, upsampling, noise in run_specs():
        run = train_autoencoder(data, paths, latent, upsampling=upsampling, noise_std=noise,
                                quick=quick, seed=seed, device=device)
        runs[run.name] = run
    return runs


def sweep(runs: dict[str, TrainedAE]) -> dict[int, TrainedAE]:
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


def corrupt(frames: torch.Tensor, std: float, seed: int = 0) -> torch.Tensor:
    """Frames plus N(0, std²) noise (not clipped, like the training noise layer), reproducible."""
    if std < 0:
        raise ValueError(f"noise std must be >= 0, got {std}")
    generator = torch.Generator().manual_seed(seed)
    return frames + std * torch.randn(frames.shape, generator=generator)


def score(model: Autoencoder, frames: torch.Tensor, noise_std: float = 0.0,
          seed: int = 0) -> dict[str, float]:
    """MSE, mean per-frame PSNR and PSNR of the mean MSE of the reconstructions of (optionally
    corrupted) frames against the clean frames."""
    inputs = corrupt(frames, noise_std, seed) if noise_std else frames
    return reconstruction_scores(predict(model, inputs).cpu(), frames)


def _run_row(run: TrainedAE) -> dict:
    return {"parameters": run.parameters, "epochs": run.history.epochs_done,
            "train_seconds": run.seconds, "val_mse": run.history.val_loss[-1]}


def sweep_rows(runs: dict[str, TrainedAE], test: FrameSet) -> list[dict]:
    """One row per latent size: test MSE / PSNR, validation MSE, parameters, training time."""
    return [{"latent": latent, **score(run.model, test.frames), **_run_row(run)}
            for latent, run in sweep(runs).items()]


def design_rows(runs: dict[str, TrainedAE], test: FrameSet) -> list[dict]:
    """Transposed convolution vs bilinear upsampling + convolution at the design latent sizes."""
    rows = []
    for latent in DESIGN_LATENTS:
        for upsampling in ("transposed", "bilinear"):
            run = runs[ae_name(latent, upsampling)]
            rows.append({"latent": latent, "upsampling": upsampling,
                         **score(run.model, test.frames), **_run_row(run)})
    return rows


def noise_rows(runs: dict[str, TrainedAE], test: FrameSet, levels: Sequence[float] = NOISE_LEVELS,
               seed: int = 0) -> list[dict]:
    """PSNR against the clean test frames of the noisy input itself, the plain AE and the
    denoising AE, for inputs corrupted at each noise level (the same noise for all)."""
    plain, denoising = runs[ae_name(BASE_LATENT)], runs[ae_name(BASE_LATENT, noise_std=TRAIN_NOISE)]
    rows = []
    for level in levels:
        noisy = corrupt(test.frames, level, seed) if level else test.frames
        row = {"sigma": float(level),
               "input_psnr": reconstruction_scores(noisy, test.frames)["psnr"]}
        for key, run in (("plain", plain), ("denoising", denoising)):
            scores = reconstruction_scores(predict(run.model, noisy).cpu(), test.frames)
            row.update({f"{key}_psnr": scores["psnr"], f"{key}_mse": scores["mse"]})
        rows.append(row)
    return rows


def labels(frames: FrameSet) -> torch.Tensor:
    """Class indices 0..2 (one to three balls) from the file's counts."""
    return frames.counts - 1


def train_latent_classifier(run: TrainedAE, data: FrameData, paths: OutputPaths, *,
                            hidden: tuple[int, ...] = (), quick: bool = False, seed: int = 0,
                            device=None) -> tuple[LatentClassifier, dict]:
    """A classifier of the ball count on the frozen latent codes of ``run``; returns it with
    its validation and test accuracy."""
    codes = split_codes(run, data)
    seed_everything(seed)
    model = LatentClassifier(codes["train"].mean(0), codes["train"].std(0), hidden)
    kind = "mlp" if hidden else "linear"
    step = Supervised(nn.CrossEntropyLoss(), classification=True)
    fit(model, (codes["train"], labels(data.train)), (codes["val"], labels(data.val)), step,
        LATENT_RECIPE.config(quick, seed, f"{run.name},{kind}{hidden}"),
        checkpoint=paths.checkpoint(f"lab3/ae_cls_{run.name}_{kind}"), device=device,
        desc=f"{kind} on {run.name}")
    accuracy = {split: evaluate(model, (codes[split], labels(getattr(data, split))), step)[1]
                ["accuracy"] for split in ("val", "test")}
    return model, accuracy


def classification_rows(runs: dict[str, TrainedAE], data: FrameData, paths: OutputPaths, *,
                        quick: bool = False, seed: int = 0, device=None) -> list[dict]:
    """Linear layer vs MLP on frozen latents, per latent size: validation and test accuracy."""
    rows = []
    for latent, run in sweep(runs).items():
        row = {"latent": latent}
        for kind, hidden in (("linear", ()), ("mlp", MLP_HIDDEN)):
            _, accuracy = train_latent_classifier(run, data, paths, hidden=hidden, quick=quick,
                                                  seed=seed, device=device)
            row.update({f"{kind}_val_accuracy": accuracy["val"],
                        f"{kind}_test_accuracy": accuracy["test"]})
        rows.append(row)
    return rows


def choose_pretraining_latent(rows: list[dict]) -> int:
    """The latent size whose frozen code gives the best linear validation accuracy (ties: the
    smaller code); the pre-training study uses that autoencoder."""
    if not rows:
        raise ValueError("no classification rows to choose from")
    return max(rows, key=lambda r: (r["linear_val_accuracy"], -r["latent"]))["latent"]


def label_subset(n: int, fraction: float, seed: int = 0) -> torch.Tensor:
    """Indices of a seeded random ``fraction`` of ``n`` training frames (at least one batch's
    worth of nothing: at least 3 frames)."""
    if not 0 < fraction <= 1:
        raise ValueError(f"label fraction must be in (0, 1], got {fraction}")
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return order[:max(3, int(round(fraction * n)))]


def finetune_epochs(n_labels: int, quick: bool) -> int:
    """Epochs of a fine-tuning run: about :data:`FINETUNE_STEPS` gradient steps, at most
    ``FINETUNE_RECIPE.epochs`` (so small label sets are not validated hundreds of times)."""
    if quick:
        return 1
    batches = math.ceil(n_labels / FINETUNE_RECIPE.batch_size)
    return max(2, min(FINETUNE_RECIPE.epochs, math.ceil(FINETUNE_STEPS / batches)))


def train_encoder_classifier(run: TrainedAE | None, latent: int, data: FrameData,
                             paths: OutputPaths, fraction: float, *, normalise: bool = True,
                             quick: bool = False, seed: int = 0, device=None) -> dict:
    """Encoder + linear head trained on a fraction of the labels, from the AE's encoder
    (``run``) or from random weights (``run=None``); returns validation and test accuracy.
    ``normalise=False``: the head without batch norm (see :class:`EncoderClassifier`)."""
    index = label_subset(len(data.train), fraction, seed)
    seed_everything(seed)
    model = EncoderClassifier(latent, normalise=normalise)
    head = "" if normalise else "_plainhead"
    init = "scratch"
    if run is not None:
        model.load_encoder(run.model)
        init = "pretrained"
    step = Supervised(nn.CrossEntropyLoss(), classification=True)
    config = TrainConfig(finetune_epochs(len(index), quick), FINETUNE_RECIPE.batch_size,
                         FINETUNE_RECIPE.lr, seed=seed,
                         tag=f"{init}:{run.name if run else latent},labels{fraction:g}{head}")
    history = fit(model, (data.train.frames[index], labels(data.train)[index]),
                  (data.val.frames, labels(data.val)), step, config,
                  checkpoint=paths.checkpoint(f"lab3/ae_ft_l{latent}_{init}_{fraction:g}{head}"),
                  device=device, desc=f"{init} {fraction:.0%} labels")
    test = evaluate(model, (data.test.frames, labels(data.test)), step)[1]["accuracy"]
    return {"labels": len(index), "epochs": config.epochs, "val_accuracy": history.val_accuracy[-1],
            "test_accuracy": test, "train_seconds": float(sum(history.epoch_seconds))}


def pretraining_rows(run: TrainedAE, data: FrameData, paths: OutputPaths, *,
                     fractions: Sequence[float] = LABEL_FRACTIONS, quick: bool = False,
                     seed: int = 0, device=None) -> list[dict]:
    """AE pre-training vs training from scratch, per fraction of the training labels."""
    rows = []
    for fraction in fractions:
        row = {"fraction": fraction}
        for init, source in (("scratch", None), ("pretrained", run)):
            result = train_encoder_classifier(source, run.model.latent, data, paths, fraction,
                                              quick=quick, seed=seed, device=device)
            row["labels"], row["epochs"] = result.pop("labels"), result.pop("epochs")
            row.update({f"{init}_{key}": value for key, value in result.items()})
        row["gain"] = row["pretrained_test_accuracy"] - row["scratch_test_accuracy"]
        rows.append(row)
    return rows


def head_rows(run: TrainedAE, data: FrameData, paths: OutputPaths, *, fraction: float = 0.01,
              quick: bool = False, seed: int = 0, device=None) -> list[dict]:
    """The pre-training comparison at one label fraction with the batch-normalised head (the
    study's) and with a plain linear head: does the conclusion depend on the head?"""
    rows = []
    for normalise in (True, False):
        row = {"head": "batch norm + linear" if normalise else "linear only",
               "fraction": fraction}
        for init, source in (("scratch", None), ("pretrained", run)):
            result = train_encoder_classifier(source, run.model.latent, data, paths, fraction,
                                              normalise=normalise, quick=quick, seed=seed,
                                              device=device)
            row["labels"] = result["labels"]
            row[f"{init}_test_accuracy"] = result["test_accuracy"]
            row[f"{init}_val_accuracy"] = result["val_accuracy"]
        row["gain"] = row["pretrained_test_accuracy"] - row["scratch_test_accuracy"]
        rows.append(row)
    return rows


_PART1_FRACTION = re.compile(r"\((\d+)% labels\)")


def part1_label_rows(results_dir: str | Path) -> list[dict]:
    """Part 1 Task 4's label study (pre-trained encoder vs scratch) from ``part1.json``, one row
    per label fraction; empty if that file or study is missing."""
    ablation = read_results(Path(results_dir) / "part1.json").get("improved", {}).get("ablation")
    rows: dict[int, dict] = {}
    for row in ablation or []:
        match = _PART1_FRACTION.search(str(row.get("variant", "")))
        if row.get("study") != "labels" or not match:
            continue
        init = "pretrained" if "+ae" in row["variant"] else "scratch"
        entry = rows.setdefault(int(match.group(1)), {"percent": int(match.group(1))})
        entry[f"{init}_test_accuracy"] = row.get("test_accuracy_mean")
        entry[f"{init}_test_std"] = row.get("test_accuracy_std")
        entry["seeds"] = row.get("seeds")
    return [rows[key] for key in sorted(rows)]


def tsne_embedding(codes: torch.Tensor, seed: int = 0) -> np.ndarray:
    """A 2-D t-SNE embedding (scikit-learn, PCA initialisation) of latent codes."""
    codes = np.asarray(codes, dtype=np.float64)
    perplexity = min(30.0, (len(codes) - 1) / 3)
    return TSNE(2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(codes)


def traversal(model: Autoencoder, code: torch.Tensor, dims: Sequence[int],
              offsets: torch.Tensor) -> torch.Tensor:
    """Frames (len(dims), steps, 32, 32): ``code`` with one dimension ``dims[i]`` at a time
    moved by each of ``offsets[i]`` (shape (len(dims), steps)), the others kept."""
    if offsets.shape[0] != len(dims):
        raise ValueError(f"need one row of offsets per dimension, got {tuple(offsets.shape)} "
                         f"for {len(dims)} dimensions")
    codes = code.repeat(len(dims), offsets.shape[1], 1)
    for row, dim in enumerate(dims):
        codes[row, :, dim] += offsets[row]
    return decode(model, codes.reshape(-1, code.shape[-1])).reshape(*offsets.shape, 32, 32)


def traversal_from_codes(model: Autoencoder, codes: torch.Tensor, index: int = 0,
                         n_dims: int = 6, steps: int = 7, spread: float = 2.0
                         ) -> tuple[torch.Tensor, list[int]]:
    """Traversals around the code of frame ``index``: the ``n_dims`` dimensions of largest
    variance over ``codes``, each moved by -spread..+spread of its standard deviation."""
    std = codes.std(0)
    dims = torch.argsort(std, descending=True)[:n_dims].tolist()
    factors = torch.linspace(-spread, spread, steps)
    offsets = torch.stack([factors * std[d] for d in dims])
    return traversal(model, codes[index], dims, offsets), dims


def lattice(model: Autoencoder, codes: torch.Tensor, n: int = 9,
            quantiles: tuple[float, float] = (0.01, 0.99)) -> tuple[torch.Tensor, np.ndarray]:
    """Frames (n, n, 32, 32) decoded from an n x n lattice of 2-D codes spanning the given
    quantiles of ``codes`` (rows: second dimension, top = largest); returns them with the
    lattice's axis values (2, n)."""
    if codes.shape[1] != 2:
        raise ValueError(f"a lattice needs 2-D codes, got {codes.shape[1]} dimensions")
    low, high = np.quantile(codes.numpy(), quantiles, axis=0)
    axes = np.stack([np.linspace(low[d], high[d], n) for d in range(2)])
    grid = np.array([[axes[0, j], axes[1, n - 1 - i]] for i in range(n) for j in range(n)])
    return decode(model, torch.as_tensor(grid)).reshape(n, n, 32, 32), axes


def probe_targets(frames: FrameSet) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The probes' targets from the generator's stored ball state (ground truth): ``position``,
    the (x, y) of the ball in one-ball frames (frames mask, targets (M, 2)); ``occupancy``, how
    many ball centres fall in each cell of a coarse 4x4 grid of the box (all frames, (N, 16)),
    which does not depend on the order of the balls."""
    if frames.positions is None or frames.radii is None:
        raise ValueError("these frames carry no ground-truth positions")
    present = frames.radii > 0
    one = present.sum(1) == 1
    single = frames.positions[one][present[one]]
    cells = np.clip((frames.positions / (BOX_SIZE / OCCUPANCY_CELLS)).astype(int), 0,
                    OCCUPANCY_CELLS - 1)
    flat = cells[..., 1] * OCCUPANCY_CELLS + cells[..., 0]
    occupancy = np.zeros((len(frames), OCCUPANCY_CELLS ** 2))
    for ball in range(frames.positions.shape[1]):
        np.add.at(occupancy, (np.arange(len(frames)), flat[:, ball]), present[:, ball])
    return {"position": (one, single), "occupancy": (np.ones(len(frames), bool), occupancy)}


def linear_probe(features: dict[str, np.ndarray], targets: dict[str, np.ndarray],
                 alphas: Sequence[float] = PROBE_ALPHAS, standardise: bool = True
                 ) -> dict[str, float]:
    """Ridge regression from features to targets (inputs standardised unless ``standardise`` is
    False, as for raw pixels, whose near-constant border pixels standardisation would blow
    up): alpha chosen by the validation R², then the test R² (variance-weighted over the
    target columns)."""
    features = {split: np.asarray(f, dtype=np.float64) for split, f in features.items()}
    best = None
    for alpha in alphas:
        probe = make_pipeline(StandardScaler(with_std=standardise), Ridge(alpha=alpha))
        probe.fit(features["train"], targets["train"])
        val = r2_score(targets["val"], probe.predict(features["val"]),
                       multioutput="variance_weighted")
        if best is None or val > best[0]:
            best = (val, alpha, probe)
    val, alpha, probe = best
    test = r2_score(targets["test"], probe.predict(features["test"]),
                    multioutput="variance_weighted")
    return {"alpha": alpha, "val_r2": float(val), "test_r2": float(test)}


def probe_rows(runs: dict[str, TrainedAE], data: FrameData) -> list[dict]:
    """Linear probes of the ball state from each latent size's code and, as a reference, from
    the raw pixels; empty when the frames carry no ground truth."""
    splits = ("train", "val", "test")
    if not all(getattr(data, s).has_ground_truth for s in splits):
        return []
    truth = {s: probe_targets(getattr(data, s)) for s in splits}
    sources = {str(latent): {s: codes.numpy() for s, codes in split_codes(run, data).items()}
               for latent, run in sweep(runs).items()}
    sources["pixels"] = {s: getattr(data, s).frames.reshape(len(getattr(data, s)), -1).numpy()
                         for s in splits}
    rows = []
    for name, features in sources.items():
        row = {"features": name if name == "pixels" else f"latent {name}",
               "dims": features["train"].shape[1]}
        for target in ("position", "occupancy"):
            result = linear_probe({s: features[s][truth[s][target][0]] for s in splits},
                                  {s: truth[s][target][1] for s in splits},
                                  standardise=name != "pixels")
            row.update({f"{target}_{key}": value for key, value in result.items()})
        rows.append(row)
    return rows


def run_rows(runs: dict[str, TrainedAE]) -> list[dict]:
    """One row per trained autoencoder: parameters, epochs, training time, final val MSE."""
    return [{"run": run.name, "latent": run.model.latent, "upsampling": run.model.upsampling,
             "noise": run.model.noise.std, **_run_row(run)} for run in runs.values()]


TABLE_COLUMNS = {
    "ae_runs": {"run": "run", "parameters": "parameters", "epochs": "epochs",
                "train_seconds": "training (s)", "val_mse": "val. MSE"},
    "ae_sweep": {"latent": "latent l", "parameters": "parameters", "mse": "test MSE",
                 "psnr": "PSNR (dB, mean per frame)", "psnr_of_mse": "PSNR of mean MSE (dB)"},
    "ae_design": {"latent": "latent l", "upsampling": "upsampling", "parameters": "parameters",
                  "mse": "test MSE", "psnr": "PSNR (dB)", "train_seconds": "training (s)"},
    "ae_noise": {"sigma": "test noise σ", "input_psnr": "noisy input (dB)",
                 "plain_psnr": "plain AE (dB)", "denoising_psnr": "denoising AE (dB)"},
    "ae_classification": {"latent": "latent l", "linear_val_accuracy": "linear val. (%)",
                          "linear_test_accuracy": "linear test (%)",
                          "mlp_val_accuracy": "MLP val. (%)", "mlp_test_accuracy": "MLP test (%)"},
    "ae_pretraining": {"fraction": "labels (%)", "labels": "labels", "epochs": "epochs",
                       "scratch_val_accuracy": "scratch val. (%)",
                       "scratch_test_accuracy": "scratch test (%)",
                       "pretrained_val_accuracy": "pre-trained val. (%)",
                       "pretrained_test_accuracy": "pre-trained test (%)",
                       "gain": "gain (points)"},
    "ae_head": {"head": "head", "labels": "labels", "scratch_val_accuracy": "scratch val. (%)",
                "scratch_test_accuracy": "scratch test (%)",
                "pretrained_val_accuracy": "pre-trained val. (%)",
                "pretrained_test_accuracy": "pre-trained test (%)", "gain": "gain (points)"},
    "ae_part1_labels": {"percent": "labels (% of 400)", "seeds": "seeds",
                        "scratch_test_accuracy": "scratch test (%)",
                        "pretrained_test_accuracy": "pre-trained test (%)"},
    "ae_probe": {"features": "features", "dims": "dims", "position_test_r2": "1-ball (x, y) R²",
                 "occupancy_test_r2": "4×4 occupancy R²", "position_alpha": "alpha (x, y)",
                 "occupancy_alpha": "alpha (occ.)"},
}
PERCENT = {"ae_classification": ["linear_val_accuracy", "linear_test_accuracy",
                                 "mlp_val_accuracy", "mlp_test_accuracy"],
           "ae_pretraining": ["fraction", "scratch_val_accuracy", "scratch_test_accuracy",
                              "pretrained_val_accuracy", "pretrained_test_accuracy", "gain"],
           "ae_head": ["scratch_val_accuracy", "scratch_test_accuracy", "pretrained_val_accuracy",
                       "pretrained_test_accuracy", "gain"],
           "ae_part1_labels": ["scratch_test_accuracy", "pretrained_test_accuracy"]}


def _keyed(rows: list[dict], key) -> dict[str, dict]:
    return {key(row): row for row in rows}


def section(rows: dict[str, list[dict]], *, chosen_latent: int, quick: bool,
            seconds: dict[str, float]) -> dict:
    """The notebook's ``lab3.json`` section: every table (under ``tables``), the rows keyed for
    the report's placeholders and a few derived numbers."""
    by_latent = _keyed(rows["ae_sweep"], lambda r: f"l{r['latent']}")
    classification = _keyed(rows["ae_classification"], lambda r: f"l{r['latent']}")
    best = max(rows["ae_sweep"], key=lambda r: r["psnr"])
    pretraining = _keyed(rows["ae_pretraining"], lambda r: f"pct{round(100 * r['fraction'])}")
    gains = [r["gain"] for r in rows["ae_pretraining"]]
    return {
        "quick": quick,
        "n_autoencoders": len(rows["ae_runs"]),
        "epochs": AE_RECIPE.config(quick, 0).epochs,
        "latent_sizes": list(LATENT_SIZES),
        "base_latent": BASE_LATENT,
        "train_noise": TRAIN_NOISE,
        "tsne_latent": TSNE_LATENT,
        "sweep": by_latent,
        "best_psnr": {"latent": best["latent"], "psnr": best["psnr"]},
        "design": _keyed(rows["ae_design"], lambda r: f"l{r['latent']}_{r['upsampling']}"),
        "noise": _keyed(rows["ae_noise"], lambda r: f"sigma{round(100 * r['sigma'])}"),
        "classification": classification,
        "best_linear": max(rows["ae_classification"], key=lambda r: r["linear_test_accuracy"]),
        "best_mlp": max(rows["ae_classification"], key=lambda r: r["mlp_test_accuracy"]),
        "pretraining_latent": chosen_latent,
        "pretraining": pretraining,
        "pretraining_gain": {"max": max(gains), "min": min(gains), "mean": float(np.mean(gains))},
        "head": _keyed(rows["ae_head"], lambda r: "norm" if r["head"].startswith("batch")
                       else "plain"),
        "part1_labels": _keyed(rows["ae_part1_labels"], lambda r: f"pct{r['percent']}"),
        "probe": _keyed(rows["ae_probe"], lambda r: r["features"].replace("latent ", "l")),
        "probe_available": bool(rows["ae_probe"]),
        "seconds": seconds,
        "tables": {name: {"columns": TABLE_COLUMNS[name], "rows": table,
                          "percent": PERCENT.get(name, [])} for name, table in rows.items()},
    }
