"""The Table 3 U-Net with other skip connections, for the Task 5 discussion: none, or
concatenation (the original U-Net's) instead of the specification's element-wise addition; and
the Table 3 U-Net widened to the learnt Task 7 network's size, for the Task 7 control.

Encoder and blocks are the specification's; only the skips, or only the widths, change.
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


WIDE_BASE = 46  # first-block width at which the U-Net has about the learnt network's parameters


class WideUNet(nn.Module):
    """Table 3's U-Net (addition skips) with every width scaled by base / 32, 46 / 32 by default.

    At :data:`WIDE_BASE` it has about as many parameters as the learnt Task 7 network."""

    def __init__(self, in_frames: int = N_FRAMES_IN, out_frames: int = N_FRAMES_OUT,
                 base: int = WIDE_BASE) -> None:
        super().__init__()
        widths = tuple(base * k // WIDTHS[0] for k in WIDTHS)
        self.encoder = Encoder(in_frames, widths)
        self.decoder = Decoder(out_frames, widths)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(*self.encoder(x))
