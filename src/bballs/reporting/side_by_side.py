"""Notebooks side by side: ``reproduce --jobs N`` runs N notebooks at a time in worker
processes, the cores split evenly between them (each kernel starts with ``OMP_NUM_THREADS``
set). What it buys depends on the work: on a 2-core CPU large-batch passes already use both
cores, small-batch training steps and Python start-up do not (README, "Quick start"); the
default stays one notebook at a time, and so does a system whose results files cannot be locked
across processes (Windows).

An assignment's notebooks replace their targets together: each waits under ``build/ready`` of
the output folder until all of that assignment's notebooks ran; then they are moved into place
and its report and archive are built (while the other assignment's notebooks go on; a report
that cannot be built stops the run, as in the one-at-a-time chain). If one of its notebooks
fails, a line says so at once, its notebooks not yet started are skipped, and once every worker
has stopped the figures and results it owns are put back and none of its notebooks is replaced;
the other assignment goes on unless the worker processes themselves died. Ctrl-C stops every
notebook and puts back every assignment not yet moved into place. Finished trainings keep their
checkpoints, so the next run is quick.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import sys
import time
from collections.abc import Callable
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor, as_completed
from pathlib import Path
from unittest import mock

from bballs.core.files import (
    REMOVE,
    ResultsError,
    can_lock,
    change_results,
    read_results,
)
from bballs.core.machine import AT_ONCE_VARIABLE
from bballs.reporting import pipeline

THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")


def workers_and_threads(jobs: int | None = None, *, cores: int | None = None,
                        gpu: bool | None = None) -> tuple[int, int]:
    """How many notebooks run at once (``jobs``, default one; on a CPU at most one per core;
    one where results files cannot be locked) and with how many threads each (the cores split
    evenly)."""
    cores = cores or os.cpu_count() or 1
    if gpu is None:
        import torch

        gpu = torch.cuda.is_available()
    if jobs is not None and jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    at_once = jobs or 1
    at_once = at_once if gpu else min(at_once, cores)
    at_once = at_once if can_lock() else 1
    return at_once, max(1, cores // at_once)


def running_order(assignments, wanted: dict[str, list[str]],
                  recorded: dict[str, float]) -> list[tuple[object, str]]:
    """(assignment, notebook) pairs: one assignment after the other (so the first report comes
    first), and within one the notebook that took longest last time first."""
    return [(a, name) for a in assignments
            for name in sorted(wanted[a.name], key=lambda n: -recorded.get(n, 0.0))]


def hand_in(assignments, wanted: dict[str, list[str]], out: Path, timings: dict[str, float],
            reports_at: dict[str, float], started: float, *, at_once: int, threads: int,
            run: Callable[[str, Path, Path, dict], float] | None = None, **options) -> None:
    """Every assignment's notebooks, ``at_once`` at a time; each assignment's report and archive
    as soon as its own notebooks have run (see the module's docstring). ``run`` executes one
    notebook in a worker process (default :func:`run_one`)."""
    snapshots = {a.name: OwnedSnapshot(out, a) for a in assignments}
    left = {a.name: set(wanted[a.name]) for a in assignments}
    failed: dict[str, BaseException] = {}
    for a in assignments:
        if not left[a.name]:
            _commit(a, [], out, timings, reports_at, started)
    ready = out / "build" / "ready"
    stops = Stops(ready)
    order = running_order(assignments, wanted, _recorded_seconds(out))
    print(f"[info] {at_once} notebooks at a time, {threads} thread{'s' * (threads > 1)} each",
          flush=True)
    try:
        with _environment(at_once, threads), ProcessPoolExecutor(
                at_once, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures: dict[Future, tuple] = {
                pool.submit(_unless_stopped, run or run_one, name, ready / name, out, options,
                            stops.paths(a.name)): (a, name) for a, name in order}
            try:
                for future in as_completed(futures):
                    a, name = futures[future]
                    left[a.name].discard(name)
                    seconds = _outcome(future, name, a, failed, stops)
                    if seconds is not None:
                        timings[name] = seconds
                    if not left[a.name] and a.name not in failed:
                        _commit(a, wanted[a.name], out, timings, reports_at, started, ready)
            except BaseException:
                stops.stop(None)  # the workers skip whatever they have not started
                raise
    except BaseException:  # Ctrl-C or a report: every assignment not moved into place goes back
        _undo_all(assignments, left, failed, snapshots, ready, unfinished=True)
        stops.clear()
        raise
    _undo_all(assignments, left, failed, snapshots, ready, unfinished=False)
    stops.clear()
    if failed:
        raise next(iter(failed.values()))


def _outcome(future: Future, name: str, assignment, failed: dict[str, BaseException],
             stops: Stops) -> float | None:
    """The seconds a finished notebook took; None if it was skipped or failed (a failure is
    said at once and stops its assignment's other notebooks)."""
    try:
        return future.result()
    except CancelledError:
        return None
    except Exception as error:  # noqa: BLE001 - raised once every worker has stopped
        print(f"[fail] {name}: {error}", flush=True)
        failed.setdefault(assignment.name, error)
        stops.stop(assignment.name)
        return None


def _undo_all(assignments, left: dict[str, set], failed: dict[str, BaseException],
              snapshots: dict[str, OwnedSnapshot], ready: Path, *, unfinished: bool) -> None:
    """Put back every failed assignment (and, with ``unfinished``, every one not moved into
    place), removing its notebooks waiting under ``ready``."""
    for a in assignments:
        if a.name in failed or (unfinished and left[a.name]):
            _undo(a, snapshots[a.name])
            for name in a.notebooks:
                (ready / name).unlink(missing_ok=True)


class Stops:
    """Marker files under ``ready`` that tell the workers to skip notebooks not yet started:
    one for every notebook, one per assignment."""

    def __init__(self, ready: Path) -> None:
        self.folder = ready / ".stop"
        self.clear()

    def paths(self, assignment: str) -> list[Path]:
        return [self.folder / "all", self.folder / assignment]

    def stop(self, assignment: str | None) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / (assignment or "all")).touch()

    def clear(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _unless_stopped(run: Callable, name: str, ready: Path, out: Path, options: dict,
                    stops: list[Path]) -> float:
    """In a worker process: ``run`` the notebook unless a stop marker exists."""
    if any(path.exists() for path in stops):
        raise CancelledError(f"{name}: skipped, the run was stopped")
    return run(name, ready, out, options)


def run_one(name: str, ready: Path, out: Path, options: dict) -> float:
    """In a worker process: execute ``name`` into ``ready``; returns the seconds it took."""
    started = time.perf_counter()
    _say(f"[....] {name}")
    pipeline.run_notebook(name, output_dir=out, executed=ready, **options)
    seconds = time.perf_counter() - started
    _say(f"[ ok ] {name} ({seconds:.0f} s)")
    return seconds


def _say(line: str) -> None:
    """One whole line in one write, so that two workers' lines never run into each other."""
    sys.stdout.write(f"{line}\n")
    sys.stdout.flush()


def _commit(assignment, names: list[str], out: Path, timings: dict[str, float],
            reports_at: dict[str, float], started: float, ready: Path | None = None) -> None:
    """Move the assignment's executed notebooks into place, then build its report and
    archive."""
    for name in names:
        target = pipeline.executed_path(out, name) or pipeline.notebook_dir() / name
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(ready / name, target)
    pipeline.finish(assignment, out, timings)
    reports_at[assignment.report] = time.perf_counter() - started


class OwnedSnapshot(pipeline.Snapshot):
    """The figures and results files an assignment owns, and its figures' entries in the shared
    text-size record, as they are now."""

    def __init__(self, out: Path, assignment) -> None:
        from bballs.reporting.plots import TEXT_SIZES  # matplotlib: not on reproduce's way in

        self.sizes_file = out / "figures" / TEXT_SIZES
        owned = lambda path: assignment.owns(path.relative_to(out))  # noqa: E731
        super().__init__([out / "figures", out / "results"], kept=owned)
        self.sizes = read_results(self.sizes_file) if self.sizes_file.is_file() else {}
        self.figure_owned = lambda name: assignment.owns(f"figures/{name}")

    def restore(self) -> list[Path]:
        changed = super().restore()
        if self.sizes_file.is_file():
            now = read_results(self.sizes_file)
            for name in [n for n in now if self.figure_owned(n)]:
                if now[name] != self.sizes.get(name):
                    change_results(self.sizes_file, name,
                                   lambda _, n=name: self.sizes.get(n, REMOVE))
        return changed


def _undo(assignment, snapshot: OwnedSnapshot) -> None:
    restored = snapshot.restore()
    print(f"[undo] {assignment.name}: {len(restored)} figure/result files put back as they "
          f"were; none of its notebooks was replaced", flush=True)


def _recorded_seconds(out: Path) -> dict[str, float]:
    """Each notebook's seconds in the last recorded full run (empty if none)."""
    try:
        stages = read_results(out / "results" / pipeline.TIMINGS_FILE)["reproduce"]["stages"]
        return {name: float(seconds) for name, seconds in stages.items()}
    except (ResultsError, KeyError, TypeError, ValueError):
        return {}


def _environment(at_once: int, threads: int):
    """The thread count and notebook count every kernel started inside inherits."""
    return mock.patch.dict(os.environ, {**dict.fromkeys(THREAD_VARIABLES, str(threads)),
                                        AT_ONCE_VARIABLE: str(at_once)})
