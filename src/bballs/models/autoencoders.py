"""Proposal 1: a dense-bottleneck convolutional autoencoder and classifiers on its latent code.

Encoder: two 3x3 convolutions with ReLU, each followed by 2x2 max-pooling (32 -> 16 -> 8), then
flatten and one dense layer to the latent of size ``l``. Decoder, its mirror: a dense layer with
ReLU, reshape to (C, 8, 8), two upsampling stages (a 2x2 stride-2 transposed convolution, or
bilinear upsampling followed by a 3x3 convolution) and a 3x3 convolution with a sigmoid output.
A :class:`GaussianNoise` layer at the input (active in training only) makes it a denoising AE.

The output convolution's bias starts at the logit of the frames' mean intensity (about 0.08):
with the default bias the sigmoid starts at 0.5 everywhere and the first Adam steps push it into
saturation towards the mostly black background, where the L2 gradient vanishes and training
stalls at a black frame (observed at lr 2e-3).
"""

from __future__ import annotations

import math

import torch
from torch import nn

FRAME_SIZE = 32
MEAN_INTENSITY = 0.08  # about the mean pixel of the training frames
UPSAMPLING = ("transposed", "bilinear")


def _check_latent(latent: int) -> None:
    if not isinstance(latent, int) or latent < 1:
        raise ValueError(f"latent size must be a positive integer, got {latent!r}")


class GaussianNoise(nn.Module):
    """Adds N(0, std²) noise in training mode, identity in evaluation mode (Keras'
    ``GaussianNoise``); draws from the global torch generator, which ``fit`` seeds per epoch."""

    def __init__(self, std: float) -> None:
        super().__init__()
        if std < 0:
            raise ValueError(f"noise std must be >= 0, got {std}")
        self.std = float(std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training and self.std > 0:
            return x + self.std * torch.randn_like(x)
        return x

    def extra_repr(self) -> str:
        return f"std={self.std}"


ENCODER_CHANNELS = (16, 32)  # the encoder's two convolutions; the decoder mirrors them


class ConvEncoder(nn.Sequential):
    """(B, 1, 32, 32) -> (B, latent): conv-ReLU-pool twice, flatten, dense."""

    def __init__(self, latent: int, channels: tuple[int, int] = ENCODER_CHANNELS) -> None:
        _check_latent(latent)
        c1, c2 = channels
        side = FRAME_SIZE // 4
        super().__init__(
            nn.Conv2d(1, c1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(c2 * side * side, latent),
        )
        self.latent = latent


def _up_stage(in_channels: int, out_channels: int, upsampling: str) -> list[nn.Module]:
    if upsampling == "transposed":
        return [nn.ConvTranspose2d(in_channels, out_channels, 2, stride=2), nn.ReLU()]
    return [nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
            nn.Conv2d(in_channels, out_channels, 3, padding=1), nn.ReLU()]


class ConvDecoder(nn.Sequential):
    """(B, latent) -> (B, 1, 32, 32) in [0, 1]: dense-ReLU, reshape, two upsampling stages, a
    3x3 convolution and a sigmoid."""

    def __init__(self, latent: int, channels: tuple[int, int] = ENCODER_CHANNELS[::-1],
                 upsampling: str = "transposed", output_mean: float = MEAN_INTENSITY) -> None:
        _check_latent(latent)
        if upsampling not in UPSAMPLING:
            raise ValueError(f"upsampling must be one of {UPSAMPLING}, got {upsampling!r}")
        c1, c2 = channels
        side = FRAME_SIZE // 4
        super().__init__(
            nn.Linear(latent, c1 * side * side), nn.ReLU(), nn.Unflatten(1, (c1, side, side)),
            *_up_stage(c1, c2, upsampling), *_up_stage(c2, c2, upsampling),
            nn.Conv2d(c2, 1, 3, padding=1), nn.Sigmoid(),
        )
        if not 0 < output_mean < 1:
            raise ValueError(f"output_mean must be in (0, 1), got {output_mean}")
        nn.init.constant_(self[-2].bias, math.log(output_mean / (1 - output_mean)))


class Autoencoder(nn.Module):
    """Encoder, decoder and an optional input noise layer; ``forward`` returns the
    reconstruction (train it on the L2 loss against the clean input)."""

    def __init__(self, latent: int, upsampling: str = "transposed",
                 noise_std: float = 0.0) -> None:
        super().__init__()
        self.latent = latent
        self.upsampling = upsampling
        self.noise = GaussianNoise(noise_std)
        self.encoder = ConvEncoder(latent)
        self.decoder = ConvDecoder(latent, upsampling=upsampling)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(self.noise(x)))


class LatentClassifier(nn.Module):
    """Ball-count logits from a frozen latent code: inputs standardised with the training
    codes' mean and std (fixed buffers), then one linear layer (``hidden=()``) or an MLP."""

    def __init__(self, mean: torch.Tensor, std: torch.Tensor, hidden: tuple[int, ...] = (),
                 n_classes: int = 3) -> None:
        super().__init__()
        if mean.ndim != 1 or mean.shape != std.shape:
            raise ValueError(f"mean and std must be equal 1-D tensors, got {tuple(mean.shape)} "
                             f"and {tuple(std.shape)}")
        self.register_buffer("mean", mean.detach().clone().float())
        self.register_buffer("std", std.detach().clone().float().clamp_min(1e-6))
        layers: list[nn.Module] = []
        width = len(mean)
        for size in hidden:
            layers += [nn.Linear(width, size), nn.ReLU()]
            width = size
        self.net = nn.Sequential(*layers, nn.Linear(width, n_classes))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net((z - self.mean) / self.std)


class EncoderClassifier(nn.Module):
    """The AE's encoder followed by a linear head to the ball-count logits (trained end to
    end; the encoder is randomly initialised or copied from a trained autoencoder).

    The head normalises the code (batch norm) before its linear layer: an AE's code has an
    arbitrary scale (std about 8 here), which saturated the softmax of a plain linear head and
    left the pre-trained classifier near chance with few labels; with the normalisation both
    initialisations start from codes of the same scale (``normalise=False``: the plain head).
    """

    def __init__(self, latent: int, n_classes: int = 3, normalise: bool = True) -> None:
        super().__init__()
        self.encoder = ConvEncoder(latent)
        norm = [nn.BatchNorm1d(latent)] if normalise else []
        self.head = nn.Sequential(*norm, nn.Linear(latent, n_classes))

    def load_encoder(self, autoencoder: Autoencoder) -> EncoderClassifier:
        """Copy the weights of ``autoencoder.encoder`` (the same architecture) into this one."""
        if autoencoder.latent != self.encoder.latent:
            raise ValueError(f"latent sizes differ: autoencoder {autoencoder.latent}, "
                             f"classifier {self.encoder.latent}")
        self.encoder.load_state_dict(autoencoder.encoder.state_dict())
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(x))
