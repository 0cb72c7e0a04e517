"""Command line: ``python -m bballs <command>``."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import logging
import os
import signal
import sys
import time
from pathlib import Path

from bballs.core.assignments import ASSIGNMENTS, present
from bballs.core.files import project_root, shown
from bballs.data import dataset as bdata

DEFAULT_DATA_DIR = project_root() / "data"
REPORT_NAMES = tuple(a.report for a in ASSIGNMENTS)


def assignment_commands() -> list:
    """The modules that add an assignment's own commands (``add_commands``) and data checks
    (``check_data``), for the assignments this checkout holds."""
    return [importlib.import_module(a.commands) for a in ASSIGNMENTS
            if a.commands and importlib.util.find_spec(a.commands) is not None]


def _one_of(option: str, names) -> str:
    return " or ".join(f"{option} {name}" for name in names)


def cmd_data(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    for path in bdata.generate_dataset(args.out, seed=args.seed):
        frames, labels = bdata.load_npz(path)
        print(f"wrote {path}  data {tuple(frames.shape)}  labels {tuple(labels.shape)}")
    print(f"done in {time.perf_counter() - started:.1f} s (seed {args.seed})")
    return 0


def cmd_check_data(args: argparse.Namespace) -> int:
    from bballs.data.check import check_folder, format_report, problems

    started = time.perf_counter()
    report = check_folder(args.dir)
    print(format_report(report))
    found = problems(report)
    for commands in assignment_commands():
        found += commands.check_data(report, args)
    print(f"\nchecked in {time.perf_counter() - started:.1f} s")
    for line in found:
        print(f"problem: {line}")
    return 1 if found else 0


def cmd_reproduce(args: argparse.Namespace) -> int:
    from bballs.reporting.pipeline import reproduce

    reproduce(quick=args.quick, seed=args.seed, data_dir=args.data, output_dir=args.output,
              force=args.force, assignments=args.assignment, jobs=args.jobs)
    _author_warning()
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from bballs.reporting.report import ReportError, build

    which = args.which or [a.report for a in present(project_root())]
    if args.out and len(which) > 1:
        raise ReportError(f"--out names one PDF: add {_one_of('--which', REPORT_NAMES)}")
    for name in which:
        started = time.perf_counter()
        path = build(root=args.results_root, out=args.out, allow_missing=args.allow_missing,
                     report=name)
        print(f"wrote {shown(path)} ({time.perf_counter() - started:.1f} s)")
    _author_warning()
    return 0


def cmd_author(args: argparse.Namespace) -> int:
    from bballs.reporting.author import write_author
    from bballs.reporting.report import REPORT_DIR

    courses = {a.report: getattr(args, a.course_key) for a in ASSIGNMENTS}
    path = write_author(args.report_dir or project_root() / REPORT_DIR, args.name, args.id,
                        args.email, courses)
    print(f"wrote {shown(path)}; `python -m bballs report` rebuilds the PDFs with it")
    return 0


def _author_warning() -> None:
    from bballs.reporting.author import warning
    from bballs.reporting.report import REPORT_DIR

    message = warning(project_root() / REPORT_DIR)
    if message:
        print(message, file=sys.stderr)


def cmd_package(args: argparse.Namespace) -> int:
    from bballs.reporting.package import build_zip

    held = [a for a in present(project_root()) if a.name in (args.assignment or [a.name])]
    if args.out and len(held) > 1:
        names = [a.name for a in ASSIGNMENTS]
        raise ValueError(f"--out names one archive: add {_one_of('--assignment', names)}")
    for assignment in held:
        path = build_zip(args.out, assignment=assignment)
        print(f"wrote {shown(path)} ({path.stat().st_size / 1e6:.2f} MB)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bballs", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    data = commands.add_parser("data", help="generate the three dataset files of Table 1")
    data.add_argument("--out", type=Path, default=DEFAULT_DATA_DIR, help="output folder")
    data.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    data.set_defaults(run=cmd_data)

    check = commands.add_parser(
        "check-data", help="what each dataset file holds, train-vs-test shift, physics fit")
    check.add_argument("dir", nargs="?", type=Path, default=DEFAULT_DATA_DIR, metavar="DIR",
                       help="folder with the three .npz files (default: the project's data/)")
    check.add_argument("--seed", type=int, default=0, help="seed of any sample it draws "
                                                            "(default 0)")
    check.set_defaults(run=cmd_check_data)

    rep = commands.add_parser("reproduce", help="data, then every notebook executed headless")
    rep.add_argument("--quick", action="store_true", help="small subset and 1 epoch (smoke test)")
    rep.add_argument("--seed", type=int, default=0, help="one seed for data and training")
    rep.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR, help="dataset folder")
    rep.add_argument("--output", type=Path, default=None,
                     help="folder for all outputs (default: the project; build/quick with --quick)")
    rep.add_argument("--force", action="store_true",
                     help="delete the checkpoints first and retrain everything")
    rep.add_argument("--assignment", nargs="+", choices=[a.name for a in ASSIGNMENTS],
                     default=None, help="just these assignments (default: every one present; "
                                        "each report is built as soon as its notebooks ran)")
    rep.add_argument("--jobs", type=int, default=None, metavar="N",
                     help="notebooks run at a time, the CPU cores split between them "
                          "(default 1; see README for what 2 buys on a 2-core CPU)")
    rep.set_defaults(run=cmd_reproduce)

    report = commands.add_parser(
        "report", help="build the report PDFs in report/ from results/ and figures/")
    report.add_argument("--which", nargs="+", choices=REPORT_NAMES, default=None,
                        help="which reports to build (default: every assignment's present)")
    report.add_argument("--out", type=Path, default=None,
                        help="PDF path, with one --which (default report/<name>.pdf)")
    report.add_argument("--results-root", type=Path, default=None,
                        help="folder holding results/ and figures/ (default: the project)")
    report.add_argument("--allow-missing", action="store_true",
                        help="print missing values as n/a instead of stopping")
    report.set_defaults(run=cmd_report)

    author = commands.add_parser("author", help="write report/author.ini (your name, ID, "
                                                 "email) for every report")
    author.add_argument("--name", required=True)
    author.add_argument("--id", required=True, help="student ID")
    author.add_argument("--email", required=True)
    for assignment in ASSIGNMENTS:
        author.add_argument(f"--{assignment.course_key.replace('_', '-')}", default="",
                            help=f"course line of {assignment.report}.pdf (default: "
                                 f"{assignment.course})")
    author.add_argument("--report-dir", type=Path, default=None, help=argparse.SUPPRESS)
    author.set_defaults(run=cmd_author)

    package = commands.add_parser(
        "package", help="write each assignment's hand-in archive in dist/ ("
                        + ", ".join(a.archive for a in ASSIGNMENTS) + "); sources, no data")
    package.add_argument("--assignment", nargs="+", choices=[a.name for a in ASSIGNMENTS],
                         default=None, help="which archives (default: every one present)")
    package.add_argument("--out", type=Path, default=None,
                         help="zip path, with one --assignment (default dist/)")
    package.set_defaults(run=cmd_package)
    for module in assignment_commands():
        module.add_commands(commands, check)

    return parser


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Run one command; a known failure prints one line (no traceback) and returns 1."""
    from bballs.core.files import ResultsError
    from bballs.reporting.pipeline import NotebookError
    from bballs.reporting.report import ReportError
    from bballs.training.checkpoints import CheckpointError

    args = build_parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)  # a killed run cleans up like Ctrl-C
    try:
        return args.run(args)
    except (NotebookError, ReportError, ResultsError, CheckpointError, FileNotFoundError,
            ValueError) as error:
        if os.environ.get("BBALLS_TRACEBACK"):
            raise
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        # the notebook runner's cancelled cell task may be collected later with its "kernel
        # died" error: that is the interrupt itself, so asyncio must not log it as a traceback
        logging.getLogger("asyncio").setLevel(logging.CRITICAL)
        print("interrupted: finished checkpoints are kept; run the command again to resume",
              file=sys.stderr)
        return 130
