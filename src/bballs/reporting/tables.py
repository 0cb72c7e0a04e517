"""Markdown tables of result rows and the replication tables of every recipe and model."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence

from bballs.core.numbers import SUPERSCRIPT, power_of_ten
from bballs.metrics import MSE_FACTOR


def minus_sign(text: str) -> str:
    """A formatted number with a minus sign, not a hyphen, before its digits."""
    return re.sub(r"^([+]?)-(?=\d)", "\\1\u2212", text)


def format_number(value: float, digits: int = 4, scientific: bool = False) -> str:
    """A number for a table or a sentence: ``digits`` significant digits, and outside
    [10⁻³, 10⁴) (or always, with ``scientific``) a power of ten written out (``2.7×10⁻⁵``),
    never ``e-05``; not finite: ∞ or –."""
    if value != value:  # NaN
        return "–"
    if value in (float("inf"), float("-inf")):
        return "∞" if value > 0 else "−∞"
    if value == 0 or (not scientific and 1e-3 <= abs(value) < 1e4):
        text = f"{value:.{digits}g}"
        return f"{value:.0f}" if "e" in text else text
    if scientific:  # every mantissa with the same decimals
        mantissa, exponent = f"{value:.{max(digits - 1, 0)}e}".split("e")
    else:
        mantissa, exponent = f"{value:.{max(digits - 2, 1)}e}".split("e")
        mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}×10{str(int(exponent)).translate(SUPERSCRIPT)}"


SCORE_DECIMALS = {"psnr": 2, "ssim": 4}  # decibels and SSIM: one format in every table


def unbroken(text: str) -> str:
    """``text`` with every hyphen between two letters made non-breaking (U+2011), so that a
    narrow column's header never splits "per-sequence" at the hyphen (cells may still break
    there: a long cell would otherwise widen its column)."""
    return re.sub(r"(?<=[^\W\d_])-(?=[^\W\d_])", "\u2011", text)


def markdown_table(table: list[dict], columns: dict[str, str],
                   percent: Sequence[str] = (), significant: Sequence[str] = (),
                   decimals: Mapping[str, int] | None = None) -> str:
    """A Markdown table of summary rows; ``columns`` maps a field (or metric) to its header.

    A metric with ``_mean`` and ``_std`` fields is shown as ``mean ± std`` (just the mean for a
    single seed); metrics named in ``percent`` are shown in percent with one decimal, those in
    ``significant`` with three significant digits (2.98, 0.0344) whatever their spread, those in
    ``decimals`` with their fixed number of decimals (mean and std alike); otherwise a column of
    decibels (a ``psnr`` field) has two decimals and one of SSIM four, in every table. Whole
    numbers get thousands separators, times (``*_seconds``) one decimal, and the other
    numbers of a column share one format (:func:`column_format`); columns of numbers are
    right-aligned, a cell with no value shows a dash. A row with a ``title`` (a recipe's name
    in words, :func:`bballs.training.experiments.summarise`) shows it in the ``variant``
    column. Repeated labels in the leading text columns are shown once per group
    (:func:`grouped`).
    """
    table = [{**row, "variant": row["title"]} if row.get("title") else row for row in table]
    align = ["---:" if _numeric(table, key) else "---" for key in columns]
    lines = ["| " + " | ".join(map(unbroken, columns.values())) + " |",
             "|" + "|".join(align) + "|"]
    decimals = decimals or {}
    decimals = {**{key: SCORE_DECIMALS[score] for key in columns for score in SCORE_DECIMALS
                   if score in key and key not in percent}, **decimals}
    formats = {key: _fixed(decimals[key]) if key in decimals else
               _three_digits if key in significant else
               column_format(_column_values(table, key)) for key in columns}
    rows = [[_cell(row, key, key in percent, formats[key]) for key in columns] for row in table]
    text_columns = [i for i, key in enumerate(columns) if align[i] == "---"]
    lines += ["| " + " | ".join(cells) + " |" for cells in grouped(rows, text_columns)]
    return "\n".join(lines)


GROUPED_COLUMNS = 2  # leading text columns whose repeated labels grouped() shows once


def grouped(rows: list[list[str]], text_columns: Sequence[int],
            depth: int = GROUPED_COLUMNS) -> list[list[str]]:
    """Table cells with a leading text cell left empty where it, and every cell before it,
    repeats the row above (up to ``depth`` leading columns, all in ``text_columns``): a
    group's label is shown on its first row only."""
    leading = 0
    while leading < depth and leading in text_columns:
        leading += 1
    shown, previous = [], None
    for cells in rows:
        same = 0
        while previous is not None and same < leading and cells[same] == previous[same]:
            same += 1
        shown.append([""] * same + cells[same:])
        previous = cells
    return shown


def scaled(table: list[dict], keys: Sequence[str], factor: float) -> list[dict]:
    """Rows with each metric in ``keys`` (and its ``_mean`` and ``_std``) multiplied by
    ``factor``: a column shown in a unit such as ×10⁻³ (``MSE_UNIT``)."""
    fields = {f"{k}{suffix}" for k in keys for suffix in ("", "_mean", "_std")}
    return [{k: v * factor if k in fields and isinstance(v, (int, float))
             and not isinstance(v, bool) else v for k, v in row.items()} for row in table]


def in_mse_unit(value: float) -> str:
    """An MSE in :data:`MSE_UNIT` with three decimals, as in every MSE column (2.975, 0.034)."""
    return f"{value * MSE_FACTOR:.3f}"


def _numeric(table: list[dict], key: str) -> bool:
    values = [row.get(f"{key}_mean", row.get(key)) for row in table]
    return any(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def column_format(values: Sequence[float], digits: int = 4) -> Callable[[float, bool], str]:
    """One format for every number of a column (``format(value, is_std)``): fixed decimals, as
    many as the values need but no more than give the largest value ``digits`` significant
    digits (0.1, 0.2 stay one decimal; 0.9994, 0.672 get four); where the values span more
    than two orders of magnitude, whole numbers (all at least 1), plain decimals with three
    significant digits (all in [10⁻⁴, 10⁴)) or ``m.mm×10ⁿ`` for every cell."""
    finite = [abs(v) for v in values if math.isfinite(v) and v != 0]
    top, bottom = (max(finite), min(finite)) if finite else (1.0, 1.0)
    if top / bottom > 100 and bottom >= 1:
        return lambda v, std=False: _finite(v) or f"{v:,.0f}"
    if top / bottom > 100 and bottom >= 1e-4 and top < 1e4:  # plain decimals, 3 digits each
        return lambda v, std=False: _finite(v) or _significant(v, 2 if std else 3)
    if top / bottom > 100 or not 1e-3 <= top < 1e5:
        return lambda v, std=False: _finite(v) or format_number(v, 2 if std else 3, True)
    cap = min(max(digits - 1 - math.floor(math.log10(top)), 0), 6)
    if top <= 1:  # scores such as SSIM: 1.0 and 0.9843 alike with four decimals
        cap = max(cap, digits)
    decimals = max(_decimals_needed(v, cap) for v in values if math.isfinite(v)) if finite else 0
    return lambda v, std=False: _finite(v) or f"{v:,.{decimals}f}"


def _fixed(decimals: int) -> Callable[[float, bool], str]:
    """One fixed number of decimals for a column's means and stds alike."""
    return lambda v, std=False: _finite(v) or f"{v:,.{decimals}f}"


def _three_digits(value: float, std: bool = False) -> str:
    return _finite(value) or _significant(value, 2 if std else 3)


def _significant(value: float, digits: int) -> str:
    """``value`` in plain decimals with ``digits`` significant digits (0.000395, 1.13, 10.0,
    15,800: whole numbers are rounded too)."""
    if value == 0:
        return "0"
    decimals = _decimals(value, digits)
    return f"{round(value, decimals):,.{max(decimals, 0)}f}"


def _decimals(value: float, digits: int) -> int:
    """The decimals (negative: tens, hundreds...) at which ``value`` (not 0) keeps ``digits``
    significant digits."""
    return digits - 1 - math.floor(math.log10(abs(value)))


def three_significant(value: float) -> str:
    """``value`` with three significant digits in plain decimals: 0.0564, 4.84, 142, 1,010."""
    return _finite(value) or _significant(value, 3)


def _decimals_needed(value: float, cap: int) -> int:
    """The fewest decimals that show ``value`` as it is shown with ``cap`` decimals."""
    return next(d for d in range(cap + 1) if round(value, d) == round(value, cap))


def _finite(value: float) -> str:
    """The text of a value that is not a finite number, or "" for a finite one."""
    return "" if math.isfinite(value) else format_number(value)


def _column_values(table: list[dict], key: str) -> list[float]:
    values = [row.get(f"{key}_mean", row.get(key)) for row in table]
    return [v for v in values if isinstance(v, float)]


def _cell(row: dict, key: str, percent: bool, fmt: Callable[[float, bool], str]) -> str:
    def number(value: float, std: bool = False) -> str:
        seconds = key.endswith("seconds")  # one format for every time, one decimal
        text = f"{100 * value:.1f}" if percent else f"{value:,.1f}" if seconds else fmt(value, std)
        if re.fullmatch(r"-0[.0]*", text):  # no "-0.0"
            return text[1:]
        if re.fullmatch(r"1\.000+", text) and value < 1 and not std:  # an R² of 0.99997
            return "> 0." + "9" * (len(text) - 2)
        return minus_sign(text)

    if f"{key}_mean" in row:
        std = row.get(f"{key}_std")
        mean = number(row[f"{key}_mean"])
        if std is None or row.get("seeds", 2) <= 1:  # 0.0 shown for several seeds
            return mean
        tiny = _spread(mean, abs(row[f"{key}_mean"]))  # "<0.01" where the mean rounds to 0
        if fmt is _three_digits and row[f"{key}_mean"]:  # the spread to the mean's last
            decimals = _decimals(row[f"{key}_mean"], 3)  # digit: 2.01 ± 0.41, 1,770 ± 1,530
            spread = _spread(minus_sign(f"{round(std, decimals):,.{max(decimals, 0)}f}"), std)
        else:  # a spread below the last digit shows its first digit, unless the mean is 0 too
            spread = _spread(number(std, True), std, extra=0 if tiny.startswith("<") else 2)
        if tiny.startswith("<") and spread.startswith("<"):  # both below the last digit
            return tiny
        return f"{mean}\u00a0±\u00a0{spread}"
    value = row.get(key)
    if key.endswith("seconds") and isinstance(value, (int, float)):
        return f"{value:,.1f}"  # one format for every time
    if isinstance(value, bool) or value is None or value == "":
        return "—" if value in (None, "") else str(value)
    if isinstance(value, int):
        return f"{value:,}"
    return number(value) if isinstance(value, float) else str(value)


def _spread(text: str, std: float, extra: int = 0) -> str:
    """A seed std as formatted; where a spread above 0 rounds to 0, its first significant
    digit if that takes at most ``extra`` more decimals (``0.0000`` becomes ``0.00003``), else
    "<" and the last shown digit (``<0.0001``)."""
    if std > 0 and re.fullmatch(r"0[.,]?0*", text):
        shown = len(text) - 2 if "." in text else 0
        needed = _decimals(std, 1)
        if 0 < needed - shown <= extra:
            return f"{std:.{needed}f}"
        return f"<{text[:-1]}1" if len(text) > 1 else "<1"
    return text


#: body rows above which a table may break across pages; shorter ones stay whole and move as
#: floats (reporting.page_layout); more would leave gaps before headings, where no text can fill
LONG_TABLE_ROWS = 9


def declared_table(table: dict) -> str:
    """A table declared in a results file: ``{"columns": {field: header}, "rows": [...]}`` with
    optional ``percent``, ``significant`` and ``powers`` (shown as powers of ten) field lists,
    ``decimals`` ({field: decimals}; see :func:`markdown_table`) and
    ``scale`` ({field: factor}, for a unit in the header) as Markdown."""
    rows = table["rows"]
    for field, factor in table.get("scale", {}).items():
        rows = scaled(rows, [field], factor)
    powers = table.get("powers", ())  # fields shown as powers of ten (10⁻³, 10¹)
    rows = [{**row, **{f: power_of_ten(row[f]) for f in powers if row.get(f) is not None}}
            for row in rows]
    return markdown_table(rows, table["columns"], table.get("percent", ()),
                          table.get("significant", ()), table.get("decimals"))


def declared_tables(results: dict) -> dict[str, str]:
    """Every table a section of ``results`` declares under ``tables`` (:func:`declared_table`),
    by name."""
    return {name: declared_table(table) for section in results.values()
            if isinstance(section, dict) for name, table in section.get("tables", {}).items()}


def mark_long_tables(html: str, rows: int = LONG_TABLE_ROWS) -> str:
    """``html`` with ``class="long"`` on every table of more than ``rows`` body rows: the style
    sheet keeps shorter tables whole on one page and lets long ones break between rows; and
    with ``class="lead"`` on a paragraph right before a table (not a figure or the caption of a
    table above it), which the style sheet keeps on the table's page."""
    def mark(match: re.Match) -> str:
        table = match.group(0)
        return table.replace("<table>", '<table class="long">', 1) if (
            table.count("<tr") - 1 > rows) else table
    before_table = (r"<p>((?:(?!</p>|<img|class=\"caption\").)*)</p>"  # text: no figure, and
                    r"(\s*(?:<div[^>]*>\s*)?<table)")  # no caption of the table before it
    html = re.sub(before_table, r'<p class="lead">\1</p>\2', html, flags=re.S)
    return re.sub(r"<table>.*?</table>", mark, html, flags=re.S)
