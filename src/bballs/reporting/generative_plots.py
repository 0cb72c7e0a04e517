"""Figures of Proposal 3 (generative models); each function draws one figure and saves it when
given a path (through :func:`bballs.reporting.plots.save`, which writes atomically)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from bballs.metrics import as_numpy
from bballs.reporting.figure_text import plain_log_ticks
from bballs.reporting.plots import save
from bballs.reporting.tables import three_significant


def montage(frames, columns: int, gap: int = 1) -> np.ndarray:
    """Frames (N, [1,] H, W) tiled row by row into one image with ``gap``-pixel white lines."""
    frames = as_numpy(frames)
    frames = frames.reshape(-1, *frames.shape[-2:])
    if columns < 1 or len(frames) == 0:
        raise ValueError(f"need at least one frame and one column, got {len(frames)}, {columns}")
    rows = -(-len(frames) // columns)
    h, w = frames.shape[-2:]
    image = np.ones((rows * (h + gap) - gap, columns * (w + gap) - gap))
    for i, frame in enumerate(frames):
        r, c = divmod(i, columns)
        image[r * (h + gap):r * (h + gap) + h, c * (w + gap):c * (w + gap) + w] = frame
    return image


def sample_grids(sets: Mapping[str, object], path=None, columns: int = 6,
                 rows: int = 6) -> plt.Figure:
    """One panel per named frame set: its first ``rows * columns`` frames as a grid."""
    fig, axes = plt.subplots(1, len(sets), figsize=(2.3 * len(sets), 2.6), squeeze=False)
    for ax, (name, frames) in zip(axes[0], sets.items()):
        ax.imshow(montage(as_numpy(frames)[:rows * columns], columns), cmap="gray",
                  vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(name, fontsize=9)
        ax.axis("off")
    fig.tight_layout()
    return save(fig, path)


def _epochs(values: Sequence[float]) -> np.ndarray:
    return np.arange(1, len(values) + 1)


def training_curves(gan: Mapping[str, Sequence[float]],
                    diffusion: Mapping[str, Sequence[float]], path=None) -> plt.Figure:
    """GAN losses, the discriminator's mean output on real and generated frames, and the
    diffusion model's loss (MSE of the predicted clean frame), per epoch."""
    fig, axes = plt.subplots(1, 3, figsize=(6.8, 2.7))
    panels = [
        (axes[0], {"generator": gan["train_loss"],
                   "discriminator": gan["metrics"]["train_discriminator_loss"]},
         "GAN loss (BCE)"),
        (axes[1], {"D(real)": gan["metrics"]["train_d_real"],
                   "D(fake)": gan["metrics"]["train_d_fake"]}, "mean D output"),
        (axes[2], {"training": diffusion["train_loss"], "validation": diffusion["val_loss"]},
         "DDPM loss (frame MSE, log)"),
    ]
    axes[2].set_yscale("log")
    for ax, series, label in panels:
        for (name, values), style in zip(series.items(), ("o-", "s--")):
            ax.plot(_epochs(values), values, style, markersize=3, label=name)
        ax.set_xlabel("epoch", fontsize=8)
        ax.set_title(label, fontsize=9)
        ax.tick_params(labelsize=8)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7.5, ncol=2, frameon=False, loc="upper center",
                  bbox_to_anchor=(0.5, -0.25))  # below the axes, off the curves
    plain_log_ticks(axes[2])
    fig.tight_layout()
    return save(fig, path)


def interpolation(frames, alphas: Sequence[float], counts=None, path=None) -> plt.Figure:
    """Rows of generated frames (R, S, H, W) along z = a z1 + (1 - a) z2; ``counts`` (R, S),
    if given, are the blobs the detector finds, printed under each frame."""
    frames = as_numpy(frames)
    n_rows, n_steps = frames.shape[:2]
    fig, axes = plt.subplots(n_rows, n_steps, figsize=(0.8 * n_steps, 0.95 * n_rows + 0.3),
                             squeeze=False)
    for r in range(n_rows):
        for s in range(n_steps):
            ax = axes[r, s]
            ax.imshow(frames[r, s], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(f"a={alphas[s]:.2f}", fontsize=8)
            if counts is not None:
                n = int(counts[r, s])
                ax.set_xlabel(f"{n} blob{'' if n == 1 else 's'}", fontsize=8, labelpad=1)
    fig.tight_layout(pad=0.3)
    return save(fig, path)


def count_histogram(shares: Mapping[str, Sequence[float]], bins: Sequence[str],
                    path=None) -> plt.Figure:
    """Grouped bars: the share of frames of each set with each detected blob count."""
    fig, ax = plt.subplots(figsize=(5, 2.8))
    width = 0.8 / len(shares)
    x = np.arange(len(bins))
    for i, (name, values) in enumerate(shares.items()):
        ax.bar(x + (i - (len(shares) - 1) / 2) * width, 100 * np.asarray(values), width,
               label=name)
    ax.set_xticks(x, [str(b) for b in bins])
    ax.set_xlabel("number of balls (true count) or of blobs found by the detector", fontsize=8)
    ax.set_ylabel("frames (%)", fontsize=8)
    ax.tick_params(labelsize=8)
    ax.grid(alpha=0.3, axis="y")
    top = max(max(values) for values in shares.values())
    ax.set_ylim(0, 100 * top * 1.45)  # room for the legend above the bars
    ax.legend(fontsize=7, ncol=2, loc="upper center")
    fig.tight_layout()
    return save(fig, path)


def frechet_bars(rows: Sequence[Mapping], path=None) -> plt.Figure:
    """The Fréchet distance of every set as a dot on a log axis (a dot chart: lengths of bars
    would mean nothing on a log scale), with its value as the table prints it (three significant
    digits); with several feature networks (``fd_each``), the dot is their mean and a bar spans
    the lowest to the highest."""
    fig, ax = plt.subplots(figsize=(4.5, 0.25 * len(rows) + 0.8))
    names = [row["set"] for row in rows]
    values = np.array([max(row["fd"], 1e-6) for row in rows])
    each = [np.maximum(row.get("fd_each") or [row["fd"]], 1e-6) for row in rows]
    y = np.arange(len(rows))
    ax.hlines(y, values.min() / 3, values, color="0.8", lw=1)
    ax.hlines(y, [e.min() for e in each], [e.max() for e in each], color="C0", lw=2.5,
              alpha=0.4)
    ax.plot(values, y, "o", color="C0", ms=4)
    for value, spread, row_y in zip(values, each, y):  # the label right of the range bar
        ax.annotate(three_significant(value), (max(value, spread.max()), row_y),
                    textcoords="offset points", xytext=(5, -3), fontsize=7)
    ax.set_yticks(y, names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlim(values.min() / 3, max(e.max() for e in each) * 20)  # room for the labels
    ax.set_xlabel("Fréchet distance to the test frames (our features, log scale)", fontsize=8)
    ax.tick_params(labelsize=8)
    ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    return save(fig, path)
