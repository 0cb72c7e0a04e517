"""Figures of the image-to-image study: example grids per task and the skip-type comparison."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap

from bballs.metrics import as_numpy, frame_stack
from bballs.reporting.plots import save, seed_std
from bballs.tasks import image_to_image as i2i
from bballs.tasks import image_to_image_baselines as i2i_baselines
from bballs.tasks import image_to_image_study as i2i_study

LABEL_COLOURS = ListedColormap(["black", "tab:red", "tab:green", "tab:blue"])
WRONG_COLOURS = ListedColormap(["white", "darkred"])
ERROR_CLIP = 0.2  # every error map's scale ends here (the colour bar says so): one scale for
# all the figures, so that their errors compare, and small errors still show


def _panels(n: int, columns: int = 3, width: float = 6.8,
            row_height: float = 2.3) -> tuple[plt.Figure, list[plt.Axes]]:
    """A grid of ``n`` panels, ``columns`` a row, ``width`` inches wide (an A4 column by
    default); unused axes hidden."""
    rows = -(-n // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(width, row_height * rows), squeeze=False)
    flat = list(axes.flat)
    for ax in flat[n:]:
        ax.axis("off")
    return fig, flat[:n]


def _frames(array) -> np.ndarray:
    array = as_numpy(array)
    return array.reshape(-1, *array.shape[-2:])


def example_grid(rows: Mapping[str, object], path=None, n_examples: int = 6,
                 labels: Sequence[str] = (), errors: Sequence[str] = (),
                 wrong: Sequence[str] = ()) -> plt.Figure:
    """One row per series (N, H, W) or (N, 1, H, W), one column per example. Series named in
    ``labels`` are label maps (0 black, 1..3 red, green, blue); series named in ``errors`` are
    error maps on the magma scale from 0 (black: no error) to :data:`ERROR_CLIP` in every
    figure, with a colour bar; series named in ``wrong`` are 0/1 maps of wrong
    pixels (white / dark red, no colour bar: two colours need no scale); the others grey
    images in [0, 1]. Sized to print at 70 % of the text width with 7.5-pt labels."""
    series = {name: _frames(values)[:n_examples] for name, values in rows.items()}
    n = min(len(v) for v in series.values())
    fig, axes = plt.subplots(len(series), n, figsize=(0.55 * n + 1.0, 0.55 * len(series) + 0.3),
                             squeeze=False, gridspec_kw={"wspace": 0.05, "hspace": 0.08})
    error_image = None
    errors_max = max([float(np.max(v)) for name, v in series.items() if name in errors]
                     or [1.0])
    for r, (name, frames) in enumerate(series.items()):
        for c in range(n):
            ax = axes[r, c]
            ax.set_xticks([])
            ax.set_yticks([])
            if name in labels:
                ax.imshow(frames[c], cmap=LABEL_COLOURS, vmin=0, vmax=3, interpolation="nearest")
            elif name in wrong:
                ax.imshow(frames[c], cmap=WRONG_COLOURS, vmin=0, vmax=1, interpolation="nearest")
            elif name in errors:
                error_image = ax.imshow(frames[c], cmap="magma", vmin=0, vmax=ERROR_CLIP)
            else:
                ax.imshow(frames[c], cmap="gray", vmin=0, vmax=1)
        axes[r, 0].set_ylabel(name, fontsize=7.5, rotation=0, ha="right", va="center")
    if error_image is not None:  # one bar beside the error row(s), exactly as tall
        rows = [r for r, name in enumerate(series) if name in errors]
        top, bottom = axes[rows[0], -1].get_position(), axes[rows[-1], -1].get_position()
        bar_axes = fig.add_axes((top.x1 + 0.015, bottom.y0, 0.02, top.y1 - bottom.y0))
        bar = fig.colorbar(error_image, cax=bar_axes,
                           extend="max" if errors_max > ERROR_CLIP else "neither")
        bar.ax.tick_params(labelsize=7.5)
    return save(fig, path)


#: Axis label of each decisive measure (:func:`i2i_study.decisive`).
MEASURE_LABELS = {"score": "test PSNR of the mean MSE (dB)",
                  "hole_mse": "test MSE in the hole (×10⁻³)", "score_2": "test IoU, noisy inputs"}


def skip_comparison(rows: Sequence[Mapping], path=None) -> plt.Figure:
    """One panel per task: each skip type's decisive measure (:func:`i2i_study.decisive`; its
    condition named under the title where a task has several) as a point with ± one seed std
    as an error bar where the rows have one (a dot chart: its axis need not start at zero; the
    values are in the tables); the selected one filled."""
    tasks = list(dict.fromkeys(row["task"] for row in rows))
    fig, axes = _panels(len(tasks), row_height=2.0)
    for ax, name in zip(axes, tasks):
        mine = [row for row in rows if row["task"] == name]
        key, _, scale = i2i_study.decisive(name)
        label = MEASURE_LABELS[key]
        values = scale * np.array([row[key] for row in mine])
        spreads = seed_std(mine, key, scale)
        for x, (row, value) in enumerate(zip(mine, values)):
            ax.errorbar(x, value, yerr=spreads[x], fmt="o", ms=7, color=f"C{x}",
                        capsize=3, markerfacecolor=f"C{x}" if row["selected"] else "white")
        low, high = (values - spreads).min(), (values + spreads).max()
        pad = max(high - low, 0.02 * abs(high), 1e-3) * 0.6
        ax.set_ylim(low - pad, high + pad)
        ax.set_xlim(-0.5, len(mine) - 0.5)
        ax.set_xticks(range(len(mine)), [i2i_study.SKIP_TITLES[row["skip"]] for row in mine],
                      rotation=20, ha="right", rotation_mode="anchor")
        conditions = list(i2i.condition_titles(name).values())
        scored = conditions[-1] if key == "score_2" else conditions[0]
        where = f"\n{scored}" if len(conditions) > 1 else ""  # the condition scored
        ax.set_title(f"{i2i.image_task(name).title}{where}", fontsize=8)
        ax.set_ylabel(label, fontsize=7.5)
        ax.tick_params(labelsize=7.5)
        ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    return save(fig, path)


def validation_curves(histories: Mapping[str, Mapping[str, Sequence[float]]], path=None
                      ) -> plt.Figure:
    """Validation loss per epoch (in thousandths, linear axes), one panel per task, one line per
    skip type. ``histories[task][skip]`` is the list of validation losses."""
    fig, axes = _panels(len(histories))
    for ax, (name, by_skip) in zip(axes, histories.items()):
        for skip, values in by_skip.items():
            ax.plot(np.arange(1, len(values) + 1), 1e3 * np.asarray(values), "o-", ms=3,
                    label=i2i_study.SKIP_TITLES.get(skip, skip))
        ax.set_title(i2i.image_task(name).title, fontsize=8)
        ax.set_xlabel("epoch", fontsize=8)
        ax.set_ylabel("validation loss (×10⁻³)", fontsize=8)  # linear: every tick labelled
        ax.tick_params(labelsize=8)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(alpha=0.3)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="lower center", ncol=3, fontsize=8,
               frameon=False)  # below the panels, off the data
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return save(fig, path)


ERROR_NAMES = {"restore": "absolute error", "segment": "wrong pixels"}


HOLE_GREY = 0.3  # the in-painting hole's grey in the example grids


def example_rows(run: i2i.TrainedNetwork, data: i2i.Data, n: int = 6,
                 condition: int = -1) -> dict[str, np.ndarray]:
    """Rows of an example grid for a run on the first ``n`` test frames of one condition:
    input, network output, the classical baseline (median filter, biharmonic in-painting or
    smoothed threshold), truth and the network's error (|output - truth|, or label != truth)."""
    test = i2i.Split(data.test.frames[:n], data.test.binary[:n], data.test.instance[:n])
    cond = i2i.conditions(run.image_task, test)[condition]
    output = i2i.network_output(run, cond)
    if i2i.image_task(run.image_task).kind == "restore":
        methods = i2i_baselines.restoration_baselines(run.image_task, data.val)
        baseline = methods[-1] if run.image_task == "inpaint" else methods[1]
        truth = frame_stack(test.frames)
        error = np.abs(np.clip(output, 0, 1) - truth)
    else:
        baseline = i2i_baselines.segmentation_baselines(run.image_task, data.val)[cond.name][-1]
        truth = test.target(run.image_task).numpy()
        error = (output != truth).astype(float)
    error_name = ERROR_NAMES[i2i.image_task(run.image_task).kind]
    shown = frame_stack(cond.corrupted)
    if cond.mask is not None:  # a hole is black on a black background: drawn grey instead
        shown = np.where(frame_stack(cond.mask) > 0.5, HOLE_GREY, shown)
    return {"input": shown, "network": output,
            i2i_study.METHOD_TITLES[baseline.name]: baseline.apply(cond), "truth": truth,
            error_name: error}


def example_figure(run: i2i.TrainedNetwork, data: i2i.Data, path=None, n: int = 3,
                   condition: int = -1):
    """The example grid of a run (see :func:`example_rows`) on ``n`` test frames, label maps in
    colour; no title: the report's caption says what it shows. Three frames print at half the
    text width with 7.5-pt labels, so two tasks' grids stand side by side."""
    rows = example_rows(run, data, n, condition)
    names = list(rows)
    segment = i2i.image_task(run.image_task).kind == "segment"
    error = ERROR_NAMES[i2i.image_task(run.image_task).kind]
    return example_grid(rows, path, n, labels=names[1:4] if segment else (),
                        errors=() if segment else (error,), wrong=(error,) if segment else ())


def task_examples(data: i2i.Data, path=None, n: int = 6):
    """The inputs of every task and the instance target for the first ``n`` test frames."""
    test = i2i.Split(data.test.frames[:n], data.test.binary[:n], data.test.instance[:n])
    rows = {"clean frame": _frames(test.frames)}
    for name in ("denoise_gaussian", "denoise_salt_pepper", "inpaint"):
        for cond in i2i.conditions(name, test):
            rows[cond.title] = _frames(cond.corrupted)
    rows["instance target"] = test.instance.numpy()
    return example_grid(rows, path, n, labels=("instance target",))
