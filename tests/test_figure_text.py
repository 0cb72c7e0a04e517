"""Figure text sizes as printed in the report."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from bballs.reporting import figure_text, plots  # noqa: E402


def test_saved_figures_record_width_and_fonts_and_print_scaled_to_their_slot(tmp_path):
    fig, ax = plt.subplots(figsize=(7.0, 2.0))
    ax.plot([0, 1], [0, 1])
    ax.set_xlabel("x", fontsize=8)
    ax.tick_params(labelsize=8)
    ax.set_title("title", fontsize=9)
    hidden = fig.add_axes([0.8, 0.8, 0.1, 0.1])
    hidden.axis("off")  # its default 10-pt tick labels never show
    plots.save(fig, tmp_path / "a.png")
    record = json.loads((tmp_path / plots.TEXT_SIZES).read_text())["a.png"]
    assert record["min_pt"] == 8 and record["max_pt"] == 9
    assert 5.0 < record["width_in"] < 7.5  # cropped to what is drawn
    full = figure_text.printed_sizes("![](figures/a.png)", tmp_path)["a.png"]
    half = figure_text.printed_sizes("![](figures/a.png){: .half}", tmp_path)["a.png"]
    assert full["min_pt"] == pytest.approx(8 * min(1, plots.TEXT_WIDTH_IN / record["width_in"]))
    assert half["min_pt"] == pytest.approx(8 * 0.48 * plots.TEXT_WIDTH_IN / record["width_in"])
    assert figure_text.illegible("![](figures/a.png){{: .half}}", tmp_path)  # too small
    assert not figure_text.illegible("![](figures/a.png)", tmp_path)


@pytest.mark.parametrize("values", [(4e-4, 7e-4, 1.2e-3), (1e-5, 1e-3, 8e-2)])
def test_log_axes_have_several_plain_labels(values):
    fig, ax = plt.subplots()
    ax.plot(range(len(values)), values)
    ax.set_yscale("log")
    figure_text.plain_log_ticks(ax)
    fig.canvas.draw()
    low, high = ax.get_ylim()
    labels = [label.get_text() for label in ax.get_yticklabels()
              if label.get_text() and low <= label.get_position()[1] <= high]
    assert 2 <= len(labels) <= 8
    assert not any(mark in text for text in labels for mark in ("e", "×", "$"))
    plt.close(fig)


def test_text_width_is_the_style_sheets_page_less_its_margins():
    """Printed sizes assume figures fill :data:`plots.TEXT_WIDTH_IN`: A4's width less the
    page's left and right margins, with no body margin taking more."""
    import re

    from bballs.core.files import project_root

    css = (project_root() / "report" / "style.css").read_text(encoding="utf-8")
    page = re.search(r"@page \{ size: A4; margin: ([\d.]+)mm ([\d.]+)mm ([\d.]+)mm ([\d.]+)mm", css)
    assert page, "style.css must give the page margins in mm"
    width_mm = 210 - float(page.group(2)) - float(page.group(4))
    assert pytest.approx(width_mm / 25.4, abs=0.01) == plots.TEXT_WIDTH_IN
    body = re.search(r"\nbody \{([^}]*)\}", css).group(1)
    assert re.search(r"\bmargin: 0;", body), "the body's default margin would narrow the text"
