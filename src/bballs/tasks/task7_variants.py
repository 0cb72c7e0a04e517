"""Task 7 on generator variants: the models trained on the project's files (the physics model,
the learnt network at the Task 6 budget), applied without retraining to sequence files from
variants of the generator (:mod:`bballs.data.variants`), alone and as the gated final system
whose threshold is calibrated on each variant's own first sequences (inputs and the frames that
follow, as the training split of an official file would give them)."""

from __future__ import annotations

import time
from pathlib import Path

from bballs.core.files import OutputPaths, update_results
from bballs.data.identity import data_source
from bballs.data.variants import VARIANTS, variant_sequences
from bballs.physics_model import inverse_predictor as ipred
from bballs.tasks import part2_recipes, part2_task7, task7_bench
from bballs.tasks.prediction import N_INPUT
from bballs.training import experiments

RESULTS_FILE = "task7_variants.json"


def score_variant(name: str, physics_model, learnt, n_calibrate: int = 500, n_eval: int = 1000,
                  seed: int = 0) -> dict:
    """Scores of the physics model (counts read from the frames), the learnt network and the
    gated system on ``n_eval`` sequences of the variant, the gate calibrated on
    ``n_calibrate`` others, with the share of sequences each path takes."""
    started = time.perf_counter()
    frames, _ = variant_sequences(name, n_calibrate + n_eval, 2 * N_INPUT, seed)
    inputs, targets = frames[:, :N_INPUT], frames[:, N_INPUT:]
    gate = part2_task7.calibrate(physics_model, learnt, inputs[:n_calibrate],
                                 targets[:n_calibrate])
    final, _ = part2_task7.final_system(physics_model, learnt, gate, inputs[n_calibrate:],
                                        targets[n_calibrate:])
    physics = part2_task7.table_metrics(final["physics_alone"])
    return {"variant": name, "sequences": n_eval, "calibration_sequences": n_calibrate,
            "physics_model": {**physics, "exact_share": final["physics_exact_share"]},
            "learnt": part2_task7.table_metrics(final["learnt_alone"]),
            "final_system": part2_task7.table_metrics(final),
            "physics_share": final["physics_share"], "threshold": final["threshold"],
            "seconds": time.perf_counter() - started}


def benchmark(physics_model, learnt, names=tuple(VARIANTS), progress: bool = True,
              **options) -> list[dict]:
    """:func:`score_variant` for every variant named, one printed line each."""
    rows = []
    for name in names:
        row = score_variant(name, physics_model, learnt, **options)
        rows.append(row)
        if progress:
            print(_line(row), flush=True)
    return rows


def _line(row: dict) -> str:
    def pair(scores: dict) -> str:
        return f"{scores['ssim']:.4f} / {scores['psnr_of_mse']:5.2f} dB"

    return (f"{row['variant'][:44]:44}  physics {pair(row['physics_model'])} "
            f"(exact {row['physics_model']['exact_share']:.0%})  learnt "
            f"{pair(row['learnt'])}  final {pair(row['final_system'])} "
            f"(physics path {row['physics_share']:.0%})  {row['seconds']:.0f} s")


def trained_models(data_dir: str | Path, paths: OutputPaths, seed: int = 0):
    """The physics model and the learnt network (as a predictor) trained on the files in
    ``data_dir`` for ``seed``: reused from notebook 02's checkpoints, trained if missing."""
    split = task7_bench.load_split(data_dir)
    physics_model = ipred.train(split["train"], split["train_counts"],
                                ipred.InverseConfig(seed=seed),
                                task7_bench.checkpoint_path(paths, seed))
    context = experiments.Context(paths, Path(data_dir))
    variant = part2_recipes.TASK7_LONG
    model, _ = experiments.final_model(part2_recipes.TASK7, variant, seed, context)
    return physics_model, part2_recipes.rollout_predictor(variant, model)


def run(data_dir: str | Path, paths: OutputPaths, seed: int = 0,
        names: tuple[str, ...] = tuple(VARIANTS)) -> list[dict]:
    """Benchmark every variant and record the rows in ``results/task7_variants.json``."""
    physics_model, learnt = trained_models(data_dir, paths, seed)
    rows = benchmark(physics_model, learnt, names, seed=seed)
    results = paths.results / RESULTS_FILE
    update_results(results, "data_source", data_source(data_dir))
    update_results(results, "models_seed", seed)
    update_results(results, "rows", rows)
    return rows


COLUMNS = {"variant": "generator variant", "physics_ssim": "physics SSIM",
           "physics_psnr_of_mse": "physics PSNR of MSE (dB)", "exact_share": "exact %",
           "learnt_ssim": "learnt SSIM", "learnt_psnr_of_mse": "learnt PSNR of MSE (dB)",
           "final_ssim": "final SSIM", "final_psnr_of_mse": "final PSNR of MSE (dB)",
           "physics_share": "physics path %"}
PERCENT = ("exact_share", "physics_share")


def table_rows(rows: list[dict]) -> list[dict]:
    """One flat row per variant for :data:`COLUMNS` (SSIM and PSNR of the mean MSE of each
    path, the physics model's exact share and the share of sequences the gate gives it)."""
    flat = []
    for row in rows:
        entry = {"variant": row["variant"], "exact_share": row["physics_model"]["exact_share"],
                 "physics_share": row["physics_share"]}
        for path, prefix in (("physics_model", "physics"), ("learnt", "learnt"),
                             ("final_system", "final")):
            entry[f"{prefix}_ssim"] = round(row[path]["ssim"], 4)
            entry[f"{prefix}_psnr_of_mse"] = round(row[path]["psnr_of_mse"], 1)
        flat.append(entry)
    return flat


def gate_summary(rows: list[dict]) -> dict[str, float]:
    """Over the variants, the worst difference between the gated system and each path alone
    (SSIM and PSNR of the mean MSE; negative: the system is below that path there)."""
    def worst(path: str, metric: str) -> float:
        return float(min(r["final_system"][metric] - r[path][metric] for r in rows))

    return {f"vs_{name}_{metric}": worst(path, metric)
            for name, path in (("learnt", "learnt"), ("physics", "physics_model"))
            for metric in ("ssim", "psnr_of_mse")}
