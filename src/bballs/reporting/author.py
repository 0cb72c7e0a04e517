"""The author block of every report: ``report/author.ini``, written by ``python -m bballs
author``. Until it holds a real name, ID and email, every page of the PDFs carries a banner
and ``report`` / ``reproduce`` end with a warning."""

from __future__ import annotations

import configparser
from pathlib import Path

from bballs.core.assignments import ASSIGNMENTS
from bballs.core.files import atomic_path

AUTHOR_FILE = "author.ini"
FIELDS = ("name", "student_id", "email")
TEMPLATE = {"name": "Your Full Name", "student_id": "00000000",
            "email": "your.name@connect.example.edu"}
COURSES = {a.report: a.course for a in ASSIGNMENTS}  # unless author.ini sets one
COURSE_KEYS = {a.report: a.course_key for a in ASSIGNMENTS}
FILL_COMMAND = 'python -m bballs author --name "…" --id "…" --email "…"'
BANNER = f"Fill in report/author.ini: {FILL_COMMAND}"


def read_author(report_dir: Path, report: str = "report") -> dict[str, str]:
    """Name, student ID, email and this report's course line (the assignment's own by
    default), and ``filled`` ("yes"/"") telling whether the template was replaced."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(Path(report_dir) / AUTHOR_FILE, encoding="utf-8")
    entries = dict(parser["author"]) if parser.has_section("author") else {}
    author = {field: entries.get(field, TEMPLATE[field]).strip() for field in FIELDS}
    author["course"] = (entries.get(COURSE_KEYS.get(report, "course"), "").strip()
                        or COURSES.get(report, ""))
    author["filled"] = "yes" if is_filled(author) else ""
    return author


def is_filled(author: dict[str, str]) -> bool:
    """True when name, ID and email are set and none is the template's placeholder."""
    return all(author.get(f) and author[f] != TEMPLATE[f] for f in FIELDS)


def write_author(report_dir: Path, name: str, student_id: str, email: str,
                 courses: dict[str, str] | None = None) -> Path:
    """Write ``author.ini`` (temporary file, then rename); ``courses`` maps report name to a
    course line that replaces the default."""
    values = {"name": name.strip(), "student_id": student_id.strip(), "email": email.strip()}
    if not is_filled(values):
        raise ValueError("author: give a real name, student ID and email (not the template's)")
    if "@" not in values["email"]:
        raise ValueError(f"author: {values['email']!r} is not an email address")
    lines = ["; The author block of the reports (python -m bballs author writes it).",
             "[author]", *(f"{key} = {value}" for key, value in values.items())]
    for report, course in (courses or {}).items():
        if course:
            lines.append(f"{COURSE_KEYS[report]} = {course.strip()}")
    path = Path(report_dir) / AUTHOR_FILE
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def page_banner_css(author: dict[str, str]) -> str:
    """A red line at the top of every page while the author block is the template's."""
    if author.get("filled"):
        return ""
    text = BANNER.replace("\\", "\\\\").replace('"', '\\"')
    return ("@page { @top-center { content: \"" + text + "\"; color: #c00; "
            "font-size: 9pt; font-weight: bold; } }")


def warning(report_dir: Path) -> str | None:
    """The warning ``report`` and ``reproduce`` print while the template is unfilled."""
    if read_author(report_dir)["filled"]:
        return None
    return (f"warning: {Path(report_dir).name}/{AUTHOR_FILE} still holds the template: every "
            f"page says so. Run {FILL_COMMAND}, then `python -m bballs report`.")
