"""The Lab 3 mini-project's own commands (``i2i-long``, the image-to-image networks trained for
longer; ``gen-seeds``, the generators trained from further seeds); :mod:`bballs.cli` adds them
when this module is present (the core project's hand-in archive leaves it out)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path


def check_data(report, args: argparse.Namespace) -> list[str]:
    """Lab 3 adds no check of its own to ``check-data``."""
    return []


def cmd_i2i_long(args: argparse.Namespace) -> int:
    from bballs.core.files import output_paths, shown
    from bballs.data.dataset import PART2_SEQUENCES, ensure_dataset
    from bballs.data.identity import data_source
    from bballs.tasks import image_to_image as i2i
    from bballs.tasks import image_to_image_convergence as i2i_long

    started = time.perf_counter()
    data_dir = ensure_dataset(args.data, seed=args.seed, files=[PART2_SEQUENCES])
    paths = output_paths(args.output)
    record = i2i_long.run(i2i.load_data(data_dir, quick=args.quick), paths, args.quick,
                          data_source(data_dir, [PART2_SEQUENCES]), seed=args.seed)
    print(f"the longer study ({len(record['study']['skips'])} tasks) is in "
          f"{shown(paths.results / i2i_long.LONG_FILE)} ({time.perf_counter() - started:.0f} s); "
          f"run notebook 04 (or `python -m bballs reproduce`) to show it")
    return 0


def cmd_gen_seeds(args: argparse.Namespace) -> int:
    from bballs.core.files import output_paths, shown
    from bballs.data.dataset import PART2_SEQUENCES, ensure_dataset
    from bballs.data.frames import load_frames
    from bballs.data.identity import data_source
    from bballs.tasks import generation_seeds
    from bballs.training.loop import pick_device

    started = time.perf_counter()
    data_dir = ensure_dataset(args.data, seed=args.seed, files=[PART2_SEQUENCES])
    paths = output_paths(args.output)
    record = generation_seeds.run(load_frames(data_dir, quick=args.quick), paths, args.quick,
                                  data_source(data_dir, [PART2_SEQUENCES]), pick_device(),
                                  seed=args.seed)
    print(f"the generators' {len(record['runs'])} runs are in "
          f"{shown(paths.results / generation_seeds.SEEDS_FILE)} "
          f"({time.perf_counter() - started:.0f} s); run notebook 05 (or `python -m bballs "
          f"reproduce`) to show them")
    return 0


def _common_options(command: argparse.ArgumentParser, quick_help: str) -> None:
    from bballs.cli import DEFAULT_DATA_DIR

    command.add_argument("--quick", action="store_true", help=quick_help)
    command.add_argument("--seed", type=int, default=0, help="first seed (and the data's)")
    command.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR, help="dataset folder")
    command.add_argument("--output", type=Path, default=None,
                         help="folder for results/ and checkpoints/ (default: the project); "
                              "finished checkpoints are reused")


def add_commands(commands, check: argparse.ArgumentParser) -> None:
    """Add this assignment's commands to the ``commands`` of :func:`bballs.cli.build_parser`."""
    long = commands.add_parser(
        "i2i-long", help="Lab 3: salt-and-pepper denoising, in-painting and instance "
                         "segmentation trained 12 epochs with every skip type and 3 seeds "
                         "(about an hour on 2 CPU cores; results/lab3_long.json)")
    _common_options(long, "small subset, 1 epoch, 1 seed")
    long.set_defaults(run=cmd_i2i_long)
    seeds = commands.add_parser(
        "gen-seeds", help="Lab 3: the DCGAN and the DDPM of notebook 05 trained from 3 seeds "
                          "and scored as there (about 20 minutes on 2 CPU cores beside the "
                          "notebook's checkpoints; results/lab3_gen_seeds.json)")
    _common_options(seeds, "small subset, 1 epoch, 2 seeds")
    seeds.set_defaults(run=cmd_gen_seeds)
