"""Build the reports from their Markdown templates, ``results/*.json`` and ``figures/``.

Two reports: ``report/report.pdf`` (the core project, from ``report/report.md`` and
``results/part1.json`` / ``part2.json``) and ``report/lab3_report.pdf`` (the second assignment,
from ``report/lab3_report.md`` followed by the section files ``report/lab3/*.md`` in name order,
and ``results/lab3.json``).

The Markdown source holds placeholders in Python's format syntax, e.g.
``{part1[spec][test_accuracy]:.1%}``: every number comes from the JSON files at build time.
A value that is not there stops the build with the list of missing fields (``allow_missing``
prints them as "n/a" instead); ``{...:title}`` prints a recipe's identifier as its name in words
and ``{...:sci}`` a number with its power of ten written out. Tables are generated from the
same files (``{table[task4]}``, ...). The author block is read from ``report/author.ini``. The
PDF is written to a temporary file and renamed, so an interrupted build never leaves a broken
``report.pdf``. Until
``report/author.ini`` is filled (``python -m bballs author``), every page carries a banner.
"""

from __future__ import annotations

import _string
import re
import string
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bballs.core.files import ResultsError, atomic_path, project_root, read_results
from bballs.core.machine import machine_line
from bballs.data.identity import describe_source
from bballs.models.improved import CountNet, FrameAutoencoder, FramePredictor
from bballs.models.spec import BallCounter, UNet
from bballs.models.unet_variants import UNetConcat, UNetNoSkip
from bballs.physics_model.inverse_predictor import InverseConfig, setting_rows
from bballs.physics_model.physics_encoder import StateEncoder
from bballs.reporting.author import page_banner_css, read_author
from bballs.reporting.figure_text import LARGEST_PT, SMALLEST_PT, illegible
from bballs.reporting.tables import (
    declared_table,
    declared_tables,
    format_number,
    in_mse_unit,
    mark_long_tables,
    markdown_table,
    model_rows,
    procedure_rows,
    recipe_rows,
    recipe_title,
)
from bballs.tasks import part1_task4, part2_recipes, task7_variants

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
                value = value[int(key)] if isinstance(value, list) else value[key]
            except (KeyError, IndexError, TypeError, ValueError):
                value = _Missing()
                break
        if isinstance(value, _Missing):
            self.missing.append(field_name)
        return value, first

    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec == "sci" and isinstance(value, (int, float)):  # 2.7×10⁻⁵, never e-05
            return format_number(float(value), 2)
        if format_spec == "title" and isinstance(value, str):  # a recipe's name in words
            return recipe_title(value)
        if format_spec == "mse" and isinstance(value, (int, float)):  # in thousandths
            return in_mse_unit(float(value))
        if format_spec == "list" and isinstance(value, list):  # 0, 1 and 2
            words = [str(item) for item in value]
            return " and ".join([", ".join(words[:-1]), words[-1]] if len(words) > 1 else words)
        try:
            text = super().format_field(value, format_spec)
            if isinstance(value, float) and re.search(r"\de[+-]\d", text):  # "g" chose e-notation
                digits = re.search(r"\.(\d+)", format_spec)
                return format_number(value, int(digits.group(1)) if digits else 4)
            return text
        except (TypeError, ValueError):
            self.missing.append(f"{value!r} (cannot be formatted as {format_spec!r})")
            return MISSING


RECIPE_COLUMNS = {"variant": "variant", "model": "model", "epochs": "epochs", "batch": "batch",
                  "lr": "lr", "schedule": "schedule", "loss": "loss",
                  "augmentation": "augmentation", "pre-training": "pre-training"}
MODEL_COLUMNS = {"model": "model", "what": "what it is", "settings": "settings",
                 "parameters": "params"}


def _code_tables() -> dict[str, str]:
    """Replication tables generated from the recipes and model classes in the code."""
    task7 = {k: v for k, v in RECIPE_COLUMNS.items() if k != "pre-training"}
    classes = [BallCounter, CountNet, FrameAutoencoder, UNet, UNetNoSkip, UNetConcat,
               FramePredictor, *{v.model for v in part2_recipes.TASK7.variants} - {
                   UNet, FramePredictor}, StateEncoder]
    physics = setting_rows(InverseConfig())
    return {
        "recipes_task4": markdown_table(recipe_rows(part1_task4.TASK4.variants), RECIPE_COLUMNS),
        "recipes_task7": markdown_table(
            recipe_rows(part2_recipes.TASK5.variants + part2_recipes.TASK7.variants), task7),
        "models": markdown_table(model_rows(classes), MODEL_COLUMNS),
        "physics_config": markdown_table(physics, {"setting": "setting", "value": "value"}),
        "procedures": markdown_table(procedure_rows(), {"name": "name", "what": "what it does"}),
    }


def _tables(part1: dict, part2: dict) -> dict[str, str]:
    """Markdown tables of the report: the replication tables from the code, then every table
    the notebooks declared in the results (one missing from the results is left out, so its
    placeholder is reported as missing)."""
    tables = {**_code_tables(), **declared_tables(part1), **declared_tables(part2)}
    tables["task7_reidentified"] = _reidentified(part2.get("task7_reidentified") or {})
    return tables


def _reidentified(record: dict) -> str:
    """The re-identification benchmark: a paragraph with its targets and its table, or a line
    saying how to compute it."""
    if not record.get("rows"):
        return ("*Not computed for these files: `python -m bballs bench-physics --variants` "
                "identifies the physics model on each variant; notebook 02 then shows it.*")
    s = record["summary"]
    config = task7_variants.reidentify_config()
    text = (
        f"Identified again on each variant's own {record['training_sequences']} training "
        f"sequences (gate calibrated on {record['calibration_sequences']} others, all scored on "
        f"{record['sequences']} more), the physics model reads the variant's world from its "
        f"frames (column \"world identified\"). {_met(s)}Within the family it can express, "
        f"the lowest PSNR of the mean MSE is {s['inside_min_psnr_of_mse']:.1f} dB "
        f"({s['inside_worst_variant']}) and the lowest SSIM {s['inside_min_ssim']:.4f} "
        f"({s.get('inside_min_ssim_variant', 'see the table')}). {_ceilings(s)}"
        f"{_against_learnt(s)} The budget is smaller than the headline model's "
        f"({config.sysid_sequences} sequences for system identification, "
        f"{config.encoder.epochs} encoder epochs), so the row of our own files can sit below "
        f"the headline: the PSNR of the mean MSE is set by the few sequences not fitted "
        f"exactly.")
    return f"{text}\n\n{declared_table(record['tables']['task7_reidentified'])}"


def _met(summary: dict) -> str:
    """How many variants within the family meet the targets (older records: nothing)."""
    if "inside_met" not in summary:
        return ""
    missed = summary.get("inside_missed") or []
    names = (f" (not reached: {', '.join(task7_variants.variant_title(n) for n in missed)})"
             if missed else "")
    return (f"{summary['inside_met']} of the {summary['inside_variants']} variants within the "
            f"family reach the targets{names}, SSIM {task7_variants.TARGET_SSIM} and PSNR of "
            f"the mean MSE {task7_variants.TARGET_PSNR_OF_MSE:.0f} dB; on noisy or 8-bit frames, "
            f"where even a perfect forecast misses them, a variant reaches them when its SSIM is "
            f"within {1 - task7_variants.TARGET_SSIM:.2f} of a perfect forecast's and the MSE it "
            f"adds to a perfect forecast's is at most that of "
            f"{task7_variants.TARGET_PSNR_OF_MSE:.0f} dB. ")


def _against_learnt(summary: dict) -> str:
    """The gated system's smallest gain over the learnt network, in words."""
    ssim, db = summary["vs_learnt_ssim"], summary["vs_learnt_psnr_of_mse"]
    if ssim >= 0 and db >= 0:
        return (f"On every variant the gated system scores at least as well as the learnt "
                f"network, which was not trained again: its smallest gains are {ssim:+.4f} "
                f"SSIM and {db:+.2f} dB.")
    return (f"The gated system falls below the learnt network, which was not trained again, "
            f"by up to {min(ssim, 0):+.4f} SSIM and {min(db, 0):+.2f} dB.")


def _ceilings(summary: dict) -> str:
    """A sentence on what a perfect forecast scores where stored frames lose information."""
    parts = [f"{c['variant']}: SSIM {c['ssim']:.4f}, {c['psnr_of_mse']:.1f} dB"
             for c in summary.get("ceilings", []) if c["psnr_of_mse"] < 60]
    if not parts:
        return ""
    return ("A perfect forecast (the frames as rendered before the noise, scored against the "
            f"frames as stored) scores {'; '.join(parts)}. ")


def _machine(results: dict[str, dict]) -> str:
    """The machine the notebooks ran on (the first results file that records it)."""
    recorded = [r["machine"] for r in results.values() if isinstance(r.get("machine"), dict)]
    if recorded:
        return machine_line(recorded[0])
    return "a machine these results do not record (run the notebooks again to record it)"


def _data_line(results: dict[str, dict], used: tuple[str, ...] | None = None
               ) -> str | _Missing:
    """Which data the results came from (origin and digests), once per distinct source, listing
    only the ``used`` files if given; if a results file does not say, the value is missing."""
    sources = [r.get("data_source") for r in results.values()]
    if not sources or not all(isinstance(source, dict) for source in sources):
        return _Missing()
    if used is not None:
        sources = [{**source, "files": {name: entry for name, entry in
                                        source.get("files", {}).items() if name in used}}
                   for source in sources]
    return "<br>".join(dict.fromkeys(describe_source(source) for source in sources))


def _read(path: Path) -> dict:
    try:
        return read_results(path)
    except ResultsError as error:
        raise ReportError(str(error)) from error


@dataclass(frozen=True)
class ReportSpec:
    """One report: its template (plus section files), the results it reads, its tables."""

    name: str
    template: str
    sources: tuple[str, ...]
    tables: Callable[..., dict[str, str]]
    sections: str | None = None  # a folder of report/ whose *.md follow the template
    data_files: tuple[str, ...] | None = None  # the data files it uses (None: all)

    def text(self, report_dir: Path) -> str:
        parts = [report_dir / self.template]
        if self.sections:
            parts += sorted((report_dir / self.sections).glob("*.md"))
        return "\n\n".join(part.read_text(encoding="utf-8") for part in parts)


REPORTS = {
    "report": ReportSpec("report", "report.md", ("part1", "part2"), _tables),
    "lab3_report": ReportSpec("lab3_report", "lab3_report.md", ("lab3",), declared_tables, "lab3",
                              ("part2_bballs_sequence.npz",)),
}


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
        tables = spec.tables(*results.values())
    except (KeyError, TypeError, ValueError) as error:
        raise ReportError(f"malformed results in {root / 'results'}: the tables need "
                          f"{error!r}. Run the notebooks again to rewrite them.") from error
    values = {**results, "author": read_author(report_dir, report), "table": tables,
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
    html = (f"<html><head><meta charset='utf-8'><style>{css}</style></head>"
            f"<body>{body}</body></html>")
    with atomic_path(out) as tmp:
        weasyprint.HTML(string=html, base_url=str(root) + "/").write_pdf(tmp)
    return out
