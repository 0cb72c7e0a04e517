"""Where outputs go, and the ``results/*.json`` files the report reads."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_SOURCE_ROOT = Path(__file__).resolve().parents[3]


def project_root() -> Path:
    """The source checkout holding this package, or the working folder for an installed copy."""
    return _SOURCE_ROOT if (_SOURCE_ROOT / "pyproject.toml").is_file() else Path.cwd()


@dataclass(frozen=True)
class OutputPaths:
    """The folders one run writes into, all under ``root``."""

    root: Path

    @property
    def figures(self) -> Path:
        return self.root / "figures"

    @property
    def results(self) -> Path:
        return self.root / "results"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    def figure(self, name: str) -> Path:
        return self.figures / name

    def checkpoint(self, name: str) -> Path:
        return self.checkpoints / f"{name}.pt"


def shown(path: str | Path) -> str:
    """``path`` as a user should read it: relative to the project folder when inside it."""
    path = Path(path).resolve()
    try:
        return str(path.relative_to(project_root().resolve())) or "."
    except ValueError:
        return path.name


def output_paths(root: str | Path | None = None) -> OutputPaths:
    """Output folders under ``root`` (default: the project folder), created if missing."""
    paths = OutputPaths(Path(root) if root else project_root())
    for folder in (paths.figures, paths.results, paths.checkpoints):
        folder.mkdir(parents=True, exist_ok=True)
    return paths


def _jsonable(value: Any) -> Any:
    """Plain JSON values; non-finite floats become strings ("inf", "-inf", "nan")."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "tolist"):
        return _jsonable(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


_NON_FINITE = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}


def _restore(value: Any) -> Any:
    """Undo :func:`_jsonable`'s strings for non-finite floats."""
    if isinstance(value, dict):
        return {k: _restore(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_restore(v) for v in value]
    if isinstance(value, str) and value in _NON_FINITE:
        return _NON_FINITE[value]
    return value


class ResultsError(ValueError):
    """A results file that cannot be read."""


def read_results(path: str | Path) -> dict:
    """The JSON object in ``path``, or an empty one if the file does not exist yet."""
    path = Path(path)
    if not path.is_file():
        return {}
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ResultsError(f"{path}: not valid JSON ({error}). Restore it with `git checkout "
                           f"-- {path.name}` or delete it and run its notebook again.") from error
    if not isinstance(results, dict):
        raise ResultsError(f"{path}: expected a JSON object, found {type(results).__name__}. "
                           "Delete it and run its notebook again.")
    return _restore(results)


def update_results(path: str | Path, key: str, value: Any) -> dict:
    """Set ``key`` in the JSON file at ``path`` (other keys kept), written atomically and under
    a lock, so notebooks that share one results file can run at the same time."""
    return change_results(path, key, lambda _: value)


REMOVE = object()  # what a change returns to delete its key (change_results)


def can_lock() -> bool:
    """Whether results files are locked across processes (fcntl: not on Windows)."""
    try:
        import fcntl  # noqa: F401
    except ImportError:
        return False
    return True


def change_results(path: str | Path, key: str, change: Callable[[Any], Any]) -> dict:
    """Set ``key`` in the JSON file at ``path`` to ``change(its current value or None)`` (or
    delete it if that is :data:`REMOVE`), read and written under one lock, so that a process
    never drops what another wrote meanwhile."""
    path = Path(path)
    with _locked(path):
        results = read_results(path)
        value = change(results.get(key))
        if value is REMOVE:
            results.pop(key, None)
        else:
            results[key] = value
        text = json.dumps(_jsonable(results), indent=2, allow_nan=False) + "\n"
        with atomic_path(path) as tmp:
            tmp.write_text(text, encoding="utf-8")
    return results


def reset_results(path: str | Path) -> None:
    """Empty the results file at ``path`` (written atomically), for a notebook that writes every
    section of it: no section an older version wrote survives a new run."""
    path = Path(path)
    with _locked(path), atomic_path(path) as tmp:
        tmp.write_text("{}\n", encoding="utf-8")


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on a hidden file beside ``path`` (no lock where fcntl is missing)."""
    try:
        import fcntl
    except ImportError:  # Windows: single-process use only
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(f".{path.name}.lock"), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; renamed over ``path`` only if the block
    finishes, deleted otherwise, so ``path`` is either the old file or the complete new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
