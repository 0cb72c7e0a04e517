"""The specification's models: the counting CNN (Table 2) and the addition-skip U-Net (Table 3)."""

from __future__ import annotations

import torch
from torch import nn

N_CLASSES = 3  # one, two or three balls
N_FRAMES_IN = 5
N_FRAMES_OUT = 5


def conv_relu(in_channels: int, out_channels: int) -> list[nn.Module]:
    """A 3x3, stride-1 convolution with zero padding that keeps the size, then ReLU."""
    return [nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1), nn.ReLU()]


class BallCounter(nn.Sequential):
    """Table 2: four 3x3 convolutions, two max-pools and two fully connected layers (logits)."""

    def __init__(self, n_classes: int = N_CLASSES) -> None:
        super().__init__(
            *conv_relu(1, 16),
            *conv_relu(16, 32),
            nn.MaxPool2d(2, stride=2),
            *conv_relu(32, 32),
            *conv_relu(32, 16),
            nn.MaxPool2d(2, stride=2),
            nn.Flatten(),
            nn.Linear(16 * 8 * 8, 64),
            nn.ReLU(),
            nn.Linear(64, n_classes),
        )


class ConvBlock(nn.Sequential):
    """Table 3(a): two 3x3 convolutions with ReLU, ``k`` filters, size kept."""

    def __init__(self, in_channels: int, k: int) -> None:
        super().__init__(*conv_relu(in_channels, k), *conv_relu(k, k))


class TransposedConvBlock(nn.Sequential):
    """Table 3(b): a 3x3 convolution with ReLU, then a 2x2 stride-2 transposed one with ReLU."""

    def __init__(self, in_channels: int, k: int) -> None:
        super().__init__(
            *conv_relu(in_channels, k),
            nn.ConvTranspose2d(k, k, kernel_size=2, stride=2),
            nn.ReLU(),
        )


class Encoder(nn.Module):
    """Table 3(c): three convolution blocks, each followed by 2x2 max-pooling.

    Returns one flat tuple: the pooled output, then the three block outputs before pooling
    (skips 1-3). A flat tuple of tensors keeps the module printable by torchsummary.
    """

    def __init__(self, in_channels: int = N_FRAMES_IN, widths: tuple[int, ...] = (32, 64, 128)):
        super().__init__()
        channels = (in_channels, *widths)
        self.blocks = nn.ModuleList(ConvBlock(a, b) for a, b in zip(channels, channels[1:]))
        self.pool = nn.MaxPool2d(2, stride=2)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        skips = []
        for block in self.blocks:
            x = block(x)
            skips.append(x)
            x = self.pool(x)
        return (x, *skips)


class Decoder(nn.Module):
    """Table 3(d): transposed convolution blocks, each followed by element-wise addition of the
    matching skip (deepest first), and a final convolution block with ``out_channels`` filters."""

    def __init__(self, out_channels: int = N_FRAMES_OUT, widths: tuple[int, ...] = (32, 64, 128)):
        super().__init__()
        deep_first = tuple(reversed(widths))
        inputs = (deep_first[0], *deep_first[:-1])
        self.blocks = nn.ModuleList(TransposedConvBlock(a, b) for a, b in zip(inputs, deep_first))
        self.head = ConvBlock(widths[0], out_channels)

    def forward(self, x: torch.Tensor, *skips: torch.Tensor) -> torch.Tensor:
        for block, skip in zip(self.blocks, reversed(skips)):
            x = block(x) + skip
        return self.head(x)


class UNet(nn.Module):
    """Table 3(e): the modified U-Net mapping 5 input frames to the next 5 frames."""

    def __init__(self, in_frames: int = N_FRAMES_IN, out_frames: int = N_FRAMES_OUT) -> None:
        super().__init__()
        self.encoder = Encoder(in_frames)
        self.decoder = Decoder(out_frames)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(*self.encoder(x))
