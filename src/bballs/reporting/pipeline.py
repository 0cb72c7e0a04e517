"""Headless execution of the notebooks and the whole reproduction chain.

Every output is written all-or-nothing: a notebook is executed into ``build/running/`` and
replaces its target only when every cell ran; on failure (or an interrupt) the target is left
as it was, the failed copy is kept under ``build/failed/`` and the figures and results the
notebook had already rewritten are restored.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from unittest import mock

import nbformat
import papermill

from bballs.core.assignments import ASSIGNMENTS, present, reported_in
from bballs.core.files import atomic_path, project_root
from bballs.data.dataset import ensure_dataset
from bballs.training.loop import TEXT_PROGRESS

NOTEBOOKS = tuple(name for a in ASSIGNMENTS for name in a.notebooks)  # in order
DEFAULT_PARAMETERS = {"QUICK": False, "SEED": 0, "DATA_DIR": None, "OUTPUT_DIR": None}


class NotebookError(RuntimeError):
    """A notebook stopped with an error; the message says which cell and where the copy is."""


def notebook_dir() -> Path:
    return project_root() / "notebooks"


def held_notebooks() -> tuple[str, ...]:
    """The notebooks of every assignment this checkout holds, in order."""
    return tuple(name for a in present(project_root()) for name in a.notebooks)


def notebook_parameters(*, quick: bool, seed: int, data_dir: str | Path | None,
                        output_dir: str | Path | None, cwd: Path | None = None) -> dict:
    """The parameters that differ from the notebook's defaults, paths relative to the folder
    the notebook runs in (so no absolute path of this machine is written into it)."""
    root = project_root()
    cwd = cwd or notebook_dir()
    wanted = {"QUICK": quick, "SEED": seed,
              "DATA_DIR": _relative(data_dir, root / "data", cwd),
              "OUTPUT_DIR": _relative(output_dir, root, cwd)}
    return {key: value for key, value in wanted.items() if value != DEFAULT_PARAMETERS[key]}


def _relative(path: str | Path | None, default: Path, cwd: Path) -> str | None:
    if path is None or Path(path).resolve() == default.resolve():
        return None
    return os.path.relpath(Path(path).resolve(), cwd.resolve())


def run_notebook(name: str, *, quick: bool, seed: int = 0, data_dir: str | Path | None = None,
                 output_dir: str | Path | None = None, executed: str | Path | None = None,
                 source: str | Path | None = None, work_dir: str | Path | None = None) -> Path:
    """Execute one notebook top to bottom; returns the executed copy.

    ``source`` defaults to ``notebooks/<name>``. The executed notebook replaces ``executed``
    (default: the source) only when every cell ran. Otherwise :class:`NotebookError` says which
    cell failed and where the failed copy is (``<work_dir>/failed/<name>``, default
    ``build/failed``), and the target is untouched.
    """
    source = Path(source) if source else notebook_dir() / name
    target = Path(executed) if executed else source
    running = Path(work_dir or project_root() / "build") / "running" / name
    running.parent.mkdir(parents=True, exist_ok=True)
    parameters = notebook_parameters(quick=quick, seed=seed, data_dir=data_dir,
                                     output_dir=output_dir, cwd=source.parent)
    try:  # the kernel inherits TEXT_PROGRESS for this run only: progress saved as plain text
        with mock.patch.dict(os.environ, {TEXT_PROGRESS: "1"}):
            papermill.execute_notebook(str(source), str(running), parameters=parameters,
                                       cwd=str(source.parent), progress_bar=False,
                                       kernel_name="python3", log_output=False,
                                       extra_arguments=["--IPKernelApp.log_level=CRITICAL"])
    except papermill.PapermillExecutionError as error:
        failed = _keep_failed(running)
        raise NotebookError(f"{name}: cell In [{error.exec_count}] failed with {error.ename}: "
                            f"{error.evalue}; the executed copy is {failed}") from None
    except BaseException:
        _keep_failed(running)
        raise
    notebook = scrub(nbformat.read(running, as_version=4), name)
    with atomic_path(target) as tmp:
        nbformat.write(notebook, tmp)
    running.unlink()
    return target


def _keep_failed(running: Path) -> Path:
    failed = running.parent.parent / "failed" / running.name
    failed.parent.mkdir(parents=True, exist_ok=True)
    if running.is_file():
        os.replace(running, failed)
    return failed


def machine_paths() -> list[str]:
    """Absolute paths of this machine that must not appear in shared files, longest first."""
    paths = {str(project_root().resolve()), str(Path(sys.prefix).resolve()), sys.prefix,
             str(Path.home())}
    return sorted((p for p in paths if len(p) > 1), key=len, reverse=True)


def scrub(notebook: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    """The executed notebook without this machine's paths: papermill's paths become the
    notebook's name, and any absolute path left in an output is shortened."""
    meta = notebook.metadata.get("papermill", {})
    for key in ("input_path", "output_path"):
        if key in meta:
            meta[key] = name
    meta.pop("environment_variables", None)
    notebook.metadata.pop("widgets", None)  # progress is saved as text: no widget state to keep
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if "text" in output:
                output["text"] = _shorten(output["text"])
            for kind in ("text/plain", "text/markdown", "text/html"):
                if kind in output.get("data", {}):
                    output["data"][kind] = _shorten(output["data"][kind])
    return notebook


def _shorten(text):
    if isinstance(text, list):
        return [_shorten(t) for t in text]
    for path in machine_paths():
        text = text.replace(path + "/", "").replace(path, ".")
    return text


class Snapshot:
    """The files under some folders as they are now (those ``kept`` says, default all), to put
    back if a run fails."""

    def __init__(self, folders: list[Path], kept: Callable[[Path], bool] = bool) -> None:
        self.folders, self.kept = folders, kept
        self.files = {p: p.read_bytes() for p in self._current()}

    def _current(self) -> list[Path]:
        return [p for folder in self.folders if folder.is_dir()
                for p in folder.rglob("*") if p.is_file() and self.kept(p)]

    def restore(self) -> list[Path]:
        """Put every saved file back and delete files created since; returns what changed."""
        changed = []
        for path in self._current():
            if path not in self.files:
                path.unlink()
                changed.append(path)
        for path, content in self.files.items():
            if not path.is_file() or path.read_bytes() != content:
                with atomic_path(path) as tmp:
                    tmp.write_bytes(content)
                changed.append(path)
        return changed


def reproduce(*, quick: bool, seed: int = 0, data_dir: str | Path | None = None,
              output_dir: str | Path | None = None, force: bool = False,
              notebooks: tuple[str, ...] | None = None,
              assignments: tuple[str, ...] | None = None, jobs: int | None = None) -> Path:
    """The whole chain for every assignment the project holds (:mod:`bballs.core.assignments`),
    or for those named in ``assignments``: data (if missing), then per assignment its notebooks
    (or just those in ``notebooks``), its report and its hand-in archive, so that the first
    report exists as soon as its own notebooks have run; ``jobs`` notebooks at a time, the cores
    split between them (default one; :mod:`bballs.reporting.side_by_side`).

    Full mode writes into the project (executed notebooks, figures/, results/, report/ and the
    archives in dist/). Quick mode writes everything under ``build/quick``
    unless ``output_dir`` is given, so a smoke test never overwrites the full results. Finished
    trainings are reused from their checkpoints unless ``force`` (which deletes them first).
    Returns the output folder.
    """
    started = time.perf_counter()
    root = project_root()
    chosen = _chosen(present(root), assignments)
    data_dir = Path(data_dir) if data_dir else root / "data"
    if output_dir is None and quick:
        output_dir = root / "build" / "quick"
    out = Path(output_dir) if output_dir else root
    from bballs.reporting import side_by_side
    at_once, threads = side_by_side.workers_and_threads(jobs)  # a bad count fails before data
    if force and (out / "checkpoints").is_dir():
        print(f"[force] removing {_shown(out / 'checkpoints')}: every model is retrained")
        shutil.rmtree(out / "checkpoints")
    timings: dict[str, float] = {}
    files = _data_files(chosen)
    _stage("data", lambda: ensure_dataset(data_dir, seed=seed, files=files), timings)
    wanted = {a.name: [name for name in a.notebooks if notebooks is None or name in notebooks]
              for a in chosen}
    options = {"quick": quick, "seed": seed, "data_dir": data_dir}
    reports_at: dict[str, float] = {}
    if at_once > 1:
        side_by_side.hand_in(chosen, wanted, out, timings, reports_at, started,
                             at_once=at_once, threads=threads, **options)
    for assignment in (chosen if at_once == 1 else []):
        _hand_in(assignment, wanted[assignment.name], out, timings, **options)
        reports_at[assignment.report] = time.perf_counter() - started
    total = time.perf_counter() - started
    order = ["data", *(stage for a in chosen for stage in (
        *wanted[a.name], f"{a.report}.pdf", a.archive))]
    timings = {stage: timings[stage] for stage in order if stage in timings}
    reports_at = {a.report: reports_at[a.report] for a in chosen if a.report in reports_at}
    _record_timings(out / "results" / TIMINGS_FILE, timings, total, quick, reports_at,
                    at_once=at_once, threads=threads)
    print(f"[done] total {total:.0f} s; outputs in {_shown(out)}")
    return out


def _chosen(held, names: tuple[str, ...] | None) -> list:
    """The held assignments called ``names`` (all held ones for None), in their order."""
    if names is None:
        return list(held)
    unknown = sorted(set(names) - {a.name for a in held})
    if unknown:
        raise ValueError(f"unknown or absent assignment(s) {unknown}; this project holds "
                         f"{[a.name for a in held]}")
    return [a for a in held if a.name in names]


def _hand_in(assignment, notebooks: list[str], out: Path, timings: dict[str, float],
             **options) -> None:
    """One assignment's notebooks, one after the other, then its report and its archive."""
    for name in notebooks:
        _stage(name, lambda name=name: _run_or_restore(
            name, output_dir=out, executed=executed_path(out, name), **options), timings)
    finish(assignment, out, timings)


def _apart(out: Path) -> bool:  # an output folder other than the project
    return out.resolve() != project_root().resolve()


def executed_path(out: Path, name: str) -> Path | None:
    """Where the executed notebook ``name`` goes: ``out/notebooks`` for an output folder apart
    from the project, else None (it replaces the project's notebook)."""
    return out / "notebooks" / name if _apart(out) else None


def finish(assignment, out: Path, timings: dict[str, float]) -> None:
    """One assignment's report and hand-in archive, from the results under ``out``."""
    from bballs.reporting.package import build_zip

    report = assignment.report
    pdf = out / f"{report}.pdf" if _apart(out) else None
    _stage(f"{report}.pdf", lambda: _build_report(out, pdf, report), timings)
    archive = out / assignment.archive if _apart(out) else None
    _stage(assignment.archive, lambda: print(
        f"       {_shown(build_zip(archive, assignment=assignment))}"), timings)


TIMINGS_FILE = "timings.json"


def _record_timings(path: Path, timings: dict[str, float], total: float, quick: bool,
                    reports_at: dict[str, float], *, at_once: int, threads: int) -> None:
    """Print the per-stage table and write it, with the seconds after which each report
    existed, how many notebooks ran at once with how many threads each, and the machine it ran
    on, to ``path``."""
    import platform

    import torch

    from bballs.core.files import update_results
    from bballs.training.loop import pick_device

    print(f"{'stage':34s}{'seconds':>9s}{'share':>8s}")
    for stage, seconds in timings.items():
        print(f"{stage:34s}{seconds:9.0f}{seconds / total:8.0%}")
    print(f"{'total':34s}{total:9.0f}")
    if at_once > 1:
        print(f"({at_once} notebooks at a time, {threads} thread{'s' if threads > 1 else ''} each:"
              " the shares add up to more than 100%)")
    for report, seconds in reports_at.items():
        print(f"{report}.pdf existed after {seconds:.0f} s")
    update_results(path, "reproduce", {
        "stages": timings, "total_seconds": total, "reports_after_seconds": reports_at,
        "quick": quick, "notebooks_at_once": at_once,
        "device": str(pick_device()), "torch_threads": threads if at_once > 1 else
        torch.get_num_threads(),
        "cpu_count": os.cpu_count(), "machine": platform.machine(),
        "python": platform.python_version(), "torch": torch.__version__})


def _data_files(assignments) -> list[str] | None:
    """The data files the ``assignments`` use (None: all of them)."""
    if any(a.data_files is None for a in assignments):
        return None
    return sorted({name for a in assignments for name in a.data_files})


def from_sweeps(field: str, report: str) -> bool:
    """True for a value of ``report`` that only its assignment's separate sweep commands
    provide."""
    return any(part in field for part in reported_in(report).sweep_fields)


def _build_report(root: Path, pdf: Path | None, report: str) -> None:
    """Build one report; values that only the separate sweeps provide (missing when the data
    files are not the ones the committed sweep rows came from) are shown as n/a, with a
    warning that says how to fill them; any other missing value stops the build."""
    from bballs.reporting.report import ReportError, build

    try:
        path = build(root=root, out=pdf, report=report)
    except ReportError as error:
        if not error.missing or not all(from_sweeps(field, report) for field in error.missing):
            raise
        path = build(root=root, out=pdf, report=report, allow_missing=True)
        print(f"       warning: {len(error.missing)} values of {report} are n/a (first: "
              f"{', '.join(error.missing[:3])}); {reported_in(report).sweep_hint}", flush=True)
    print(f"       {_shown(path)}")


def _run_or_restore(name: str, *, output_dir: Path, **options) -> Path:
    """:func:`run_notebook`, putting the figures and results back as they were if it fails."""
    snapshot = Snapshot([output_dir / "figures", output_dir / "results"])
    try:
        return run_notebook(name, output_dir=output_dir, **options)
    except BaseException:
        restored = snapshot.restore()
        if restored:
            print(f"[undo] {len(restored)} figure/result files restored to their state "
                  f"before {name}", flush=True)
        raise


def _shown(path: Path) -> str:
    """``path`` relative to the working folder when it lies below it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _stage(label: str, action: Callable[[], object], timings: dict[str, float]) -> None:
    started = time.perf_counter()
    print(f"[....] {label}", flush=True)
    action()
    timings[label] = time.perf_counter() - started
    print(f"[ ok ] {label} ({timings[label]:.0f} s)", flush=True)
