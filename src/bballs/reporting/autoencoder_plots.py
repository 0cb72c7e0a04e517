"""Figures of notebook 03 (autoencoders); each function draws one figure and saves it when given
a path (through :func:`bballs.reporting.plots.save`, written atomically)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from bballs.metrics import as_numpy
from bballs.reporting.plots import save as _save
from bballs.reporting.plots import seed_std
from bballs.reporting.tables import minus_sign

COUNT_COLOURS = {1: "C0", 2: "C1", 3: "C2"}


def save(fig: plt.Figure, path) -> plt.Figure:
    """Save ``fig`` (when ``path`` is given) and close it, so a notebook shows it only through
    the saved file."""
    _save(fig, path)
    plt.close(fig)
    return fig


def _log2_axis(ax, values: Sequence[int]) -> None:
    ax.set_xscale("log", base=2)
    ax.set_xticks(list(values))
    ax.set_xticklabels([str(v) for v in values])
    ax.grid(alpha=0.3)


def sweep_curve(rows: Sequence[Mapping], path=None) -> plt.Figure:
    """Test PSNR (of the mean MSE, and mean per frame) against the latent size, with ± one seed
    std as error bars where the rows hold one (the MSE is the PSNR's mirror: not drawn), and
    a PCA code of the same size where the rows hold its score."""
    latents = [r["latent"] for r in rows]
    fig, ax = plt.subplots(figsize=(3.4, 2.6))
    ax.errorbar(latents, [r["psnr_of_mse"] for r in rows], seed_std(rows, "psnr_of_mse"),
                fmt="o-", capsize=2, label="AE, PSNR of the mean MSE")
    ax.errorbar(latents, [r["psnr"] for r in rows], seed_std(rows, "psnr"), fmt="s--",
                capsize=2, label="AE, mean per-frame PSNR")
    if all("pca_psnr_of_mse" in r for r in rows):
        ax.plot(latents, [r["pca_psnr_of_mse"] for r in rows], "^:", color="0.4",
                label="PCA, PSNR of the mean MSE")
    ax.set(xlabel="latent size l", ylabel="test PSNR (dB)")
    low, high = ax.get_ylim()
    ax.set_ylim(low, high + 0.4 * (high - low))  # room above the curves for the legend
    ax.legend(fontsize=7, loc="upper left")
    _log2_axis(ax, latents)
    fig.tight_layout()
    return save(fig, path)


def image_rows(rows: Mapping[str, object], path=None, n: int = 8,
               cell: float = 0.8) -> plt.Figure:
    """Rows of frames (each (N, 1, H, W) or (N, H, W)) with a label to the left of each row."""
    arrays = {name: as_numpy(frames).reshape(len(frames), *np.shape(frames)[-2:])[:n]
              for name, frames in rows.items()}
    fig, axes = plt.subplots(len(arrays), n, figsize=(cell * n + 1.2, cell * len(arrays)),
                             squeeze=False, gridspec_kw={"wspace": 0.04, "hspace": 0.06})
    for r, (name, frames) in enumerate(arrays.items()):
        for c in range(n):
            ax = axes[r, c]
            ax.axis("off")
            if c < len(frames):
                ax.imshow(frames[c], cmap="gray", vmin=0, vmax=1)
        axes[r, 0].text(-0.1, 0.5, name, fontsize=9, ha="right", va="center",
                        transform=axes[r, 0].transAxes)
    return save(fig, path)


def design_curves(histories: Mapping[str, Sequence[float]], path=None) -> plt.Figure:
    """Validation MSE over epochs of the design variants (one line each)."""
    fig, ax = plt.subplots(figsize=(5.6, 2.8))
    for i, (name, values) in enumerate(histories.items()):
        ax.plot(np.arange(1, len(values) + 1), values, "o-" if "transposed" in name else "s--",
                color=f"C{i // 2}", alpha=1.0 if "transposed" in name else 0.7, label=name)
    ax.set(xlabel="epoch", ylabel="validation MSE", yscale="log")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1), frameon=False)
    fig.tight_layout()
    return save(fig, path)


def noise_curve(rows: Sequence[Mapping], path=None) -> plt.Figure:
    """PSNR of the mean MSE against the clean test frames vs the input noise std: noisy input,
    plain AE, denoising AE (± one seed std as error bars where the rows hold one)."""
    sigma = [r["sigma"] for r in rows]
    fig, ax = plt.subplots(figsize=(4.2, 2.9))
    for arm, marker in (("plain", "o-"), ("denoising", "s-")):
        metric = f"{arm}_psnr_of_mse"
        ax.errorbar(sigma, [r[metric] for r in rows], seed_std(rows, metric), fmt=marker,
                    capsize=2, label=f"{arm} AE")
    noisy = [np.nan if r.get("input_psnr_of_mse") is None else r["input_psnr_of_mse"]
             for r in rows]
    ax.plot(sigma, noisy, "^:", color="grey", label="noisy input")
    ax.set(xlabel="test input noise std σ", ylabel="PSNR of the mean MSE (dB)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return save(fig, path)


def _percent(values) -> list[float]:
    return [100 * v for v in values]


def accuracy_vs_latent(rows: Sequence[Mapping], path=None) -> plt.Figure:
    """Test accuracy of the linear and MLP classifiers on frozen latents vs latent size (± one
    seed std as error bars where the rows hold one)."""
    latents = [r["latent"] for r in rows]
    fig, ax = plt.subplots(figsize=(4.2, 2.9))
    ax.errorbar(latents, _percent(r["linear_test_accuracy"] for r in rows),
                seed_std(rows, "linear_test_accuracy", 100), fmt="o-", capsize=2,
                label="linear layer")
    ax.errorbar(latents, _percent(r["mlp_test_accuracy"] for r in rows),
                seed_std(rows, "mlp_test_accuracy", 100), fmt="s-", capsize=2,
                label="MLP (64-64)")
    ax.axhline(100 / 3, color="grey", ls=":", label="chance")
    ax.set(xlabel="latent size l", ylabel="test accuracy, ball count (%)", ylim=(0, 102))
    _log2_axis(ax, latents)
    ax.legend(fontsize=8, loc="center right")  # clear of the chance line and of the curves
    fig.tight_layout()
    return save(fig, path)


def pretraining_curve(rows: Sequence[Mapping], path=None) -> plt.Figure:
    """Test accuracy vs fraction of training labels, pre-trained encoder vs scratch (mean and
    std over seeds when the rows hold them)."""
    labels = [r["labels"] for r in rows]
    fig, ax = plt.subplots(figsize=(4.2, 2.9))
    for init, marker, name in (("scratch", "o-", "from scratch"),
                               ("pretrained", "s-", "AE pre-trained")):
        ax.errorbar(labels, _percent(r[f"{init}_test_accuracy"] for r in rows),
                    yerr=_percent(r.get(f"{init}_test_std", 0.0) for r in rows), fmt=marker,
                    capsize=3, label=name)
    lowest = min(min(_percent(r[f"{init}_test_accuracy"] - r.get(f"{init}_test_std", 0.0)
                              for r in rows)) for init in ("scratch", "pretrained"))
    ax.set(xscale="log", xlabel="training labels used", ylabel="test accuracy (%)",
           ylim=(max(0.0, 10 * np.floor(lowest / 10) - 5), 101))  # a line plot: zoomed in
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")  # below the curves, which sit near 100 %
    fig.tight_layout()
    return save(fig, path)


def scatter_by_count(points, counts, path=None, xlabel: str = "z1", ylabel: str = "z2",
                     title: str = "") -> plt.Figure:
    """2-D points coloured by ball count."""
    points, counts = as_numpy(points), np.asarray(counts)
    fig, ax = plt.subplots(figsize=(3.6, 3.3))
    for count, colour in reversed(COUNT_COLOURS.items()):  # one ball, the fewest points, on top
        chosen = counts == count
        ax.scatter(points[chosen, 0], points[chosen, 1], s=5, alpha=0.6, color=colour,
                   label=f"{count} ball{'s' if count > 1 else ''}")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles[::-1], labels[::-1], fontsize=8, markerscale=2, ncol=3,
               loc="lower center", frameon=False)  # below the axes, off the points
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return save(fig, path)


def frame_grid(frames, path=None, row_labels: Sequence[str] = (),
               col_labels: Sequence[str] = (), cell: float = 0.62,
               xlabel: str = "", ylabel: str = "", label_size: float = 8) -> plt.Figure:
    """A grid of frames (R, C, H, W) with optional row and column labels (negative numbers in
    them get a minus sign) of ``label_size`` points, axis titles one point larger."""
    frames = as_numpy(frames)
    row_labels, col_labels = ([minus_sign(str(t)) for t in labels]
                              for labels in (row_labels, col_labels))
    n_rows, n_cols = frames.shape[:2]
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(cell * n_cols + 0.9, cell * n_rows + 0.5),
                             squeeze=False, gridspec_kw={"wspace": 0.03, "hspace": 0.03})
    for r in range(n_rows):
        for c in range(n_cols):
            axes[r, c].imshow(frames[r, c], cmap="gray", vmin=0, vmax=1)
            axes[r, c].set_xticks([])
            axes[r, c].set_yticks([])
        if r < len(row_labels):
            axes[r, 0].set_ylabel(row_labels[r], fontsize=label_size, rotation=0, ha="right",
                                  va="center")
    for c, label in enumerate(col_labels):
        axes[-1, c].set_xlabel(label, fontsize=label_size)
    if xlabel:
        fig.supxlabel(xlabel, fontsize=label_size + 1)
    if ylabel:
        fig.supylabel(ylabel, fontsize=label_size + 1)
    return save(fig, path)


def probe_curve(rows: Sequence[Mapping], path=None) -> plt.Figure:
    """Test R² of the linear probes vs latent size, pixel probes as horizontal lines."""
    latent = [r for r in rows if r["features"] != "pixels"]
    pixels = [r for r in rows if r["features"] == "pixels"]
    dims = [r["dims"] for r in latent]
    fig, ax = plt.subplots(figsize=(4.2, 2.9))
    for i, (key, label) in enumerate((("position", "1-ball position (x, y)"),
                                      ("occupancy", "4×4 occupancy"))):
        ax.plot(dims, [r[f"{key}_test_r2"] for r in latent], "os"[i] + "-", color=f"C{i}",
                label=label)
        for r in pixels:
            ax.axhline(r[f"{key}_test_r2"], color=f"C{i}", ls=":", lw=1)
    ax.set(xlabel="latent size l (dotted: probe on the 1024 pixels)", ylabel="test R²",
           ylim=(min(0.0, *(r["occupancy_test_r2"] for r in rows)), 1.02))
    _log2_axis(ax, dims)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return save(fig, path)
