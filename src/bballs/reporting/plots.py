"""Figures of the report; every function draws one figure and saves it when given a path."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.text import Text
from PIL import Image
from sklearn.metrics import ConfusionMatrixDisplay

from bballs.core.files import atomic_path, update_results
from bballs.metrics import CLASS_LABELS, MSE_FACTOR, as_numpy

DPI = 150  # the report prints figures at this resolution (report/style.css)
TEXT_WIDTH_IN = 7.01  # A4 less the page margins of report/style.css (its body has none)
#: font sizes of every figure: printed at its own size, its text sits between 7 pt and the
#: report's body text (9.5 pt); figures wider than the page say so by scaling their own fonts
plt.rcParams.update({"font.size": 8, "axes.titlesize": 9, "axes.labelsize": 8,
                     "xtick.labelsize": 7.5, "ytick.labelsize": 7.5, "legend.fontsize": 7.5,
                     "figure.titlesize": 9})
TEXT_SIZES = "text_sizes.json"  # beside the figures: each figure's width and font sizes


def save(fig: plt.Figure, path: str | Path | None) -> plt.Figure:
    """Save ``fig`` to ``path`` (folders created) at report resolution and record its width and
    smallest and largest font in :data:`TEXT_SIZES` beside it; return it."""
    if path is not None:
        path = Path(path)
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=DPI, bbox_inches="tight")
            with Image.open(tmp) as image:
                width = image.size[0] / DPI
        update_results(path.parent / TEXT_SIZES, path.name, {"width_in": width, **_fonts(fig)})
    return fig


def _fonts(fig: plt.Figure) -> dict[str, float]:
    """The smallest and largest font size (pt) of the figure's visible text."""
    sizes = [t.get_fontsize() for t in fig.findobj(Text) if _drawn(t)]
    return {"min_pt": min(sizes, default=0.0), "max_pt": max(sizes, default=0.0)}


def _drawn(text: Text) -> bool:
    """Whether ``text`` shows: visible, not empty, and not a tick label of a hidden axes."""
    if not (text.get_visible() and text.get_text().strip()):
        return False
    ax = text.axes
    return ax is None or ax.axison or text in ax.texts or text is ax.title


def show_saved(path: str | Path, width: int = 700) -> None:
    """Show a saved figure once in a notebook (open figures closed first, else the notebook
    draws them again at the end of the cell)."""
    from IPython.display import Image, display

    plt.close("all")
    display(Image(str(path), width=width))


def placeholder(message: str, path=None) -> plt.Figure:
    """A figure that only says why the real one is missing (never one made from other data)."""
    fig, ax = plt.subplots(figsize=(5, 1.2))
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=9, wrap=True)
    ax.axis("off")
    return save(fig, path)


def _epochs(values: Sequence[float]) -> np.ndarray:
    return np.arange(1, len(values) + 1)


def training_curves(history: Mapping[str, Sequence[float]], path=None,
                    title: str = "") -> plt.Figure:
    """Training and validation loss (and accuracy, when recorded) over epochs."""
    panels = [("loss", "Cross-entropy loss", 1.0)]
    if history.get("val_accuracy"):
        panels.append(("accuracy", "Accuracy (%)", 100.0))
    fig, axes = plt.subplots(1, len(panels), figsize=(3.6 * len(panels), 2.8), squeeze=False)
    for ax, (metric, label, scale) in zip(axes[0], panels):
        for split, style, name in (("train", "o-", "training"), ("val", "s--", "validation")):
            values = history[f"{split}_{metric}"]
            ax.plot(_epochs(values), scale * np.asarray(values), style, label=name)
        ax.set(xlabel="epoch", ylabel=label)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)  # none when empty
    fig.tight_layout()
    return save(fig, path)


def loss_curve(values: Sequence[float], label: str, path=None, color: str = "C0",
               scale: float = 1.0) -> plt.Figure:
    """One loss series over epochs (the specification asks for separate plots), multiplied by
    ``scale`` (1e3 for a label in units of 10⁻³)."""
    fig, ax = plt.subplots(figsize=(3.5, 2.6))
    ax.plot(_epochs(values), scale * np.asarray(values, dtype=float), "o-", color=color)
    ax.set(xlabel="epoch", ylabel=label)  # the label says which loss: no title repeats it
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return save(fig, path)


def confusion(matrix, path=None, title: str = "") -> plt.Figure:
    """A 3x3 confusion matrix with counts, rows true and columns predicted ball counts."""
    fig, ax = plt.subplots(figsize=(3.3, 2.7))  # printed at half the text width
    display = ConfusionMatrixDisplay(np.asarray(matrix), display_labels=list(CLASS_LABELS))
    display.plot(ax=ax, cmap="Blues", colorbar=True)
    ax.set(xlabel="predicted number of balls", ylabel="true number of balls",
           title=textwrap.fill(title, 42))
    fig.tight_layout()
    return save(fig, path)


def labelled_frames(rows: Mapping[str, tuple[object, Sequence[int]]], path=None, n: int = 8,
                    width: float = 0.8 * TEXT_WIDTH_IN) -> plt.Figure:
    """The first ``n`` frames of each file side by side, one row per file, each titled with its
    number of balls: ``rows`` maps a row label to (frames (N, 1, H, W), ball counts (N,))."""
    cell = width / (n + 1.2)
    fig, axes = plt.subplots(len(rows), n, figsize=(width, len(rows) * cell * 1.35),
                             squeeze=False, gridspec_kw={"wspace": 0.08, "hspace": 0.35})
    for r, (name, (frames, counts)) in enumerate(rows.items()):
        images = as_numpy(frames)[:n, 0]
        for c, ax in enumerate(axes[r]):
            ax.imshow(images[c], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"{int(counts[c])} ball{'s' * (int(counts[c]) > 1)}", fontsize=8)
        axes[r, 0].set_ylabel(name, fontsize=8)
    return save(fig, path)


def accuracy_by_radius(bins: Sequence[float], accuracies: Mapping[str, Sequence[float]],
                       counts: Sequence[int], train_radius: float, path=None) -> plt.Figure:
    """Accuracy per bin of the mean ball radius, for one or more counters."""
    centres = (np.asarray(bins[:-1]) + np.asarray(bins[1:])) / 2
    fig, ax = plt.subplots(figsize=(3.6, 3.0))
    for name, values in accuracies.items():
        ax.plot(centres, 100 * np.asarray(values, dtype=float), "o-", label=name)
    ax.axvline(train_radius, color="grey", ls=":", label=f"training radius {train_radius}")
    for x, n in zip(centres, counts):
        ax.annotate(f"n={n}", (x, 108), ha="center", fontsize=9, color="grey")
    ax.margins(x=0.1)
    ax.set(xlabel="mean ball radius in the frame", ylabel="test accuracy (%)", ylim=(0, 115))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    return save(fig, path)


def _error_scale(errors: Sequence[np.ndarray]) -> float:
    """The top of the error colour scale: the 99th percentile of the non-zero errors, rounded
    up to a multiple of 0.05 (0.05 at least)."""
    values = np.concatenate([e.ravel() for e in errors]) if errors else np.zeros(1)
    values = values[values > 0]
    top = float(np.percentile(values, 99)) if values.size else 0.05
    return max(round(float(np.ceil(round(top / 0.05, 6))) * 0.05, 6), 0.05)


def sequence_grid(rows: Mapping[str, object], path=None, n_sequences: int = 3,
                  first_frame: int = 0, column_title: str = "t={}",
                  width: float = TEXT_WIDTH_IN, error_rows: Sequence[str] = ()) -> plt.Figure:
    """Frames laid out like the specification's Figure 1: one row per series, per sequence.

    ``rows`` maps a row label to frames (N, T, H, W); every series shows its first
    ``n_sequences`` sequences. ``first_frame`` numbers the columns (t = first_frame, ...);
    ``column_title`` formats that number (e.g. "frame {}" for independent frames). The frames
    are sized so that the figure, row labels included, prints ``width`` inches wide. The
    ``error_rows`` are drawn white (0) to red on one scale, which ends at the 99th percentile of
    their non-zero errors (larger ones saturate), with a colour bar; each error frame has its
    MSE (×10⁻³, two decimals) under it.
    """
    series = {name: as_numpy(frames)[:n_sequences] for name, frames in rows.items()}
    error_max = _error_scale([series[name] for name in error_rows])
    error_image = None
    n_cols = max(frames.shape[1] for frames in series.values())
    n_rows = n_sequences * len(series)
    cell = min(0.9, (width - 1.9) / n_cols)
    space = 0.3 if error_rows else 0.08  # room for each error frame's MSE
    fig, axes = plt.subplots(n_rows, n_cols,
                             figsize=(cell * n_cols + 0.1, cell * n_rows * (1 + space) + 0.2),
                             squeeze=False, gridspec_kw={"wspace": 0.05, "hspace": space})
    for ax in axes.flat:
        ax.axis("off")
    for seq in range(n_sequences):
        for r, (name, frames) in enumerate(series.items()):
            row = seq * len(series) + r
            offset = n_cols - frames.shape[1]
            for t in range(frames.shape[1]):
                ax = axes[row, offset + t]
                error = name in error_rows
                image = ax.imshow(frames[seq, t], cmap="Reds" if error else "gray", vmin=0,
                                  vmax=error_max if error else 1)
                error_image = image if error else error_image
                if error:
                    mse = MSE_FACTOR * np.mean(frames[seq, t] ** 2)  # two decimals: five
                    ax.text(0.5, -0.04, f"{mse:.2f}", fontsize=8,  # characters fit a frame
                            ha="center", va="top", transform=ax.transAxes)
                if row == 0 or (r == 0 and seq == 0):
                    ax.set_title(column_title.format(first_frame + offset + t), fontsize=8)
            label_ax = axes[row, offset]
            label_ax.text(-0.08, 0.5, f"#{seq + 1} {name}" if r == 0 else name, fontsize=8,
                          ha="right", va="center", transform=label_ax.transAxes)
    if error_image is not None:
        bar = fig.colorbar(error_image, ax=axes.ravel().tolist(), fraction=0.04, pad=0.02,
                           aspect=20, shrink=min(1.0, 4 / n_rows), extend="max")
        bar.set_label("|prediction − truth|", fontsize=8)
        bar.ax.tick_params(labelsize=8)
    return save(fig, path)


def seed_std(rows: Sequence[Mapping], metric: str, scale: float = 1.0) -> np.ndarray:
    """The seed std of ``metric`` per row (0 where a row has none: a single seed), times
    ``scale``: the error bars of a mean ± std plot."""
    return scale * np.array([row.get(f"{metric}_std") or 0.0 for row in rows])


def ablation_bars(table: Sequence[Mapping], metric: str, label: str, path=None,
                  reference: Mapping[str, float] | None = None) -> plt.Figure:
    """Mean +- std over seeds of ``metric`` per variant (rows of ``experiments.summarise``),
    as points with error bars (the axis need not start at zero); recipes by their names in
    words, accuracies in percent."""
    scale = 100.0 if "accuracy" in metric else 1.0
    digits = 1 if scale > 1 else 3
    names = [row.get("title") or row["variant"] for row in table]
    means = scale * np.array([row[f"{metric}_mean"] for row in table])
    stds = seed_std(table, metric, scale)
    reference = {name: scale * value for name, value in (reference or {}).items()}
    fig, ax = plt.subplots(figsize=(6.8, 0.3 * len(names) + 1.0))
    y = np.arange(len(names))
    ax.errorbar(means, y, xerr=stds, fmt="o", color="C0", capsize=3)
    ax.set_yticks(y, names)
    for row_y, (m, row) in enumerate(zip(means, table)):  # a column right of the axes
        ax.annotate(f"{m:.{digits}f} (n={row['seeds']})", (1.01, row_y),
                    xycoords=("axes fraction", "data"), va="center", fontsize=8)
    for i, (name, value) in enumerate((reference or {}).items()):
        ax.axvline(value, color=f"C{i + 1}", ls="--", label=f"{name} {value:.{digits}f}")
    low = min([*(means - stds), *(reference or {}).values()])
    high = max(scale, float((means + stds).max()))
    ax.set(xlabel=label, xlim=(max(0.0, low - 0.03 * scale), high + 0.02 * scale),
           ylim=(len(names) - 0.5, -0.7))
    if reference:
        ax.legend(fontsize=8, loc="lower left")
    ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    return save(fig, path)


COUNTER_STYLES = (("o", "-"), ("s", "--"), ("^", ":"))  # marker and line of each counter


def shift_families(table: Mapping[str, Mapping], path=None) -> plt.Figure:
    """Accuracy of each counter against the strength of each shift family (one panel each;
    rows of :func:`bballs.tasks.robustness.family_accuracy`), sized for a printed page."""
    n_cols = 4  # ten families and the legend in three rows: the figure and its caption fit a page
    n_rows = -(-(len(table) + 1) // n_cols)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(7.2, 1.6 * n_rows), squeeze=False)
    for ax, (family, row) in zip(axes.flat, table.items()):
        for i, (name, accuracy) in enumerate((k, v) for k, v in row.items()
                                             if k not in ("levels", "unit", "names", "std")):
            percent = 100 * np.asarray(accuracy)
            marker, line = COUNTER_STYLES[i % len(COUNTER_STYLES)]  # overlapping lines stay told
            ax.plot(row["levels"], percent, marker=marker, ls=line, color=f"C{i}", label=name,
                    ms=4, mfc="none" if i else f"C{i}", clip_on=False)
            if name in row.get("std", {}):  # ± one seed std
                std = 100 * np.asarray(row["std"][name])
                ax.fill_between(row["levels"], percent - std, percent + std, color=f"C{i}",
                                alpha=0.2, lw=0)
        if "names" in row:
            ax.set_xticks(row["levels"], row["names"])
            ax.set_xlim(-0.3, len(row["levels"]) - 0.7)
        ax.set_title(family, fontsize=9)
        ax.set_xlabel(row["unit"], fontsize=9)
        ax.set_ylim(-5, 105)  # points at 0% and 100% drawn whole, off the frame's edge
        ax.set_yticks([0, 25, 50, 75, 100])
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
    for ax in axes[:, 0]:
        ax.set_ylabel("accuracy (%)", fontsize=9)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    for ax in list(axes.flat)[len(table):]:
        ax.axis("off")
    list(axes.flat)[-1].legend(handles, labels, fontsize=9, loc="center")
    fig.tight_layout()
    return save(fig, path)
