"""Amortised inference: a small CNN maps 5 frames and the ball count to the balls' state at
frame 0, trained without any ground-truth state.

Its targets are self-supervised: every training sequence is fitted by analysis by synthesis
(:func:`~bballs.physics_model.inverse_physics.fit_sequences`, all 10 frames), and the states
that reproduce their frames exactly serve as labels, compared with the encoder's output under
the best matching of ball identities. A render loss adds the frames themselves
(the 5 inputs and the 5
targets, at full resolution and 2x2 / 4x4 average-pooled, so that a ball far from its blob still
has a gradient towards it); bounces use the mirrored-ball derivative
(:func:`~bballs.physics_model.torch_physics.step`), which does not depend on the sub-step of a
bounce.
"""

from __future__ import annotations

from itertools import permutations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from bballs.physics_model import torch_physics as tp
from bballs.physics_model.inverse_physics import (
    MAX_BALLS,
    State,
    WorldConstants,
    exact_threshold,
    fit_sequences,
    present_mask,
)
from bballs.training.loop import TrainConfig
from bballs.training.loop import progress as progress_bar

CENTRE = (tp.RESOLUTION - 1) / 2


class StateEncoder(nn.Module):
    """A CNN from 5 frames and the ball count to each ball's centre and velocity at frame 0."""

    def __init__(self, n_frames: int = 5, width: int = 32):
        super().__init__()
        channels = n_frames + 2 + MAX_BALLS  # frames, pixel coordinates, one-hot count
        self.features = nn.Sequential(
            nn.Conv2d(channels, width, 3, padding=1), nn.ReLU(),
            nn.Conv2d(width, width, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(width, 2 * width, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(2 * width, 2 * width, 3, stride=2, padding=1), nn.ReLU(),
            nn.Flatten(),
            nn.Linear(2 * width * 16, 256), nn.ReLU(),
            nn.Linear(256, MAX_BALLS * 4),
        )
        ramp = torch.linspace(-1, 1, tp.RESOLUTION)
        self.register_buffer("coords", torch.stack(torch.meshgrid(ramp, ramp, indexing="xy")))

    def forward(self, frames: Tensor, counts: Tensor) -> State:
        n = len(frames)
        count_planes = F.one_hot(counts.long() - 1, MAX_BALLS).float()[..., None, None]
        x = torch.cat([frames, self.coords.expand(n, -1, -1, -1),
                       count_planes.expand(-1, -1, *frames.shape[2:])], dim=1)
        out = self.features(x).view(n, MAX_BALLS, 4)
        position = CENTRE + CENTRE * out[..., :2]
        return State(position, out[..., 2:], present_mask(counts.cpu()).to(frames.device))


def render_loss(state: State, constants: WorldConstants, frames: Tensor) -> Tensor:
    """Mean squared error of the simulated frames against ``frames`` at three scales."""
    track, _ = tp.simulate(state.position, state.velocity(constants.speed_constraint),
                           state.present,
                           constants.radius, constants.high, frames.shape[1],
                           substeps=int(constants.substeps), mirror=True, low=constants.low)
    rendered = tp.render(track, state.present, constants.radius, constants.exponent, 0.0, 1.0)
    loss = F.mse_loss(rendered, frames)
    for size in (2, 4):
        loss = loss + F.mse_loss(F.avg_pool2d(rendered, size), F.avg_pool2d(frames, size))
    return loss


def pseudo_labels(frames: Tensor, counts: Tensor, constants: WorldConstants
                  ) -> tuple[State, Tensor]:
    """States at frame 0 fitted to whole sequences (N, T, 32, 32), and which of them reproduce
    their frames exactly (N,) (only those are used as labels)."""
    state, start, error = fit_sequences(frames, counts.numpy(), constants)
    speed = constants.speed_constraint
    velocity = state.velocity(speed.detach() if speed is not None else None)
    return (State(state.position, velocity, state.present),
            (start == 0) & (error < exact_threshold(frames)))


_PERMUTATIONS = torch.tensor(list(permutations(range(MAX_BALLS))))


def state_loss(state: State, labels: State, speed: Tensor | None) -> Tensor:
    """Mean over sequences of the squared error of centres (pixels) and velocities (pixels per
    frame, weighted x10) under the best matching of the labelled balls to the guessed ones."""
    guess = torch.cat([state.position, 10 * state.velocity(speed)], dim=-1)  # (N, B, 4)
    target = torch.cat([labels.position, 10 * labels.direction], dim=-1)
    permuted = guess[:, _PERMUTATIONS]  # (N, P, B, 4)
    error = ((permuted - target[:, None]) ** 2).sum(-1)  # (N, P, B)
    valid = state.present[:, _PERMUTATIONS]  # a real ball must be matched to a real slot
    error = torch.where(labels.present[:, None], error, 0.0).sum(-1)
    error = torch.where((valid | ~labels.present[:, None]).all(-1), error, torch.inf)
    return error.min(dim=1).values.mean()


def train_encoder(encoder: StateEncoder, frames: Tensor, counts: Tensor,
                  constants: WorldConstants, recipe: TrainConfig,
                  labels: tuple[State, Tensor] | None = None,
                  n_input: int = 5, progress: bool = True) -> list[float]:
    """Train ``encoder`` in place on sequences (N, T, 32, 32) with ``recipe`` (Adam under a
    one-cycle schedule peaking at its learning rate): input their first ``n_input`` frames,
    targets the ``labels`` from :func:`pseudo_labels` (computed if not given) and all T frames;
    returns the mean loss per epoch.

    Its own short loop rather than :func:`bballs.training.loop.fit`: each batch picks the
    labelled sequences among its own, and the constants stay frozen inside the loss."""
    for p in constants.parameters():
        p.requires_grad_(False)
    labels, usable = labels or pseudo_labels(frames, counts, constants)
    optimizer = torch.optim.Adam(encoder.parameters(), lr=recipe.lr,
                                 weight_decay=recipe.weight_decay)
    batch = recipe.batch_size
    steps = recipe.epochs * -(-len(frames) // batch)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, recipe.lr, total_steps=steps)
    generator = torch.Generator().manual_seed(recipe.seed)
    history = []
    for _ in progress_bar(range(recipe.epochs), desc="encoder", unit="epoch",
                          disable=not progress):
        order = torch.randperm(len(frames), generator=generator)
        total = 0.0
        for start in range(0, len(frames), batch):
            index = order[start:start + batch]
            loss = _batch_loss(encoder, frames[index], counts[index], constants,
                               _select(labels, index[usable[index]]), usable[index], n_input)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            total += loss.item() * len(index)
        history.append(total / len(frames))
    return history


def _select(state: State, index: Tensor) -> State:
    return State(state.position[index], state.direction[index], state.present[index])


def _batch_loss(encoder, frames, counts, constants, labels, usable, n_input) -> Tensor:
    guess = encoder(frames[:, :n_input], counts)
    loss = render_loss(guess, constants, frames)
    if usable.any():
        loss = loss + 0.01 * state_loss(_select(guess, usable.nonzero().flatten()), labels,
                                        constants.speed_constraint)
    return loss


@torch.no_grad()
def encode(encoder: StateEncoder, frames: Tensor, counts: Tensor, batch_size: int = 500) -> State:
    """States at frame 0 for input frames (N, T, 32, 32), in evaluation mode, batched."""
    encoder.eval()
    parts = [encoder(frames[i:i + batch_size], counts[i:i + batch_size])
             for i in range(0, len(frames), batch_size)]
    return State(*(torch.cat([getattr(p, name) for p in parts])
                   for name in ("position", "direction", "present")))
