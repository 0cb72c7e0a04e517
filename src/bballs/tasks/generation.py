"""Proposal 3 pipeline: train a DCGAN and a DDPM on single frames and sample them. The samples
are judged without Inception: a Fréchet distance on the features of our own counting CNNs
(:mod:`bballs.tasks.sample_frechet`) and a physical validity score from the classical blob
detector (:mod:`bballs.tasks.sample_validity`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from bballs.classical.blobs import blob_shapes
from bballs.data.frames import FrameSet
from bballs.image_metrics import frechet_distance
from bballs.models.generative import (
    DCGANDiscriminator,
    DCGANGenerator,
    Diffusion,
    NoiseUNet,
    dcgan_init,
)
from bballs.tasks import sample_frechet
from bballs.tasks.sample_validity import validity_table
from bballs.training.checkpoints import History, TrainedModel
from bballs.training.gan import fit_gan
from bballs.training.loop import (
    TrainConfig,
    cosine,
    fit,
    model_loss,
    seed_everything,
)

LATENT_DIM = 64
GAN_WIDTH = 32  # the discriminator's first channels
GAN_GENERATOR_WIDTH = 32  # the generator's last channels before the frame (twice: 4x4 -> 8x8)
GAN_UPSAMPLING = "bilinear"  # the generator's first two doublings (see DCGANGenerator)
GAN_OUTPUT = "sigmoid"  # or "clamp" (DCGANGenerator)
GAN_MINIBATCH_STD = False  # the discriminator reads each batch's spread (DCGANDiscriminator)
GAN_AUGMENT = 0.5  # the share of frames the discriminator sees turned by diff_augment (fit_gan)
GAN_AUGMENT_SHIFT = 2  # diff_augment's translation of every frame, in pixels (fit_gan)
COUNT_CLASSES = 3  # a conditional DCGAN's classes: 1, 2 or 3 balls
GAN_CLASS_WEIGHT = 1.0  # a conditional DCGAN's auxiliary count classifier (AC-GAN) loss weight
GAN_SELECT_AFTER = 20  # epochs before a DCGAN's weights may be selected (train_gan's select)
GAN_EMA_DECAY: float | None = None  # a moving average of the generator's weights (train_gan)
GAN_R1_WEIGHT = 0.0  # the R1 gradient penalty on the discriminator's real frames (fit_gan)
GAN_SPECTRAL = False  # spectral normalisation of the discriminator (DCGANDiscriminator)
GAN_LOSS = "non-saturating"  # or "hinge" (fit_gan)
GAN_STANDING_STATISTICS = False  # batch-norm statistics measured again before scoring (fit_gan)
LATENT_SCALES = (1.0, 1.25, 1.5, 1.75, 2.0)  # spreads of the latent codes a DCGAN is sampled at
SELECTION_SEED_OFFSET = 100  # the selecting feature CNN's seed: never one the report averages
UNET_WIDTH = 16
DIFFUSION_STEPS = 1000
DIFFUSION_PREDICTION = "frame"  # the denoiser predicts the clean frame (see Diffusion)


#: The three trainings' recipes. Full mode gives both generators about the same training time,
#: 6-7 minutes each on a 2-core CPU alone (30 DCGAN epochs of about 13 s, 20 DDPM epochs of
#: about 19 s).
GAN_RECIPE = TrainConfig(epochs=30, batch_size=64, lr=2e-4,
                         tag="dcgan-init-count-conditioned-diffaugment-acgan")
DIFFUSION_RECIPE = TrainConfig(
    epochs=20, batch_size=64, lr=2e-3,
    tag=f"cosine-T{DIFFUSION_STEPS}-cosine-lr-predict-{DIFFUSION_PREDICTION}")


@dataclass(frozen=True)
class Budget:
    """One run of the notebook: each training's configuration and the samples drawn."""

    gan: TrainConfig
    diffusion: TrainConfig
    features: TrainConfig
    n_samples: int  # frames drawn per generator
    encoders: int  # feature CNNs the Fréchet distance is averaged over (seeds seed, seed + 1, ...)
    selection: TrainConfig  # the feature CNN that selects the DCGAN's epoch (another seed)
    samplers: dict[str, tuple[int, float]]  # name: (DDIM steps, eta) of each DDPM sampling run


def budget(quick: bool, seed: int = 0) -> Budget:
    """The recipes for ``seed`` (1 epoch each in quick mode) and the sampling budget."""
    gan, diffusion, features = (r.for_run(seed, quick) for r in (GAN_RECIPE, DIFFUSION_RECIPE,
                                                                  sample_frechet.FEATURE_RECIPE))
    selection = replace(features, seed=seed + SELECTION_SEED_OFFSET)
    if quick:
        return Budget(gan, diffusion, features, 64, 2, selection,
                      {"ddpm_ddim": (5, 0.0), "ddpm_ancestral": (5, 1.0)})
    return Budget(gan, diffusion, features, n_samples=1000, encoders=5, selection=selection,
                  samplers={"ddpm_ddim": (10, 0.0), "ddpm_ancestral": (50, 1.0)})


def sampler_names(plan: Budget) -> dict[str, str]:
    """Each sampler's key and its name in words: the DCGAN, then each DDPM sampler."""
    return {"dcgan": "DCGAN", **{key: f"DDPM ({'DDIM' if eta == 0 else 'ancestral'}, {steps} steps)"
                                 for key, (steps, eta) in plan.samplers.items()}}


@dataclass
class GanRun(TrainedModel):
    """A trained DCGAN (:class:`TrainedModel`): ``model`` is the generator."""

    model: DCGANGenerator
    discriminator: DCGANDiscriminator

    @property
    def generator(self) -> DCGANGenerator:
        return self.model


def train_gan(frames: torch.Tensor, config: TrainConfig, checkpoint: str | Path | None = None,
              device: torch.device | str | None = None, counts: torch.Tensor | None = None,
              augment: float = GAN_AUGMENT,
              select: Callable[[nn.Module], float] | None = None,
              ema_decay: float | None = GAN_EMA_DECAY, r1_weight: float = GAN_R1_WEIGHT,
              spectral: bool = GAN_SPECTRAL, loss: str = GAN_LOSS,
              standing_statistics: bool = GAN_STANDING_STATISTICS) -> GanRun:
    """A DCGAN (DCGAN initialisation) trained on ``frames`` with :func:`fit_gan`; given the
    frames' ball ``counts`` (1-3), conditioned on the count; its discriminator sees every frame
    shifted and the share ``augment`` turned by :func:`~bballs.training.gan.diff_augment`. A
    conditional discriminator also classifies the count (weight :data:`GAN_CLASS_WEIGHT`).
    With ``select`` (e.g. :class:`FrechetSelection`) the generator keeps the weights of its
    best-scoring epoch after the first :data:`GAN_SELECT_AFTER`; with ``ema_decay``, the moving
    average of its weights is what is scored and kept."""
    seed_everything(config.seed)
    n_classes = 0 if counts is None else COUNT_CLASSES
    generator = DCGANGenerator(LATENT_DIM, GAN_GENERATOR_WIDTH, upsampling=GAN_UPSAMPLING,
                               n_classes=n_classes, output=GAN_OUTPUT)
    discriminator = DCGANDiscriminator(GAN_WIDTH, n_classes=n_classes,
                                       minibatch_std=GAN_MINIBATCH_STD,
                                       auxiliary=bool(n_classes), spectral=spectral)
    dcgan_init(generator)
    dcgan_init(discriminator)
    classes = None if counts is None else _count_classes(counts)
    history = fit_gan(generator, discriminator, frames, config, latent_dim=LATENT_DIM,
                      checkpoint=checkpoint, device=device, desc="dcgan", classes=classes,
                      augment=augment, class_weight=GAN_CLASS_WEIGHT if n_classes else 0.0,
                      select=select, select_after=min(GAN_SELECT_AFTER, config.epochs - 1),
                      ema_decay=ema_decay, r1_weight=r1_weight, loss=loss,
                      standing_statistics=standing_statistics,
                      augment_shift=GAN_AUGMENT_SHIFT)
    return GanRun("dcgan", generator.eval(), history, discriminator.eval())


class FrechetSelection:
    """A generator's Fréchet distance to held-out real frames on one feature CNN, for
    :func:`train_gan`'s ``select``: the CNN must not be one the reported distance averages
    over, and the frames are validation frames, not test frames."""

    __name__ = "frechet_to_validation"

    def __init__(self, encoder: nn.Module, frames: torch.Tensor, n: int = 1000, seed: int = 1):
        self.encoder, self.n, self.seed = encoder, n, seed
        self.reference = sample_frechet.encoder_features(encoder, frames)

    def __call__(self, generator: nn.Module, scale: float = 1.0) -> float:
        frames = gan_samples(generator, self.n, self.seed, scale=scale)
        return frechet_distance(sample_frechet.encoder_features(self.encoder, frames),
                                self.reference)


def latent_scale(generator: nn.Module, select: FrechetSelection,
                 scales: tuple[float, ...] = LATENT_SCALES) -> tuple[float, dict[str, float]]:
    """The spread of the latent codes, z ~ N(0, scale² I), among ``scales`` whose samples score
    best on ``select`` (validation frames, as for the epoch), and every scale's score; the
    generator was trained at scale 1 and may cover less of the data than it could."""
    scores = {f"{scale:g}": select(generator, scale) for scale in scales}
    return min(scales, key=lambda scale: scores[f"{scale:g}"]), scores


def selected_epoch(history: History) -> int | None:
    """The epoch (from 1) whose weights a DCGAN trained with ``select`` kept, None without
    selection."""
    scores = history.metrics.get("train_selection_score")
    if not scores:
        return None
    return history.epochs_done - len(scores) + int(np.argmin(scores)) + 1


def _count_classes(counts: torch.Tensor) -> torch.Tensor:
    """Ball counts 1-3 as classes 0-2; any other count is an error."""
    counts = torch.as_tensor(counts).long()
    if counts.numel() and (counts.min() < 1 or counts.max() > COUNT_CLASSES):
        raise ValueError(f"ball counts must be 1-{COUNT_CLASSES}, got {counts.min().item()}-"
                         f"{counts.max().item()}")
    return counts - 1


def _sampled_classes(generator: DCGANGenerator, n: int, seed_generator: torch.Generator
                     ) -> torch.Tensor | None:
    """Classes (ball counts - 1) for ``n`` frames of a conditional generator, drawn from its
    training shares; None for an unconditional one."""
    if not generator.n_classes:
        return None
    return torch.multinomial(generator.class_shares.cpu(), n, replacement=True,
                             generator=seed_generator)


def train_diffusion(data: FrameSet, val: FrameSet, config: TrainConfig,
                    checkpoint: str | Path | None = None,
                    device: torch.device | str | None = None) -> TrainedModel:
    """A DDPM with a :class:`NoiseUNet` that predicts clean frames (its run record), trained by
    :func:`fit` on its own loss with a cosine learning-rate decay (a cheap stand-in for weight
    averaging)."""
    seed_everything(config.seed)
    model = Diffusion(NoiseUNet(UNET_WIDTH), DIFFUSION_STEPS, prediction=DIFFUSION_PREDICTION)
    history = fit(model, (data.frames,), (val.frames,), model_loss, config,
                  checkpoint=checkpoint, make_scheduler=cosine, device=device,
                  desc="diffusion")
    return TrainedModel("diffusion", model.eval(), history)


@torch.no_grad()
def gan_samples(generator: DCGANGenerator, n: int, seed: int = 0, batch_size: int = 500,
                scale: float = 1.0) -> torch.Tensor:
    """``n`` frames from the generator (evaluation mode), latent codes (times ``scale``; and,
    for a conditional generator, ball counts drawn at their training shares) from ``seed``."""
    generator.eval()
    device = next(generator.parameters()).device
    seeded = torch.Generator().manual_seed(seed)
    z = scale * torch.randn(n, generator.latent_dim, generator=seeded)
    classes = _sampled_classes(generator, n, seeded)
    return torch.cat([generator(z[i:i + batch_size].to(device),
                                None if classes is None else classes[i:i + batch_size].to(device)
                                ).cpu()
                      for i in range(0, n, batch_size)])


def count_obedience(generator: DCGANGenerator, n_per_count: int = 500, seed: int = 0,
                    scale: float = 1.0) -> dict[str, float]:
    """For a count-conditioned generator: the share of its frames, ``n_per_count`` drawn for
    each ball count (latent codes times ``scale``), in which the blob detector finds the count
    asked for (``"1"``, ``"2"``, ``"3"``, and their mean ``"all"``)."""
    if not generator.n_classes:
        raise ValueError("the generator is not conditioned on the ball count")
    generator.eval()
    device = next(generator.parameters()).device
    z = scale * torch.randn(n_per_count, generator.latent_dim,
                            generator=torch.Generator().manual_seed(seed)).to(device)
    shares = {}
    with torch.no_grad():
        for count in range(1, generator.n_classes + 1):
            frames = generator(z, torch.full((n_per_count,), count - 1, device=device)).cpu()
            shares[str(count)] = float((blob_shapes(frames)[0] == count).mean())
    return {**shares, "all": float(np.mean(list(shares.values())))}


def diffusion_samples(model: Diffusion, n: int, sampling_steps: int, seed: int = 0,
                      eta: float = 0.0) -> torch.Tensor:
    """``n`` frames by DDIM with ``sampling_steps`` steps and noise level ``eta`` (0:
    deterministic, 1: ancestral DDPM-like), all noise from ``seed``."""
    return model.sample(n, sampling_steps, generator=torch.Generator().manual_seed(seed),
                        eta=eta)


def timed(sample: Callable[[], torch.Tensor]) -> tuple[torch.Tensor, float]:
    """The frames ``sample()`` returns and the seconds it took."""
    started = time.perf_counter()
    frames = sample()
    return frames, time.perf_counter() - started


@torch.no_grad()
def interpolate(generator: DCGANGenerator, n_rows: int = 4, n_steps: int = 8, seed: int = 0
                ) -> tuple[torch.Tensor, np.ndarray]:
    """Frames (n_rows, n_steps, 32, 32) of z = a z1 + (1 - a) z2 for a evenly in [0, 1]. A
    conditional generator's class input moves the same way between two different classes
    (one-hot c2 at a = 0 to c1 at a = 1; the rows cycle through 0→1, 1→2, 0→2, 2→0), so each
    row also shows how the generator passes from one ball count to another."""
    if n_rows < 1 or n_steps < 2:
        raise ValueError(f"need n_rows >= 1 and n_steps >= 2, got {n_rows}, {n_steps}")
    generator.eval()
    device = next(generator.parameters()).device
    seeded = torch.Generator().manual_seed(seed)
    z1, z2 = torch.randn(2, n_rows, generator.latent_dim, generator=seeded)
    alphas = torch.linspace(0, 1, n_steps)
    z = alphas[None, :, None] * z1[:, None] + (1 - alphas[None, :, None]) * z2[:, None]
    classes = None
    if generator.n_classes:
        pairs = [(0, 1), (1, 2), (0, 2), (2, 0)]
        ends = torch.tensor([pairs[row % len(pairs)] for row in range(n_rows)])
        ends = ends.clamp(max=generator.n_classes - 1)
        c2, c1 = (F.one_hot(ends[:, k], generator.n_classes).float() for k in (0, 1))
        mixed = alphas[None, :, None] * c1[:, None] + (1 - alphas[None, :, None]) * c2[:, None]
        classes = mixed.reshape(-1, generator.n_classes).to(device)
    frames = generator(z.reshape(-1, generator.latent_dim).to(device), classes).cpu()
    return frames.reshape(n_rows, n_steps, *frames.shape[-2:]), alphas.numpy()


# --- the section's tables -----------------------------------------------------------------------

SAMPLING_COLUMNS = {"model": "sampler", "steps": "network calls", "eta": "DDIM η",
                    "seconds_per_100": "s per 100 samples"}
def sampling_table(rows) -> dict:
    """The sampling table (declared as in ``lab3.json``) of the rows of each sampler."""
    return {"columns": SAMPLING_COLUMNS, "rows": list(rows)}


MODEL_COLUMNS = {"model": "model", "params": "parameters", "epochs": "epochs",
                 "training_seconds": "training s"}


def model_table(section: dict) -> dict:
    """The table of the two generators' sizes and training (declared as in ``lab3.json``) from
    the ``generative`` section's ``parameters``, ``epochs`` and ``training_seconds``."""
    params, epochs, seconds = (section[k] for k in ("parameters", "epochs", "training_seconds"))
    return {"columns": MODEL_COLUMNS, "rows": [
        {"model": "DCGAN generator", "params": params["generator"], "epochs": epochs["dcgan"],
         "training_seconds": seconds["dcgan"]},
        {"model": "DCGAN discriminator", "params": params["discriminator"]},
        {"model": "DDPM noise U-Net", "params": params["ddpm_unet"], "epochs": epochs["ddpm"],
         "training_seconds": seconds["ddpm"]}]}


def tables(section: dict) -> dict[str, dict]:
    """The tables of the ``generative`` section of ``lab3.json`` from its keyed rows
    (``sampling``, ``frechet``, ``validity``)."""
    return {"gen_sampling": sampling_table(section["sampling"].values()),
            "gen_frechet": sample_frechet.frechet_table(section["frechet"].values()),
            "gen_validity": validity_table(section["validity"].values())}
