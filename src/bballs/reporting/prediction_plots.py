"""Part 2's prediction figures: scores per predicted frame, long roll-outs, error maps and the
animated predictions, one colour per predictor in every figure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from bballs.core.files import atomic_path
from bballs.metrics import MSE_FACTOR, MSE_UNIT, as_numpy, psnr_from_mse
from bballs.reporting.figure_text import plain_log_ticks
from bballs.reporting.plots import TEXT_WIDTH_IN, save, sequence_grid

_HORIZON_METRICS = {"mse": f"MSE ({MSE_UNIT}, log scale, lower is better)", "ssim": "SSIM",
                    "psnr": "PSNR (dB)", "psnr_of_mse": "PSNR of the mean MSE (dB)"}
#: One colour per predictor in every Part 2 figure.
PREDICTOR_COLOURS = {"baseline U-Net": "C0", "classical predictor": "C1",
                     "learnt (Task 6 budget)": "C2", "physics model": "C3", "last frame": "C7"}


def _curve(per_metric: Mapping[str, Sequence[float]], metric: str) -> np.ndarray:
    """One metric's values per horizon, the MSE in :data:`~bballs.metrics.MSE_UNIT` (as in the
    tables); the PSNR of the mean MSE is computed from the MSE."""
    if metric == "psnr_of_mse":
        return np.array([psnr_from_mse(float(mse)) for mse in per_metric["mse"]])
    return np.asarray(per_metric[metric], dtype=float) * (MSE_FACTOR if metric == "mse" else 1)


def _horizon_panels(curves: Mapping[str, Mapping[str, Sequence[float]]], metrics: Sequence[str],
                    path, first_frame: int, trained_horizon: int | None, style: str,
                    width: float) -> plt.Figure:
    """One panel per metric, one line per predictor, against the predicted frame's number."""
    fig, axes = plt.subplots(1, len(metrics), figsize=(width, 3.3))
    for ax, metric in zip(axes, metrics):
        for name, per_metric in curves.items():
            values = _curve(per_metric, metric)
            ax.plot(np.arange(first_frame, first_frame + len(values)), values, style, label=name,
                    color=PREDICTOR_COLOURS.get(name))
        if metric == "mse":  # the last frame's error would flatten every other curve
            ax.set_yscale("log")
            plain_log_ticks(ax)
        if trained_horizon:
            ax.axvline(first_frame + trained_horizon - 0.5, color="grey", ls=":",
                       label="end of the trained horizon")
        ax.set_xlabel("predicted frame t", fontsize=9)
        ax.set_ylabel(_HORIZON_METRICS[metric], fontsize=9)
        ax.tick_params(labelsize=8)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 3), fontsize=7.5,
               frameon=False)  # below the panels, off the data
    rows = -(-len(labels) // 3)
    fig.tight_layout(rect=(0, 0.07 * rows, 1, 1))
    return save(fig, path)


def per_horizon(scores: Mapping[str, Mapping[str, Sequence[float]]], path=None,
                first_frame: int = 5) -> plt.Figure:
    """MSE, SSIM and the PSNR of the mean MSE per predicted frame (t = 5-9) for several
    predictors (``scores``: each predictor's ``per_horizon`` MSE and SSIM)."""
    return _horizon_panels(scores, ("mse", "ssim", "psnr_of_mse"), path, first_frame, None,
                           "o-", 7.4)


def horizon_curves(curves: Mapping[str, Mapping[str, Sequence[float]]], path=None,
                   first_frame: int = 5, trained_horizon: int = 5) -> plt.Figure:
    """SSIM and the PSNR of the mean MSE against prediction horizon for several predictors
    (long roll-outs)."""
    return _horizon_panels(curves, ("ssim", "psnr_of_mse"), path, first_frame, trained_horizon,
                           ".-", 7.4)


def error_maps(predictions: Mapping[str, object], target, path=None,
               first_frame: int = 5) -> plt.Figure:
    """Per sequence: the true frames, then each predictor's |prediction - truth| (white = 0,
    red: larger, one scale with a colour bar), frames numbered t = first_frame, ..."""
    truth = as_numpy(target)
    errors = {f"error, {name}": np.abs(np.clip(as_numpy(p), 0, 1) - truth)
              for name, p in predictions.items()}
    return sequence_grid({"truth": truth, **errors}, path, n_sequences=len(truth),
                         first_frame=first_frame, width=0.8 * TEXT_WIDTH_IN,
                         error_rows=list(errors))  # printed at 80 % of the text width


def animation(rows: Mapping[str, object], path, n_sequences: int = 4, fps: int = 4,
              first_frame: int = 5) -> Path:
    """An animated GIF: one column per series, one row per sequence, frames over time
    (numbered t = first_frame, ... like the rest of the figures)."""
    from matplotlib.animation import FuncAnimation, PillowWriter

    series = {name: as_numpy(frames)[:n_sequences] for name, frames in rows.items()}
    n_frames = min(frames.shape[1] for frames in series.values())
    fig, axes = plt.subplots(n_sequences, len(series), figsize=(1.6 * len(series),
                                                                 1.6 * n_sequences),
                             squeeze=False, gridspec_kw={"wspace": 0.05, "hspace": 0.05})
    images = []
    for col, (name, frames) in enumerate(series.items()):
        axes[0, col].set_title(name, fontsize=8)
        for row in range(n_sequences):
            axes[row, col].axis("off")
            images.append((axes[row, col].imshow(frames[row, 0], cmap="gray", vmin=0, vmax=1),
                           frames[row]))
    caption = fig.suptitle(f"t = {first_frame}", fontsize=9)

    def draw(t):
        for image, frames in images:
            image.set_data(frames[t])
        caption.set_text(f"t = {first_frame + t}")
        return [image for image, _ in images]

    movie = FuncAnimation(fig, draw, frames=n_frames, blit=False)
    path = Path(path)
    with atomic_path(path) as tmp:
        movie.save(tmp, writer=PillowWriter(fps=fps))
    plt.close(fig)
    return path
