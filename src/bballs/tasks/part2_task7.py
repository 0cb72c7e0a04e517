"""Task 7's final system: the physics model where its fitted world explains the five input
frames, the learnt network where it does not.

Per sequence the physics model's residual (mean squared error of its fit on the input frames)
says whether its world model fits. The threshold is chosen on training sequences: the one that
minimises the combined system's mean squared error there. Above it the sequence goes to the
learnt network, so on data the physics model cannot explain the system falls back to a model
that learnt whatever world the file holds.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from bballs.metrics import as_numpy, frame_scores, seed_summary, video_scores
from bballs.tasks.part2_recipes import TASK7_BY_NAME, TASK7_LONG
from bballs.tasks.prediction import (
    COLUMNS,
    SPEC_RECIPE,
    TABLE_METRICS,
    TASK7_COLUMNS,
    declare_table,
    table_metrics,
    table_row,
)
from bballs.training.loop import optimiser_steps

EXACT_SSIM = 0.99  # a sequence predicted with a mean SSIM above this counts as exact
GATE_SEQUENCES = 500  # training sequences the threshold is chosen on (fewer in quick mode)

Predict = Callable[[np.ndarray], np.ndarray]  # inputs (N, 5, 32, 32) -> frames (N, 5, 32, 32)


def sequence_mse(predicted, target) -> np.ndarray:
    """Mean squared error of each sequence (N,) of frames (N, T, H, W)."""
    difference = as_numpy(predicted).astype(np.float64) - as_numpy(target)
    return (difference ** 2).reshape(len(difference), -1).mean(axis=1)


def choose_threshold(residual: np.ndarray, physics_error: np.ndarray,
                     learnt_error: np.ndarray) -> float | None:
    """The residual threshold that minimises the total error when sequences with a residual at
    or below it keep the physics model's forecast and the others take the learnt network's.

    Returns None (every sequence to the learnt network) when the physics model helps on no
    prefix of the sequences sorted by residual; ties go to the smaller threshold.
    """
    order = np.argsort(residual, kind="stable")
    gain = np.cumsum(learnt_error[order] - physics_error[order])  # saved by the first k
    best = int(np.argmax(gain))
    if gain[best] <= 0:
        return None
    return float(residual[order][best])


def apply_gate(physics: np.ndarray, learnt: np.ndarray, residual: np.ndarray,
               threshold: float | None) -> tuple[np.ndarray, np.ndarray]:
    """The combined forecast and the mask of sequences that kept the physics model's (none
    when ``threshold`` is None)."""
    use_physics = (np.zeros(len(residual), dtype=bool) if threshold is None
                   else residual <= threshold)
    combined = np.where(use_physics[:, None, None, None], as_numpy(physics), as_numpy(learnt))
    return combined.astype(np.float32), use_physics


def calibrate(physics_model, learnt: Predict, inputs: np.ndarray, targets: np.ndarray) -> dict:
    """The gate's threshold chosen on training sequences (inputs, targets), with the share of
    them each path takes. Ball counts are read from the frames, as at prediction time."""
    physics, residual = physics_model.predict_with_residual(inputs, targets.shape[1])
    learnt_frames = learnt(inputs)
    threshold = choose_threshold(residual, sequence_mse(physics, targets),
                                 sequence_mse(learnt_frames, targets))
    _, use_physics = apply_gate(physics, learnt_frames, residual, threshold)
    return {"threshold": threshold, "sequences": len(inputs),
            "train_physics_share": float(use_physics.mean())}


def final_system(physics_model, learnt: Predict, gate: dict, inputs: np.ndarray,
                 targets: np.ndarray) -> tuple[dict, np.ndarray]:
    """Scores of the gated system on (inputs, targets), with the share of sequences each path
    took and the scores of each path alone, and the combined forecast."""
    physics, residual = physics_model.predict_with_residual(inputs, targets.shape[1])
    return score_gate(physics, residual, learnt(inputs), gate, targets)


def score_gate(physics: np.ndarray, residual: np.ndarray, learnt_frames, gate: dict,
               targets) -> tuple[dict, np.ndarray]:
    """:func:`final_system` from forecasts already made: the physics model's with its
    residuals and the learnt network's."""
    learnt_frames = as_numpy(learnt_frames)
    combined, use_physics = apply_gate(physics, learnt_frames, residual, gate["threshold"])
    scores = video_scores(combined, targets)
    exact = frame_scores(physics, targets)["ssim"].mean(axis=1) > EXACT_SSIM
    return {**scores, "threshold": gate["threshold"], "physics_share": float(use_physics.mean()),
            "physics_exact_share": float(exact.mean()),
            "learnt_share": float(1 - use_physics.mean()),
            "physics_alone": video_scores(physics, targets),
            "learnt_alone": video_scores(learnt_frames, targets),
            "calibration": gate, "counts": "read from the frames"}, combined


def reference_rows(last_frame: dict, spec_unet: dict, classical: dict,
                   spec_cost: dict) -> list[dict]:
    """The Task 7 table's references: the last frame repeated, the Task 6 U-Net (``spec_cost``:
    its epochs, parameters and training seconds) and the classical predictor."""
    def free(name: str, change: str, scores: dict) -> dict:  # no training, deterministic
        row = table_row(name, change, scores, parameters=None, train_seconds=None)  # a dash
        return {k: v for k, v in row.items() if k != "seeds"}

    return [free("last frame", "baseline: the 5th input frame repeated", last_frame),
            table_row("baseline U-Net", "baseline: Task 6 (20 epochs, batch 4, MSE)", spec_unet,
                      title="baseline U-Net (Task 6's single run)", **spec_cost),
            free("classical predictor", "blob centroids, fitted velocities, generator physics",
                 classical)]


PHYSICS_CHANGE = "learnt world constants + state encoder, fitted state simulated and rendered"
READ_COUNTS = "physics model (counts read from the frames)"
MEAN_OF_SEEDS = "physics model (counts read from the frames, mean of seeds)"
GATED = "gated system (reference)"
SWEEP_BASELINE = "baseline U-Net (Task 5 sweep, mean of seeds)"


def seeds_row(rows: list[dict]) -> dict:
    """Of :func:`physics_rows`, the mean over the benchmark's seeds (the first row if none)."""
    return next((row for row in rows if row["variant"] == MEAN_OF_SEEDS), rows[0])


def physics_rows(physics_model, bench_rows: list[dict], given_counts: dict,
                 physics_scores: dict, final_scores: dict, seed: int,
                 learnt_cost: dict | None = None) -> list[dict]:
    """The Task 7 table's physics-model rows, all of ``seed`` unless said: ball counts read from
    the frames (the headline), the file's ball counts (one row with the first where the scores
    are identical), the counts read from the frames as the mean over the seeds of
    ``bench_rows`` (``python -m bballs bench-physics``, if run), and the gated final system,
    whose cost is the physics model's plus the learnt network's (``learnt_cost``: its parameters
    and training seconds). Where the gate keeps every sequence with the physics model, the
    final system is the first row (marked ``gate_share``), not a copy of it."""
    cost = {"parameters": physics_model.parameters, "train_seconds": physics_model.train_seconds}
    read = table_row(READ_COUNTS, f"{PHYSICS_CHANGE} (seed {seed})", physics_scores, **cost)
    given = table_row("physics model (the file's ball counts)",
                      f"the same model given the file's ball counts (seed {seed})",
                      given_counts, **cost)
    rows = [read, given]
    if table_metrics(physics_scores) == table_metrics(given_counts):
        rows = [{**read, "change": f"{PHYSICS_CHANGE}; on seed {seed} the file's ball counts "
                                   "give the same scores"}]
    if bench_rows:
        mean = {"variant": MEAN_OF_SEEDS,
                "change": f"counts read from the frames, mean ± std over seeds "
                          f"{', '.join(str(r['seed']) for r in bench_rows)}",
                "seeds": len(bench_rows), "parameters": cost["parameters"],
                "train_seconds": float(np.mean([r["trained_seconds"] for r in bench_rows]))}
        rows.append(mean | seed_summary(bench_rows, TABLE_METRICS))
    share = final_scores["physics_share"]
    if share == 1.0:  # the final system is this seed's physics model: one row, not two
        rows[0] = {**rows[0], "gate_share": share, "gate_seed": seed,
                   "change": f"{rows[0]['change']}; the gate keeps every sequence with the "
                             f"physics model, so this is also the gated system"}
        return rows
    return [*rows, _system_row(final_scores, seed, cost, learnt_cost)]


def counts_effect(bench_rows: list[dict], read: dict, given: dict, seed: int) -> str:
    """In words, how the physics model's PSNR of the mean MSE changes when it is given the
    file's ball counts instead of reading them from the frames: over the benchmark's seeds
    where their rows record both, else on ``seed`` (``read`` and ``given``: its scores)."""
    rows = [r for r in bench_rows if "given_counts" in r]
    if rows:
        a = float(np.mean([r["psnr_of_mse"] for r in rows]))
        b = float(np.mean([r["given_counts"]["psnr_of_mse"] for r in rows]))
        runs = f"mean over seeds {', '.join(str(r['seed']) for r in rows)}"
    else:
        a, b, runs = read["psnr_of_mse"], given["psnr_of_mse"], f"seed {seed}"
    if round(a, 2) == round(b, 2):
        return f"given the file's ball counts instead, it scores the same, {a:.2f} dB ({runs})"
    return f"given the file's ball counts instead, it scores {b:.2f} dB, not {a:.2f} dB ({runs})"


def seeds_phrase(table: list[dict], name: str, scores: dict) -> str:
    """The PSNR of the mean MSE and SSIM of the recipe ``name`` in words: its mean ± std over
    the seeds of the summary ``table`` where it holds more than one, else ``scores`` (one run)."""
    row = next((r for r in table if r["variant"] == name), None)
    if row and row.get("seeds", 1) > 1 and row.get("psnr_of_mse_std") is not None:
        return (f"{row['psnr_of_mse_mean']:.2f} ± {row['psnr_of_mse_std']:.2f} dB and SSIM "
                f"{row['ssim_mean']:.4f} ± {row['ssim_std']:.4f} (mean ± std over "
                f"{row['seeds']} seeds)")
    return f"{scores['psnr_of_mse']:.2f} dB and SSIM {scores['ssim']:.4f} (one run)"


def _system_row(final_scores: dict, seed: int, physics_cost: dict,
                learnt_cost: dict | None) -> dict:
    """The gated final system's row: its cost is that of its two models together."""
    cost = {key: physics_cost[key] + learnt_cost[key] for key in physics_cost} if (
        learnt_cost) else {}
    share = final_scores["physics_share"]
    return table_row(GATED,
                     f"physics model where its fit explains the inputs ({share:.0%} of the "
                     f"sequences), else the learnt network (seed {seed})", final_scores,
                     gate_share=share, gate_seed=seed, **cost)


#: The Task 7 answer in one table: for each role, the rows of the full table that can fill it
#: (the first one present is taken).
SUMMARY_ROLES = (
    (("last frame",), "last frame repeated (baseline)"),
    ((SWEEP_BASELINE, "baseline U-Net"), "baseline U-Net (baseline)"),
    ((TASK7_LONG.name,), "learnt network, Task 6 budget (main result)"),
    ((MEAN_OF_SEEDS, READ_COUNTS),
     "physics model, counts read from the frames (model-based reference)"),
    ((GATED,), "gated system: physics model, else the learnt network"))
# the answer at a glance: scores, seeds, size and optimiser steps
SUMMARY_COLUMNS = {**{k: v for k, v in COLUMNS.items() if k not in ("mse", "train_seconds")},
                   "steps": "steps"}


def summary_rows(task7_rows: list[dict]) -> list[dict]:
    """The rows of the full Task 7 table (:func:`reference_rows`, the learnt sweep's summary,
    :func:`physics_rows`) that answer the task, in :data:`SUMMARY_ROLES`' order and named by
    their role (the physics model by its mean over seeds where there is one); a role no row
    fills is left out."""
    by_name = {row["variant"]: row for row in task7_rows}
    chosen = [(next((by_name[n] for n in names if n in by_name), None), role)
              for names, role in SUMMARY_ROLES]
    system = next((row for row in task7_rows if "gate_share" in row), None)
    if system is not None:  # the final system, named by its seed and where it sends sequences
        learnt = by_name.get(TASK7_LONG.name, {}).get("parameters")
        if system["variant"] != GATED and learnt and system.get("parameters"):
            system = {**system, "parameters": system["parameters"] + learnt}  # holds both
        chosen[-1] = (system, f"gated system, seed {system['gate_seed']} (physics model on "
                              f"{system['gate_share']:.1%}, else learnt network)")
    return [{**row, "variant": role, "title": role} for row, role in chosen if row is not None]


def declare_tables(reference: list[dict], learnt: list[dict], physics: list[dict],
                   n_train: int | None = None, baseline_seeds: dict | None = None
                   ) -> dict[str, dict]:
    """The Task 7 table (the :func:`reference_rows`, the learnt sweep's summary and the
    :func:`physics_rows`) and its answer (:func:`summary_rows`), declared as in ``part2.json``;
    given the number of training sequences ``n_train``, the table counts each network's
    optimiser steps (:func:`with_steps`) instead of its epochs. ``baseline_seeds``: the Task 5
    sweep's summary row of the baseline U-Net, where it holds more than one seed: the answer
    shows it instead of the single Task 6 run, the full table beside that run."""
    swept = ([{**baseline_seeds, "variant": SWEEP_BASELINE}]
             if baseline_seeds is not None and baseline_seeds.get("seeds", 1) > 1 else [])
    after = next((i + 1 for i, row in enumerate(reference) if row["variant"] == "baseline U-Net"),
                 len(reference))  # the sweep's baseline right below the Task 6 run
    rows = [*reference[:after], *swept, *reference[after:], *learnt, *physics]
    columns = TASK7_COLUMNS
    if n_train is not None:
        rows = with_steps(rows, n_train)
        columns = {"steps" if k == "epochs" else k: "steps" if k == "epochs" else v
                   for k, v in TASK7_COLUMNS.items()}
    return {"task7": declare_table(rows, columns),
            "task7_summary": declare_table(summary_rows(rows), SUMMARY_COLUMNS)}


def with_steps(rows: list[dict], n_train: int) -> list[dict]:
    """``rows`` with each trained network's optimiser steps (``steps``: its epochs times the
    batches of ``n_train`` sequences at its recipe's batch size), a cost that does not depend
    on what else the machine was doing; rows without epochs or a known recipe are left as
    they are."""
    recipes = {"baseline U-Net": SPEC_RECIPE, SWEEP_BASELINE: SPEC_RECIPE,
               **{name: variant.recipe for name, variant in TASK7_BY_NAME.items()}}
    return [{**row, "steps": optimiser_steps(row["epochs"], n_train,
                                             recipes[row["variant"]].batch_size)}
            if row.get("epochs") and row["variant"] in recipes else row for row in rows]
