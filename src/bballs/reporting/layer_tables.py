"""Layer-by-layer tables of the models beyond the assignment, traced from the code: each layer
in the order the forward pass calls it, its output shape on a real input and its parameters."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from bballs.core.parameters import count_parameters
from bballs.models.counter import CountNet
from bballs.models.improved import (
    DensityCountNet,
    FrameAutoencoder,
    FramePredictor,
    ResidualBlock,
)
from bballs.physics_model.physics_encoder import StateEncoder
from bballs.reporting.tables import markdown_table

LAYER_COLUMNS = {"index": "#", "layer": "layer", "output": "output shape", "parameters": "params"}
# parameter-free steps shown on the row of the layer before them
_FOLDED = (nn.ReLU, nn.SiLU, nn.Sigmoid, nn.Softplus, nn.Flatten)
_NAMES = {nn.ReLU: "ReLU", nn.SiLU: "SiLU", nn.Sigmoid: "sigmoid", nn.Softplus: "softplus",
          nn.Flatten: "flatten", nn.BatchNorm2d: "batch norm",
          nn.AdaptiveAvgPool2d: "global average pool"}


def describe(module: nn.Module) -> str:
    """One layer in words: "conv 3×3, 1→32 + batch norm + ReLU"."""
    if isinstance(module, nn.Sequential):
        return " + ".join(describe(child) for child in module)
    if isinstance(module, ResidualBlock):
        conv, norm = module.body[0], module.body[1]
        return (f"residual block: 2 × (conv 3×3, {conv.in_channels}→{conv.out_channels} "
                f"+ {describe(norm)}), identity shortcut, SiLU")
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        kind = "transposed conv" if isinstance(module, nn.ConvTranspose2d) else "conv"
        k, stride = module.kernel_size[0], module.stride[0]
        step = f", stride {stride}" if stride > 1 else ""
        return f"{kind} {k}×{k}{step}, {module.in_channels}→{module.out_channels}"
    if isinstance(module, nn.Linear):
        return f"linear {module.in_features:,}→{module.out_features:,}"
    if isinstance(module, nn.MaxPool2d):
        return f"max-pool {module.kernel_size}×{module.kernel_size}"
    if isinstance(module, nn.GroupNorm):
        return f"group norm ({module.num_groups} groups)"
    return _NAMES.get(type(module), type(module).__name__)


def _units(model: nn.Module) -> list[nn.Module]:
    """The modules a table lists: each child of the model, a container child by its parts."""
    units = []
    for child in model.children():
        plain = isinstance(child, (nn.Sequential, nn.ModuleList)) and not isinstance(
            child, ResidualBlock)
        units.extend(child.children() if plain else [child])
    return units


def layer_rows(model: nn.Module, *inputs: torch.Tensor) -> list[dict]:
    """The model's layers in call order on ``inputs`` (a batch, run in eval mode): description,
    output shape without the batch (C × H × W) and parameters; activations and flattening fold
    into the row before them."""
    calls: list[tuple[nn.Module, tuple[int, ...]]] = []
    hooks = [unit.register_forward_hook(
        lambda module, _, output: calls.append((module, tuple(output.shape[1:]))))
        for unit in _units(model)]
    was_training = model.training
    try:
        with torch.no_grad():
            model.eval()(*inputs)
    finally:
        model.train(was_training)
        for hook in hooks:
            hook.remove()
    rows: list[dict] = []
    for module, shape in calls:
        output = " × ".join(f"{size:,}" for size in shape)
        if isinstance(module, _FOLDED) and rows:
            rows[-1].update(layer=f"{rows[-1]['layer']} + {describe(module)}", output=output)
            continue
        rows.append({"index": len(rows) + 1, "layer": describe(module), "output": output,
                     "parameters": count_parameters(module)})
    return rows


def _frames(channels: int) -> torch.Tensor:
    return torch.rand(2, channels, 32, 32, generator=torch.Generator().manual_seed(0))


# table name -> (model, its example inputs)
LAYER_MODELS: dict[str, Callable[[], tuple[nn.Module, tuple[torch.Tensor, ...]]]] = {
    "layers_countnet": lambda: (CountNet(), (_frames(1),)),
    "layers_density": lambda: (DensityCountNet(), (_frames(1),)),
    "layers_autoencoder": lambda: (FrameAutoencoder(), (_frames(1),)),
    "layers_frame_predictor": lambda: (FramePredictor(), (_frames(5),)),
    "layers_state_encoder": lambda: (StateEncoder(), (_frames(5), torch.tensor([1, 3]))),
}


def layer_tables() -> dict[str, str]:
    """A Markdown layer table per model of :data:`LAYER_MODELS`."""
    tables = {}
    for name, build in LAYER_MODELS.items():
        model, inputs = build()
        tables[name] = markdown_table(layer_rows(model, *inputs), LAYER_COLUMNS)
    return tables
