"""What a newcomer runs must work on a fresh clone and must never destroy work."""

from __future__ import annotations

import dataclasses
import os
import re
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import nbformat
import numpy as np
import pytest

from bballs.cli import main
from bballs.core.assignments import present
from bballs.core.files import (
    ResultsError,
    project_root,
    read_results,
    reset_results,
    update_results,
)
from bballs.data import dataset as bdata
from bballs.reporting import pipeline
from bballs.reporting.package import build_zip
from bballs.reporting.report import ReportError, build, render_markdown

# --- atomic outputs -----------------------------------------------------------------------------

def _notebook(path: Path, *sources: str) -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    notebook.cells[0].metadata["tags"] = ["parameters"]
    notebook.metadata["kernelspec"] = {"name": "python3", "language": "python",
                                       "display_name": "Python 3"}
    nbformat.write(notebook, path)
    return path


def test_failed_notebook_leaves_target_results_and_figures_untouched(tmp_path):
    out = tmp_path / "out"
    (out / "results").mkdir(parents=True)
    (out / "results" / "r.json").write_text('{"old": 1}\n')
    writes = (f"from pathlib import Path\nPath({str(out / 'results' / 'r.json')!r})"
              f".write_text('partial')\nPath({str(out / 'results' / 'new.json')!r})"
              ".write_text('new')")
    source = _notebook(tmp_path / "nb.ipynb", "QUICK = False\nSEED = 0\nDATA_DIR = None\n"
                       "OUTPUT_DIR = None", "print('cell two')", writes, "1 / 0")
    before = source.read_bytes()
    with pytest.raises(pipeline.NotebookError) as error:
        pipeline._run_or_restore("nb.ipynb", quick=False, output_dir=out, source=source,
                                 work_dir=tmp_path / "build")
    message = str(error.value)
    # In [5]: the injected parameters run as cell 2
    assert "\n" not in message and "ZeroDivisionError" in message and "cell In [5]" in message
    failed = tmp_path / "build" / "failed" / "nb.ipynb"
    assert str(failed) in message and failed.is_file()
    assert source.read_bytes() == before
    assert (out / "results" / "r.json").read_text() == '{"old": 1}\n'
    assert not (out / "results" / "new.json").exists()


def test_successful_notebook_replaces_target_without_machine_paths(tmp_path):
    source = _notebook(tmp_path / "nb.ipynb", "QUICK = False\nSEED = 0",
                       "from bballs.core.files import project_root\n"
                       "print(project_root() / 'data')")
    pipeline.run_notebook("nb.ipynb", quick=True, seed=0, source=source,
                          work_dir=tmp_path / "build")
    notebook = nbformat.read(source, 4)
    text = source.read_text()
    assert [c for c in notebook.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert notebook.metadata.papermill["input_path"] == "nb.ipynb"
    assert str(project_root()) not in text and '"data\\n"' in text


def test_default_parameters_are_not_injected(tmp_path):
    root = project_root()
    assert pipeline.notebook_parameters(quick=False, seed=0, data_dir=root / "data",
                                        output_dir=root) == {}
    given = pipeline.notebook_parameters(quick=True, seed=2, data_dir=tmp_path, output_dir=None)
    assert given["QUICK"] is True and given["SEED"] == 2
    assert not os.path.isabs(given["DATA_DIR"]) and "OUTPUT_DIR" not in given


def test_report_pdf_is_replaced_only_when_complete(tmp_path, monkeypatch):
    import weasyprint

    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(b"old")

    def crash(*args, **kwargs):
        Path(args[1]).write_bytes(b"half")
        raise KeyboardInterrupt

    monkeypatch.setattr(weasyprint.Document, "write_pdf", crash)
    with pytest.raises(KeyboardInterrupt):
        build(root=tmp_path, out=pdf, allow_missing=True,
              report=present(project_root())[0].report)
    assert pdf.read_bytes() == b"old" and sorted(tmp_path.iterdir()) == [pdf]


def test_report_refuses_missing_or_malformed_results(tmp_path):
    held = present(project_root())[0]  # an assignment this checkout holds, and its report
    with pytest.raises(ReportError, match="results not found"):
        render_markdown(tmp_path, report=held.report)
    (tmp_path / "results").mkdir()
    first, *others = held.results
    (tmp_path / "results" / first).write_text("{broken")
    for name in others:
        (tmp_path / "results" / name).write_text("{}")
    with pytest.raises(ReportError, match="not valid JSON"):
        render_markdown(tmp_path, report=held.report)
    (tmp_path / "results" / first).write_text("{}")
    with pytest.raises(ReportError, match="report values missing"):
        render_markdown(tmp_path, report=held.report)
    assert main(["report", "--which", held.report, "--results-root", str(tmp_path), "--out",
                 str(tmp_path / "r.pdf")]) == 1
    assert not (tmp_path / "r.pdf").exists()


def test_reproduce_runs_just_the_assignments_asked_for(tmp_path, monkeypatch):
    held = present(project_root())
    ran, data_files = [], []
    monkeypatch.setattr(pipeline, "ensure_dataset", lambda d, seed, files: data_files.append(files))
    monkeypatch.setattr(pipeline, "_hand_in", lambda a, notebooks, *_, **__: ran.append(
        (a.name, notebooks)))
    pipeline.reproduce(quick=True, output_dir=tmp_path, assignments=(held[-1].name,), jobs=1)
    assert ran == [(held[-1].name, list(held[-1].notebooks))]
    assert data_files == [pipeline._data_files([held[-1]])]
    with pytest.raises(ValueError, match="unknown or absent assignment"):
        pipeline.reproduce(quick=True, output_dir=tmp_path, assignments=("no-such",))


def test_reset_results_leaves_no_stale_section(tmp_path):
    update_results(tmp_path / "r.json", "old_section", {"a": 1})
    reset_results(tmp_path / "r.json")
    update_results(tmp_path / "r.json", "new_section", 2)
    assert read_results(tmp_path / "r.json") == {"new_section": 2}
    reset_results(tmp_path / "fresh" / "s.json")  # a folder not made yet
    assert read_results(tmp_path / "fresh" / "s.json") == {}


def test_results_keep_non_finite_numbers(tmp_path):
    update_results(tmp_path / "r.json", "psnr", [float("inf"), 3.0])
    assert "Infinity" not in (tmp_path / "r.json").read_text()
    assert read_results(tmp_path / "r.json")["psnr"] == [float("inf"), 3.0]
    (tmp_path / "bad.json").write_text("[1, 2]")
    with pytest.raises(ResultsError, match="expected a JSON object"):
        read_results(tmp_path / "bad.json")


# --- data is never overwritten ------------------------------------------------------------------

def test_ensure_dataset_generates_only_missing_files(tmp_path, capsys):
    small = tuple(dataclasses.replace(spec, n_sequences=12) for spec in bdata.DEFAULT_FILES)
    bdata.generate_dataset(tmp_path, files=small)
    mine = tmp_path / bdata.PART1_TEST
    before = mine.read_bytes()
    (tmp_path / bdata.PART1_TRAIN).unlink()
    bdata.ensure_dataset(tmp_path)
    assert mine.read_bytes() == before and (tmp_path / bdata.PART1_TRAIN).is_file()
    assert bdata.PART1_TRAIN in capsys.readouterr().out
    mine.write_bytes(b"not an archive")
    with pytest.raises(ValueError, match="not a readable .npz"):
        bdata.ensure_dataset(tmp_path)
    assert mine.read_bytes() == b"not an archive"


@pytest.mark.parametrize("labels, message", [
    (np.array([1, 2, 4, 1]), "count 1 to 3"), (np.array([0, 1, 2, 3]), "count 1 to 3"),
    (np.array([1.0, 2.5, 3.0, 1.0]), "whole numbers"),
])
def test_loader_rejects_labels_that_are_not_ball_counts(tmp_path, labels, message):
    path = tmp_path / "f.npz"
    np.savez(path, data=np.zeros((4, 1, 1024), np.float32), labels=labels)
    with pytest.raises(ValueError, match=message):
        bdata.load_npz(path)


# --- no machine paths ---------------------------------------------------------------------------

GENERIC_PATH = re.compile(r"(?<![\w.:/\\-])(/(?:home|root|work|tmp|Users|mnt|content|kaggle)/"
                          r"[\w.-]+|[A-Z]:\\\\Users)")


def _machine_path_hits(name: str, text: str) -> list[str]:
    hits = [f"{name}: {p}" for p in pipeline.machine_paths() if p in text]
    return hits + [f"{name}: {m}" for m in GENERIC_PATH.findall(text)]


def test_no_tracked_file_or_code_zip_holds_a_machine_path(tmp_path):
    root = project_root()
    listed = subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True)
    if listed.returncode != 0:
        pytest.skip("not a git checkout")
    hits = []
    for name in listed.stdout.splitlines():
        path = root / name
        if path.is_file() and path.suffix not in {".png", ".gif", ".pdf"}:
            hits += _machine_path_hits(name, path.read_text(errors="ignore"))
    with zipfile.ZipFile(build_zip(tmp_path / "archive.zip")) as archive:
        for name in archive.namelist():
            if not name.endswith((".png", ".gif")):
                hits += _machine_path_hits(name, archive.read(name).decode(errors="ignore"))
    assert not hits


def test_committed_notebooks_carry_no_injected_parameters():
    for name in pipeline.held_notebooks():
        notebook = nbformat.read(pipeline.notebook_dir() / name, 4)
        tags = [c.metadata.get("tags", []) for c in notebook.cells]
        assert not [t for t in tags if "injected-parameters" in t]
        assert "environment_variables" not in notebook.metadata.get("papermill", {})
        assert "widgets" not in notebook.metadata


# --- Colab / Kaggle -----------------------------------------------------------------------------

def _environment_without_bballs(folder: Path) -> Path:
    """A virtual environment that sees every installed dependency but not ``bballs``."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    python = folder / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path("
                           "'purelib'))"], capture_output=True, text=True, check=True).stdout
    # Plain path lines: every site-packages folder of this Python (a virtual environment's and
    # the system's), without processing their .pth files (where bballs' editable hook lives)
    folders = [p for p in sys.path if p.endswith(("site-packages", "dist-packages"))]
    (Path(site.strip()) / "deps.pth").write_text("".join(f"{p}\n" for p in folders))
    return python


@pytest.mark.slow
def test_colab_setup_installs_from_code_zip_and_runs_quick(tmp_path):
    """The first notebook of the first assignment held, run as in Colab from its archive."""
    assignment = present(project_root())[0]
    workdir = tmp_path / "content"
    workdir.mkdir()
    name = assignment.notebooks[0]
    notebook = nbformat.read(pipeline.notebook_dir() / name, 4)
    nbformat.write(notebook, workdir / name)
    build_zip(workdir / assignment.archive, assignment=assignment)
    python = _environment_without_bballs(tmp_path / "venv")
    env = {**{k: v for k, v in os.environ.items() if k != "PYTHONPATH"},  # as in Colab
           "PIP_NO_BUILD_ISOLATION": "0", "PIP_NO_DEPS": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    check = [str(python), "-c", "import importlib.util as u; print(u.find_spec('bballs'))"]
    assert subprocess.run(check, capture_output=True, text=True, cwd=workdir,
                          env=env).stdout == "None\n"
    run = subprocess.run([str(python), "-m", "papermill", name, "out.ipynb", "-p", "QUICK",
                          "True", "-k", "python3", "--cwd", str(workdir)],
                         cwd=workdir, env=env, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    installed = subprocess.run([str(python), "-c", "import bballs; print(bballs.__file__)"],
                               capture_output=True, text=True, cwd=tmp_path, env=env).stdout
    assert installed.startswith(str(tmp_path / "venv"))  # the set-up cell installed it
    used = assignment.data_files or [spec.name for spec in bdata.DEFAULT_FILES]
    assert all((workdir / "data" / name).is_file() for name in used)
    assert (workdir / "results" / assignment.results[0]).is_file()
    figures = sorted(p.name for p in (workdir / "figures").glob("*.png"))
    assert len(figures) >= 2, figures


@pytest.mark.slow  # starts a real quick reproduce run
def test_interrupted_reproduce_prints_one_line_and_no_traceback(dataset_dir, tmp_path):
    """SIGTERM (what a killed run gets; Ctrl-C is handled the same way) inside a notebook."""
    command = [sys.executable, "-m", "bballs", "reproduce", "--quick", "--data", str(dataset_dir),
               "--output", str(tmp_path / "out")]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, env=env, cwd=tmp_path)
    lines = []
    for line in process.stdout:  # wait until the first notebook is running
        lines.append(line)
        if re.match(r"\[\.\.\.\.\] 0\d_", line):  # the first notebook of those it holds
            break
    time.sleep(8)
    process.send_signal(signal.SIGTERM)
    rest, _ = process.communicate(timeout=120)
    output = "".join(lines) + rest
    assert process.returncode == 130, output
    assert "Traceback" not in output and "ERROR" not in output, output
    assert output.count("interrupted:") == 1


def test_ci_runs_readme_command_2_verbatim_in_a_new_virtual_environment():
    readme = (project_root() / "README.md").read_text()
    command = re.search(r"# 2\. .*\n(.+)\n", readme).group(1).strip()
    if not (project_root() / ".ci" / "run").is_file():
        pytest.skip("a hand-in archive has no CI script")
    ci = (project_root() / ".ci" / "run").read_text().splitlines()
    assert command in ci and command.startswith("pip install -r requirements-dev.txt")
    venv = next(i for i, line in enumerate(ci) if "-m venv" in line)
    assert "--system-site-packages" not in ci[venv] and venv < ci.index(command)
