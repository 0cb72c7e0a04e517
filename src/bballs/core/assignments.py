"""The assignments this project delivers, each handed in on its own: its notebooks, its report,
its hand-in archive and the files only it needs (left out of every other archive).

Each assignment is declared by a module of its own, ``bballs.core.assignment_<name>``, that
defines ``ASSIGNMENT``; an archive holds only its assignment's module, so the package knows only
the assignments it holds. A checkout that lacks an assignment's notebooks runs, builds and tests
only the assignments it holds."""

from __future__ import annotations

import functools
import importlib
import pkgutil
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path


@dataclass(frozen=True)
class Assignment:
    """One assignment: notebooks (in ``notebooks/``), report (``report/<report>.md``, its tables
    made by ``tables``, a ``module:function``, its course line ``course`` unless ``author.ini``
    sets ``course_key``), results files, archive name, the project-relative glob patterns of the
    files only it needs, and the module adding its own commands (``add_commands``,
    ``check_data``), if any. Report values whose field names hold one of ``sweep_fields`` come
    from separate sweep commands (``sweep_hint`` says which): the report shows them as n/a until
    those have run on the data. ``order`` places it among the others."""

    name: str
    order: int
    notebooks: tuple[str, ...]
    report: str
    results: tuple[str, ...]
    archive: str
    own: tuple[str, ...]
    tables: str
    course: str
    course_key: str
    sections: str | None = None  # a folder of report/ whose *.md follow the report's template
    data_files: tuple[str, ...] | None = None  # the data files it uses (None: all)
    commands: str | None = None
    sweep_fields: tuple[str, ...] = ()
    sweep_hint: str = ""

    def owns(self, relative: str | Path) -> bool:
        """Whether the project-relative path ``relative`` is one only this assignment needs."""
        return any(fnmatch(Path(relative).as_posix(), pattern) for pattern in self.own)

    def present(self, root: Path) -> bool:
        """Whether ``root`` holds this assignment (all its notebooks)."""
        return all((root / "notebooks" / name).is_file() for name in self.notebooks)


@functools.cache
def declared() -> tuple[Assignment, ...]:
    """The ``ASSIGNMENT`` of every ``bballs.core.assignment_*`` module present, in order (read
    on first use, so that a declaration module can be imported on its own)."""
    package = importlib.import_module("bballs.core")
    modules = [info.name for info in pkgutil.iter_modules(package.__path__)
               if info.name.startswith("assignment_")]
    found = [importlib.import_module(f"bballs.core.{name}").ASSIGNMENT for name in modules]
    return tuple(sorted(found, key=lambda a: a.order))


def __getattr__(name: str):
    """``ASSIGNMENTS``: :func:`declared`."""
    if name == "ASSIGNMENTS":
        return declared()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def named(name: str) -> Assignment | None:
    """The assignment called ``name``, or None where this checkout does not hold it."""
    return next((a for a in declared() if a.name == name), None)


def reported_in(report: str) -> Assignment:
    """The assignment whose report is called ``report``."""
    return next(a for a in declared() if a.report == report)


def present(root: Path) -> tuple[Assignment, ...]:
    """The assignments ``root`` holds, in order."""
    return tuple(a for a in declared() if a.present(root))
