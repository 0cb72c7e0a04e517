"""Generative models of single 32x32 frames: a DCGAN and a small denoising diffusion model.

* :class:`DCGANGenerator` / :class:`DCGANDiscriminator` follow Radford et al. (2016): the
  generator maps z to a 4x4 feature map with a dense layer, then doubles the resolution three
  times (stride-2 transposed convolutions, or bilinear resizes and convolutions; batch norm,
  ReLU) and ends in a sigmoid; the
  discriminator halves it three times with stride-2 convolutions (LeakyReLU 0.2, batch norm
  after the first) and ends in one logit. Both can be conditioned on a class (the ball count):
  the generator reads it one-hot beside z, the discriminator by projection. Trained with
  :func:`bballs.training.gan.fit_gan`.
* :class:`NoiseUNet` reads a noised frame at step t (a two-level U-Net with residual blocks,
  group norm and a sinusoidal time embedding added in every block) and predicts its clean frame
  (or, as in the DDPM paper, its noise); :class:`Diffusion` wraps it with a cosine noise
  schedule (Nichol & Dhariwal, 2021): its ``forward`` returns the DDPM training loss, so it
  trains with
  :func:`bballs.training.loop.fit` and :func:`~bballs.training.loop.model_loss`, and
  :meth:`Diffusion.sample` draws frames with the deterministic DDIM sampler (Song et al., 2021)
  in a few steps.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm

SIZE = 32  # frame side in pixels


OUTPUTS = {"sigmoid": nn.Sigmoid, "clamp": lambda: nn.Hardtanh(0.0, 1.0)}


class DCGANGenerator(nn.Module):
    """z (B, latent_dim) -> frames (B, 1, 32, 32) in [0, 1].

    ``upsampling="transposed"`` is Radford et al.'s generator: three stride-2 transposed
    convolutions, the last one straight to the frame. ``"bilinear"`` is the variant the
    notebook trains: the first two doublings are bilinear resizes followed by 3x3 convolutions
    (no checkerboard, Odena et al., 2016), the last is a transposed convolution to ``refine``
    channels at 32x32, and a 3x3 convolution there draws the frame, so every output pixel is
    made by one filter whatever its position on the pixel grid: round blobs come easier.
    ``output="sigmoid"`` maps the last convolution to (0, 1); ``"clamp"`` clips it to [0, 1],
    so a pixel can be exactly black (a sigmoid leaves a faint grey haze where it cannot).
    """

    def __init__(self, latent_dim: int = 64, width: int = 32, upsampling: str = "transposed",
                 refine: int = 16, n_classes: int = 0, output: str = "sigmoid") -> None:
        super().__init__()
        if latent_dim < 1 or width < 1 or refine < 1 or n_classes < 0:
            raise ValueError(f"latent_dim, width and refine must be positive and n_classes >= 0, "
                             f"got {latent_dim}, {width}, {refine}, {n_classes}")
        if upsampling not in ("transposed", "bilinear"):
            raise ValueError(f"upsampling must be 'transposed' or 'bilinear', got {upsampling!r}")
        if output not in OUTPUTS:
            raise ValueError(f"output must be one of {sorted(OUTPUTS)}, got {output!r}")
        self.latent_dim, self.width, self.upsampling = latent_dim, width, upsampling
        self.output = output
        self.n_classes = n_classes
        # the share of each class among the training frames (set by training; sampling draws
        # the classes of new frames from it)
        self.register_buffer("class_shares", torch.full((n_classes,), 1 / max(n_classes, 1)))
        self.project = nn.Sequential(nn.Linear(latent_dim + n_classes, 4 * width * 16, bias=False),
                                     nn.BatchNorm1d(4 * width * 16), nn.ReLU(inplace=True))
        up = _up if upsampling == "transposed" else _resize_up
        last = ([nn.ConvTranspose2d(width, 1, 4, stride=2, padding=1)]
                if upsampling == "transposed" else
                [*_up(width, refine), nn.Conv2d(refine, 1, 3, padding=1)])
        self.upsample = nn.Sequential(up(4 * width, 2 * width), up(2 * width, width),  # 4->8->16
                                      *last, OUTPUTS[output]())  # 16 -> 32

    def forward(self, z: torch.Tensor, classes: torch.Tensor | None = None) -> torch.Tensor:
        return self.upsample(self.project(_with_classes(z, classes, self.n_classes))
                             .view(len(z), 4 * self.width, 4, 4))


def _with_classes(z: torch.Tensor, classes: torch.Tensor | None, n_classes: int) -> torch.Tensor:
    """z, with the one-hot ``classes`` appended for a conditional generator (``classes`` may
    also be given as class weights (B, n_classes), e.g. a mix of two one-hot vectors)."""
    if not n_classes:
        return z
    if classes is None:
        raise ValueError(f"this generator is conditioned on {n_classes} classes: pass them")
    if classes.is_floating_point():
        return torch.cat([z, classes.to(z.dtype)], dim=1)
    return torch.cat([z, F.one_hot(classes, n_classes).to(z.dtype)], dim=1)


def _up(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(nn.ConvTranspose2d(in_channels, out_channels, 4, stride=2, padding=1,
                                            bias=False),
                         nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True))


def _resize_up(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(nn.Upsample(scale_factor=2, mode="bilinear"),
                         nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
                         nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True))


class DCGANDiscriminator(nn.Module):
    """Frames (B, 1, 32, 32) -> one real/fake logit (B, 1); with ``n_classes`` it also reads
    each frame's class through a projection (Miyato & Koyama, 2018): the logit gains the dot
    product of the class's learnt embedding with the frame's features. With ``auxiliary`` it
    also carries a classifier of the class on the same features (:meth:`classify`, as in
    Odena et al.'s AC-GAN, 2017). With ``spectral`` every layer of the logit is spectrally
    normalised (Miyato et al., 2018) and batch norm is left out. With ``minibatch_std`` the last
    block also reads the batch's spread (:class:`MinibatchStd`)."""

    def __init__(self, width: int = 32, n_classes: int = 0, auxiliary: bool = False,
                 spectral: bool = False, minibatch_std: bool = False) -> None:
        super().__init__()
        if width < 1 or n_classes < 0 or (auxiliary and not n_classes):
            raise ValueError(f"width must be positive and n_classes >= 0 (and > 0 with an "
                             f"auxiliary classifier), got {width}, {n_classes}")
        self.n_classes = n_classes
        self.features = nn.Sequential(
            nn.Conv2d(1, width, 4, stride=2, padding=1), nn.LeakyReLU(0.2, inplace=True),  # 16
            _down(width, 2 * width, spectral),  # 8
            *([MinibatchStd()] if minibatch_std else []),
            _down(2 * width + minibatch_std, 4 * width, spectral),  # 4
            nn.Flatten(),
        )
        self.head = nn.Linear(4 * width * 16, 1)
        self.embed = nn.Embedding(n_classes, 4 * width * 16) if n_classes else None
        self.classifier = nn.Linear(4 * width * 16, n_classes) if auxiliary else None
        if spectral:  # every layer of the real/fake logit (Miyato et al., 2018)
            for layer in [*self.features.modules(), self.head, self.embed]:
                if isinstance(layer, (nn.Conv2d, nn.Linear, nn.Embedding)):
                    spectral_norm(layer)

    def forward(self, x: torch.Tensor, classes: torch.Tensor | None = None) -> torch.Tensor:
        return self.judge(self.features(x), classes)

    def judge(self, features: torch.Tensor, classes: torch.Tensor | None = None) -> torch.Tensor:
        """The real/fake logit (B, 1) of flattened ``features`` (B, 4 * width * 16)."""
        logit = self.head(features)
        if self.embed is None:
            return logit
        if classes is None:
            raise ValueError(f"this discriminator is conditioned on {self.n_classes} classes: "
                             "pass them")
        return logit + (self.embed(classes) * features).sum(dim=1, keepdim=True)

    def classify(self, features: torch.Tensor) -> torch.Tensor:
        """The auxiliary classifier's class logits (B, n_classes) of flattened ``features``."""
        if self.classifier is None:
            raise ValueError("this discriminator has no auxiliary classifier")
        return self.classifier(features)


class MinibatchStd(nn.Module):
    """Appends one channel to features (B, C, H, W): the standard deviation of every feature over
    the batch, averaged to one number (Karras et al., 2018). A batch of generated frames with too
    little variety then looks different from a real batch."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        spread = x.float().std(dim=0, unbiased=False).mean().to(x.dtype)
        return torch.cat([x, spread.expand(len(x), 1, *x.shape[2:])], dim=1)


def _down(in_channels: int, out_channels: int, spectral: bool = False) -> nn.Sequential:
    """A stride-2 convolution, batch norm (none under spectral normalisation) and LeakyReLU."""
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, 4, stride=2, padding=1,
                                   bias=spectral),
                         nn.Identity() if spectral else nn.BatchNorm2d(out_channels),
                         nn.LeakyReLU(0.2, inplace=True))


def dcgan_init(module: nn.Module) -> None:
    """DCGAN's initialisation: convolution weights N(0, 0.02), batch-norm scales N(1, 0.02)."""
    for layer in module.modules():
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear, nn.Embedding)):
            weight = (layer.parametrizations.weight.original
                      if parametrize.is_parametrized(layer, "weight") else layer.weight)
            nn.init.normal_(weight, 0.0, 0.02)
            if getattr(layer, "bias", None) is not None:
                nn.init.zeros_(layer.bias)
        elif isinstance(layer, (nn.BatchNorm1d, nn.BatchNorm2d)):
            nn.init.normal_(layer.weight, 1.0, 0.02)
            nn.init.zeros_(layer.bias)


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embedding (B, dim) of integer steps t (B,), as in the Transformer."""
    if dim % 2:
        raise ValueError(f"embedding dimension must be even, got {dim}")
    half = dim // 2
    frequencies = torch.exp(-math.log(10_000) * torch.arange(half, device=t.device) / half)
    angles = t.float()[:, None] * frequencies[None]
    return torch.cat([angles.sin(), angles.cos()], dim=1)


class ResBlock(nn.Module):
    """Two 3x3 convolutions with group norm and SiLU; the time embedding is added in between."""

    def __init__(self, in_channels: int, out_channels: int, time_dim: int) -> None:
        super().__init__()
        self.norm1 = nn.GroupNorm(min(8, in_channels), in_channels)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.time = nn.Linear(time_dim, out_channels)
        self.norm2 = nn.GroupNorm(min(8, out_channels), out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        self.skip = (nn.Conv2d(in_channels, out_channels, 1) if in_channels != out_channels
                     else nn.Identity())

    def forward(self, x: torch.Tensor, time: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.time(time)[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return h + self.skip(x)


class NoiseUNet(nn.Module):
    """Denoiser f(x_t, t): (B, 1, 32, 32), (B,) -> (B, 1, 32, 32), the clean frame or the noise
    of x_t (see :class:`Diffusion`).

    Resolutions 32 -> 16 -> 8 and back, ``width`` channels at 32x32 and ``2 * width`` below,
    concatenation skips, one residual block per level and two at the bottom.
    """

    def __init__(self, width: int = 16, time_dim: int = 64) -> None:
        super().__init__()
        if width < 8 or width % 8:
            raise ValueError(f"width must be a positive multiple of 8, got {width}")
        w = width
        self.time_dim = time_dim
        self.time_mlp = nn.Sequential(nn.Linear(time_dim, time_dim), nn.SiLU(),
                                      nn.Linear(time_dim, time_dim))
        self.stem = nn.Conv2d(1, w, 3, padding=1)
        self.enc32 = ResBlock(w, w, time_dim)
        self.down16 = nn.Conv2d(w, w, 3, stride=2, padding=1)
        self.enc16 = ResBlock(w, 2 * w, time_dim)
        self.down8 = nn.Conv2d(2 * w, 2 * w, 3, stride=2, padding=1)
        self.mid = nn.ModuleList([ResBlock(2 * w, 2 * w, time_dim) for _ in range(2)])
        self.up16 = nn.ConvTranspose2d(2 * w, 2 * w, 2, stride=2)
        self.dec16 = ResBlock(4 * w, 2 * w, time_dim)
        self.up32 = nn.ConvTranspose2d(2 * w, w, 2, stride=2)
        self.dec32 = ResBlock(2 * w, w, time_dim)
        self.out = nn.Sequential(nn.GroupNorm(min(8, w), w), nn.SiLU(),
                                 nn.Conv2d(w, 1, 3, padding=1))

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        time = self.time_mlp(timestep_embedding(t, self.time_dim))
        h32 = self.enc32(self.stem(x), time)
        h16 = self.enc16(self.down16(h32), time)
        h = self.down8(h16)
        for block in self.mid:
            h = block(h, time)
        h = self.dec16(torch.cat([self.up16(h), h16], dim=1), time)
        h = self.dec32(torch.cat([self.up32(h), h32], dim=1), time)
        return self.out(h)


def cosine_alpha_bars(steps: int, offset: float = 0.008, max_beta: float = 0.999
                      ) -> torch.Tensor:
    """Cumulative signal levels abar_1..abar_T of the cosine schedule (Nichol & Dhariwal)."""
    if steps < 1:
        raise ValueError(f"the schedule needs at least one step, got {steps}")
    s = torch.linspace(0, 1, steps + 1, dtype=torch.float64)
    f = torch.cos((s + offset) / (1 + offset) * math.pi / 2) ** 2
    betas = (1 - f[1:] / f[:-1]).clamp(max=max_beta)
    return torch.cumprod(1 - betas, dim=0).float()


PREDICTIONS = ("frame", "noise")


class Diffusion(nn.Module):
    """A DDPM on frames in [0, 1] (scaled to [-1, 1] inside): ``forward(x0)`` is the training
    loss at a step t uniform in 0..T-1 of x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps;
    :meth:`sample` runs DDIM with a chosen number of steps.

    ``prediction`` is what the network outputs and the loss compares: ``"frame"`` the clean
    frame x0 (loss ||x0 - f(x_t, t)||^2), ``"noise"`` the noise eps (the DDPM paper's loss
    ||eps - f(x_t, t)||^2). Our frames are mostly an exactly black background: a predicted frame
    reaches it (and is clipped to it), whereas a frame recovered from predicted noise keeps the
    network's error scaled by sqrt(1 - abar_t) / sqrt(abar_t) as a faint grey haze.
    """

    def __init__(self, net: nn.Module, steps: int = 1000, prediction: str = "frame") -> None:
        super().__init__()
        if prediction not in PREDICTIONS:
            raise ValueError(f"prediction must be one of {PREDICTIONS}, got {prediction!r}")
        self.net, self.steps, self.prediction = net, steps, prediction
        self.register_buffer("alpha_bars", cosine_alpha_bars(steps))

    def forward(self, x0: torch.Tensor) -> torch.Tensor:
        x0 = 2 * x0 - 1
        t = torch.randint(0, self.steps, (len(x0),), device=x0.device)
        noise = torch.randn_like(x0)
        a = self.alpha_bars[t][:, None, None, None]
        noisy = a.sqrt() * x0 + (1 - a).sqrt() * noise
        return F.mse_loss(self.net(noisy, t), x0 if self.prediction == "frame" else noise)

    def clean_frame(self, x: torch.Tensor, t: int) -> torch.Tensor:
        """The network's clean frame (in [-1, 1]) of x_t at step ``t``."""
        out = self.net(x, torch.full((len(x),), t, device=x.device))
        if self.prediction == "noise":
            a = self.alpha_bars[t]
            out = (x - (1 - a).sqrt() * out) / a.sqrt()
        return out.clamp(-1, 1)

    @torch.no_grad()
    def sample(self, n: int, sampling_steps: int = 25, generator: torch.Generator | None = None,
               batch_size: int = 500, eta: float = 0.0) -> torch.Tensor:
        """``n`` frames (n, 1, 32, 32) in [0, 1] by DDIM over ``sampling_steps`` evenly spaced
        steps: deterministic for ``eta`` = 0, DDPM-like ancestral noise for ``eta`` = 1; all
        noise from ``generator`` (CPU), so the result does not depend on ``batch_size``."""
        if not 1 <= sampling_steps <= self.steps:
            raise ValueError(f"sampling_steps must be in 1..{self.steps}, got {sampling_steps}")
        if not 0 <= eta <= 1:
            raise ValueError(f"eta must be in [0, 1], got {eta}")
        self.eval()
        device = self.alpha_bars.device
        noise = torch.randn(sampling_steps + 1, n, 1, SIZE, SIZE, generator=generator)
        if eta == 0:
            noise = noise[:1]
        return torch.cat([self._ddim(noise[:, i:i + batch_size].to(device), sampling_steps, eta)
                          for i in range(0, n, batch_size)]).cpu()

    def _ddim(self, noise: torch.Tensor, sampling_steps: int, eta: float) -> torch.Tensor:
        times = torch.linspace(self.steps - 1, 0, sampling_steps).round().long().tolist()
        x = noise[0]
        for i, t in enumerate(times):
            a = self.alpha_bars[t]
            a_next = self.alpha_bars[times[i + 1]] if i + 1 < len(times) else a.new_tensor(1.0)
            x0 = self.clean_frame(x, t)
            eps = (x - a.sqrt() * x0) / (1 - a).sqrt()  # the noise of x_t given that frame
            sigma = eta * ((1 - a_next) / (1 - a) * (1 - a / a_next)).sqrt()
            x = a_next.sqrt() * x0 + (1 - a_next - sigma**2).clamp(min=0).sqrt() * eps
            if eta > 0:
                x = x + sigma * noise[i + 1]
        return ((x + 1) / 2).clamp(0, 1)
