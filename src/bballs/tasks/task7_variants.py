"""Task 7 on generator variants: the models trained on the project's files (the physics model,
the learnt network at the Task 6 budget), applied without retraining to sequence files from
variants of the generator (:mod:`bballs.data.variants`), alone and as the gated final system
whose threshold is calibrated on each variant's own first sequences (inputs and the frames that
follow, as the training split of an official file would give them).

With re-identification (:func:`reidentified_model`) the physics model is instead trained on the
variant's own training sequences, as notebook 02 trains it on whatever file it is given: its
constants, number of sub-steps and speed rule are then the variant's, read from its frames."""

from __future__ import annotations

import re
import time
from dataclasses import replace
from pathlib import Path

from bballs.core.files import OutputPaths, read_results, update_results
from bballs.data.identity import data_source
from bballs.data.variants import OBSERVATIONS, VARIANTS, require_known, variant_sequences
from bballs.metrics import video_scores
from bballs.models.spec import N_FRAMES_IN
from bballs.physics_model import inverse_predictor as ipred
from bballs.tasks import part2_recipes, part2_task7, prediction, task7_bench
from bballs.training import experiments
from bballs.training.checkpoints import fingerprint_digest

RESULTS_FILE = "task7_variants.json"


#: Training sequences of a variant for re-identification, drawn apart from the scored ones.
REIDENTIFY_SEQUENCES = 1000
TRAIN_SEED_OFFSET = 1000


def reidentify_config(seed: int = 0) -> ipred.InverseConfig:
    """The physics model's configuration for re-identification on a variant: the default,
    identified on half as many sequences and with a shorter encoder training (the encoder only
    gives the first guess)."""
    return ipred.InverseConfig(seed=seed, sysid_sequences=128, tag="variant",
                               encoder=replace(ipred.ENCODER_RECIPE, epochs=5))


def reidentified_model(name: str, paths: OutputPaths | None, config: ipred.InverseConfig,
                       n_train: int = REIDENTIFY_SEQUENCES, progress: bool = True):
    """The physics model trained on ``n_train`` sequences of the variant ``name`` (with a
    checkpoint in ``paths`` when given, reused while its data and configuration match)."""
    frames, counts = variant_sequences(name, n_train, 2 * N_FRAMES_IN,
                                       TRAIN_SEED_OFFSET + config.seed)
    slug = "".join(c if c.isalnum() else "_" for c in name).strip("_")[:40]
    checkpoint = paths.checkpoint(f"task7/variants/{slug}_seed{config.seed}") if paths else None
    return ipred.train(frames, counts, config, checkpoint, progress)


def score_variant(name: str, physics_model, learnt, n_calibrate: int = 500, n_eval: int = 1000,
                  seed: int = 0, fixed_gate: dict | None = None) -> dict:
    """Scores of the physics model (counts read from the frames), the learnt network and the
    gated system on ``n_eval`` sequences of the variant, the gate's threshold chosen again on
    ``n_calibrate`` other sequences of the variant (as it would be on the training split of
    files we did not make), with the share of sequences each path takes; with ``fixed_gate``
    (a gate calibrated once on our own files), also the system that keeps that gate
    (``fixed_gate``: its scores and physics share)."""
    started = time.perf_counter()
    frames, _ = variant_sequences(name, n_calibrate + n_eval, 2 * N_FRAMES_IN, seed)
    inputs, targets = frames[:, :N_FRAMES_IN], frames[:, N_FRAMES_IN:]
    gate = part2_task7.calibrate(physics_model, learnt, inputs[:n_calibrate],
                                 targets[:n_calibrate])
    forecasts = (*physics_model.predict_with_residual(inputs[n_calibrate:], N_FRAMES_IN),
                 learnt(inputs[n_calibrate:]))
    final, _ = part2_task7.score_gate(*forecasts, gate, targets[n_calibrate:])
    physics = prediction.table_metrics(final["physics_alone"])
    fixed = {}
    if fixed_gate is not None:
        kept, _ = part2_task7.score_gate(*forecasts, fixed_gate, targets[n_calibrate:])
        fixed = {"fixed_gate": {**prediction.table_metrics(kept),
                                "physics_share": kept["physics_share"]}}
    return {"variant": name, "sequences": n_eval, "calibration_sequences": n_calibrate,
            **_ceiling(name, targets[n_calibrate:], n_calibrate + n_eval, seed),
            "physics_model": {**physics, "exact_share": final["physics_exact_share"]},
            "learnt": prediction.table_metrics(final["learnt_alone"]),
            "final_system": prediction.table_metrics(final), **fixed,
            "physics_share": final["physics_share"], "threshold": final["threshold"],
            **_world(physics_model), "seconds": time.perf_counter() - started}


def _ceiling(name: str, targets, n: int, seed: int) -> dict:
    """For a variant whose stored frames lose information (noise, 8-bit), the scores of a
    perfect forecast: the frames as rendered, scored against ``targets`` as stored (the last
    ``len(targets)`` of ``n`` sequences); nothing for the others (a perfect score)."""
    if name not in OBSERVATIONS:
        return {}
    rendered, _ = variant_sequences(name, n, 2 * N_FRAMES_IN, seed, observed=False)
    perfect = rendered[-len(targets):, N_FRAMES_IN:]
    return {"ceiling": prediction.table_metrics(video_scores(perfect, targets))}


def _world(physics_model) -> dict:
    """The world a physics model was identified with (nothing for a stand-in)."""
    constants = getattr(physics_model, "constants", None)
    if constants is None:
        return {}
    units = constants.in_box_units()
    shared = units["speed_hypothesis"] == "shared"
    radius = ("per ball, first guess " if units.get("radius_hypothesis") == "per ball" else "")
    bright = f", brightness {units['peak']:.2f}" if units.get("peak", 1.0) != 1.0 else ""
    return {"constants": units, "world": (
        f"radius {radius}{units['radius']:.2f}, power {units['exponent']:.2f}, "
        f"{units['substeps']} sub-steps, speed {'shared' if shared else 'per ball'}{bright}"),
        "train_seconds": getattr(physics_model, "train_seconds", None)}


#: Quick mode's variants: our generator, one observation change inside the physics model's
#: family and one change outside it.
QUICK_VARIANTS = ("ours", "Gaussian noise (std 0.02)", "bounces keep 80% of the speed (outside)")


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
            f"(physics path {row['physics_share']:.0%})  {row['seconds']:.0f} s"
            + (f" | {row['world']}" if "world" in row else ""))


def trained_models(data_dir: str | Path, paths: OutputPaths, seed: int = 0):
    """The physics model, the learnt network (as a predictor) trained on the files in
    ``data_dir`` for ``seed`` (reused from notebook 02's checkpoints, trained if missing) and
    their :func:`models_key`."""
    split = task7_bench.load_split(data_dir)
    physics_model = ipred.train(split["train"], split["train_counts"],
                                ipred.InverseConfig(seed=seed),
                                task7_bench.checkpoint_path(paths, seed))
    context = experiments.Context(paths, Path(data_dir))
    variant = part2_recipes.TASK7_LONG
    model, row = experiments.final_model(part2_recipes.TASK7, variant, seed, context)
    return (physics_model, part2_recipes.rollout_predictor(variant, model),
            models_key(physics_model, row["fingerprint"]))


def models_key(physics_model, learnt_fingerprint: str) -> str:
    """What identifies the two models the variant rows were computed with: the physics model's
    training fingerprint and the learnt network's (both hold their training data's digest), and
    the physics model's fitting procedure."""
    return fingerprint_digest({"physics": physics_model.run_id, "learnt": learnt_fingerprint,
                               "fit": ipred.FIT_PROCEDURE})


def recorded_rows(paths: OutputPaths, key: str) -> list[dict]:
    """The variant rows of ``results/task7_variants.json`` (``bench-physics --variants``) if
    they were computed with the models of ``key`` (:func:`models_key`), else none."""
    results = read_results(paths.results / RESULTS_FILE)
    return results.get("rows", []) if results.get("models") == key else []


def reidentified_benchmark(learnt, paths: OutputPaths | None,
                           names=tuple(VARIANTS), config: ipred.InverseConfig | None = None,
                           n_train: int = REIDENTIFY_SEQUENCES, progress: bool = True,
                           **options) -> list[dict]:
    """:func:`score_variant` for every variant named with the physics model re-identified on
    that variant's own training sequences (:func:`reidentified_model`)."""
    config = config or reidentify_config(options.get("seed", 0))
    return [{**row, "training_sequences": n_train} for name in names
            for row in benchmark(reidentified_model(name, paths, config, n_train, progress),
                                 learnt, (name,), progress, **options)]


def run(data_dir: str | Path, paths: OutputPaths, seed: int = 0,
        names: tuple[str, ...] = tuple(VARIANTS), reidentify: bool = True) -> list[dict]:
    """Benchmark the variants ``names`` and record the rows in ``results/task7_variants.json``:
    the models trained on the files in ``data_dir`` (``rows``) and, with ``reidentify``, the
    physics model identified again on each variant (``reidentified_rows``). Rows of other
    variants already recorded for the same files are kept."""
    require_known(names)
    physics_model, learnt, key = trained_models(data_dir, paths, seed)
    ours = task7_bench.load_split(data_dir)["train"][:part2_task7.GATE_SEQUENCES]
    our_gate = part2_task7.calibrate(physics_model, learnt, ours[:, :N_FRAMES_IN],
                                     ours[:, N_FRAMES_IN:2 * N_FRAMES_IN])
    results = paths.results / RESULTS_FILE
    recorded = read_results(results)
    if (recorded.get("data_source", {}).get("digest") != data_source(data_dir)["digest"]
            or recorded.get("fit_procedure") != ipred.FIT_PROCEDURE):
        recorded = {}  # rows of other files, or fitted another way, are not kept
    update_results(results, "fit_procedure", ipred.FIT_PROCEDURE)
    update_results(results, "data_source", data_source(data_dir))
    update_results(results, "models_seed", seed)
    kept = recorded.get("rows", []) if recorded.get("models") == key else []
    rows = merged_rows(kept, benchmark(physics_model, learnt, names, seed=seed,
                                       fixed_gate=our_gate))
    update_results(results, "models", key)
    update_results(results, "rows", rows)
    if reidentify:
        again = merged_rows(recorded.get("reidentified_rows", []), reidentified_benchmark(
            learnt, paths, names, seed=seed, n_calibrate=300, n_eval=500))
        update_results(results, "reidentified_rows", again)
        update_results(results, "reidentified_summary", targets(again))
    return rows


def merged_rows(recorded: list[dict], new: list[dict]) -> list[dict]:
    """``new`` rows replacing the recorded rows of the same variants, in :data:`VARIANTS`
    order."""
    by_name = {r["variant"]: r for r in recorded} | {r["variant"]: r for r in new}
    return [by_name[name] for name in VARIANTS if name in by_name]


COLUMNS = {"variant": "generator variant", "physics_ssim": "physics SSIM",
           "physics_psnr_of_mse": "physics dB", "exact_share": "exact %",
           "learnt_ssim": "learnt SSIM", "learnt_psnr_of_mse": "learnt dB",
           "final_ssim": "final SSIM", "final_psnr_of_mse": "final dB",
           "physics_share": "physics path %",
           "fixed_psnr_of_mse": "final dB (our gate)"}  # dB: PSNR of the mean MSE
PERCENT = ("exact_share", "physics_share")


def declare_table(rows: list[dict], columns: dict[str, str] = COLUMNS) -> dict:
    """Flat rows (:func:`table_rows`) as a table declared in a results file."""
    return {"columns": columns, "rows": rows, "percent": list(PERCENT)}


def variant_title(name: str) -> str:
    """A variant's name as tables print it: "×1.4" and "4×" for the name's "x1.4" and "4x"."""
    return re.sub(r"\bx(?=\d)|(?<=\d)x\b", "×", name)


def table_rows(rows: list[dict]) -> list[dict]:
    """One flat row per variant for :data:`COLUMNS` (SSIM and PSNR of the mean MSE of each
    path, the physics model's exact share and the share of sequences the gate gives it)."""
    flat = []
    for row in rows:
        entry = {"variant": variant_title(row["variant"]),
                 "exact_share": row["physics_model"]["exact_share"],
                 "physics_share": row["physics_share"]}
        for path, prefix in (("physics_model", "physics"), ("learnt", "learnt"),
                             ("final_system", "final")):
            entry[f"{prefix}_ssim"] = row[path]["ssim"]  # the tables format the scores
            entry[f"{prefix}_psnr_of_mse"] = row[path]["psnr_of_mse"]
        if "fixed_gate" in row:  # the gate calibrated on our own files, kept unchanged
            entry["fixed_psnr_of_mse"] = row["fixed_gate"]["psnr_of_mse"]
        flat.append(entry)
    return flat


def gate_summary(rows: list[dict]) -> dict[str, float]:
    """Over the variants, the worst difference between the gated system and each path alone
    (SSIM and PSNR of the mean MSE; negative: the system is below that path there) and, where
    the rows hold it, between the system with the gate calibrated on our files and the learnt
    network (``vs_learnt_fixed_gate_psnr_of_mse``)."""
    def worst(path: str, metric: str) -> float:
        return float(min(r["final_system"][metric] - r[path][metric] for r in rows))

    summary = {f"vs_{name}_{metric}": worst(path, metric)
               for name, path in (("learnt", "learnt"), ("physics", "physics_model"))
               for metric in ("ssim", "psnr_of_mse")}
    fixed = [r for r in rows if "fixed_gate" in r]  # the gate kept as calibrated on our files
    if fixed:
        summary["vs_learnt_fixed_gate_psnr_of_mse"] = float(min(
            r["fixed_gate"]["psnr_of_mse"] - r["learnt"]["psnr_of_mse"] for r in fixed))
    return summary


OUTSIDE = "(outside)"  # variants the physics model cannot express carry this in their name


TARGET_SSIM, TARGET_PSNR_OF_MSE = 0.99, 35.0  # within the family (beyond a perfect forecast)


def met_target(row: dict) -> bool:
    """Whether the physics model reaches the targets on a variant: SSIM within
    ``1 - TARGET_SSIM`` of a perfect forecast's and the mean squared error it adds to a perfect
    forecast's at most that of :data:`TARGET_PSNR_OF_MSE`. A perfect forecast scores SSIM 1 and
    MSE 0 unless the stored frames lose information (noise, 8-bit): then its scores are the
    variant's ``ceiling``."""
    ceiling = row.get("ceiling", {})
    physics = row["physics_model"]
    added = physics["mse"] - ceiling.get("mse", 0.0)
    return (physics["ssim"] >= ceiling.get("ssim", 1.0) - (1 - TARGET_SSIM)
            and added <= 10 ** (-TARGET_PSNR_OF_MSE / 10))


def targets(rows: list[dict]) -> dict:
    """The benchmark's targets: within the family the physics model can express (our own
    generator not counted), its worst
    SSIM and PSNR of the mean MSE (and where each is), how many variants meet :func:`met_target` and
    the ceilings of the lossy ones; outside it, :func:`gate_summary`."""
    inside = [r for r in rows if OUTSIDE not in r["variant"] and r["variant"] != "ours"] or rows
    worst = min(inside, key=lambda r: r["physics_model"]["psnr_of_mse"])
    worst_ssim = min(inside, key=lambda r: r["physics_model"]["ssim"])
    return {"inside_min_ssim": worst_ssim["physics_model"]["ssim"],
            "inside_min_ssim_variant": worst_ssim["variant"],
            "inside_min_psnr_of_mse": worst["physics_model"]["psnr_of_mse"],
            "inside_worst_variant": worst["variant"],
            "inside_met": sum(met_target(r) for r in inside), "inside_variants": len(inside),
            "inside_missed": [r["variant"] for r in inside if not met_target(r)],
            "ceilings": [{"variant": r["variant"], **r["ceiling"]} for r in inside
                         if "ceiling" in r],
            **gate_summary(rows)}


REIDENTIFIED_COLUMNS = {"variant": "generator variant", "world": "world identified",
                        **{k: v for k, v in COLUMNS.items()
                           if k not in ("variant", "fixed_psnr_of_mse")}}


def reidentified_table_rows(rows: list[dict]) -> list[dict]:
    """:func:`table_rows` of the re-identification benchmark, with the world each variant's
    physics model was identified with."""
    return [{**flat, "world": row["world"]} for flat, row in zip(table_rows(rows), rows)]


def reidentified_record(rows: list[dict]) -> dict:
    """What notebook 02 keeps of the re-identification benchmark: rows, table and targets."""
    table = declare_table(reidentified_table_rows(rows), REIDENTIFIED_COLUMNS)
    return {"rows": rows, "tables": {"task7_reidentified": table}, "summary": targets(rows),
            **{k: rows[0][k] for k in ("training_sequences", "calibration_sequences",
                                       "sequences")}}


def recorded_reidentified(paths: OutputPaths, data_dir: str | Path) -> dict:
    """:func:`reidentified_record` of the rows in ``results/task7_variants.json`` if its learnt
    network was trained on the files in ``data_dir`` and the physics model fitted as it is now
    (:data:`~ipred.FIT_PROCEDURE`), else empty (with a line saying how to compute them)."""
    results = read_results(paths.results / RESULTS_FILE)
    same_data = results.get("data_source", {}).get("digest") == data_source(data_dir)["digest"]
    current = results.get("fit_procedure") == ipred.FIT_PROCEDURE
    if results.get("reidentified_rows") and same_data and current:
        return reidentified_record(results["reidentified_rows"])
    print("no re-identification benchmark for these files yet: "
          "python -m bballs bench-physics --variants")
    return {}
