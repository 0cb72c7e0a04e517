"""Proposal 3 pipeline: train a DCGAN and a DDPM on single frames, sample them, and judge the
samples without Inception: a Frechet distance on the features of our own counting CNN, and a
physical validity score from the classical blob detector."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage

from bballs.data import physics
from bballs.data.frames import FrameSet
from bballs.image_metrics import frechet_distance
from bballs.models.counter import CountNet
from bballs.models.generative import (
    DCGANDiscriminator,
    DCGANGenerator,
    Diffusion,
    NoiseUNet,
    dcgan_init,
)
from bballs.tasks.sample_validity import blob_shapes, validity, validity_table
from bballs.training.checkpoints import History, TrainedModel
from bballs.training.gan import fit_gan
from bballs.training.loop import (
    Supervised,
    TrainConfig,
    cosine,
    fit,
    model_loss,
    predict,
    seed_everything,
)

LATENT_DIM = 64
GAN_WIDTH = 32
GAN_UPSAMPLING = "bilinear"  # the generator's first two doublings (see DCGANGenerator)
GAN_AUGMENT = True  # the discriminator sees frames through diff_augment (see fit_gan)
COUNT_CLASSES = 3  # a conditional DCGAN's classes: 1, 2 or 3 balls
UNET_WIDTH = 16
DIFFUSION_STEPS = 1000
DIFFUSION_PREDICTION = "frame"  # the denoiser predicts the clean frame (see Diffusion)
FEATURE_WIDTH = 16
DEGRADATIONS = {"noise": (0.05, 0.2), "blur": (0.7, 1.4), "radius": (1.15, 1.4)}


#: The three trainings' recipes. Full mode gives both generators about the same training time,
#: 6-7 minutes each on a 2-core CPU alone (30 DCGAN epochs of about 13 s, 20 DDPM epochs of
#: about 19 s).
GAN_RECIPE = TrainConfig(epochs=30, batch_size=64, lr=2e-4,
                         tag="dcgan-init-count-conditioned-diffaugment")
DIFFUSION_RECIPE = TrainConfig(
    epochs=20, batch_size=64, lr=2e-3,
    tag=f"cosine-T{DIFFUSION_STEPS}-cosine-lr-predict-{DIFFUSION_PREDICTION}")
FEATURE_RECIPE = TrainConfig(epochs=3, batch_size=64, lr=2e-3, tag="counts")  # the feature net


@dataclass(frozen=True)
class Budget:
    """One run of the notebook: each training's configuration and the samples drawn."""

    gan: TrainConfig
    diffusion: TrainConfig
    features: TrainConfig
    n_samples: int  # frames drawn per generator
    samplers: dict[str, tuple[int, float]]  # name: (DDIM steps, eta) of each DDPM sampling run


def budget(quick: bool, seed: int = 0) -> Budget:
    """The recipes for ``seed`` (1 epoch each in quick mode) and the sampling budget."""
    gan, diffusion, features = (r.for_run(seed, quick) for r in (GAN_RECIPE, DIFFUSION_RECIPE,
                                                                  FEATURE_RECIPE))
    if quick:
        return Budget(gan, diffusion, features, 64,
                      {"ddpm_ddim": (5, 0.0), "ddpm_ancestral": (5, 1.0)})
    return Budget(gan, diffusion, features, n_samples=1000,
                  samplers={"ddpm_ddim": (10, 0.0), "ddpm_ancestral": (25, 1.0)})


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
              augment: bool = GAN_AUGMENT) -> GanRun:
    """A DCGAN (DCGAN initialisation) trained on ``frames`` with :func:`fit_gan`; given the
    frames' ball ``counts`` (1-3), conditioned on the count, and with ``augment``, its
    discriminator sees frames through :func:`~bballs.training.gan.diff_augment`."""
    seed_everything(config.seed)
    n_classes = 0 if counts is None else COUNT_CLASSES
    generator = DCGANGenerator(LATENT_DIM, GAN_WIDTH, upsampling=GAN_UPSAMPLING,
                               n_classes=n_classes)
    discriminator = DCGANDiscriminator(GAN_WIDTH, n_classes=n_classes)
    dcgan_init(generator)
    dcgan_init(discriminator)
    classes = None if counts is None else _count_classes(counts)
    history = fit_gan(generator, discriminator, frames, config, latent_dim=LATENT_DIM,
                      checkpoint=checkpoint, device=device, desc="dcgan", classes=classes,
                      augment=augment)
    return GanRun("dcgan", generator.eval(), history, discriminator.eval())


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
                    device: torch.device | str | None = None) -> tuple[Diffusion, History]:
    """A DDPM with a :class:`NoiseUNet` that predicts clean frames, trained by :func:`fit` on
    its own loss with a cosine learning-rate decay (a cheap stand-in for weight averaging)."""
    seed_everything(config.seed)
    model = Diffusion(NoiseUNet(UNET_WIDTH), DIFFUSION_STEPS, prediction=DIFFUSION_PREDICTION)
    history = fit(model, (data.frames,), (val.frames,), model_loss, config,
                  checkpoint=checkpoint, make_scheduler=cosine, device=device,
                  desc="diffusion")
    return model.eval(), history


def train_feature_encoder(data: FrameSet, val: FrameSet, config: TrainConfig,
                          checkpoint: str | Path | None = None,
                          device: torch.device | str | None = None) -> tuple[CountNet, History]:
    """The feature network of the Frechet distance: a :class:`CountNet` trained to count the
    balls of real training frames (labels 1-3 become classes 0-2)."""
    seed_everything(config.seed)
    model = CountNet(FEATURE_WIDTH)
    history = fit(model, (data.frames, data.counts - 1), (val.frames, val.counts - 1),
                  Supervised(F.cross_entropy, classification=True), config,
                  checkpoint=checkpoint, device=device, desc="features")
    return model.eval(), history


def encoder_features(model: CountNet, frames: torch.Tensor, batch_size: int = 500
                     ) -> np.ndarray:
    """Globally pooled encoder features (N, 2 * width) of the counting CNN, batched."""
    pool = model.head[:2]  # average pool + flatten, before the classifier layer
    return predict(model, frames, batch_size,
                   forward=lambda x: pool(model.encoder(x))).cpu().numpy()


@torch.no_grad()
def gan_samples(generator: DCGANGenerator, n: int, seed: int = 0, batch_size: int = 500
                ) -> torch.Tensor:
    """``n`` frames from the generator (evaluation mode), latent codes (and, for a conditional
    generator, ball counts drawn at their training shares) from ``seed``."""
    generator.eval()
    device = next(generator.parameters()).device
    seeded = torch.Generator().manual_seed(seed)
    z = torch.randn(n, generator.latent_dim, generator=seeded)
    classes = _sampled_classes(generator, n, seeded)
    return torch.cat([generator(z[i:i + batch_size].to(device),
                                None if classes is None else classes[i:i + batch_size].to(device)
                                ).cpu()
                      for i in range(0, n, batch_size)])


def count_obedience(generator: DCGANGenerator, n_per_count: int = 500, seed: int = 0
                    ) -> dict[str, float]:
    """For a count-conditioned generator: the share of its frames, ``n_per_count`` drawn for
    each ball count, in which the blob detector finds the count asked for (``"1"``, ``"2"``,
    ``"3"``, and their mean ``"all"``)."""
    if not generator.n_classes:
        raise ValueError("the generator is not conditioned on the ball count")
    generator.eval()
    device = next(generator.parameters()).device
    z = torch.randn(n_per_count, generator.latent_dim,
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
    """Frames (n_rows, n_steps, 32, 32) of z = a z1 + (1 - a) z2 for a evenly in [0, 1]; a
    conditional generator keeps one ball count (drawn at its training share) along each row."""
    if n_rows < 1 or n_steps < 2:
        raise ValueError(f"need n_rows >= 1 and n_steps >= 2, got {n_rows}, {n_steps}")
    generator.eval()
    device = next(generator.parameters()).device
    seeded = torch.Generator().manual_seed(seed)
    z1, z2 = torch.randn(2, n_rows, generator.latent_dim, generator=seeded)
    classes = _sampled_classes(generator, n_rows, seeded)
    alphas = torch.linspace(0, 1, n_steps)
    z = alphas[None, :, None] * z1[:, None] + (1 - alphas[None, :, None]) * z2[:, None]
    if classes is not None:
        classes = classes.repeat_interleave(n_steps).to(device)
    frames = generator(z.reshape(-1, generator.latent_dim).to(device), classes).cpu()
    return frames.reshape(n_rows, n_steps, *frames.shape[-2:]), alphas.numpy()


def degradation_key(kind: str, level: float) -> str:
    """The results key of a degraded real set, e.g. ``radius_1.15``."""
    return f"{kind}_{level:g}"


def degradation_label(kind: str, level: float) -> str:
    """A degraded real set in words; the radius level is a factor on the true radius."""
    if kind == "noise":
        return f"real + noise, std {level:g}"
    if kind == "blur":
        return f"real + blur, std {level:g} px"
    if kind == "radius":
        return f"real + radius ×{level:g}"
    raise ValueError(f"unknown degradation {kind!r}; expected one of {sorted(DEGRADATIONS)}")


def degrade(frame_set: FrameSet, kind: str, level: float, seed: int = 0) -> torch.Tensor:
    """Real frames made worse: ``noise`` adds Gaussian noise of std ``level`` (clipped to
    [0, 1]); ``blur`` applies a Gaussian blur of ``level`` pixels; ``radius`` re-renders the
    frames from the generator's ground-truth state with every radius times ``level``."""
    frames = frame_set.frames
    if kind == "noise":
        noise = torch.randn(frames.shape, generator=torch.Generator().manual_seed(seed))
        return (frames + level * noise).clamp(0, 1)
    if kind == "blur":
        return torch.from_numpy(ndimage.gaussian_filter(frames.numpy(), (0, 0, level, level)))
    if kind == "radius":
        if not frame_set.has_ground_truth:
            raise ValueError("the radius degradation needs the generator's ground truth")
        rendered = physics.render(frame_set.positions[:, None], frame_set.radii * level)
        return torch.from_numpy(rendered)  # (N, 1, 32, 32): one time step per frame
    raise ValueError(f"unknown degradation {kind!r}; expected one of {sorted(DEGRADATIONS)}")


def frechet_rows(encoder: CountNet, reference: torch.Tensor,
                 candidates: dict[str, torch.Tensor], labels: dict[str, str] | None = None
                 ) -> list[dict]:
    """Frechet distance of each candidate set to ``reference`` on the encoder's features, and
    the candidate's validity share; rows carry the candidate's ``key`` and its label ``set``."""
    ref = encoder_features(encoder, reference)
    labels = labels or {}
    return [{"key": key, "set": labels.get(key, key), "n": len(frames),
             "fd": frechet_distance(encoder_features(encoder, frames), ref),
             "valid": float(validity(frames)["valid"].mean())}
            for key, frames in candidates.items()]


# --- the section's tables -----------------------------------------------------------------------

SAMPLING_COLUMNS = {"model": "sampler", "steps": "network calls", "eta": "DDIM η",
                    "seconds_per_100": "s per 100 samples"}
FRECHET_COLUMNS = {"set": "frames vs test frames", "n": "n", "fd": "Fréchet distance",
                   "fd_over_floor": "× floor", "valid": "valid (%)"}
def sampling_table(rows) -> dict:
    """The sampling table (declared as in ``lab3.json``) of the rows of each sampler."""
    return {"columns": SAMPLING_COLUMNS, "rows": list(rows)}


def frechet_table(rows) -> dict:
    """The Fréchet table of :func:`frechet_rows` (with ``fd_over_floor``); a degraded real set
    is labelled in words by its key (:func:`degradation_label`)."""
    labels = {degradation_key(kind, level): degradation_label(kind, level)
              for kind, levels in DEGRADATIONS.items() for level in levels}
    return {"columns": FRECHET_COLUMNS, "percent": ["valid"],
            "significant": ["fd", "fd_over_floor"],  # three digits, as in the text and figure
            "rows": [{**row, "set": labels.get(row["key"], row["set"])} for row in rows]}


def tables(section: dict) -> dict[str, dict]:
    """The tables of the ``generative`` section of ``lab3.json`` from its keyed rows
    (``sampling``, ``frechet``, ``validity``)."""
    return {"gen_sampling": sampling_table(section["sampling"].values()),
            "gen_frechet": frechet_table(section["frechet"].values()),
            "gen_validity": validity_table(section["validity"].values())}
