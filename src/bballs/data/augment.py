"""Label-preserving augmentations on batches (B, C, H, W), drawn from a torch.Generator.

Each returns ``(x, y)`` and matches :data:`bballs.training.loop.Augment`, so it plugs into ``fit``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

COIN = 0.5  # probability of each flip, of the transpose and of time reversal
SIZE_JITTER_PIXELS = 1  # ball-size jitter: erode or dilate by up to this many pixels


def _coin(n: int, generator: torch.Generator, device: torch.device) -> torch.Tensor:
    return (torch.rand(n, generator=generator) < COIN).to(device).view(n, 1, 1, 1)


def dihedral(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """One random symmetry of the square per sample: flips and a transpose (8 in all)."""
    n = len(x)
    x = torch.where(_coin(n, generator, x.device), x.flip(-1), x)
    x = torch.where(_coin(n, generator, x.device), x.flip(-2), x)
    return torch.where(_coin(n, generator, x.device), x.transpose(-1, -2), x)


def resize_balls(x: torch.Tensor, generator: torch.Generator,
                 pixels: int = SIZE_JITTER_PIXELS) -> torch.Tensor:
    """Grow or shrink every ball by up to ``pixels`` without moving it (grey dilation/erosion).

    Per sample: erode, keep or dilate by a random number of pixels in [-pixels, pixels]. This
    mimics other ball radii, the shift of the Part 1 test set, using the training frames only.
    """
    amount = torch.randint(-pixels, pixels + 1, (len(x),), generator=generator).to(x.device)
    out = x
    for size in range(1, pixels + 1):
        kernel = 2 * size + 1
        dilated = F.max_pool2d(x, kernel, stride=1, padding=size)
        eroded = -F.max_pool2d(-x, kernel, stride=1, padding=size)
        out = torch.where((amount == size).view(-1, 1, 1, 1), dilated, out)
        out = torch.where((amount == -size).view(-1, 1, 1, 1), eroded, out)
    return out


def counting_augment(x: torch.Tensor, y: torch.Tensor, generator: torch.Generator):
    """Ball counting: symmetries and ball-size jitter (the count never changes)."""
    return resize_balls(dihedral(x, generator), generator), y


def symmetry_augment(x: torch.Tensor, y: torch.Tensor, generator: torch.Generator):
    """Ball counting: symmetries only (for the ablation)."""
    return dihedral(x, generator), y


def sequence_augment(x: torch.Tensor, y: torch.Tensor, generator: torch.Generator,
                     time_reversal: bool = True):
    """Video prediction: one symmetry per sequence (same for inputs and targets) and, with
    ``time_reversal``, half the sequences played backwards (elastic physics is reversible).

    Inputs and targets are transformed together, so the physics stays valid.
    """
    n_in = x.shape[1]
    sequence = dihedral(torch.cat([x, y], dim=1), generator)
    if time_reversal:
        sequence = torch.where(_coin(len(x), generator, x.device), sequence.flip(1), sequence)
    return sequence[:, :n_in], sequence[:, n_in:]


def sequence_symmetries(x: torch.Tensor, y: torch.Tensor, generator: torch.Generator):
    """Video prediction: the 8 symmetries on whole sequences, without time reversal."""
    return sequence_augment(x, y, generator, time_reversal=False)


def short_name(augment) -> str:
    """A few words naming an augmentation of this module (see :func:`describe`)."""
    return {None: "none", symmetry_augment: "symmetries", counting_augment: "symmetries + size",
            sequence_symmetries: "symmetries (sequences)",
            sequence_augment: "symmetries + time reversal"}[augment]


AUGMENTATIONS = (symmetry_augment, counting_augment, sequence_symmetries, sequence_augment)


def describe(augment) -> str:
    """What an augmentation of this module does, with its probabilities, for the report."""
    symmetries = (f"a random symmetry of the square (each flip and the transpose with p = "
                  f"{COIN})")
    jitter = (f"ball-size jitter: erode, keep or dilate by up to {SIZE_JITTER_PIXELS} px, "
              "uniformly")
    return {
        None: "none",
        symmetry_augment: symmetries,
        counting_augment: f"{symmetries}; {jitter}",
        sequence_symmetries: f"{symmetries}, the same for all 10 frames",
        sequence_augment: f"{symmetries}, the same for all 10 frames; time reversal with "
                          f"p = {COIN}",
    }[augment]
