"""The adversarial loop (after pytorch/examples ``dcgan/main.py``): one discriminator and one
generator update per batch, with the seeding, checkpoint and history helpers of
:mod:`bballs.training.loop`."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from bballs.data.identity import array_digest
from bballs.training.checkpoints import History, fingerprint, save_checkpoint
from bballs.training.loop import (
    TrainConfig,
    average_fingerprint,
    epoch_generator,
    pick_device,
    start_or_resume,
    use_average,
    weight_average,
)

BETAS = (0.5, 0.999)  # DCGAN's Adam momentum
LOSSES = ("non-saturating", "hinge")
DEFAULT_SHIFT = 2  # diff_augment's translation in pixels unless fit_gan is given another
STANDING_BATCHES, STANDING_BATCH_SIZE = 16, 256  # refresh_batch_norm's own batches


def gan_fingerprint(generator: nn.Module, discriminator: nn.Module, config: TrainConfig,
                    frames: torch.Tensor, classes: torch.Tensor | None = None,
                    **options) -> dict:
    """What identifies a GAN run: both networks' classes and shapes, configuration, training
    frames (size and content digest) and classes, and :func:`fit_gan`'s other ``options``."""
    critic = fingerprint(discriminator, config, (frames,))
    ema_decay, augment, class_weight, select, r1_weight, loss, standing, shift = (
        options.get(k) for k in ("ema_decay", "augment", "class_weight", "select", "r1_weight",
                                 "loss", "standing_statistics", "augment_shift"))
    output = getattr(generator, "output", "sigmoid")
    return {**fingerprint(generator, config, (frames,)),
            "discriminator": f"{critic['model']}:{critic['shapes']}",
            "latent_dim": options["latent_dim"], "real_label": options["real_label"],
            **average_fingerprint(ema_decay),
            **({} if classes is None else {"classes": array_digest(classes)}),
            **({"augment": f"diff_augment p={float(augment)}"
                          + ("" if shift in (None, DEFAULT_SHIFT) else f" shift={shift}")}
               if augment else {}),
            **({} if output == "sigmoid" else {"output": output}),
            **({"class_weight": class_weight} if class_weight else {}),
            **({"r1_weight": r1_weight} if r1_weight else {}),
            **({"loss": loss} if loss not in (None, "non-saturating") else {}),
            **({"standing_statistics": True} if standing else {}),
            **({"select": f"{_name(select)} after epoch {options['select_after']}"}
               if select else {})}


def class_shares(generator: nn.Module, classes: torch.Tensor | None, device: torch.device
                 ) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """``classes`` on ``device`` and each class's share among them (also stored in
    ``generator.class_shares`` where it has that buffer); None and None without classes."""
    if classes is None:
        return None, None
    classes = classes.to(device).long()
    shares = torch.bincount(classes, minlength=getattr(generator, "n_classes", 0)).float()
    shares = shares / len(classes)
    if hasattr(generator, "class_shares"):
        generator.class_shares.copy_(shares.to(generator.class_shares))
    return classes, shares


def fit_gan(
    generator: nn.Module,
    discriminator: nn.Module,
    frames: torch.Tensor,
    config: TrainConfig,
    *,
    latent_dim: int,
    real_label: float = 1.0,
    checkpoint: str | Path | None = None,
    device: torch.device | str | None = None,
    desc: str = "gan",
    ema_decay: float | None = None,
    classes: torch.Tensor | None = None,
    augment: float = 0.0,
    class_weight: float = 0.0,
    select: Callable[[nn.Module], float] | None = None,
    select_after: int = 0,
    r1_weight: float = 0.0,
    loss: str = "non-saturating",
    standing_statistics: bool = False,
    augment_shift: int = DEFAULT_SHIFT,
) -> History:
    """Train a noise-to-image GAN on ``frames`` with the non-saturating loss, checkpointed every
    epoch and resumed exactly like :func:`fit`. The history's ``train_loss`` is the generator's
    loss; its metrics hold the discriminator's loss and mean output on real and generated frames.

    - ``real_label`` < 1: one-sided label smoothing. ``ema_decay``: the generator ends with the
      moving average of its weights (the discriminator plays against the raw generator).
    - ``classes`` (one integer per frame): both networks are conditional, ``generator(z, c)`` and
      ``discriminator(x, c)``; generated classes are drawn at the training shares
      (:func:`class_shares`).
    - ``augment`` > 0: the discriminator sees every batch through :func:`diff_augment`, each frame
      turned by a symmetry with this probability (Zhao et al., 2020; below 1 the frames'
      orientation stays visible, Karras et al., 2020) and every frame shifted by up to
      ``augment_shift`` pixels (0: none).
    - ``class_weight`` > 0: AC-GAN; the discriminator's classifier learns the real frames' classes
      and also scores the generated ones, both cross-entropies added at this weight.
    - ``loss="hinge"``: the hinge loss of Lim & Ye (2017) and Miyato et al. (2018) instead of
      the non-saturating cross-entropy (``real_label`` then unused).
    - ``standing_statistics``: before it is scored and at the end, the generator's batch-norm
      statistics are measured again on its own batches (:func:`refresh_batch_norm`).
    - ``r1_weight`` > 0: the discriminator's loss gains ``r1_weight / 2`` times the mean squared
      gradient norm of its logit on the real frames (the R1 penalty, Mescheder et al., 2018).
    - ``select`` (a score of the generator in eval mode, lower is better): scored after every
      epoch from ``select_after + 1`` on (``metrics["train_selection_score"]``); the generator
      ends with its best-scoring epoch's weights, which are checkpointed too."""
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    if r1_weight < 0:
        raise ValueError(f"r1_weight must be >= 0, got {r1_weight}")
    if class_weight and (classes is None or getattr(discriminator, "classifier", None) is None):
        raise ValueError("class_weight needs classes and a discriminator with a classifier")
    device = pick_device(str(device) if device else None)
    generator.to(device)
    discriminator.to(device)
    frames = frames.to(device)
    classes, shares = class_shares(generator, classes, device)
    opt_g = torch.optim.Adam(generator.parameters(), lr=config.lr, betas=BETAS)
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=config.lr, betas=BETAS)
    average = weight_average(generator, ema_decay)
    best = copy.deepcopy(generator) if select is not None else None
    run_id = gan_fingerprint(generator, discriminator, config, frames, classes,
                             latent_dim=latent_dim, real_label=real_label, ema_decay=ema_decay,
                             augment=augment, class_weight=class_weight, select=select,
                             select_after=select_after, r1_weight=r1_weight,
                             loss=loss, standing_statistics=standing_statistics,
                             augment_shift=augment_shift)
    states = {"model": generator, "discriminator": discriminator, "optimizer": opt_g,
              "optimizer_d": opt_d, "average": average, "best": best}
    history, epochs = start_or_resume(checkpoint, run_id, config.epochs, desc, **states)
    refresh = (partial(refresh_batch_norm, latent_dim=latent_dim, shares=shares)
               if standing_statistics else None)
    for epoch in epochs:
        started = time.perf_counter()
        means = _gan_epoch(generator, discriminator, (frames, classes, shares), (opt_g, opt_d),
                           config.batch_size, epoch_generator(config.seed, epoch), latent_dim,
                           real_label, average,
                           partial(diff_augment, probability=augment, shift=augment_shift)
                           if augment else _same,
                           class_weight, r1_weight, loss)
        if select is not None and epoch >= select_after:
            means["selection_score"] = _selection_score(generator, average, select, best,
                                                        history, refresh)
        history.record("train", means.pop("generator_loss"), means)
        history.epoch_seconds.append(time.perf_counter() - started)
        epochs.set_postfix({"g_loss": f"{history.train_loss[-1]:.3f}",
                            "d_loss": f"{means['discriminator_loss']:.3f}"}, refresh=False)
        if checkpoint:
            save_checkpoint(checkpoint, run_id, history, **states)
    use_average(generator, average)
    if best is not None and history.metrics.get("train_selection_score"):
        generator.load_state_dict(best.state_dict())  # refreshed, if at all, when scored
    elif refresh is not None:
        refresh(generator)
    return history


def _name(function: Callable) -> str:
    return getattr(function, "__name__", type(function).__name__)


def _selection_score(generator: nn.Module, average, select: Callable[[nn.Module], float],
                     best: nn.Module, history: History,
                     refresh: Callable[[nn.Module], None] | None = None) -> float:
    """The generator's (or its moving average's) score after an epoch (its batch-norm
    statistics first measured again by ``refresh``, if given), copied into ``best`` when it
    beats every earlier scored epoch."""
    scored = average.module if average is not None else generator
    if refresh is not None:
        refresh(scored)
    was_training = scored.training
    scored.eval()
    with torch.no_grad():
        score = float(select(scored))
    scored.train(was_training)
    earlier = history.metrics.get("train_selection_score", [])
    if not earlier or score < min(earlier):
        best.load_state_dict(scored.state_dict())
    return score


def refresh_batch_norm(generator: nn.Module, latent_dim: int, shares: torch.Tensor | None = None,
                       batches: int = STANDING_BATCHES, batch_size: int = STANDING_BATCH_SIZE,
                       seed: int = 0) -> None:
    """Measure the running statistics of every batch norm in ``generator`` again, as the plain
    average over ``batches`` of its own batches (latent codes from N(0, 1), classes drawn at
    ``shares``): the "standing statistics" of Brock et al. (2019), which weights changed since
    the last training batch (a moving average of weights) do not leave stale. Draws from its
    own seeded generator, not torch's global one."""
    norms = [m for m in generator.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return
    momenta = [m.momentum for m in norms]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # a cumulative average
    was_training = generator.training
    generator.train()
    draws = torch.Generator().manual_seed(seed)
    device = next(generator.parameters()).device
    with torch.no_grad():
        for _ in range(batches):
            z = torch.randn(batch_size, latent_dim, generator=draws).to(device)
            classes = (None if shares is None else
                       torch.multinomial(shares.cpu(), batch_size, True, generator=draws)
                       .to(device))
            _call(generator, z, classes)
    for norm, momentum in zip(norms, momenta):
        norm.momentum = momentum
    generator.train(was_training)


def diff_augment(frames: torch.Tensor, shift: int = DEFAULT_SHIFT, probability: float = 1.0
                 ) -> torch.Tensor:
    """Frames (B, 1, H, W), each with ``probability`` under one random symmetry of the square
    (rotation by a multiple of 90 degrees, then a flip or not; one per batch), then each
    translated by a random whole number of pixels up to ``shift`` along each axis, with black
    entering at the border; differentiable, so the generator learns through it. Random numbers
    from torch's global generator."""
    n, _, height, width = frames.shape
    device = frames.device
    turned = torch.rot90(frames, int(torch.randint(0, 4, ())), dims=(2, 3))
    if torch.rand(()) < 0.5:
        turned = turned.flip(3)
    chosen = (torch.rand(n, device=device) < probability).view(n, 1, 1, 1)
    frames = torch.where(chosen, turned, frames)
    if not shift:
        return frames
    padded = F.pad(frames, (shift, shift, shift, shift))
    dy, dx = (torch.randint(0, 2 * shift + 1, (2, n, 1), device=device))
    rows = (dy + torch.arange(height, device=device))[:, :, None]  # (n, H, 1)
    cols = (dx + torch.arange(width, device=device))[:, None, :]  # (n, 1, W)
    batch = torch.arange(n, device=device)[:, None, None]
    return padded[batch, :, rows, cols].permute(0, 3, 1, 2)  # (n, H, W, C) -> (n, C, H, W)


def critic_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor, real_label: float = 1.0,
                loss: str = "non-saturating") -> torch.Tensor:
    """The discriminator's loss on the logits of a real and a generated batch."""
    if loss == "hinge":
        return F.relu(1 - real_logits).mean() + F.relu(1 + fake_logits).mean()
    return (F.binary_cross_entropy_with_logits(real_logits,
                                               torch.full_like(real_logits, real_label))
            + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))


def generator_loss(logits: torch.Tensor, loss: str = "non-saturating") -> torch.Tensor:
    """The generator's loss on the discriminator's logits of its frames."""
    if loss == "hinge":
        return -logits.mean()
    return F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))


def r1_penalty(logits: torch.Tensor, frames: torch.Tensor, weight: float) -> torch.Tensor:
    """``weight / 2`` times the mean over the batch of the squared norm of the gradient of the
    ``logits`` with respect to the real ``frames`` they were computed from (differentiable)."""
    (gradient,) = torch.autograd.grad(logits.sum(), frames, create_graph=True)
    return weight / 2 * gradient.pow(2).flatten(1).sum(1).mean()


def _same(frames: torch.Tensor) -> torch.Tensor:
    return frames


def _call(network: nn.Module, x: torch.Tensor, classes: torch.Tensor | None) -> torch.Tensor:
    """``network(x)``, or ``network(x, classes)`` for a conditional network."""
    return network(x) if classes is None else network(x, classes)


def _judged(discriminator: nn.Module, frames: torch.Tensor, classes: torch.Tensor | None,
            class_weight: float) -> tuple[torch.Tensor, torch.Tensor | float]:
    """The discriminator's logits on ``frames`` and, with ``class_weight``, its auxiliary
    classifier's weighted cross-entropy on them (else 0)."""
    if not class_weight:
        return _call(discriminator, frames, classes), 0.0
    features = discriminator.features(frames)
    return (discriminator.judge(features, classes),
            class_weight * F.cross_entropy(discriminator.classify(features), classes))


def _gan_epoch(generator, discriminator, data, optimizers, batch_size, order_generator,
               latent_dim, real_label, average, augment, class_weight, r1_weight, loss
               ) -> dict[str, float]:
    frames, classes, shares = data
    opt_g, opt_d = optimizers
    generator.train()
    discriminator.train()
    order = torch.randperm(len(frames), generator=order_generator).to(frames.device)
    sums = {"generator_loss": 0.0, "discriminator_loss": 0.0, "d_real": 0.0, "d_fake": 0.0}
    for start in range(0, len(frames), batch_size):
        batch = order[start:start + batch_size]
        real = frames[batch]
        z = torch.randn(len(real), latent_dim, device=real.device)
        real_classes = fake_classes = None
        if classes is not None:
            real_classes = classes[batch]
            fake_classes = torch.multinomial(shares, len(real), replacement=True)
        fake = _call(generator, z, fake_classes)
        seen = augment(real).detach().requires_grad_(True) if r1_weight else augment(real)
        real_logits, real_class_loss = _judged(discriminator, seen, real_classes, class_weight)
        fake_logits = _call(discriminator, augment(fake.detach()), fake_classes)
        d_loss = (critic_loss(real_logits, fake_logits, real_label, loss) + real_class_loss
                  + (r1_penalty(real_logits, seen, r1_weight) if r1_weight else 0.0))
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()

        logits, fake_class_loss = _judged(discriminator, augment(fake), fake_classes,
                                          class_weight)
        g_loss = generator_loss(logits, loss) + fake_class_loss
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        if average is not None:
            average.update_parameters(generator)
        for name, value in (("generator_loss", g_loss), ("discriminator_loss", d_loss),
                            ("d_real", torch.sigmoid(real_logits).mean()),
                            ("d_fake", torch.sigmoid(fake_logits).mean())):
            sums[name] += value.detach() * len(real)
    return {name: float(total / len(frames)) for name, total in sums.items()}
