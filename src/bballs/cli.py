"""Command line: ``python -m bballs <command>``."""

from __future__ import annotations

import argparse
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
    if args.physics_sequences > 0:
        print()
        found += _physics_check(report.file(bdata.PART2_SEQUENCES), args)
    print(f"\nchecked in {time.perf_counter() - started:.1f} s")
    for line in found:
        print(f"problem: {line}")
    return 1 if found else 0


def _physics_check(part2, args: argparse.Namespace) -> list[str]:
    """Print the physics fit of the Part 2 file; a failure becomes a problem line."""
    from bballs.physics_model.check import check_physics, format_physics

    if not part2.usable:
        print("Physics model fit: skipped (the Part 2 file is not usable)")
        return []
    try:
        check = check_physics(part2.frames, part2.labels, args.physics_sequences, args.seed)
    except Exception as error:  # odd data must give a problem line, not a traceback
        if os.environ.get("BBALLS_TRACEBACK"):
            raise
        return [f"physics check failed on {part2.path}: {type(error).__name__}: {error}"]
    print(format_physics(check))
    return []


def cmd_reproduce(args: argparse.Namespace) -> int:
    from bballs.reporting.pipeline import reproduce

    reproduce(quick=args.quick, seed=args.seed, data_dir=args.data, output_dir=args.output,
              force=args.force)
    _author_warning()
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from bballs.tasks.loop_benchmark import run

    run(args.data, samples=args.samples, repeats=args.repeats)
    return 0


def cmd_experiments(args: argparse.Namespace) -> int:
    from bballs.core.files import output_paths
    from bballs.tasks import part1_task4, part2_recipes
    from bballs.training import experiments

    experiment = {e.name: e for e in (part1_task4.TASK4, part2_recipes.TASK5,
                                      part2_recipes.TASK7)}[args.task]
    if args.only:
        experiment = experiments.restricted(experiment, args.only)
    context = experiments.Context(output_paths(args.output), args.data, args.quick)
    started = time.perf_counter()
    rows = experiments.sweep(experiment, context, tuple(args.seeds), args.ablation_seeds,
                             args.force)
    print(f"{experiment.name}: {len(rows)} rows in {experiment.results_file(context.paths)} "
          f"({time.perf_counter() - started:.0f} s)")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from bballs.reporting.report import ReportError, build

    which = args.which or [a.report for a in present(project_root())]
    if args.out and len(which) > 1:
        raise ReportError("--out names one PDF: add --which report or --which lab3_report")
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

    path = write_author(args.report_dir or project_root() / REPORT_DIR, args.name, args.id,
                        args.email, {"report": args.course, "lab3_report": args.lab3_course})
    print(f"wrote {shown(path)}; `python -m bballs report` rebuilds both PDFs with it")
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
        raise ValueError("--out names one archive: add --assignment project1 or lab3")
    for assignment in held:
        path = build_zip(args.out, assignment=assignment)
        print(f"wrote {shown(path)} ({path.stat().st_size / 1e6:.2f} MB)")
    return 0


def cmd_bench_physics(args: argparse.Namespace) -> int:
    from bballs.core.files import output_paths
    from bballs.tasks.task7_bench import run

    if args.variants:
        import torch

        from bballs.tasks import task7_variants

        if args.threads:
            torch.set_num_threads(args.threads)
        task7_variants.run(args.data, output_paths(args.output), seed=args.seeds[0],
                           names=tuple(args.only or task7_variants.VARIANTS),
                           reidentify=not args.no_reidentify)
        return 0
    run(args.data, seeds=tuple(args.seeds), paths=output_paths(args.output), n_long=args.long,
        threads=args.threads)
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
    check.add_argument("--physics-sequences", type=int, default=64, metavar="N",
                       help="Part 2 sequences for the physics fit (default 64; 0 skips it)")
    check.add_argument("--seed", type=int, default=0, help="seed of that sample (default 0)")
    check.set_defaults(run=cmd_check_data)

    rep = commands.add_parser("reproduce", help="data, then every notebook executed headless")
    rep.add_argument("--quick", action="store_true", help="small subset and 1 epoch (smoke test)")
    rep.add_argument("--seed", type=int, default=0, help="one seed for data and training")
    rep.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR, help="dataset folder")
    rep.add_argument("--output", type=Path, default=None,
                     help="folder for all outputs (default: the project; build/quick with --quick)")
    rep.add_argument("--force", action="store_true",
                     help="delete the checkpoints first and retrain everything")
    rep.set_defaults(run=cmd_reproduce)

    exp = commands.add_parser("experiments", help="multi-seed ablation sweep of Task 4, 5 or 7")
    exp.add_argument("task", choices=("task4", "task5", "task7"),
                     help="task4: counting ablation; task5: U-Net skips; task7: prediction")
    exp.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    exp.add_argument("--quick", action="store_true", help="small subset and 1 epoch")
    exp.add_argument("--ablation-seeds", type=int, default=None,
                     help="seeds per non-final variant (default: all for task4, 1 for task7; "
                          "the final recipe always gets all)")
    exp.add_argument("--force", action="store_true",
                     help="retrain every run from scratch and replace its row")
    exp.add_argument("--only", nargs="+", metavar="VARIANT",
                     help="run just these variants (names as in the ablation table)")
    exp.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR, help="dataset folder")
    exp.add_argument("--output", type=Path, default=None,
                     help="folder for results/ and checkpoints/ (default: the project)")
    exp.set_defaults(run=cmd_experiments)

    report = commands.add_parser(
        "report", help="build report/report.pdf and report/lab3_report.pdf from results/, figures/")
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
                                                 "email) for both reports")
    author.add_argument("--name", required=True)
    author.add_argument("--id", required=True, help="student ID")
    author.add_argument("--email", required=True)
    author.add_argument("--course", default="", help="course line of report.pdf "
                                                     "(default: the project's course)")
    author.add_argument("--lab3-course", default="", help="course line of lab3_report.pdf")
    author.add_argument("--report-dir", type=Path, default=None, help=argparse.SUPPRESS)
    author.set_defaults(run=cmd_author)

    package = commands.add_parser(
        "package", help="write each assignment's hand-in archive: dist/code.zip (core project), "
                        "dist/lab3_code.zip (second assignment); sources, no data")
    package.add_argument("--assignment", nargs="+", choices=[a.name for a in ASSIGNMENTS],
                         default=None, help="which archives (default: every one present)")
    package.add_argument("--out", type=Path, default=None,
                         help="zip path, with one --assignment (default dist/)")
    package.set_defaults(run=cmd_package)

    bench = commands.add_parser("bench", help="time fit() against a bare loop, one Part 2 epoch")
    bench.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR, help="dataset folder")
    bench.add_argument("--samples", type=int, default=None,
                       help="use only the first N training sequences (default: all 4000)")
    bench.add_argument("--repeats", type=int, default=1, help="report the best of N runs")
    bench.set_defaults(run=cmd_bench)

    phys = commands.add_parser("bench-physics",
                               help="Task 7: train (or reuse) and score the inverse-graphics "
                                    "physics predictor on 3 seeds")
    phys.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR, help="dataset folder")
    phys.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    phys.add_argument("--output", type=Path, default=None,
                      help="folder for results/ and checkpoints/ (default: the project); "
                           "finished checkpoints are reused")
    phys.add_argument("--long", type=int, default=300, help="long roll-out sequences")
    phys.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    phys.add_argument("--variants", action="store_true",
                      help="instead: sequence files from generator variants, the models of the "
                           "first seed without retraining, then the physics model identified "
                           "again on each variant (results/task7_variants.json)")
    phys.add_argument("--no-reidentify", action="store_true",
                      help="with --variants: skip identifying the physics model on each variant")
    phys.add_argument("--only", nargs="+", metavar="VARIANT", default=None,
                      help="with --variants: just these variants (their rows replace the "
                           "recorded ones, the other rows are kept)")
    phys.set_defaults(run=cmd_bench_physics)
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
