"""Notebooks side by side (`reporting.side_by_side`): how many at once, in which order, and an
assignment's outputs changing together or not at all."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

import pytest

from bballs.core.assignments import present
from bballs.core.files import project_root, read_results, update_results
from bballs.reporting import pipeline, side_by_side


def test_one_notebook_at_a_time_unless_asked_the_cores_split_evenly():
    assert side_by_side.workers_and_threads(cores=2, gpu=False) == (1, 2)
    assert side_by_side.workers_and_threads(2, cores=2, gpu=False) == (2, 1)
    assert side_by_side.workers_and_threads(2, cores=8, gpu=False) == (2, 4)
    assert side_by_side.workers_and_threads(2, cores=1, gpu=False) == (1, 1)  # one per core
    assert side_by_side.workers_and_threads(3, cores=2, gpu=False) == (2, 1)
    assert side_by_side.workers_and_threads(2, cores=4, gpu=True) == (2, 2)  # they share it
    with pytest.raises(ValueError, match="at least 1"):
        side_by_side.workers_and_threads(0, cores=2, gpu=False)


@dataclass(frozen=True)
class Fake:
    """An assignment with notebooks, a report and the figures it owns."""
    name: str
    notebooks: tuple[str, ...]

    @property
    def report(self) -> str:
        return f"{self.name}_report"

    def owns(self, relative) -> bool:
        return fnmatch(Path(relative).as_posix(), f"figures/{self.name}_*")


def test_one_assignment_after_the_other_the_longest_notebook_first():
    first, second = Fake("a", ("a1", "a2")), Fake("b", ("b1", "b2"))
    order = side_by_side.running_order([first, second], {"a": ["a1", "a2"], "b": ["b1", "b2"]},
                                       {"a2": 50.0, "b1": 9.0, "b2": 10.0})
    assert [name for _, name in order] == ["a2", "a1", "b2", "b1"]


def fake_run(name: str, ready: Path, out: Path, options: dict) -> float:
    """A notebook that leaves a mark that it ran, writes a figure of its own, fails when its
    name says so and takes half a second when it says "slow"."""
    (out / "ran").mkdir(parents=True, exist_ok=True)
    (out / "ran" / name).touch()
    time.sleep(0.5 if "slow" in name else 0.0)
    (out / "figures").mkdir(parents=True, exist_ok=True)
    (out / "figures" / f"{name}.png").write_text("new")
    update_results(out / "figures" / "text_sizes.json", f"{name}.png", {"min_pt": 1.0})
    if "bad" in name:
        raise pipeline.NotebookError(f"{name}: cell In [3] failed")
    ready.parent.mkdir(parents=True, exist_ok=True)
    ready.write_text(os.environ["OMP_NUM_THREADS"])
    return 1.0


def test_a_failed_notebook_undoes_its_assignment_only(tmp_path, monkeypatch):
    good, broken = Fake("a", ("a_1", "a_2")), Fake("b", ("b_bad", "b_ok"))
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "b_ok.png").write_text("old")
    update_results(tmp_path / "figures" / "text_sizes.json", "b_ok.png", {"min_pt": 9.0})
    finished, at_once_before = [], os.environ.get(side_by_side.AT_ONCE_VARIABLE)
    monkeypatch.setattr(pipeline, "finish", lambda a, out, timings: finished.append(a.name))
    timings, reports_at = {}, {}
    with pytest.raises(pipeline.NotebookError, match="b_bad: cell In"):
        side_by_side.hand_in([good, broken], {"a": list(good.notebooks), "b": ["b_ok", "b_bad"]},
                             tmp_path, timings, reports_at, 0.0, at_once=2, threads=1,
                             run=fake_run)
    assert finished == ["a"] and list(reports_at) == ["a_report"]
    assert sorted(p.name for p in (tmp_path / "notebooks").iterdir()) == ["a_1", "a_2"]
    assert (tmp_path / "notebooks" / "a_1").read_text() == "1"  # the kernel's thread count
    figures = tmp_path / "figures"
    assert (figures / "a_1.png").is_file() and (figures / "b_ok.png").read_text() == "old"
    assert not (figures / "b_bad.png").exists()
    sizes = read_results(figures / "text_sizes.json")
    assert sizes["b_ok.png"] == {"min_pt": 9.0} and "a_2.png" in sizes
    assert "b_bad.png" not in sizes  # removed, not set to null
    assert not list((tmp_path / "build" / "ready").glob("b_*"))
    assert os.environ.get(side_by_side.AT_ONCE_VARIABLE) == at_once_before  # put back


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: always one notebook at a time")
def test_reproduce_hands_in_side_by_side_with_more_than_one_job(tmp_path, monkeypatch):
    held = present(project_root())
    calls = []
    monkeypatch.setattr(pipeline, "ensure_dataset", lambda d, seed, files: None)
    monkeypatch.setattr(side_by_side, "hand_in", lambda chosen, wanted, *_, at_once, threads,
                        **__: calls.append(([a.name for a in chosen], at_once, threads)))
    monkeypatch.setattr(pipeline, "_hand_in", lambda *_, **__: calls.append("one by one"))
    pipeline.reproduce(quick=True, output_dir=tmp_path, jobs=2)
    assert calls == [([a.name for a in held], 2, os.cpu_count() // 2)]
    calls.clear()
    pipeline.reproduce(quick=True, output_dir=tmp_path)  # the default: one at a time
    assert calls == ["one by one"] * len(held)
    assert read_results(tmp_path / "results" / "timings.json")["reproduce"][
        "notebooks_at_once"] == 1


def test_a_report_that_cannot_be_built_stops_the_run_and_undoes_the_unfinished(tmp_path,
                                                                                monkeypatch):
    first, second = Fake("a", ("a_1",)), Fake("b", ("b_slow1", "b_2", "b_3"))
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "b_slow1.png").write_text("old")

    def no_report(assignment, out, timings):
        raise RuntimeError(f"{assignment.report}: no PDF library")

    monkeypatch.setattr(pipeline, "finish", no_report)
    with pytest.raises(RuntimeError, match="a_report: no PDF library"):
        side_by_side.hand_in([first, second], {"a": ["a_1"], "b": list(second.notebooks)},
                             tmp_path, {}, {}, 0.0, at_once=1, threads=1, run=fake_run)
    assert (tmp_path / "notebooks" / "a_1").is_file()  # moved into place before the report
    assert (tmp_path / "figures" / "b_slow1.png").read_text() == "old"
    assert not list((tmp_path / "figures").glob("b_[23].png"))
    assert not (tmp_path / "notebooks" / "b_slow1").exists()
    ran = sorted(p.name for p in (tmp_path / "ran").iterdir())
    assert ran in (["a_1"], ["a_1", "b_slow1"])  # b_2 and b_3, not started, were skipped
    assert not (tmp_path / "build" / "ready" / ".stop").exists()
