"""Where outputs go, and the ``results/*.json`` files the report reads."""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_SOURCE_ROOT = Path(__file__).resolve().parents[2]


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


def output_paths(root: str | Path | None = None) -> OutputPaths:
    """Output folders under ``root`` (default: the project folder), created if missing."""
    paths = OutputPaths(Path(root) if root else project_root())
    for folder in (paths.figures, paths.results, paths.checkpoints):
        folder.mkdir(parents=True, exist_ok=True)
    return paths


def _jsonable(value: Any) -> Any:
    """Plain JSON values; non-finite floats become strings ("inf", "nan")."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "tolist"):
        return _jsonable(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def read_results(path: str | Path) -> dict:
    """The JSON object in ``path``, or an empty one if the file does not exist yet."""
    path = Path(path)
    return json.loads(path.read_text()) if path.is_file() else {}


def update_results(path: str | Path, key: str, value: Any) -> dict:
    """Set ``key`` in the JSON file at ``path`` (other keys kept), written atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    results = read_results(path)
    results[key] = _jsonable(value)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(results, indent=2) + "\n")
    os.replace(tmp, path)
    return results
