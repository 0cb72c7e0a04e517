"""Model summaries with torchsummary."""

from __future__ import annotations

import contextlib
import io

from torch import nn
from torchsummary import summary

_ESTIMATE_LINES = ("Forward/backward pass size", "Estimated Total Size")
_IMPLAUSIBLE_MB = 1e6


def model_summary(model: nn.Module, input_size: tuple[int, ...]) -> str:
    """torchsummary's layer table of ``model`` for one input of ``input_size`` (C, H, W).

    torchsummary cannot size the activations of a module with several outputs (the U-Net's
    encoder), so its memory estimate lines are replaced by a note in that case.
    """
    device = next(model.parameters()).device.type
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        summary(model, input_size, device="cuda" if device == "cuda" else "cpu")
    lines = buffer.getvalue().splitlines()
    pass_size = next(float(line.split(":")[1]) for line in lines
                     if line.startswith(_ESTIMATE_LINES[0]))
    if pass_size > _IMPLAUSIBLE_MB:
        lines = [line for line in lines if not line.startswith(_ESTIMATE_LINES)]
        lines.insert(-1, "(memory estimate omitted: torchsummary cannot size multi-output modules)")
    return "\n".join(lines)
