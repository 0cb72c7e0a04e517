"""Benchmark of the inverse-graphics physics predictor: training and inference time, validation
scores and long roll-out quality, per seed."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from bballs.core.files import OutputPaths, output_paths, read_results, update_results
from bballs.data import dataset as bdata
from bballs.data.identity import data_source
from bballs.metrics import frame_scores, video_scores
from bballs.models.spec import N_FRAMES_IN
from bballs.physics_model import inverse_predictor as ipred
from bballs.tasks.prediction import TABLE_METRICS
from bballs.tasks.rollout import long_sequences

LONG_HORIZON = 20


def load_split(data_dir: str | Path) -> dict[str, np.ndarray]:
    """Part 2 frames and ball counts, split 4000 / 1000 as in :mod:`bballs.tasks.prediction`."""
    frames, labels = bdata.load_npz(Path(data_dir) / bdata.PART2_SEQUENCES)
    (train, val), (train_counts, val_counts) = (bdata.split_train_val(a) for a in (frames, labels))
    return {"train": train, "train_counts": train_counts, "val": val, "val_counts": val_counts}


def evaluate_seed(split: dict, config: ipred.InverseConfig, checkpoint: Path,
                  n_long: int = 300, progress: bool = True) -> dict:
    """Train (or reuse ``checkpoint``), predict the validation set with the ball counts read
    from the frames (as every baseline gets them; the scores of the row) and given the file's
    counts (``given_counts``), and predict long roll-outs."""
    started = time.perf_counter()
    predictor = ipred.train(split["train"], split["train_counts"], config, checkpoint, progress)
    train_seconds = time.perf_counter() - started
    val, targets = split["val"][:, :N_FRAMES_IN], split["val"][:, N_FRAMES_IN:2 * N_FRAMES_IN]
    started = time.perf_counter()
    predicted = predictor.predict(val, 5)  # counts read from the frames
    infer_seconds = time.perf_counter() - started
    scores = video_scores(predicted, targets)
    given = video_scores(predictor.predict(val, 5, split["val_counts"]), targets)
    long = long_sequences(n_long, N_FRAMES_IN + LONG_HORIZON, seed=config.seed)
    long_pred = predictor.predict(long[:, :N_FRAMES_IN], LONG_HORIZON)  # counts read from frames
    long_ssim = frame_scores(long_pred, long[:, N_FRAMES_IN:])["ssim"].mean(axis=0)
    info = predictor.info
    return {"seed": config.seed, "ssim": scores["ssim"], "psnr": scores["psnr"],
            "psnr_of_mse": scores["psnr_of_mse"], "mse": scores["mse"],
            "long_ssim_frame25": float(long_ssim[-1]), "long_ssim_mean": float(long_ssim.mean()),
            "train_seconds": train_seconds,
            "trained_seconds": info["sysid_seconds"] + info["encoder_seconds"],
            "infer_seconds": infer_seconds, "constants": predictor.constants.in_box_units(),
            "constants_text": predictor.constants.describe(), "config": ipred.config_key(config),
            "counts": COUNTS_READ, "given_counts": {m: given[m] for m in TABLE_METRICS},
            "fit": ipred.FIT_PROCEDURE}


RESULTS_FILE = "task7_physics.json"
COUNTS_READ = "read from the frames"  # how a row's headline scores got the ball counts


def recorded_rows(paths: OutputPaths, data_dir: str | Path,
                  config: ipred.InverseConfig | None = None) -> list[dict]:
    """The benchmark rows of ``results/task7_physics.json`` if they were computed from the
    dataset files in ``data_dir`` (and, with ``config``, with that configuration but their own
    seed), else none (with a line saying how to compute them)."""
    results = read_results(paths.results / RESULTS_FILE)
    rows = results.get("rows", [])
    if results.get("data_source", {}).get("digest") != data_source(data_dir)["digest"]:
        if rows:
            print("the recorded physics-model benchmark is of other data and is left out; "
                  "`python -m bballs bench-physics` computes it for these files")
        return []
    read = [r for r in rows if r.get("counts") == COUNTS_READ]
    if len(read) < len(rows):
        print(f"{len(rows) - len(read)} recorded physics-model benchmark row(s) were scored with "
              "the file's ball counts and are left out; `python -m bballs bench-physics` "
              "scores them again with the counts read from the frames")
    rows = [r for r in read if r.get("fit") == ipred.FIT_PROCEDURE]
    if len(rows) < len(read):
        print(f"{len(read) - len(rows)} recorded physics-model benchmark row(s) were fitted "
              "another way and are left out; `python -m bballs bench-physics` scores them again")
    if config is not None:
        same = [r for r in rows if ipred.upgrade_config_key(r.get("config", "{}"))
                == ipred.config_key(replace(config, seed=r["seed"]))]
        if len(same) < len(rows):
            print(f"{len(rows) - len(same)} recorded physics-model benchmark row(s) were trained "
                  "with another configuration and are left out; `python -m bballs "
                  "bench-physics` computes them again")
        rows = same
    return rows


def describe_runs(rows: list[dict], seed: int) -> str:
    """Which runs the physics model's headline numbers come from, in words."""
    if rows:
        seeds = ", ".join(str(r["seed"]) for r in rows)
        return f"mean over seeds {seeds} of the physics model's three-seed benchmark"
    return f"seed {seed}, this notebook's run"


def checkpoint_path(paths: OutputPaths, seed: int) -> Path:
    """Where the predictor of ``seed`` is kept (the notebook reuses it)."""
    return paths.checkpoint(f"task7/inverse_physics_seed{seed}")


def run(data_dir: str | Path, seeds: tuple[int, ...] = (0, 1, 2),
        paths: OutputPaths | None = None, n_long: int = 300,
        threads: int | None = None) -> list[dict]:
    """Benchmark every seed (training reuses finished checkpoints), print one table row per
    seed and their mean, and record the rows in ``results/task7_physics.json``."""
    if threads:
        torch.set_num_threads(threads)
    paths = paths or output_paths()
    split = load_split(data_dir)
    update_results(paths.results / RESULTS_FILE, "data_source", data_source(data_dir))
    rows = []
    for seed in seeds:
        row = evaluate_seed(split, ipred.InverseConfig(seed=seed), checkpoint_path(paths, seed),
                            n_long)
        rows.append({**row, "threads": torch.get_num_threads(), "long_sequences": n_long})
        print({k: v for k, v in row.items() if k != "constants"}, flush=True)
        update_results(paths.results / RESULTS_FILE, "rows", rows)
    print_table(rows, torch.get_num_threads(), n_long)
    return rows


PRINT_FORMATS = (("seed", "{:>4}"), ("ssim", "{:>7.4f}"), ("psnr", "{:>8.2f}"),
           ("psnr_of_mse", "{:>8.2f}"), ("mse", "{:>9.2e}"), ("long_ssim_frame25", "{:>8.4f}"),
           ("trained_seconds", "{:>8.1f}"), ("infer_seconds", "{:>7.1f}"))
HEADER = ("seed", "SSIM", "PSNR", "PSNR(mse)", "MSE", "SSIM@25", "train s", "infer s")


def print_table(rows: list[dict], threads: int, n_long: int) -> None:
    """The per-seed table, the mean row and the fitted constants."""
    print(f"inverse-graphics physics predictor, validation 1000 sequences, roll-out {n_long} "
          f"sequences to frame 25, {threads} CPU thread(s)")
    print("  ".join(f"{h:>{len(f.format(rows[0][k]))}}"
                    for h, (k, f) in zip(HEADER, PRINT_FORMATS)))
    for row in rows:
        print("  ".join(f.format(row[k]) for k, f in PRINT_FORMATS))
    mean = {k: float(np.mean([r[k] for r in rows])) for k, _ in PRINT_FORMATS[1:]}
    print("  ".join(["mean"] + [f.format(mean[k]) for k, f in PRINT_FORMATS[1:]]))
    for row in rows:
        fitted = row.get("constants_text") or ", ".join(f"{k} {v}" for k, v in
                                                        row["constants"].items())
        print(f"seed {row['seed']} constants (box = 10 units): {fitted}")
