"""Each assignment's hand-in archive holds what it needs and nothing only the other needs."""

from __future__ import annotations

import ast
import zipfile
from pathlib import PurePosixPath

import nbformat
import pytest

from bballs.core.assignments import ASSIGNMENTS, LAB3, PROJECT1, present
from bballs.core.files import project_root
from bballs.reporting.package import ZIP_FOLDER, build_zip


def _imported_modules(source: str) -> set[str]:
    """Every ``bballs`` module a file imports, at any depth (``from a import b`` may name a
    module ``a.b`` or a name in ``a``: both candidates are returned)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
    return {name for name in found if name.split(".")[0] == "bballs"}


def _source(path: PurePosixPath, text: str) -> str:
    """Python source of a module, or of a notebook's code cells (shell and magic lines left
    out)."""
    if path.suffix != ".ipynb":
        return text
    cells = [cell.source for cell in nbformat.reads(text, as_version=4).cells
             if cell.cell_type == "code"]
    return "\n".join(line for cell in cells for line in cell.splitlines()
                     if not line.lstrip().startswith(("!", "%")))


def _module(path: PurePosixPath) -> str:
    parts = path.with_suffix("").parts[path.parts.index("src") + 1:]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


ALL_MODULES = {_module(PurePosixPath(p.relative_to(project_root()).as_posix()))
               for p in (project_root() / "src").rglob("*.py")}


@pytest.mark.parametrize("assignment", present(project_root()), ids=lambda a: a.name)
def test_an_archive_imports_only_modules_it_holds(tmp_path, assignment):
    with zipfile.ZipFile(build_zip(tmp_path / assignment.archive,
                                   assignment=assignment)) as archive:
        files = {PurePosixPath(n).relative_to(ZIP_FOLDER): n for n in archive.namelist()}
        held = {_module(p) for p in files if p.parts[0] == "src" and p.suffix == ".py"}
        missing = set()
        for path, name in files.items():
            if path.suffix in (".py", ".ipynb"):
                wanted = _imported_modules(_source(path, archive.read(name).decode()))
                missing |= (wanted & ALL_MODULES) - held  # names in a module are no modules
    others = [a for a in ASSIGNMENTS if a != assignment]
    assert not [p for p in files if any(a.owns(p) for a in others)]
    assert all(f"notebooks/{n}" in {p.as_posix() for p in files} for n in assignment.notebooks)
    assert not missing, sorted(missing)


def test_the_assignments_own_different_files():
    assert PROJECT1.owns("notebooks/01_ball_count_classifier.ipynb")
    assert LAB3.owns("src/bballs/tasks/image_to_image_study.py")
    assert not LAB3.owns("src/bballs/models/spec.py") and not PROJECT1.owns("src/bballs/cli.py")
