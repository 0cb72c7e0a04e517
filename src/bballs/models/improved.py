"""Models beyond the specification (Tasks 4 and 7); the spec models stay in ``spec.py``."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from bballs.models.counter import CountingEncoder, CountNet, conv_bn_relu


class DensityCountNet(nn.Module):
    """Ball counter that counts blobs: a non-negative density map (softplus) summed into a count c.

    Three 3x3 layers at full resolution, one 2x2 pooling and two more layers see about 16 pixels
    around each point, a ball or two but not the frame's layout; a 1x1 convolution and a
    softplus give a non-negative density whose sum is the count ``c``. The logit of ``k`` balls
    is ``-sharpness * (c - k)^2``, so the predicted class is the count nearest to ``c`` and a
    frame with more, smaller or displaced balls adds up what its parts hold.
    """

    def __init__(self, width: int = 32, n_classes: int = 3, sharpness: float = 4.0) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            conv_bn_relu(1, width), conv_bn_relu(width, width), conv_bn_relu(width, width),
            nn.MaxPool2d(2), conv_bn_relu(width, 2 * width), conv_bn_relu(2 * width, 2 * width),
        )
        self.density = nn.Conv2d(2 * width, 1, 1)
        nn.init.constant_(self.density.bias, -6.0)  # start near an empty frame, not 180 balls
        self.sharpness = sharpness
        self.register_buffer("counts", torch.arange(1, n_classes + 1, dtype=torch.float32),
                             persistent=False)

    def density_map(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, 32, 32) frames -> (B, 1, 16, 16) non-negative ball density."""
        return F.softplus(self.density(self.encoder(x)))

    def count(self, x: torch.Tensor) -> torch.Tensor:
        """The real-valued number of balls per frame, (B,)."""
        return self.density_map(x).flatten(1).sum(dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return -self.sharpness * (self.count(x)[:, None] - self.counts) ** 2


class FrameStandardiser(nn.Module):
    """A fixed input layer: the frame divided by its brightest pixel (after an optional 3x3
    median filter), so the count does not depend on the intensity scale of the file."""

    def __init__(self, floor: float = 0.05, median: bool = False) -> None:
        super().__init__()
        self.floor, self.median = floor, median

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        if self.median:
            patches = F.unfold(F.pad(x, (1, 1, 1, 1), mode="replicate"), 3).view(n, c, 9, h * w)
            x = patches.median(dim=2).values.view(n, c, h, w)
        peak = x.flatten(1).amax(dim=1).clamp_min(self.floor).view(n, 1, 1, 1)
        return (x / peak).clamp(0, 1)


class NormalisedCountNet(CountNet):
    """:class:`CountNet` behind a :class:`FrameStandardiser` (no extra parameters)."""

    def __init__(self, width: int = 32, n_classes: int = 3) -> None:
        super().__init__(width, n_classes)
        self.standardise = FrameStandardiser()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(self.standardise(x))


class FrameAutoencoder(nn.Module):
    """Convolutional autoencoder whose encoder is CountNet's convolutional part (pre-training)."""

    def __init__(self, width: int = 32) -> None:
        super().__init__()
        self.encoder = CountingEncoder(width)
        channels = self.encoder.out_channels
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(channels, width, 2, stride=2), nn.ReLU(inplace=True),
            conv_bn_relu(width, width),
            nn.ConvTranspose2d(width, width, 2, stride=2), nn.ReLU(inplace=True),
            nn.Conv2d(width, 1, 3, padding=1), nn.Sigmoid(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


class ResidualBlock(nn.Module):
    """Two 3x3 conv + GroupNorm layers with an identity shortcut (channels kept)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1), nn.GroupNorm(8, channels), nn.SiLU(),
            nn.Conv2d(channels, channels, 3, padding=1), nn.GroupNorm(8, channels),
        )
        self.act = nn.SiLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(x + self.body(x))


class FramePredictor(nn.Module):
    """Improved video predictor: a residual U-Net with additive skips and a bounded output.

    Differences from Table 3: two extra input channels with the pixel coordinates (so walls are
    easy to locate), residual blocks with GroupNorm, and the output is
    ``sigmoid(logit(last input frame) + correction)``: the network predicts the *change* from
    the last frame and the sigmoid keeps every pixel in [0, 1].

    With ``prior=True`` the last ``out_frames`` input channels are a prior prediction (the
    classical predictor's frames) and each output frame corrects its own prior frame instead.
    """

    def __init__(self, in_frames: int = 5, out_frames: int = 5,
                 widths: tuple[int, ...] = (32, 64, 128), prior: bool = False) -> None:
        super().__init__()
        self.out_frames = out_frames
        self.prior = prior
        self.stem = nn.Conv2d(in_frames + 2, widths[0], 3, padding=1)
        self.down = nn.ModuleList()
        self.encode = nn.ModuleList()
        for i, width in enumerate(widths):
            self.encode.append(ResidualBlock(width))
            nxt = widths[i + 1] if i + 1 < len(widths) else width
            self.down.append(nn.Conv2d(width, nxt, 2, stride=2))
        self.middle = ResidualBlock(widths[-1])
        self.up = nn.ModuleList()
        self.decode = nn.ModuleList()
        channels = widths[-1]
        for width in reversed(widths):
            self.up.append(nn.ConvTranspose2d(channels, width, 2, stride=2))
            self.decode.append(ResidualBlock(width))
            channels = width
        self.head = nn.Conv2d(widths[0], out_frames, 3, padding=1)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, h, w = x.shape
        ys = torch.linspace(-1, 1, h, device=x.device).view(1, 1, h, 1).expand(b, 1, h, w)
        xs = torch.linspace(-1, 1, w, device=x.device).view(1, 1, 1, w).expand(b, 1, h, w)
        z = self.stem(torch.cat([x, ys, xs], dim=1))
        skips = []
        for block, down in zip(self.encode, self.down):
            z = block(z)
            skips.append(z)
            z = down(z)
        z = self.middle(z)
        for up, block, skip in zip(self.up, self.decode, reversed(skips)):
            z = block(up(z) + skip)
        base = x[:, -self.out_frames:] if self.prior else x[:, -1:]
        return torch.sigmoid(torch.logit(base.clamp(1e-3, 1 - 1e-3)) + self.head(z))


class PhysicsPriorPredictor(FramePredictor):
    """A frame predictor that corrects the classical predictor's forecast (blob tracking).

    Its input is 10 channels: the 5 observed frames, then the classical predictor's 5 forecast
    frames (see :func:`bballs.tasks.prediction.with_physics_prior`).
    """

    needs_physics_prior = True

    def __init__(self, widths: tuple[int, ...] = (32, 64, 128)) -> None:
        super().__init__(in_frames=10, out_frames=5, widths=widths, prior=True)
