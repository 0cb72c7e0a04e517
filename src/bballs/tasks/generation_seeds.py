"""Notebook 05's generators trained again from other seeds: is one run representative?

Notebook 05 trains the DCGAN and the DDPM once. Here both are trained with
:data:`N_SEEDS` seeds (the notebook's seed first, so its checkpoints are reused), each with its
own epoch-selecting feature CNN and latent spread, sampled as in the notebook and scored by the
notebook's own five scoring CNNs (Fréchet distance to the test frames, as a ratio to the
real-vs-real floor) and by the blob detector (validity, count and position distances).

Two more runs of each generator take about 20 minutes on a 2-core CPU, so this is a command of
its own (``python -m bballs gen-seeds``, :func:`run`), not part of notebook 05: it writes
``results/lab3_gen_seeds.json`` under the digest of the data it trained on, and the notebook
shows it (:func:`recorded`) only for the same data and settings.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict

import torch

from bballs.core.files import OutputPaths, read_results, update_results
from bballs.data.frames import FrameData
from bballs.metrics import seed_summary
from bballs.tasks import sample_frechet, sample_validity
from bballs.tasks.generation import (
    Budget,
    FrechetSelection,
    budget,
    diffusion_samples,
    gan_samples,
    latent_scale,
    sampler_names,
    selected_epoch,
    train_diffusion,
    train_gan,
)

N_SEEDS = 3
QUICK_SEEDS = 2  # quick mode: enough seeds for a spread
SEEDS_FILE = "lab3_gen_seeds.json"
COMMAND = "python -m bballs gen-seeds"
MISSING = (f"The generators have not been trained from other seeds on these data files: "
           f"`{COMMAND}` trains them (about 20 minutes on a 2-core CPU), then run this notebook "
           f"again.")
METRICS = ("fd_over_floor", "valid", "count_tv", "position_tv")


def seeds(quick: bool, seed: int = 0) -> list[int]:
    """The seeds of the study: ``seed`` (the notebook's) and the next ones."""
    return list(range(seed, seed + (QUICK_SEEDS if quick else N_SEEDS)))


def study_settings(quick: bool, seed: int = 0) -> dict:
    """What a recorded study must match to be shown: seeds, recipes (without their seed),
    samples drawn, scoring CNNs and samplers, as they read back from JSON."""
    plan = budget(quick, seed)
    recipes = {name: {k: v for k, v in asdict(getattr(plan, name)).items() if k != "seed"}
               for name in ("gan", "diffusion", "features", "selection")}
    return json.loads(json.dumps({
        "seeds": seeds(quick, seed), "quick": quick, "recipes": recipes,
        "n_samples": plan.n_samples, "encoders": plan.encoders, "samplers": plan.samplers}))


def _suffix(seed: int, first: int) -> str:
    """Checkpoint names: the notebook's own for its seed, ``_seed<n>`` for the others."""
    return "" if seed == first else f"_seed{seed}"


def train_run(data: FrameData, plan: Budget, paths: OutputPaths, suffix: str,
              device: torch.device | str | None = None) -> tuple[dict[str, torch.Tensor], dict]:
    """Train (or reuse) one seed's generators as notebook 05 does and draw their samples:
    the frames of each sampler and what the run chose (epoch, latent spread, seconds)."""
    selector = sample_frechet.train_feature_encoder(
        data.train, data.val, plan.selection,
        paths.checkpoint(f"lab3/gen_features_select{suffix}"), device).model
    selection = FrechetSelection(selector, data.val.frames, plan.n_samples)
    gan = train_gan(data.train.frames, plan.gan, paths.checkpoint(f"lab3/gen_dcgan{suffix}"),
                    device, counts=data.train.counts, select=selection)
    scale, _ = latent_scale(gan.generator, selection)
    ddpm = train_diffusion(data.train, data.val, plan.diffusion,
                           paths.checkpoint(f"lab3/gen_ddpm{suffix}"), device)
    seed = plan.gan.seed
    samples = {"dcgan": gan_samples(gan.generator, plan.n_samples, seed=seed, scale=scale)}
    for key, (steps, eta) in plan.samplers.items():
        samples[key] = diffusion_samples(ddpm.model, plan.n_samples, steps, seed, eta)
    chosen = {"seed": seed, "selected_epoch": selected_epoch(gan.history),
              "latent_scale": scale,
              "training_seconds": {"dcgan": sum(gan.history.epoch_seconds),
                                   "ddpm": sum(ddpm.history.epoch_seconds)}}
    return samples, chosen


def score_run(encoders: list[torch.nn.Module], data: FrameData,
              samples: dict[str, torch.Tensor]) -> dict[str, dict[str, float]]:
    """Each sampler's Fréchet distance (and its ratio to the floor, mean and s.d. over the
    scoring CNNs), validity and count and position distances to the test frames."""
    fd = {row["key"]: row for row in sample_frechet.frechet_rows(
        encoders, data.test.frames, {"floor": data.val.frames, **samples}, floor="floor")}
    rows = sample_validity.compare_counts(
        [sample_validity.validity_row("test", data.test.frames, "test"),
         *[sample_validity.validity_row(key, frames, key) for key, frames in samples.items()]])
    valid = {row["key"]: row for row in rows}
    return {key: {"fd": fd[key]["fd"], "fd_over_floor": fd[key]["fd_over_floor"],
                  "fd_over_floor_sd": fd[key]["fd_over_floor_sd"],
                  **{k: valid[key][k] for k in ("valid", "count_tv", "position_tv")}}
            for key in samples}


def summary_rows(runs: list[dict], names: dict[str, str]) -> list[dict]:
    """Per sampler, the mean and sample s.d. over the runs of :data:`METRICS` and each run's
    distance ratio (``fd_runs``)."""
    rows = []
    for key, name in names.items():
        summary = seed_summary([run["scores"][key] for run in runs], METRICS)
        rows.append({"key": key, "model": name, "seeds": len(runs), **summary,
                     **{metric: summary[f"{metric}_mean"] for metric in METRICS},
                     "fd_runs": [run["scores"][key]["fd_over_floor"] for run in runs]})
    return rows


def run(data: FrameData, paths: OutputPaths, quick: bool, source: dict,
        device: torch.device | str | None = None, seed: int = 0) -> dict:
    """Train (or reuse the checkpoints of) every seed's generators, score them on the
    notebook's scoring CNNs and record the study in ``results/lab3_gen_seeds.json`` with
    ``source`` (the data's :func:`~bballs.data.identity.data_source`); returns the record."""
    first = budget(quick, seed)
    encoders = [run.model for run in sample_frechet.train_feature_encoders(
        data.train, data.val, first.features,
        [paths.checkpoint(f"lab3/gen_features_{k}") for k in range(first.encoders)], device)]
    runs = []
    for one in seeds(quick, seed):
        started = time.perf_counter()
        plan = budget(quick, one)
        samples, chosen = train_run(data, plan, paths, _suffix(one, seed), device)
        runs.append({**chosen, "scores": score_run(encoders, data, samples)})
        print(f"seed {one}: " + ", ".join(
            f"{key} {s['fd_over_floor']:.2f}× floor, {s['valid']:.1%} valid"
            for key, s in runs[-1]["scores"].items())
            + f" ({time.perf_counter() - started:.0f} s)", flush=True)
    record = {"data_source": source, "settings": study_settings(quick, seed), "runs": runs,
              "summary": summary_rows(runs, sampler_names(first))}
    update_results(paths.results / SEEDS_FILE, "seeds", record)
    return record


def recorded(paths: OutputPaths, source: dict, quick: bool, seed: int = 0,
             first: dict | None = None) -> dict | None:
    """The recorded study if ``results/lab3_gen_seeds.json`` holds one for the data of
    ``source`` with these settings and, given the notebook's own Fréchet rows ``first`` (by
    sampler key), a first run that scored as the notebook's run did (a run trained elsewhere,
    e.g. on another machine, is not the notebook's); else None."""
    path = paths.results / SEEDS_FILE
    record = read_results(path).get("seeds") if path.is_file() else None
    if (not record or record["data_source"].get("digest") != source.get("digest")
            or record["settings"] != study_settings(quick, seed)):
        return None
    if first is not None and not _same_first_run(record["runs"][0]["scores"], first):
        return None
    return record


def _same_first_run(scores: dict, first: dict) -> bool:
    """Whether the study's first run scored as the notebook's run (``first``: its Fréchet rows
    by sampler key) on every sampler both hold."""
    shared = scores.keys() & first.keys()
    return bool(shared) and all(
        abs(scores[key]["fd_over_floor"] - first[key]["fd_over_floor"])
        <= 1e-6 * abs(first[key]["fd_over_floor"]) for key in shared)


SEEDS_COLUMNS = {"model": "generator (sampler)", "fd_over_floor": "× floor",
                 "fd_runs_text": "runs (× floor)", "valid": "valid (%)",
                 "count_tv": "count TV", "position_tv": "position TV"}


def tables(section: dict) -> dict[str, dict]:
    """The seed study's table (``gen_seeds``) when the ``generative`` section holds it."""
    study = section.get("seeds")
    if not study:
        return {}
    rows = [_with_runs_text(row) for row in study["summary"]]
    return {"gen_seeds": {"columns": SEEDS_COLUMNS, "rows": rows, "percent": ["valid"],
                          "decimals": {"fd_over_floor": 2, "count_tv": 3, "position_tv": 3}}}


def _with_runs_text(row: dict) -> dict:
    """A summary row with its runs' ratios as one cell of text (``fd_runs_text``)."""
    return {**row, "fd_runs_text": ", ".join(f"{value:.2f}" for value in row["fd_runs"])}

