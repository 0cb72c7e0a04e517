"""Build the reports from their Markdown templates, ``results/*.json`` and ``figures/``.

One report per assignment (:mod:`bballs.core.assignments`): ``report/<name>.pdf`` from
``report/<name>.md``, followed by the section files of its folder in name order if it has one,
and its ``results/*.json`` files.

The Markdown source holds placeholders in Python's format syntax, e.g.
``{results[model][test_accuracy]:.1%}`` (from ``results/results.json``): every number comes
from the JSON files at build time. A value that is not there stops the build with the list of
missing fields (``allow_missing`` prints them as "n/a" instead). Extra formats:
``{...:sci}`` a number with its power of ten written out, ``{...:mse}`` an MSE in thousandths,
``{...:db}`` an MSE as its PSNR (dB, data range 1, one decimal), ``{...:sig}`` three
significant digits, ``{...:points}`` a difference of two shares in percentage points and
``{...:list}`` a list in words.
Tables are generated from the same files (``{table[<name>]}``, ...), and so are sentences
that read a table (``{text[<name>]}``). The author block is read
from ``report/author.ini``. The PDF is written to a temporary file and renamed, so an
interrupted build never leaves a broken ``report.pdf``. Until ``report/author.ini`` is filled
(``python -m bballs author``), every page carries a banner.
"""

from __future__ import annotations

import _string
import importlib
import re
import string
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bballs.core.assignments import ASSIGNMENTS, Assignment
from bballs.core.files import ResultsError, atomic_path, project_root, read_results
from bballs.core.machine import machine_line
from bballs.core.numbers import power_of_ten
from bballs.data.identity import describe_source, section_sources
from bballs.metrics import in_words, psnr_from_mse
from bballs.reporting.author import page_banner_css, read_author
from bballs.reporting.figure_text import LARGEST_PT, SMALLEST_PT, illegible
from bballs.reporting.page_layout import place_floats
from bballs.reporting.tables import (
    format_number,
    in_mse_unit,
    mark_long_tables,
    minus_sign,
    three_significant,
)

REPORT_DIR = "report"
MISSING = "n/a"


class ReportError(RuntimeError):
    """The report cannot be built: results missing or malformed. ``missing`` lists the report
    values that the results do not hold (empty for other problems)."""

    def __init__(self, message: str, missing: list[str] | None = None) -> None:
        super().__init__(message)
        self.missing = missing or []


class _Missing:
    """Stands in for an absent value: formats as "n/a", indexes to itself."""

    def __getitem__(self, key) -> _Missing:
        return self

    def __format__(self, spec: str) -> str:
        return MISSING


class _TolerantFormatter(string.Formatter):
    """Resolves ``a[b][0][-1]`` in nested dicts and lists; records every absent field (and
    formats it as "n/a") and every value that does not fit its format."""

    def __init__(self) -> None:
        self.missing: list[str] = []

    def get_field(self, field_name, args, kwargs):
        first, rest = _string.formatter_field_name_split(field_name)
        value = kwargs.get(first, _Missing())
        for _, key in rest:
            try:
                value = value[int(key)] if isinstance(value, list) else value[
                    str(key) if isinstance(value, dict) and str(key) in value else key]
            except (KeyError, IndexError, TypeError, ValueError):
                value = _Missing()
                break
        if isinstance(value, _Missing):
            self.missing.append(field_name)
        return value, first

    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec == "sci" and isinstance(value, (int, float)):  # 2.7×10⁻⁵, never e-05
            return format_number(float(value), 2)
        if format_spec == "lr" and isinstance(value, (int, float)) and value > 0:  # 2×10⁻³
            return power_of_ten(float(value))
        if format_spec == "mse" and isinstance(value, (int, float)):  # in thousandths
            return in_mse_unit(float(value))
        if format_spec == "db" and isinstance(value, (int, float)) and value > 0:  # PSNR of an MSE
            return f"{psnr_from_mse(float(value)):.2f} dB"
        if format_spec == "sig" and isinstance(value, (int, float)):  # 0.0564, 142, 1,010
            return three_significant(float(value))
        if format_spec == "points" and isinstance(value, (int, float)):  # a gap of two shares
            return minus_sign(f"{100 * value:.1f} points")
        if format_spec == "list" and isinstance(value, list):  # 0, 1 and 2
            words = [str(item) for item in value]
            return " and ".join([", ".join(words[:-1]), words[-1]] if len(words) > 1 else words)
        try:
            text = super().format_field(value, format_spec)
            if isinstance(value, float) and re.search(r"\de[+-]\d", text):  # "g" chose e-notation
                digits = re.search(r"\.(\d+)", format_spec)
                return format_number(value, int(digits.group(1)) if digits else 4)
            return minus_sign(text) if isinstance(value, (int, float)) else text
        except (TypeError, ValueError):
            self.missing.append(f"{value!r} (cannot be formatted as {format_spec!r})")
            return MISSING


def _machine(results: dict[str, dict]) -> str:
    """The machine the notebooks ran on, as the results files record it; a section that records
    its own (a notebook run elsewhere) is named beside it, the files' machine covering the
    rest."""
    own: dict[str, list[str]] = {}
    files: dict[str, list[str]] = {}  # each results file's machine, with the files recording it
    for name, result in results.items():
        if isinstance(result.get("machine"), dict):
            files.setdefault(machine_line(result["machine"]), []).append(
                re.sub(r"^part(\d)$", r"Part \1", name))
        for key, section in result.items():
            if isinstance(section, dict) and isinstance(section.get("machine"), dict):
                own.setdefault(machine_line(section["machine"]), []).append(
                    key.replace("_", "-"))
    shared = {line: names for line, names in files.items() if line not in own}
    if not own and not shared:
        return "a machine these results do not record (run the notebooks again to record it)"
    if not own and len(shared) == 1:
        return next(iter(shared))
    parts = [f"{line} ({in_words(keys)} work)" for line, keys in own.items()]
    if len(shared) > 1 or not own:  # files from different runs: each named
        parts += [f"{line} ({in_words(names)})" for line, names in shared.items()]
    elif shared:
        parts.append(f"{next(iter(shared))} (the rest)")
    return in_words([part.replace("; ", ", ") for part in parts])  # one list, no inner ";"


def _data_line(results: dict[str, dict], used: tuple[str, ...] | None = None
               ) -> str | _Missing:
    """Which data the results came from (origin and digests), once per distinct source, listing
    only the ``used`` files if given; where the sections of the results record their own data
    and these differ, each line names its sections. If a results file does not say, the value
    is missing."""
    sources = [r.get("data_source") for r in results.values()]
    if not sources or not all(isinstance(source, dict) for source in sources):
        return _Missing()
    lines: dict[str, list[str]] = {}
    for result in results.values():
        for key, source in {"": result["data_source"], **section_sources(result)}.items():
            lines.setdefault(describe_source(_only(source, used)), []).append(key)
    if len(lines) == 1:
        return next(iter(lines))
    return "<br>".join(f"{line} ({', '.join(k.replace('_', '-') for k in keys if k)})"
                       if any(keys) else line for line, keys in lines.items())


def _only(source: dict, used: tuple[str, ...] | None) -> dict:
    """``source`` with only the ``used`` data files (all: None)."""
    if used is None:
        return source
    return {**source, "files": {name: entry for name, entry in source.get("files", {}).items()
                                if name in used}}


def _read(path: Path) -> dict:
    try:
        return read_results(path)
    except ResultsError as error:
        raise ReportError(str(error)) from error


@dataclass(frozen=True)
class ReportSpec:
    """One report: its template (plus section files), the results it reads, and the function
    that makes its tables from those results, named as ``module:function`` so that an archive
    without one assignment's code still builds the other's report."""

    name: str
    template: str
    sources: tuple[str, ...]
    tables: str
    sections: str | None = None  # a folder of report/ whose *.md follow the template
    data_files: tuple[str, ...] | None = None  # the data files it uses (None: all)

    def text(self, report_dir: Path) -> str:
        parts = [report_dir / self.template]
        if self.sections:
            parts += sorted((report_dir / self.sections).glob("*.md"))
        return "\n\n".join(part.read_text(encoding="utf-8") for part in parts)

    def table_maker(self) -> Callable[..., dict[str, str]]:
        """The function named by :attr:`tables`."""
        module, function = self.tables.split(":")
        return getattr(importlib.import_module(module), function)

    @classmethod
    def of(cls, assignment: Assignment) -> ReportSpec:
        """The report of ``assignment``."""
        return cls(assignment.report, f"{assignment.report}.md",
                   tuple(Path(name).stem for name in assignment.results), assignment.tables,
                   assignment.sections, assignment.data_files)


REPORTS = {a.report: ReportSpec.of(a) for a in ASSIGNMENTS}


def render_markdown(root: Path | None = None, report_dir: Path | None = None,
                    allow_missing: bool = False, report: str = "report") -> str:
    """The report's Markdown with every placeholder filled from ``root``'s results.

    Raises :class:`ReportError` naming every value that is missing, unless ``allow_missing``.
    """
    spec = REPORTS[report]
    root = Path(root) if root else project_root()
    report_dir = Path(report_dir) if report_dir else project_root() / REPORT_DIR
    files = {name: root / "results" / f"{name}.json" for name in spec.sources}
    absent = [str(path) for path in files.values() if not path.is_file()]
    if absent and not allow_missing:
        raise ReportError(f"results not found: {', '.join(absent)}. Run the notebooks first "
                          "(`python -m bballs reproduce`).")
    results = {name: _read(path) for name, path in files.items()}
    try:
        tables = spec.table_maker()(*results.values())
    except (KeyError, TypeError, ValueError) as error:
        raise ReportError(f"malformed results in {root / 'results'}: the tables need "
                          f"{error!r}. Run the notebooks again to rewrite them.") from error
    values = {**results, "author": read_author(report_dir, report), "table": tables,
              "text": tables,  # generated sentences (``{text[name]}``): the same maker's output
              "data_source": _data_line(results, spec.data_files), "machine": _machine(results)}
    formatter = _TolerantFormatter()
    text = formatter.vformat(spec.text(report_dir), (), values)
    if formatter.missing and not allow_missing:
        raise ReportError(f"{spec.name}: {len(formatter.missing)} report values missing from "
                          f"{root / 'results'}: {', '.join(formatter.missing[:10])}. Run the "
                          "notebook that writes them, or `reproduce` to run them all.",
                          formatter.missing)
    return text


def build(root: str | Path | None = None, out: str | Path | None = None,
          allow_missing: bool = False, report: str = "report") -> Path:
    """Write one report's PDF (default ``report/<report>.pdf``); figures are read from
    ``root/figures``."""
    import markdown
    import weasyprint

    root = Path(root) if root else project_root()
    report_dir = project_root() / REPORT_DIR
    out = Path(out) if out else report_dir / f"{report}.pdf"
    text = render_markdown(root, report_dir, allow_missing, report)
    for line in illegible(text, root / "figures"):
        print(f"warning: {report}.pdf figure text outside {SMALLEST_PT:g}-{LARGEST_PT:g} pt: "
              f"{line}")
    body = mark_long_tables(markdown.markdown(text, extensions=["tables", "attr_list",
                                                                 "sane_lists", "md_in_html"]))
    css = (report_dir / "style.css").read_text(encoding="utf-8")
    css += page_banner_css(read_author(report_dir, report))

    def render(content: str) -> weasyprint.Document:
        return weasyprint.HTML(string=f"<html><head><meta charset='utf-8'><style>{css}</style>"
                               f"</head><body>{content}</body></html>",
                               base_url=str(root) + "/").render()

    document = place_floats(body, render)
    with atomic_path(out) as tmp:
        document.write_pdf(tmp)
    return out
