"""The hand-in archives: one per assignment (:mod:`bballs.core.assignments`), each with the
sources that assignment needs and none that only another needs, with its own results and
figures (so its report builds without a new run); no data, checkpoints, caches or build
outputs. The READMEs of an archive (:data:`MARKED`) leave out the other assignments'
sections (``<!-- name -->`` ... ``<!-- /name -->``) and the repository's own
(``<!-- repository -->``)."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from bballs.core.assignments import ASSIGNMENTS, Assignment
from bballs.core.files import atomic_path, project_root

ZIP_FOLDER = "bballs"  # every entry lies under this folder; the project's pyproject.toml is in it

INCLUDED = ("src", "notebooks", "tests", "report", "README.md", "requirements.txt",
            "requirements-dev.txt", "requirements-lock.txt", "pyproject.toml", "data/README.md",
            "results", "figures")
OUTPUTS = ("results", "figures")  # only the assignment's own files: its report builds from them
MARKED = (Path("README.md"), Path("data/README.md"))  # with sections marked per assignment
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
    mine = [assignment] if assignment is not None else list(ASSIGNMENTS)
    files = []
    for entry in INCLUDED:
        path = root / entry
        candidates = sorted(path.rglob("*")) if path.is_dir() else [path]
        files += [p.relative_to(root) for p in candidates
                  if _wanted(p) and not any(a.owns(p.relative_to(root)) for a in others)
                  and (entry not in OUTPUTS or any(a.owns(p.relative_to(root)) for a in mine))]
    return files


REPOSITORY_ONLY = re.compile(r"<!-- repository -->.*?<!-- /repository -->\n?", re.S)


def readme_for(text: str, assignment: Assignment) -> str:
    """The README ``text`` of ``assignment``'s archive: its own marked sections kept (markers
    dropped), every other assignment's removed, and so are the parts about the repository as a
    whole (``<!-- repository -->`` ... ``<!-- /repository -->``, also within a line)."""
    if text.count("<!-- repository -->") != text.count("<!-- /repository -->"):
        raise ValueError("README: unbalanced <!-- repository --> markers")
    text = REPOSITORY_ONLY.sub("", text)
    for other in ASSIGNMENTS:
        start, end = f"<!-- {other.name} -->\n", f"<!-- /{other.name} -->\n"
        if text.count(start) != text.count(end):
            raise ValueError(f"README: unbalanced {start.strip()} markers")
        if other == assignment:
            text = text.replace(start, "").replace(end, "")
        else:
            text = re.sub(rf"{re.escape(start)}.*?{re.escape(end)}", "", text, flags=re.S)
    return text


def build_zip(out: str | Path | None = None, root: Path | None = None,
              assignment: Assignment | None = None) -> Path:
    """Write the archive of ``assignment`` (default: the first held) at ``out`` (default
    ``dist/<its archive name>``) and return its path."""
    root = Path(root) if root else project_root()
    assignment = assignment or ASSIGNMENTS[0]
    out = Path(out) if out else root / "dist" / assignment.archive
    with atomic_path(out) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        for relative in package_files(root, assignment):
            if relative in MARKED:
                text = readme_for((root / relative).read_text(encoding="utf-8"), assignment)
                archive.writestr(f"{ZIP_FOLDER}/{relative.as_posix()}", text)
            else:
                archive.write(root / relative, Path(ZIP_FOLDER) / relative)
    return out
