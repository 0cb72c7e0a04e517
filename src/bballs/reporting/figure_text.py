"""Text sizes of the report's figures as printed: each figure's fonts (recorded by
:func:`bballs.reporting.plots.save`) scaled by the width the report gives it; and plain tick
labels for log axes."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from bballs.core.files import read_results
from bballs.reporting.plots import TEXT_SIZES, TEXT_WIDTH_IN

SHARE = {"": 1.0, "half": 0.48, "narrow": 0.70}  # the image classes of report/style.css
SMALLEST_PT, LARGEST_PT = 7.0, 9.5  # legible when printed; never above the body text
#: a figure of a report's source (``{{: .half}}``) or of its rendered text (``{: .half}``)
FIGURE = re.compile(r"!\[\]\(figures/([^)\s]+)\)(?:\{\{?: \.(\w+)\}\}?)?")


def printed_sizes(markdown: str, figures: str | Path) -> dict[str, dict[str, float]]:
    """Per figure of ``markdown`` (report source): the scale it prints at and its smallest and
    largest font in printed points (figures without a record are left out)."""
    record = read_results(Path(figures) / TEXT_SIZES)
    sizes = {}
    for name, css_class in FIGURE.findall(markdown):
        if name not in record:
            continue
        entry = record[name]
        scale = min(1.0, TEXT_WIDTH_IN * SHARE.get(css_class, 1.0) / entry["width_in"])
        sizes[name] = {"scale": scale, "min_pt": entry["min_pt"] * scale,
                       "max_pt": entry["max_pt"] * scale}
    return sizes


def illegible(markdown: str, figures: str | Path) -> list[str]:
    """Figures of ``markdown`` with printed text under :data:`SMALLEST_PT` or over
    :data:`LARGEST_PT`, each with its sizes."""
    return [f"{name}: {s['min_pt']:.1f}-{s['max_pt']:.1f} pt printed"
            for name, s in printed_sizes(markdown, figures).items()
            if s["min_pt"] < SMALLEST_PT - 0.05 or s["max_pt"] > LARGEST_PT + 0.05]


def plain_log_ticks(ax: plt.Axes) -> None:
    """Plain decimals (0.0005, not 5×10⁻⁴) on a log-scaled y axis (call it once the data are
    drawn): labelled ticks at every digit of a decade on an axis that spans less than a factor
    3, at 1, 2 and 5 up to two decades, at the decades alone beyond, so each axis has several
    and none is crowded."""
    low, high = ax.get_ylim()
    span = high / max(low, 1e-300)
    subs = (1.0,) if span > 100 else (1.0, 2.0, 5.0) if span > 3 else tuple(range(1, 10))
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=subs))
    ax.yaxis.set_major_formatter(FuncFormatter(
        lambda v, pos: np.format_float_positional(v, precision=6, trim="-")))
    ax.yaxis.set_minor_formatter(NullFormatter())
