"""Notebooks side by side: ``reproduce --jobs N`` runs N notebooks at a time in worker
processes, the cores split evenly between them (each kernel starts with ``OMP_NUM_THREADS``
set). What it buys depends on the work: on a 2-core CPU large-batch passes already use both
cores, small-batch training steps and Python start-up do not (README, "Quick start"); the
default stays one notebook at a time.

An assignment's outputs change together or not at all: its executed notebooks wait under
``build/ready`` until all of them ran, then replace their targets, and its report and archive
are built at once (while the other assignment's notebooks go on). If one of its notebooks fails
(or on Ctrl-C), its other notebooks not yet started are cancelled, the figures and results it
owns are put back as they were, and no notebook of it is replaced; finished trainings keep their
checkpoints, so a second run is quick.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from pathlib import Path

from bballs.core.files import change_results, read_results
from bballs.core.machine import AT_ONCE_VARIABLE
from bballs.reporting import pipeline
from bballs.reporting.plots import TEXT_SIZES

THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")


def workers_and_threads(jobs: int | None = None, *, cores: int | None = None,
                        gpu: bool | None = None) -> tuple[int, int]:
    """How many notebooks run at once (``jobs``, default one; on a CPU at most one per core)
    and with how many threads each (the cores split evenly)."""
    cores = cores or os.cpu_count() or 1
    if gpu is None:
        import torch

        gpu = torch.cuda.is_available()
    if jobs is not None and jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    at_once = jobs or 1
    at_once = at_once if gpu else min(at_once, cores)
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
    recorded = _recorded_seconds(out)
    print(f"[info] {at_once} notebooks at a time, {threads} thread{'s' * (threads > 1)} each",
          flush=True)
    stopped: BaseException | None = None  # Ctrl-C, or a report that could not be built
    with _environment(at_once, threads), ProcessPoolExecutor(
            at_once, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures: dict[Future, tuple] = {
            pool.submit(run or run_one, name, ready / name, out, options): (a, name)
            for a, name in running_order(assignments, wanted, recorded)}
        try:
            for future in as_completed(futures):
                a, name = futures[future]
                left[a.name].discard(name)
                try:
                    timings[name] = future.result()
                except CancelledError:
                    continue
                except Exception as error:  # noqa: BLE001 - reported once all have stopped
                    failed.setdefault(a.name, error)
                    _cancel(futures, a)
                if not left[a.name] and a.name not in failed:
                    _commit(a, wanted[a.name], out, timings, reports_at, started, ready)
        except BaseException as error:  # noqa: BLE001 - raised again once the workers stopped
            stopped = error
            _cancel(futures, None)
    for a in assignments:  # every worker has stopped: nothing writes any more
        if a.name in failed or (stopped is not None and left[a.name]):
            _undo(a, snapshots[a.name])
    if stopped is not None or failed:
        raise stopped or next(iter(failed.values()))


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


def _cancel(futures: dict[Future, tuple], assignment) -> None:
    """Cancel the notebooks not yet started (of ``assignment``; of all for None)."""
    for future, (a, _) in futures.items():
        if assignment is None or a is assignment:
            future.cancel()


class OwnedSnapshot(pipeline.Snapshot):
    """The figures and results files an assignment owns, and its figures' entries in the shared
    text-size record, as they are now."""

    def __init__(self, out: Path, assignment) -> None:
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
                    change_results(self.sizes_file, name, lambda _, n=name: self.sizes.get(n))
        return changed


def _undo(assignment, snapshot: OwnedSnapshot) -> None:
    restored = snapshot.restore()
    print(f"[undo] {assignment.name}: {len(restored)} figure/result files put back as they "
          f"were; none of its notebooks was replaced", flush=True)


def _recorded_seconds(out: Path) -> dict[str, float]:
    """Each notebook's seconds in the last recorded full run (empty if none)."""
    try:
        recorded = json.loads((out / "results" / pipeline.TIMINGS_FILE).read_text())
        stages = recorded["reproduce"]["stages"]
        return {name: float(seconds) for name, seconds in stages.items()}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


@contextmanager
def _environment(at_once: int, threads: int):
    """The thread count and notebook count every kernel started inside inherits."""
    saved = {key: os.environ.get(key) for key in (*THREAD_VARIABLES, AT_ONCE_VARIABLE)}
    os.environ.update({key: str(threads) for key in THREAD_VARIABLES})
    os.environ[AT_ONCE_VARIABLE] = str(at_once)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
