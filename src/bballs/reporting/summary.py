"""Model summaries with torchsummary."""

from __future__ import annotations

import contextlib
import io
import re

from torch import nn
from torchsummary import summary

_ESTIMATE_LINES = ("Forward/backward pass size", "Estimated Total Size")
_IMPLAUSIBLE_MB = 1e6
_SEVERAL_OUTPUTS = re.compile(r"^\s*(\S+)\s+\[(\[[^]]*\])(.*)\]\s+(\S+)$")  # [[...], [...]]


def model_summary(model: nn.Module, input_size: tuple[int, ...]) -> str:
    """torchsummary's layer table of ``model`` for one input of ``input_size`` (C, H, W).

    torchsummary cannot size the activations of a module with several outputs (the U-Net's
    encoder), so its memory estimate lines are replaced by a note in that case; such a module's
    row shows its first output's shape and how many more it has, so that every row keeps
    torchsummary's 64-character width.
    """
    device = next(model.parameters()).device.type
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        summary(model, input_size, device="cuda" if device == "cuda" else "cpu")
    lines = [_first_output(line) for line in buffer.getvalue().splitlines()]
    pass_size = next(float(line.split(":")[1]) for line in lines
                     if line.startswith(_ESTIMATE_LINES[0]))
    if pass_size > _IMPLAUSIBLE_MB:
        lines = [line for line in lines if not line.startswith(_ESTIMATE_LINES)]
        lines.insert(-1, "(memory estimate omitted: a module has several outputs)")
    return "\n".join(lines)


def _first_output(line: str) -> str:
    """A torchsummary row of a module with several outputs, its shapes cut to the first one
    and a count of the others (any other line unchanged)."""
    match = _SEVERAL_OUTPUTS.match(line)
    if not match:
        return line
    name, first, others, parameters = match.groups()
    more = others.count("[")
    return "{:>20}  {:>25} {:>15}".format(name, f"{first} +{more} more", parameters)
