"""A small ball counter: 3x3 convolutions with batch norm, global average pooling and one linear
layer. It counts 1-3 balls in a frame and its features serve as an image representation."""

from __future__ import annotations

import torch
from torch import nn


def conv_bn_relu(in_channels: int, out_channels: int) -> nn.Sequential:
    """3x3 convolution (size kept), batch normalisation, ReLU."""
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
                         nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True))


class CountingEncoder(nn.Sequential):
    """Convolutional features of :class:`CountNet`: (B, 1, 32, 32) -> (B, 2w, 8, 8)."""

    def __init__(self, width: int = 32) -> None:
        super().__init__(
            conv_bn_relu(1, width), conv_bn_relu(width, width), nn.MaxPool2d(2),
            conv_bn_relu(width, 2 * width), conv_bn_relu(2 * width, 2 * width), nn.MaxPool2d(2),
            conv_bn_relu(2 * width, 2 * width),
        )
        self.out_channels = 2 * width


class CountNet(nn.Module):
    """Ball counter with batch norm and global average pooling instead of flatten + dense.

    Global pooling makes the decision depend on *how much* ball-like evidence a frame holds, not
    on where it is, and leaves only ``2w * 3 + 3`` parameters in the head (less to overfit).
    """

    def __init__(self, width: int = 32, n_classes: int = 3) -> None:
        super().__init__()
        self.encoder = CountingEncoder(width)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                  nn.Linear(self.encoder.out_channels, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(x))
