"""The hand-in archives: one per assignment (``code.zip`` for the core project,
``lab3_code.zip`` for the second assignment), each with the sources that assignment needs and
none that only the other needs; no data, checkpoints, caches or build outputs."""

from __future__ import annotations

import zipfile
from pathlib import Path

from bballs.core.assignments import ASSIGNMENTS, PROJECT1, Assignment
from bballs.core.files import atomic_path, project_root

ZIP_FOLDER = "bballs"  # every entry lies under this folder; the project's pyproject.toml is in it

INCLUDED = ("src", "notebooks", "tests", "report", "README.md", "requirements.txt",
            "requirements-dev.txt", "pyproject.toml", "data/README.md")
EXCLUDED_SUFFIXES = (".npz", ".npy", ".pt", ".pth", ".ckpt", ".pyc", ".pdf", ".zip", ".tmp")
EXCLUDED_PARTS = ("__pycache__", ".ipynb_checkpoints", ".pytest_cache", ".ruff_cache",
                  "checkpoints", "dist", ".venv", "venv", ".egg-info")


def _wanted(path: Path) -> bool:
    parts_ok = not any(part in EXCLUDED_PARTS or part.endswith(".egg-info") for part in path.parts)
    return (path.is_file() and parts_ok and not path.name.startswith(".")
            and not path.name.endswith(EXCLUDED_SUFFIXES))


def package_files(root: Path | None = None,
                  assignment: Assignment | None = None) -> list[Path]:
    """The files that go into the archive of ``assignment`` (every file: None), relative to
    the project folder: the files only another assignment needs are left out."""
    root = Path(root) if root else project_root()
    others = [a for a in ASSIGNMENTS if assignment is not None and a != assignment]
    files = []
    for entry in INCLUDED:
        path = root / entry
        candidates = sorted(path.rglob("*")) if path.is_dir() else [path]
        files += [p.relative_to(root) for p in candidates
                  if _wanted(p) and not any(a.owns(p.relative_to(root)) for a in others)]
    return files


def build_zip(out: str | Path | None = None, root: Path | None = None,
              assignment: Assignment = PROJECT1) -> Path:
    """Write the archive of ``assignment`` (default ``dist/<its archive name>``) and return
    its path."""
    root = Path(root) if root else project_root()
    out = Path(out) if out else root / "dist" / assignment.archive
    with atomic_path(out) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        for relative in package_files(root, assignment):
            archive.write(root / relative, Path(ZIP_FOLDER) / relative)
    return out
