"""The package's layers point down: no module imports one of a higher layer."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "bballs"
# bottom to top; a module may import its own layer and those below
LAYERS = {"core": 0, "data": 0, "metrics": 0, "image_metrics": 0, "models": 1, "classical": 1,
          "training": 2, "physics_model": 3, "tasks": 3, "reporting": 4, "cli": 5,
          "cli_project1": 5, "cli_lab3": 5, "__main__": 5}


def _layer(module: str) -> int:
    parts = module.split(".")
    return LAYERS[parts[1]] if len(parts) > 1 else 0


def _module_name(path: Path, package: Path) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(tree: ast.AST) -> list[tuple[str, int]]:
    """Every bballs module imported anywhere in a file (top level and inside functions)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "bballs":
                found += [(f"bballs.{alias.name}", node.lineno) for alias in node.names]
            elif node.module.startswith("bballs."):
                found.append((node.module, node.lineno))
        elif isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names
                      if alias.name.startswith("bballs.")]
    return found


def upward_imports(package: Path = PACKAGE) -> list[str]:
    """``module -> imported (line)`` for every import of a higher layer."""
    problems = []
    for path in sorted(package.rglob("*.py")):
        module = _module_name(path, package)
        for imported, line in _imports(ast.parse(path.read_text())):
            if _layer(imported) > _layer(module):
                problems.append(f"{module} -> {imported} (line {line})")
    return problems


def test_every_package_has_a_layer():
    packages = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    modules = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__"}
    assert packages | modules <= set(LAYERS)


def test_no_module_imports_a_higher_layer():
    assert upward_imports() == []


def test_the_check_sees_imports_inside_functions(tmp_path):
    package = tmp_path / "bballs"
    (package / "training").mkdir(parents=True)
    (package / "training" / "engine.py").write_text(
        "def f():\n    from bballs.reporting import tables\n")
    assert upward_imports(package) == ["bballs.training.engine -> bballs.reporting (line 2)"]


LINE_LIMIT = 350
STILL_TO_SPLIT: dict[str, int] = {}  # modules allowed over the limit while being split


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")),
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_source_module_is_over_the_length_limit(path):
    limit = STILL_TO_SPLIT.get(path.relative_to(PACKAGE).as_posix(), LINE_LIMIT)
    assert len(path.read_text().splitlines()) <= limit
