"""Label-preserving augmentations on batches (B, C, H, W), drawn from a torch.Generator.

Each returns ``(x, y)`` and matches :data:`bballs.training.loop.Augment`, so it plugs into ``fit``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from bballs.data import noise, shifts

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


ZOOM_RANGE = (0.5, 1.6)  # ball-scale factor, drawn log-uniformly (radius 0.6-1.9 for 1.2)
ZOOM_CENTRE = 0.5  # zoom about a point drawn uniformly in [-0.5, 0.5]^2 (frame = [-1, 1]^2)
CONTRAST_RANGE = (0.3, 1.6)
NOISE_MAX = 0.15  # Gaussian noise sigma, uniform in [0, NOISE_MAX] for half the frames
SALT_PEPPER_MAX = 0.05  # share of pixels set to 0 / 1, uniform, for half the frames
PASTE_MAX_OVERLAP = 8  # pixels; two training balls 0.7 diameters apart overlap in about 8
BLUR_MAX = 1.5  # Gaussian blur sigma in pixels, uniform in [0, BLUR_MAX], for half the frames
WALL_SHARE = 0.5  # share of shifts (per axis) that take a frame's content to a wall


def _uniform(n: int, low: float, high: float, generator: torch.Generator) -> torch.Tensor:
    return low + (high - low) * torch.rand(n, generator=generator)


def random_zoom(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Every frame resampled about a random point by a random factor in ``ZOOM_RANGE`` (balls
    of other sizes); a frame whose balls would leave the picture is kept as it is."""
    n = len(x)
    low, high = (math.log(v) for v in ZOOM_RANGE)
    factor = torch.exp(_uniform(n, low, high, generator)).to(x.device)
    centre = _uniform(2 * n, -ZOOM_CENTRE, ZOOM_CENTRE, generator).view(n, 2).to(x.device)
    factor = torch.where(shifts.zoom_keeps_everything(x, factor, centre), factor,
                         torch.ones_like(factor))
    return shifts.zoom(x, factor, centre)


def _shift_within(low: torch.Tensor, high: torch.Tensor, generator: torch.Generator
                  ) -> torch.Tensor:
    """Per frame a whole-pixel shift in [-low, high]: to one end (a wall) or the other with
    probability ``WALL_SHARE`` / 2 each, else uniform in between."""
    n = len(low)
    pick = torch.rand(n, generator=generator).to(low.device)
    uniform = torch.rand(n, generator=generator).to(low.device)
    between = (-low + torch.floor(uniform * (low + high + 1))).clamp(max=high)
    return torch.where(pick < WALL_SHARE / 2, -low,
                       torch.where(pick < WALL_SHARE, high, between))


def towards_walls(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Every frame's content shifted by whole pixels, often until it touches a wall, never out
    of the frame: small balls next to the walls, which shrunk frames alone rarely give."""
    left, right, top, bottom = shifts.free_margins(x).unbind(dim=1)
    return shifts.translate(x, _shift_within(left, right, generator),
                            _shift_within(top, bottom, generator))


def appearance(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random blur, contrast, Gaussian noise, salt-and-pepper and 8-bit quantisation (no gamma
    and no uneven lighting: those are kept for choosing the model)."""
    n = len(x)
    def sometimes(high: float) -> torch.Tensor:  # uniform in [0, high] for half, else 0
        keep = (torch.rand(n, generator=generator) < COIN).to(x.dtype)
        return (keep * _uniform(n, 0, high, generator)).to(x.device)

    x = shifts.blur(x, sometimes(BLUR_MAX))
    x = shifts.contrast(x, _uniform(n, *CONTRAST_RANGE, generator).to(x.device))
    x = noise.gaussian_noise(x, sometimes(NOISE_MAX), generator)
    x = noise.salt_and_pepper(x, sometimes(SALT_PEPPER_MAX), generator)
    return torch.where(_coin(n, generator, x.device), shifts.quantise(x), x)


def paste_balls(x: torch.Tensor, y: torch.Tensor, generator: torch.Generator):
    """For a random half of the frames, another frame of the batch (in a random symmetry) is
    added, clipped to 1 as the generator adds balls, when the two hold at most 3 balls together
    and their bright pixels (> 0.5) overlap in at most ``PASTE_MAX_OVERLAP`` pixels (a ball
    hidden under another cannot be counted); the label becomes the sum. Gives touching and
    overlapping balls that single frames rarely show. ``y`` holds class indices (balls - 1)."""
    partner = torch.randperm(len(x), generator=generator).to(x.device)
    other = dihedral(x[partner], generator)
    total = y + y[partner] + 1
    overlap = ((x > 0.5) & (other > 0.5)).flatten(1).sum(dim=1)
    use = (total <= 2) & (overlap <= PASTE_MAX_OVERLAP) & _coin(len(x), generator,
                                                                x.device).view(-1)
    x = torch.where(use.view(-1, 1, 1, 1), (x + other).clamp(max=1), x)
    return x, torch.where(use, total, y)


def robust_counting_augment(x: torch.Tensor, y: torch.Tensor, generator: torch.Generator):
    """Ball counting under unknown shifts: symmetries, pasted balls, ball scale by resampling,
    blur, contrast, noise, salt-and-pepper and quantisation."""
    x, y = paste_balls(dihedral(x, generator), y, generator)
    return appearance(random_zoom(x, generator), generator), y


def walls_counting_augment(x: torch.Tensor, y: torch.Tensor, generator: torch.Generator):
    """:func:`robust_counting_augment` with the content shifted, often to the walls, after the
    change of scale (small balls next to the walls)."""
    x, y = paste_balls(dihedral(x, generator), y, generator)
    x = towards_walls(random_zoom(x, generator), generator)
    return appearance(x, generator), y


def scale_augment(x: torch.Tensor, y: torch.Tensor, generator: torch.Generator):
    """Ball counting: symmetries and ball scale by resampling (for the ablation)."""
    return random_zoom(dihedral(x, generator), generator), y


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
            scale_augment: "symmetries + scale",
            robust_counting_augment: "symmetries + scale + appearance",
            walls_counting_augment: "symmetries + scale + walls + appearance",
            sequence_symmetries: "symmetries (sequences)",
            sequence_augment: "symmetries + time reversal"}[augment]



def building_blocks() -> list[tuple[str, str]]:
    """The parts the augmentations of this module combine, each with the name the recipe
    tables use (``symmetries + scale + appearance`` applies those three) and what it does, with
    its probabilities, for the report."""
    return [
        ("symmetries", f"a random symmetry of the square (each flip and the transpose with p = "
                       f"{COIN}); on sequences the same for all 10 frames"),
        ("size", f"ball-size jitter: erode, keep or dilate by up to {SIZE_JITTER_PIXELS} px, "
                 "uniformly"),
        ("scale", f"the frame resampled by a factor drawn log-uniformly in {ZOOM_RANGE} about a "
                  f"point uniform in [−{ZOOM_CENTRE}, {ZOOM_CENTRE}]² of the frame (kept as it "
                  "is if a ball would leave it)"),
        ("appearance", f"pasted balls: with p = {COIN}, another frame of the batch in a random "
                       f"symmetry added (clipped to 1) when the two hold at most 3 balls together "
                       f"and their bright pixels overlap in at most {PASTE_MAX_OVERLAP} pixels, "
                       f"the label their sum; then contrast ×U{CONTRAST_RANGE}; with p = {COIN} "
                       f"each: Gaussian blur σ ~ U(0, {BLUR_MAX}) px, Gaussian noise σ ~ "
                       f"U(0, {NOISE_MAX}), salt-and-pepper on U(0, {SALT_PEPPER_MAX:.0%}) of "
                       "the pixels, 8-bit quantisation"),
        ("walls", f"content shifted by whole pixels, never out of the frame: per axis to one "
                  f"wall or the other with p = {WALL_SHARE / 2} each, else uniformly"),
        ("time reversal", f"a sequence played backwards with p = {COIN}"),
    ]
