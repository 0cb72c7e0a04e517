"""Project 1's own commands (``experiments``, ``bench``, ``bench-physics``) and its physics
check of the Part 2 file in ``check-data``; :mod:`bballs.cli` adds them when this module is
present (the second assignment's hand-in archive leaves it out)."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from bballs.data import dataset as bdata


def check_data(report, args: argparse.Namespace) -> list[str]:
    """``check-data``'s physics fit of the Part 2 file (with ``--physics-sequences`` > 0)."""
    if args.physics_sequences <= 0:
        return []
    print()
    return _physics_check(report.file(bdata.PART2_SEQUENCES), args)


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


def cmd_bench(args: argparse.Namespace) -> int:
    from bballs.core.files import output_paths
    from bballs.tasks.loop_benchmark import run

    run(args.data, samples=args.samples, repeats=args.repeats,
        results_file=output_paths(args.output).results / "bench.json")
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


def add_commands(commands, check: argparse.ArgumentParser) -> None:
    """Add this assignment's commands to the ``commands`` of :func:`bballs.cli.build_parser`
    and its options to the ``check-data`` parser ``check``."""
    from bballs.cli import DEFAULT_DATA_DIR

    check.add_argument("--physics-sequences", type=int, default=64, metavar="N",
                       help="Part 2 sequences for the physics fit (default 64; 0 skips it)")
    exp = commands.add_parser("experiments", help="multi-seed ablation sweep of Task 4, 5 or 7")
    exp.add_argument("task", choices=("task4", "task5", "task7"),
                     help="task4: counting ablation; task5: U-Net skips; task7: prediction")
    exp.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    exp.add_argument("--quick", action="store_true", help="small subset and 1 epoch")
    exp.add_argument("--ablation-seeds", type=int, default=None,
                     help="seeds per non-final variant (default: all of --seeds; the final "
                          "recipe always gets all)")
    exp.add_argument("--force", action="store_true",
                     help="retrain every run from scratch and replace its row")
    exp.add_argument("--only", nargs="+", metavar="VARIANT",
                     help="run just these variants (names as in the ablation table)")
    exp.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR, help="dataset folder")
    exp.add_argument("--output", type=Path, default=None,
                     help="folder for results/ and checkpoints/ (default: the project)")
    exp.set_defaults(run=cmd_experiments)

    bench = commands.add_parser("bench", help="time fit() against a bare loop, one Part 2 epoch")
    bench.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR, help="dataset folder")
    bench.add_argument("--samples", type=int, default=None,
                       help="use only the first N training sequences (default: all 4000)")
    bench.add_argument("--repeats", type=int, default=1, help="report the best of N runs")
    bench.add_argument("--output", type=Path, default=None,
                       help="folder whose results/bench.json records the run (default: the "
                            "project)")
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
