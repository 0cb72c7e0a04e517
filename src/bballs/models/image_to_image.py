"""A fully convolutional encoder-decoder for image-to-image tasks (Lab 3, Proposal 2).

Convolutions and 2x2 max-pools bring a 32x32 input down to 8x8 (two pools), bilinear upsampling
and convolutions bring it back; there is no dense layer, so the network runs on any input whose
sides are multiples of 4. ``skip`` chooses what joins the encoder's feature map of each
resolution to the decoder's: nothing (``"none"``), an element-wise sum (``"add"``, a U-Net with
addition skips) or a concatenation followed by a 1x1 convolution back to the decoder's width
(``"concat"``, the original U-Net's skip with a channel mixer). :func:`matched_widths` narrows
the bottleneck of the concatenation variant so that all three have nearly the same parameters.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from bballs.core.parameters import count_parameters

Skip = Literal["none", "add", "concat"]
SKIPS: tuple[Skip, ...] = ("none", "add", "concat")
WIDTHS = (16, 32, 64)  # channels at 32x32, 16x16 and the 8x8 bottleneck


def conv_bn_relu(in_channels: int, out_channels: int) -> nn.Sequential:
    """A 3x3 convolution that keeps the size, batch normalisation and ReLU."""
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
                         nn.BatchNorm2d(out_channels), nn.ReLU())


def double_conv(in_channels: int, out_channels: int) -> nn.Sequential:
    """Two :func:`conv_bn_relu` layers."""
    return nn.Sequential(conv_bn_relu(in_channels, out_channels),
                         conv_bn_relu(out_channels, out_channels))


class UpStage(nn.Module):
    """Upsample x2 (bilinear), a 3x3 convolution to ``out_channels``, the skip merge, and a
    second 3x3 convolution."""

    def __init__(self, in_channels: int, out_channels: int, skip: Skip) -> None:
        super().__init__()
        self.skip = skip
        self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
        self.reduce = conv_bn_relu(in_channels, out_channels)
        self.merge = nn.Conv2d(2 * out_channels, out_channels, 1) if skip == "concat" else None
        self.refine = conv_bn_relu(out_channels, out_channels)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = self.reduce(self.up(x))
        if self.skip == "add":
            x = x + skip
        elif self.skip == "concat":
            x = self.merge(torch.cat([x, skip], dim=1))
        return self.refine(x)


class ImageToImageNet(nn.Module):
    """Encoder-decoder with ``len(widths) - 1`` pools (32x32 -> 8x8 for three widths).

    The head is a 1x1 convolution to ``out_channels``. With ``output="image"`` (denoising,
    in-painting) it is a linear head clipped to the image range [0, 1]: the clip returns exact
    zeros on a black background, and the gradient flows only through unclipped pixels. With
    ``output="logits"`` the raw scores are returned (segmentation, for a cross-entropy loss).
    """

    def __init__(self, in_channels: int = 1, out_channels: int = 1,
                 widths: tuple[int, ...] = WIDTHS, skip: Skip = "none",
                 output: Literal["image", "logits"] = "image") -> None:
        super().__init__()
        if skip not in SKIPS:
            raise ValueError(f"skip must be one of {SKIPS}, got {skip!r}")
        if output not in ("image", "logits"):
            raise ValueError(f"output must be 'image' or 'logits', got {output!r}")
        if len(widths) < 2 or min(widths) < 1:
            raise ValueError(f"need at least two positive widths, got {widths}")
        self.skip, self.output = skip, output
        inputs = (in_channels, *widths[:-2])
        self.down = nn.ModuleList(double_conv(a, b) for a, b in zip(inputs, widths[:-1]))
        self.pool = nn.MaxPool2d(2)
        self.bottleneck = double_conv(widths[-2], widths[-1])
        deep_first = tuple(reversed(widths))
        self.up = nn.ModuleList(UpStage(a, b, skip) for a, b in zip(deep_first, deep_first[1:]))
        self.head = nn.Conv2d(widths[0], out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        factor = 2 ** len(self.down)
        if x.shape[-1] % factor or x.shape[-2] % factor:
            raise ValueError(f"input sides must be multiples of {factor}, got {tuple(x.shape)}")
        skips = []
        for stage in self.down:
            x = stage(x)
            skips.append(x)
            x = self.pool(x)
        x = self.bottleneck(x)
        for stage, skip in zip(self.up, reversed(skips)):
            x = stage(x, skip)
        x = self.head(x)
        return x.clamp(0.0, 1.0) if self.output == "image" else x


def matched_widths(skip: Skip, in_channels: int = 1, out_channels: int = 1,
                   reference: tuple[int, ...] = WIDTHS) -> tuple[int, ...]:
    """Widths of the ``skip`` variant with the parameter count closest to the ``"none"`` model
    of ``reference`` widths: the concatenation variant's 1x1 mixers are paid for by a narrower
    bottleneck; ``"none"`` and ``"add"`` (no extra weights) keep ``reference``."""
    if skip not in SKIPS:
        raise ValueError(f"skip must be one of {SKIPS}, got {skip!r}")
    if skip != "concat":
        return tuple(reference)

    def count(widths: tuple[int, ...], kind: Skip) -> int:
        return count_parameters(ImageToImageNet(in_channels, out_channels, widths, kind))

    target = count(tuple(reference), "none")
    candidates = [(*reference[:-1], w) for w in range(reference[-2], reference[-1] + 1)]
    return min(candidates, key=lambda widths: abs(count(widths, "concat") - target))


def build(skip: Skip, in_channels: int = 1, out_channels: int = 1,
          output: Literal["image", "logits"] = "image",
          reference: tuple[int, ...] = WIDTHS) -> ImageToImageNet:
    """The ``skip`` variant at the parameter budget of the ``reference`` widths."""
    widths = matched_widths(skip, in_channels, out_channels, reference)
    return ImageToImageNet(in_channels, out_channels, widths, skip, output)
