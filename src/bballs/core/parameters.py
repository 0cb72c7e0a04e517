"""Counting a model's parameters (the number every table and contract test quotes) and its
arithmetic."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def counted_flops(work: Callable[[], object]) -> int:
    """Floating-point operations of ``work()`` as PyTorch's FLOP counter counts them
    (convolutions and matrix products)."""
    with FlopCounterMode(display=False) as counter:
        work()
    return int(counter.get_total_flops())


def forward_flops(model: nn.Module, x: torch.Tensor) -> int:
    """Floating-point operations of one forward pass of ``model`` on ``x`` in eval mode
    (:func:`counted_flops`)."""
    was_training = model.training
    model.eval()
    with torch.no_grad():
        flops = counted_flops(lambda: model(x))
    model.train(was_training)
    return flops
