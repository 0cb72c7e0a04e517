"""The Table 3 U-Net with other skip connections, for the Task 5 discussion: none, or
concatenation (the original U-Net's) instead of the specification's element-wise addition.

Encoder, blocks and widths are the specification's; only what happens to the skips changes.
"""

from __future__ import annotations

import torch
from torch import nn

from bballs.models.spec import (
    N_FRAMES_IN,
    N_FRAMES_OUT,
    ConvBlock,
    Decoder,
    Encoder,
    TransposedConvBlock,
)

WIDTHS = (32, 64, 128)


class NoSkipDecoder(Decoder):
    """Table 3's decoder with the skips dropped: everything must pass the 4x4 bottleneck."""

    def forward(self, x: torch.Tensor, *skips: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = block(x)
        return self.head(x)


class ConcatDecoder(nn.Module):
    """Table 3's decoder with concatenation skips: each block's output is stacked with the skip
    of the same resolution, so the next block (and the head) sees twice the channels."""

    def __init__(self, out_channels: int = N_FRAMES_OUT, widths: tuple[int, ...] = WIDTHS):
        super().__init__()
        deep_first = tuple(reversed(widths))
        inputs = (deep_first[0], *(2 * k for k in deep_first[:-1]))
        self.blocks = nn.ModuleList(TransposedConvBlock(a, b) for a, b in zip(inputs, deep_first))
        self.head = ConvBlock(2 * widths[0], out_channels)

    def forward(self, x: torch.Tensor, *skips: torch.Tensor) -> torch.Tensor:
        for block, skip in zip(self.blocks, reversed(skips)):
            x = torch.cat([block(x), skip], dim=1)
        return self.head(x)


class UNetNoSkip(nn.Module):
    """Table 3's U-Net without skip connections (an encoder-decoder)."""

    def __init__(self, in_frames: int = N_FRAMES_IN, out_frames: int = N_FRAMES_OUT) -> None:
        super().__init__()
        self.encoder = Encoder(in_frames)
        self.decoder = NoSkipDecoder(out_frames)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(*self.encoder(x))


class UNetConcat(UNetNoSkip):
    """Table 3's U-Net with concatenation skips instead of addition."""

    def __init__(self, in_frames: int = N_FRAMES_IN, out_frames: int = N_FRAMES_OUT) -> None:
        super().__init__(in_frames, out_frames)
        self.decoder = ConcatDecoder(out_frames)
