"""Build ``report/report.pdf`` from ``report/report.md``, ``results/*.json`` and ``figures/``.

The Markdown source holds placeholders in Python's format syntax, e.g.
``{part1[spec][test_accuracy]:.1%}``: every number comes from the JSON files at build time, and
a value that is not there yet prints as "n/a" instead of failing. Tables are generated from the
same files (``{table[task4]}``, ...). The author block is read from ``report/author.ini``.
"""

from __future__ import annotations

import _string
import configparser
import string
from pathlib import Path
from typing import Any

from bballs.experiments import markdown_table
from bballs.results import project_root, read_results

REPORT_DIR = "report"
MISSING = "n/a"


class _Missing:
    """Stands in for an absent value: formats as "n/a", indexes to itself."""

    def __getitem__(self, key) -> _Missing:
        return self

    def __format__(self, spec: str) -> str:
        return MISSING


class _TolerantFormatter(string.Formatter):
    """Resolves ``a[b][0][-1]`` in nested dicts and lists; anything absent becomes "n/a"."""

    def get_field(self, field_name, args, kwargs):
        first, rest = _string.formatter_field_name_split(field_name)
        value = kwargs.get(first, _Missing())
        for _, key in rest:
            try:
                value = value[int(key)] if isinstance(value, list) else value[key]
            except (KeyError, IndexError, TypeError, ValueError):
                return _Missing(), first
        return value, first

    def format_field(self, value: Any, format_spec: str) -> str:
        if isinstance(value, str) and format_spec and format_spec[-1] in "eEfFgG%":
            return value  # "inf" / "nan" stored as text
        return super().format_field(value, format_spec)


def _tables(part1: dict, part2: dict) -> dict[str, str]:
    """Markdown tables of the report, generated from the results."""
    counting_columns = {"variant": "variant", "change": "change", "test_accuracy": "test acc.",
                        "val_accuracy": "val acc.", "seeds": "seeds",
                        "parameters": "params", "train_seconds": "train s"}
    ablation = part1.get("improved", {}).get("ablation", [])
    tables = {
        "task4": markdown_table([r for r in ablation if "@" not in r["variant"]],
                                counting_columns),
        "task4_labels": markdown_table([r for r in ablation if "@" in r["variant"]],
                                       counting_columns),
    }
    rows = []
    for key, name in (("last_frame", "last frame"), ("physics", "physics predictor"),
                      ("spec_unet", "Task 6 U-Net (Table 3)")):
        if key in part2:
            rows.append({"variant": name, **{f"{m}_mean": part2[key][m] for m in
                                             ("ssim", "psnr", "mse")},
                         **{f"{m}_std": 0.0 for m in ("ssim", "psnr", "mse")}, "seeds": "-"})
    rows += part2.get("improved", {}).get("ablation", [])
    tables["task7"] = markdown_table(rows, {"variant": "predictor", "ssim": "SSIM",
                                            "psnr": "PSNR (dB)", "mse": "MSE", "seeds": "seeds",
                                            "parameters": "params", "train_seconds": "train s"})
    return tables


def _author(report_dir: Path) -> dict[str, str]:
    parser = configparser.ConfigParser()
    parser.read(report_dir / "author.ini")
    return dict(parser["author"]) if parser.has_section("author") else {}


def render_markdown(root: Path | None = None, report_dir: Path | None = None) -> str:
    """The report's Markdown with every placeholder filled from ``root``'s results."""
    root = Path(root) if root else project_root()
    report_dir = Path(report_dir) if report_dir else project_root() / REPORT_DIR
    part1 = read_results(root / "results" / "part1.json")
    part2 = read_results(root / "results" / "part2.json")
    values = {"part1": part1, "part2": part2, "author": _author(report_dir),
              "table": _tables(part1, part2)}
    template = (report_dir / "report.md").read_text(encoding="utf-8")
    return _TolerantFormatter().vformat(template, (), values)


def build(root: str | Path | None = None, out: str | Path | None = None) -> Path:
    """Write the PDF (default ``report/report.pdf``); figures are read from ``root/figures``."""
    import markdown
    import weasyprint

    root = Path(root) if root else project_root()
    report_dir = project_root() / REPORT_DIR
    out = Path(out) if out else report_dir / "report.pdf"
    body = markdown.markdown(render_markdown(root, report_dir),
                             extensions=["tables", "attr_list", "sane_lists"])
    css = (report_dir / "style.css").read_text(encoding="utf-8")
    html = (f"<html><head><meta charset='utf-8'><style>{css}</style></head>"
            f"<body>{body}</body></html>")
    out.parent.mkdir(parents=True, exist_ok=True)
    weasyprint.HTML(string=html, base_url=str(root) + "/").write_pdf(out)
    return out
