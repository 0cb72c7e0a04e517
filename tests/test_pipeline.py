"""The quick pipeline end to end: data -> notebooks -> figures -> results -> reports -> the
hand-in archives, for every assignment this checkout holds (an unpacked archive holds one)."""

from __future__ import annotations

import json
import re
import zipfile

import nbformat
import pytest
from pypdf import PdfReader

from bballs.core.assignments import LAB3, PROJECT1, present
from bballs.core.files import project_root
from bballs.reporting.pipeline import notebook_dir, reproduce

HELD = present(project_root())
NOTEBOOKS = [name for assignment in HELD for name in assignment.notebooks]
HELD_REPORTS = [assignment.report for assignment in HELD]
needs = {a: pytest.mark.skipif(a not in HELD, reason=f"this checkout does not hold {a.name}")
         for a in (PROJECT1, LAB3)}

FIGURES = [
    "part1_curves.png", "part1_confusion.png", "part1_accuracy_by_radius.png",
    "part1_improved_confusion.png", "part1_ablation.png", "part1_shift_families.png",
    "part2_train_loss.png", "part2_val_loss.png", "part2_predictions.png",
    "part2_per_horizon.png", "part2_task7_predictions.png", "part2_task7_per_horizon.png",
    "part2_task7_error_maps.png", "part2_long_horizon.png", "part2_predictions.gif",
]
RESULT_KEYS = {
    "part1.json": {"spec": ["test_accuracy", "confusion_matrix", "history"],
                   "classical": ["test_accuracy"],
                   "improved": ["test_accuracy_mean", "test_accuracy_std",
                                "test_accuracy_per_seed", "ablation", "selection", "by_variant",
                                "tables"],
                   "shift_families": ["ball radius", "contrast", "blur", "noise"],
                   "data_source": ["digest", "origin", "files"]},
    "part2.json": {"last_frame": ["mse", "ssim", "psnr"],
                   "spec_unet": ["mse", "ssim", "psnr", "psnr_of_mse", "history"],
                   "physics": ["mse", "ssim", "psnr"],
                   "skips": ["table", "by_model", "tables"],
                   "learnt": ["mse", "ssim", "psnr", "psnr_of_mse", "ablation"],
                   "physics_model": ["mse", "ssim", "psnr", "psnr_of_mse", "constants",
                                     "train_seconds", "inference_seconds"],
                   "final_system": ["psnr_of_mse", "ssim", "threshold", "physics_share",
                                    "learnt_share", "physics_alone", "learnt_alone",
                                    "given_counts", "calibration"],
                   "task7_variants": ["rows", "table", "sequences", "summary", "tables"],
                   "task7_reidentified": ["rows", "tables", "summary", "training_sequences"],
                   "task7": ["rows", "tables"],
                   "long_horizon": ["curves"],
                   "data_source": ["digest", "origin", "files"]},
    "lab3.json": {"data": ["train", "val", "test", "seed"],
                  "autoencoders": ["tables"], "image_to_image": ["tables"],
                  "generative": ["tables"], "data_source": ["digest", "origin", "files"]},
    "timings.json": {"reproduce": ["stages", "total_seconds", "torch_threads", "device"]},
}
RESULT_KEYS = {name: keys for name, keys in RESULT_KEYS.items()
               if name == "timings.json" or any(name in a.results for a in HELD)}
LAB3_FIGURES = ["lab3_ae_sweep.png", "lab3_ae_pretraining.png", "lab3_i2i_skips.png",
                "lab3_i2i_curves.png", "lab3_gen_samples.png", "lab3_gen_curves.png"]
FIGURES = [*(FIGURES if PROJECT1 in HELD else []), *(LAB3_FIGURES if LAB3 in HELD else [])]


@pytest.fixture(scope="module")
def quick_run(dataset_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("quick")
    reproduce(quick=True, data_dir=dataset_dir, output_dir=out)
    return out


@pytest.mark.parametrize("figure", FIGURES)
def test_every_figure_is_written(quick_run, figure):
    assert (quick_run / "figures" / figure).stat().st_size > 2_000


@pytest.mark.parametrize("name", list(RESULT_KEYS))
def test_results_have_the_documented_keys(quick_run, name):
    results = json.loads((quick_run / "results" / name).read_text())
    for section, fields in RESULT_KEYS[name].items():
        assert results[section], section
        if isinstance(results[section], dict):
            assert set(fields) <= set(results[section]), section
            assert results[section].get("quick", True) is True


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_executed_notebooks_keep_outputs_and_have_no_errors(quick_run, name):
    notebook = nbformat.read(quick_run / "notebooks" / name, 4)
    outputs = [o for c in notebook.cells for o in c.get("outputs", [])]
    assert outputs and not [o for o in outputs if o.get("output_type") == "error"]


def test_timings_cover_every_stage(quick_run):
    stages = json.loads((quick_run / "results" / "timings.json").read_text())["reproduce"]
    assert list(stages["stages"]) == ["data", *NOTEBOOKS, *(f"{r}.pdf" for r in HELD_REPORTS),
                                      *(a.archive for a in HELD)]
    assert sum(stages["stages"].values()) <= stages["total_seconds"] + 1


@needs[PROJECT1]
def test_report_pdf_shows_numbers_from_the_results(quick_run):
    results = json.loads((quick_run / "results" / "part1.json").read_text())
    reader = PdfReader(quick_run / "report.pdf")
    text = "".join(page.extract_text() for page in reader.pages)
    assert len(reader.pages) >= 4
    assert f"{results['spec']['test_accuracy']:.1%}" in text
    assert "Task 7" in text and "84,467" in text and "615,339" in text


@needs[LAB3]
def test_lab3_report_pdf_has_every_proposal(quick_run):
    reader = PdfReader(quick_run / "lab3_report.pdf")
    text = "".join(page.extract_text() for page in reader.pages)
    assert len(reader.pages) >= 4
    for heading in ("Proposal 1", "Proposal 2", "Proposal 3"):
        assert heading in text


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
    own = next(a for a in HELD if a.report == report).results[0]
    digest = json.loads((quick_run / "results" / own).read_text())["data_source"]
    used = "part1_bballs_training.npz" if report == "report" else "part2_bballs_sequence.npz"
    assert f"Data: generated with seed 0; {used} " \
           f"({digest['files'][used]['digest'][:8]})" in text
    assert (report == "report") == ("part1_bballs_test.npz" in text)  # only the files it uses
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
    others = [a for a in (PROJECT1, LAB3) if a != assignment]
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
