"""The quick pipeline end to end: data -> notebooks -> figures -> results -> reports -> the
hand-in archives, for every assignment this checkout holds (an unpacked archive holds one)."""

from __future__ import annotations

import json
import re
import zipfile

import nbformat
import pytest
from pypdf import PdfReader

from bballs.core.assignments import ASSIGNMENTS, present
from bballs.core.files import project_root
from bballs.reporting.pipeline import notebook_dir

HELD = present(project_root())
NOTEBOOKS = [name for assignment in HELD for name in assignment.notebooks]
HELD_REPORTS = [assignment.report for assignment in HELD]

TIMING_KEYS = {"reproduce": ["stages", "total_seconds", "torch_threads", "notebooks_at_once",
                             "device"]}


def test_timings_have_the_documented_keys(quick_results):
    quick_results("timings.json", TIMING_KEYS)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_executed_notebooks_keep_outputs_and_have_no_errors(quick_run, name):
    notebook = nbformat.read(quick_run / "notebooks" / name, 4)
    outputs = [o for c in notebook.cells for o in c.get("outputs", [])]
    assert outputs and not [o for o in outputs if o.get("output_type") == "error"]


def test_timings_cover_every_stage_and_each_report_follows_its_own_notebooks(quick_run):
    stages = json.loads((quick_run / "results" / "timings.json").read_text())["reproduce"]
    assert list(stages["stages"]) == ["data", *(stage for a in HELD for stage in (
        *a.notebooks, f"{a.report}.pdf", a.archive))]
    at_once = stages["notebooks_at_once"]
    assert sum(stages["stages"].values()) <= at_once * stages["total_seconds"] + 1
    after = stages["reports_after_seconds"]
    assert list(after) == HELD_REPORTS
    for assignment in HELD:  # a report is built once its own notebooks have run
        own = [stages["stages"][name] for name in assignment.notebooks]
        assert max(own) <= after[assignment.report] <= stages["total_seconds"] + 1
    if at_once == 1:  # one after the other: the first report waits for its own notebooks only
        assert list(after.values()) == sorted(after.values())
        first = HELD[0]
        assert after[first.report] <= sum(stages["stages"][stage] for stage in (
            "data", *first.notebooks, f"{first.report}.pdf", first.archive)) + 1


TABLE_PLACEHOLDER = re.compile(r"\{table\[\w+\]\}")
IDENTIFIER = re.compile(r"\b(?:ae_l\d+\w*|denoise_\w+|segment_(?:binary|instance)|psnr|ssim)\b"
                        r"|\b[a-z-]+(?:\+(?:sym|long|size|scale|looks|walls|time|bce|cosine|bs16"
                        r"|ae|norm))+\b|\bunet-(?:no|concat)-skips\b"  # recipes: spec+long, ...
                        r"|CrossEntropy|\b[A-Z]\w*Loss\b|\bFrameAutoencoder\b")  # torch names


@pytest.mark.parametrize("report", HELD_REPORTS)
def test_report_pdf_numbers_tables_and_writes_numbers_for_people(quick_run, report):
    """Every table has a numbered caption, every figure a numbered one, and the text has no
    scientific notation, no inf and no identifiers of the code's run or metric names."""
    from bballs.core.files import project_root
    from bballs.reporting.report import REPORT_DIR, REPORTS

    source = REPORTS[report].text(project_root() / REPORT_DIR)
    tables = len(TABLE_PLACEHOLDER.findall(source)) + len(re.findall(r"^\|---", source, re.M))
    text = "".join(page.extract_text() for page in PdfReader(quick_run / f"{report}.pdf").pages)
    captions = set(re.findall(r"Table (\d+(?:\.\d+)?): ", text))
    assert tables and len(captions) == tables, (tables, sorted(captions))
    assert len(set(re.findall(r"Figure (\d+(?:\.\d+)?): ", text))) >= 5
    assert not re.findall(r"\d(?:\.\d+)?e[+-]\d+", text)
    assert not re.findall(r"\b(?:inf|nan)\b", text)
    assert not IDENTIFIER.findall(text), sorted(set(IDENTIFIER.findall(text)))
    assert ":class:" not in text


@pytest.mark.parametrize("report", HELD_REPORTS)
def test_report_has_every_value_and_figure(quick_run, report):
    from bballs.reporting.report import MISSING, render_markdown

    text = render_markdown(quick_run, report=report)  # raises on any missing value
    assert MISSING not in text and not re.search(r"\{[a-z_0-9]+\[", text)
    assignment = next(a for a in HELD if a.report == report)
    files = json.loads((quick_run / "results" / assignment.results[0]).read_text()
                       )["data_source"]["files"]
    used = assignment.data_files or tuple(files)
    line = re.search(r"Data: generated with seed 0; [^<]*", text).group(0)
    assert all(f"{name} (fingerprint {files[name]['digest'][:8]})" in line for name in used), line
    assert {name for name in files if name in text} == set(used)  # only the files it uses
    figures = re.findall(r"!\[\]\((figures/[^)]+)\)", text)
    assert figures and all((quick_run / f).is_file() for f in figures)


@pytest.mark.parametrize("report", HELD_REPORTS)
def test_report_figures_print_text_between_7_pt_and_the_body_size(quick_run, report):
    from bballs.reporting.figure_text import illegible, printed_sizes
    from bballs.reporting.report import render_markdown

    text = render_markdown(quick_run, report=report)
    assert len(printed_sizes(text, quick_run / "figures")) >= 5  # every figure is recorded
    assert not illegible(text, quick_run / "figures")


@pytest.mark.parametrize("assignment", HELD, ids=lambda a: a.name)
def test_each_archive_has_its_assignment_alone_and_no_data(quick_run, assignment):
    names = zipfile.ZipFile(quick_run / assignment.archive).namelist()
    for required in ("bballs/src/bballs/training/loop.py", "bballs/README.md",
                     "bballs/pyproject.toml", "bballs/requirements.txt",
                     f"bballs/report/{assignment.report}.md", "bballs/tests/test_pipeline.py",
                     *(f"bballs/notebooks/{name}" for name in assignment.notebooks)):
        assert required in names
    others = [a for a in ASSIGNMENTS if a != assignment]
    assert not [n for n in names if any(a.owns(n.removeprefix("bballs/")) for a in others)]
    forbidden = (".npz", ".npy", ".pt", ".pth", ".pyc", ".zip", ".pdf")
    assert not [n for n in names if n.endswith(forbidden) or "checkpoints/" in n
                or "__pycache__" in n or "/dist/" in n]
    assert (quick_run / assignment.archive).stat().st_size < 5_000_000


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_executed_notebooks_show_text_not_widgets_or_return_values(quick_run, name):
    notebook = nbformat.read(quick_run / "notebooks" / name, 4)
    outputs = [o for c in notebook.cells for o in c.get("outputs", [])]
    assert not [o for o in outputs if "application/vnd.jupyter.widget-view+json"
                in o.get("data", {})]
    results = [o for o in outputs if o.get("output_type") == "execute_result"]
    assert not [o for o in results if "text/plain" in o["data"] and "{" in o["data"]["text/plain"]
                and "image/png" not in o["data"]]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebooks_define_no_classes_or_functions(name):
    notebook = nbformat.read(notebook_dir() / name, 4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            lines = cell.source.splitlines()
            assert not [line for line in lines if line.startswith(("def ", "class "))]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebooks_start_with_a_colab_badge_and_a_setup_cell(name):
    cells = nbformat.read(notebook_dir() / name, 4).cells
    assert "colab.research.google.com" in cells[0].source
    assert "pip" in cells[1].source and "find_spec(\"bballs\")" in cells[1].source
    assert "parameters" in cells[2].metadata.get("tags", [])
