"""Each assignment's hand-in archive holds what it needs and nothing only the other needs."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import zipfile
from pathlib import PurePosixPath

import nbformat
import pytest

from bballs.core.assignments import ASSIGNMENTS, Assignment, present
from bballs.core.files import project_root
from bballs.reporting.package import ZIP_FOLDER, build_zip, readme_for


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


def test_an_assignment_owns_its_notebooks_and_declaration_and_no_shared_file():
    for assignment in ASSIGNMENTS:
        assert all(assignment.owns(f"notebooks/{n}") for n in assignment.notebooks)
        assert assignment.owns(f"src/bballs/core/assignment_{assignment.name}.py")
        assert not assignment.owns("src/bballs/cli.py")
        assert not assignment.owns("src/bballs/core/assignments.py")
    owned = [{p for p in (project_root()).rglob("*") if a.owns(p.relative_to(project_root()))}
             for a in ASSIGNMENTS]
    assert all(not (a & b) for i, a in enumerate(owned) for b in owned[i + 1:])


def _foreign_names(assignment) -> list[str]:
    """Regular expressions for what only ``assignment`` holds: its notebooks, report source,
    results files and archive, and the dotted names of its own modules."""
    names = [*assignment.notebooks, f"{assignment.report}.md", *assignment.results,
             assignment.archive]
    patterns = [rf"(?<![\w.]){re.escape(name)}" for name in names]
    for own in assignment.own:
        path = PurePosixPath(own)
        if path.parts[:2] == ("src", "bballs"):
            dotted = ".".join(path.with_suffix("").parts[2:]).replace(".*", "").rstrip("*")
            patterns.append(rf"(?<![\w.]){re.escape(dotted)}")
    return patterns


def test_an_archive_readme_leaves_out_the_other_assignments_sections(monkeypatch):
    import bballs.reporting.package as package

    one, two = (Assignment(name, i, (), name, (), f"{name}.zip", (), "m:f", "", "")
                for i, name in enumerate(("one", "two")))
    monkeypatch.setattr(package, "ASSIGNMENTS", (one, two))
    text = "a\n<!-- two -->\nlab\n<!-- /two -->\n<!-- one -->\ncore\n<!-- /one -->\nz\n"
    assert readme_for(text, one) == "a\ncore\nz\n"
    assert readme_for(text, two) == "a\nlab\nz\n"
    with pytest.raises(ValueError, match="unbalanced"):
        readme_for("<!-- two -->\nlab\n", one)
    repository = ("a<!-- repository --> (both)<!-- /repository -->.\n"
                  "<!-- repository -->\nCI runs\n<!-- /repository -->\nz\n")
    assert readme_for(repository, one) == readme_for(repository, two) == "a.\nz\n"


def test_an_archive_readme_names_no_other_assignment_and_no_repository_file(tmp_path):
    for assignment in present(project_root()):
        text = zipfile.ZipFile(build_zip(tmp_path / assignment.archive, assignment=assignment)
                               ).read(f"{ZIP_FOLDER}/README.md").decode()
        others = [a for a in ASSIGNMENTS if a != assignment]
        assert ".ci/" not in text and "both assignments" not in text
        assert not [a.name for a in others if re.search(rf"\b{a.name}\b", text)]
        own_modules = {PurePosixPath(own).stem for a in others for own in a.own
                       if own.startswith("src/") and "*" not in own}
        assert not [m for m in own_modules if f"`{m}`" in text]


SCANNED = (".py", ".md", ".ipynb", ".toml", ".txt", ".css")


@pytest.mark.parametrize("assignment", present(project_root()), ids=lambda a: a.name)
def test_an_archive_names_nothing_only_another_assignment_holds(tmp_path, assignment):
    """The README, sources, notebooks and report sources of an archive name none of another
    assignment's notebooks, report, results, archive or modules (the tests' own layer table and
    fixtures may)."""
    others = [a for a in ASSIGNMENTS if a != assignment]
    if not others:
        pytest.skip("this checkout holds one assignment")
    patterns = [p for other in others for p in _foreign_names(other)]
    found = {}
    with zipfile.ZipFile(build_zip(tmp_path / assignment.archive,
                                   assignment=assignment)) as archive:
        for name in archive.namelist():
            path = PurePosixPath(name).relative_to(ZIP_FOLDER)
            if path.suffix in SCANNED and path.parts[0] != "tests":
                text = archive.read(name).decode()
                found.update({path.as_posix(): p for p in patterns if re.search(p, text)})
    assert not found, found


@pytest.mark.parametrize("assignment", present(project_root()), ids=lambda a: a.name)
def test_an_archive_holds_its_own_results_and_figures_only(tmp_path, assignment):
    with zipfile.ZipFile(build_zip(tmp_path / assignment.archive,
                                   assignment=assignment)) as archive:
        files = {PurePosixPath(n).relative_to(ZIP_FOLDER) for n in archive.namelist()}
    outputs = {p for p in files if p.parts[0] in ("results", "figures")}
    expected = {f"results/{name}" for name in assignment.results
                if (project_root() / "results" / name).is_file()}
    assert expected <= {p.as_posix() for p in outputs}
    assert outputs and all(assignment.owns(p) for p in outputs)


def test_package_excludes_data_and_checkpoints(tmp_path):
    from bballs.reporting.package import build_zip

    root = tmp_path / "project"
    (root / "src" / "pkg" / "__pycache__").mkdir(parents=True)
    (root / "src" / "pkg" / "a.py").write_text("x = 1\n")
    (root / "src" / "pkg" / "__pycache__" / "a.pyc").write_bytes(b"0")
    (root / "src" / "pkg" / "weights.pt").write_bytes(b"0")
    (root / "data").mkdir()
    (root / "data" / "README.md").write_text("card")
    (root / "data" / "part1_bballs_test.npz").write_bytes(b"0")
    (root / "README.md").write_text("readme")
    names = zipfile.ZipFile(build_zip(tmp_path / "c.zip", root)).namelist()
    assert sorted(names) == ["bballs/README.md", "bballs/data/README.md", "bballs/src/pkg/a.py"]


@pytest.mark.parametrize("module", [f"bballs.core.assignment_{a.name}" for a in ASSIGNMENTS])
def test_an_assignment_declaration_imports_on_its_own(module):
    """The README and ``bballs.tasks`` send readers to these modules: each imports first."""
    command = f"import {module}; print({module}.ASSIGNMENT.name)"
    result = subprocess.run([sys.executable, "-c", command], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
