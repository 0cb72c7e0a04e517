"""The Lab 3 report's sentences on the generators (``{text[gen_...]}``): the four goals and
each sampler against them, the optimiser steps, the validity intervals and the further training
runs of ``python -m bballs gen-seeds``."""

from __future__ import annotations

from bballs.metrics import in_words, marked_verdict, seed_difference
from bballs.training.loop import optimiser_steps

VALID_GOAL, FRECHET_GOAL, SHARE_GOAL = 0.85, 3.0, 0.10  # the goals set for the generators
#: each goal: its name, the result it reads and whether a value meets it
GOALS = (("validity", "valid", lambda v: v >= VALID_GOAL),
         ("distance", "fd_over_floor", lambda v: v <= FRECHET_GOAL),
         ("count mix", "count_tv", lambda v: v <= SHARE_GOAL),
         ("positions", "position_tv", lambda v: v <= SHARE_GOAL))


def generator_goals(lab3: dict) -> dict[str, str]:
    """The goals of :data:`GOALS` in words with why they are set where they are
    (``gen_goal_list``), and each sampler against them: which it meets and which it misses with
    the value that misses (``gen_goals``); empty where the results lack the scores."""
    generative = lab3.get("generative") or {}
    validity, frechet = generative.get("validity") or {}, generative.get("frechet") or {}
    samplers = [(key, row["set"]) for key, row in frechet.items()
                if key in validity and row.get("fd_over_floor") is not None
                and key not in ("floor", "test")]
    if not samplers:
        return {"gen_goal_list": "", "gen_goals": ""}
    results = {key: {**validity[key], "fd_over_floor": frechet[key]["fd_over_floor"]}
               for key, _ in samplers}
    missed = {key: [(name, row[field]) for name, field, meets in GOALS
                    if not meets(row[field])] for key, row in results.items()}

    def verdict(key: str, name: str) -> str:
        misses = missed[key]
        if not misses:
            return f"the {name} meets all {len(GOALS)}"
        values = ", ".join(f"{goal} {_goal_value(goal, value)}" for goal, value in misses)
        return f"the {name} meets {len(GOALS) - len(misses)} of {len(GOALS)} (missed: {values})"

    return {"gen_goal_list": _goal_list(validity, frechet),
        "gen_goals": "Against the four goals, in the first run of each generator: " + "; ".join(
            verdict(key, name) for key, name in samplers) + "."}


def _goal_list(validity: dict, frechet: dict) -> str:
    """The goals in words, each beside what real frames reach (``gen_goal_list``)."""
    test, train = validity.get("test") or {}, validity.get("train") or {}
    defects = [row["fd_over_floor"] for key, row in frechet.items()
               if key not in validity and key != "floor" and row.get("fd_over_floor")]
    real = (f", {VALID_GOAL / test['valid']:.0%} of the real test frames' {test['valid']:.1%}"
            if test.get("valid") else "")
    mildest = (f", {min(defects) / FRECHET_GOAL:.0f} times below the mildest calibrated defect "
               f"({min(defects):.1f}×)" if defects else "")
    sampling = (f", about twice what the training frames differ by ({train['count_tv']:.3f} "
                f"and {train['position_tv']:.3f})"
                if {"count_tv", "position_tv"} <= train.keys() else "")
    return (f"We set four goals for a generator's {frechet['floor'].get('n', 1000):,} samples "
            f"(the first two before developing the recipes below), each against real frames: "
            f"(1) at least {VALID_GOAL:.0%} physically valid{real}; "
            f"(2) a Fréchet distance within {FRECHET_GOAL:g}× the real-vs-real floor{mildest}; "
            f"(3) the shares of one, two and three blobs and (4) the blob positions on a 4 × 4 "
            f"grid, each within a total-variation distance of {SHARE_GOAL:.2f} of the test "
            f"frames'{sampling}. Validity alone is lenient, as blurred real frames still pass "
            f"it (Section 4.4), so the distance goal guards it. The DCGAN is told the ball "
            f"count, so it meets (3) largely by construction.")


def _goal_value(goal: str, value: float) -> str:
    return {"validity": f"{value:.1%}", "distance": f"{value:.2f}×"}.get(goal, f"{value:.3f}")


def generator_steps(lab3: dict) -> str:
    """Each generator's optimiser steps, a cost that does not depend on the machine's load, as
    a parenthesis (empty where the results do not say): epochs times the batches of the
    training frames."""
    generative = lab3.get("generative") or {}
    n, budget = (generative.get("frames") or {}).get("train"), generative.get("budget") or {}
    epochs = generative.get("epochs") or {}
    if not n or not all(k in budget for k in ("gan", "diffusion")) or not epochs:
        return ""
    steps = {key: optimiser_steps(epochs[name], n, budget[key]["batch_size"])
             for key, name in (("gan", "dcgan"), ("diffusion", "ddpm"))}
    return (f" In optimiser steps: {steps['gan']:,} for the DCGAN (each updates the "
            f"discriminator, then the generator) and {steps['diffusion']:,} for the DDPM.")


def feature_accuracies(lab3: dict) -> str:
    """The Fréchet feature CNNs' test counting accuracies, one per CNN in seed order (the
    lowest alone where the results keep only that)."""
    encoder = (lab3.get("generative") or {}).get("feature_encoder") or {}
    each = encoder.get("test_accuracies")
    if each:
        return "test accuracies " + ", ".join(f"{a:.1%}" for a in each)
    return f"test accuracy at least {encoder.get('test_accuracy', float('nan')):.1%}"


def valid_intervals(lab3: dict) -> str:
    """The 95 % intervals of the valid shares of the samples and the test frames, as a
    parenthesis (empty where the results hold none): how far a fresh draw of as many samples
    could move each share."""
    validity = (lab3.get("generative") or {}).get("validity") or {}
    named = [("DDPM", "ddpm_ancestral"), ("DCGAN", "dcgan"), ("test frames", "test")]
    parts = [f"{name} {row['valid_low']:.1%} to {row['valid_high']:.1%}" for name, key in named
             if "valid_low" in (row := validity.get(key) or {})]
    if len(parts) < len(named):
        return ""
    n = validity["dcgan"]["n"]
    return f" (95% intervals over {n:,} frames each: {'; '.join(parts)})"


def _signed(row: dict, metric: str, lower_better: bool) -> dict:
    """``row``'s ``metric`` (as ``value``), negated where lower is better, for
    :func:`seed_difference`, where higher is better."""
    sign = -1 if lower_better else 1
    return {"seeds": row["seeds"], "value": sign * row[f"{metric}_mean"],
            "value_std": row.get(f"{metric}_std")}


#: what the generators are compared on: (metric, in words, whether lower is better)
#: (the count mix is left out: the DCGAN is told the count, so it wins that by construction)
COMPARED = (("fd_over_floor", "the distance", True), ("valid", "validity", False),
            ("position_tv", "the positions", True))


def _verdicts(dcgan: dict, ddpm: dict) -> str:
    """The two generators compared on each of :data:`COMPARED`, with seed verdicts, the
    metrics with the same verdict named together ("on the distance and on the positions the
    DDPM is better beyond seed noise; on validity, within seed noise")."""
    names = ("the DCGAN", "the DDPM")
    by_verdict: dict[str, list[str]] = {}
    for metric, words, lower in COMPARED:
        pair = (_signed(dcgan, metric, lower), _signed(ddpm, metric, lower))
        verdict = marked_verdict(seed_difference(*pair, "value", names))
        by_verdict.setdefault(verdict, []).append(f"on {words}")
    return "; ".join(f"{in_words(where)}{',' * verdict.startswith('within')} {verdict}"
                     for verdict, where in by_verdict.items())


def _met(runs: list[dict], key: str) -> str:
    """How many runs meet the validity and the distance goal (:data:`GOALS`)."""
    scores = [run["scores"][key] for run in runs]
    met = {name: sum(meets(s[field]) for s in scores) for name, field, meets in GOALS}
    return (f"{met['validity']} of {len(scores)} runs meet the validity goal and "
            f"{met['distance']} the distance goal")


SAMPLERS = ("dcgan", "ddpm_ancestral")  # the generators the sentences compare


def _study_rows(lab3: dict) -> dict[str, dict] | None:
    """The seed study's summary rows by sampler key, None when it was not run."""
    study = (lab3.get("generative") or {}).get("seeds") or {}
    rows = {row["key"]: row for row in study.get("summary", [])}
    return rows if set(SAMPLERS) <= rows.keys() else None


def _one_run(lab3: dict) -> dict[str, dict]:
    """The notebook's run as the seed study's summary rows (one seed, no spread)."""
    generative = lab3["generative"]
    return {key: {"seeds": 1, "fd_over_floor_mean": generative["frechet"][key]["fd_over_floor"],
                  "valid_mean": generative["validity"][key]["valid"]}
            for key in SAMPLERS}


def _ratio(row: dict) -> str:
    spread = f" ± {row['fd_over_floor_std']:.2f}" if row.get("fd_over_floor_std") else ""
    return f"{row['fd_over_floor_mean']:.2f}{spread}"


def _valid(row: dict) -> str:
    spread = f" ± {row['valid_std']:.1%}" if row.get("valid_std") else ""
    return f"{row['valid_mean']:.1%}{spread}"


def _one_run_ranking(lab3: dict) -> str:
    """The conclusion's distances without the seed study: one run, no ranking."""
    rows = _one_run(lab3)
    return (f"In one training run each, the DDPM lies at {_ratio(rows['ddpm_ancestral'])} and "
            f"the DCGAN at {_ratio(rows['dcgan'])} times the floor on the counting CNNs' "
            f"features; with one run of each, their ranking is not established")


def _other_epochs(lab3: dict, runs: list[dict]) -> str:
    """The epochs the further runs kept, as a parenthesis, with a warning when a run kept the
    last one (its best epoch may lie beyond the budget) (``gen_runs_epochs``)."""
    last = (lab3["generative"].get("epochs") or {}).get("dcgan")
    kept = ", ".join(str(run["selected_epoch"]) for run in runs[1:])
    warning = (f"; a run that keeps epoch {last} may have wanted more"
               if last and any(run["selected_epoch"] == last for run in runs) else "")
    return f" (the other runs: epochs {kept}{warning})"


def headline(lab3: dict) -> str:
    """The summary's sentence on the generators (``gen_headline``): validity and distance over
    the seed study's runs when it was run, else of the notebook's one run."""
    rows = _study_rows(lab3) or _one_run(lab3)
    n = rows["dcgan"]["seeds"]
    runs = f"over {n} training runs each" if n > 1 else "in one training run each"
    real = lab3["generative"]["validity"]["test"]["valid"]
    dcgan, ddpm = rows["dcgan"], rows["ddpm_ancestral"]
    return (f"a diffusion model draws {_valid(ddpm)} physically valid frames (real frames "
            f"{real:.1%}) at {_ratio(ddpm)} times the real-vs-real Fréchet floor, and a "
            f"count-conditioned DCGAN {_valid(dcgan)} at {_ratio(dcgan)} times ({runs}; "
            f"Section 4)")


def seed_texts(lab3: dict) -> dict[str, str]:
    """The further training runs in words: the section's paragraph (``gen_runs``) and the
    conclusion's distances and goals (``gen_runs_ranking``: no verdict between the two, whose
    recipes differ in more than the model); without the study, what is missing and how to run
    it."""
    rows = _study_rows(lab3)
    if rows is None:
        return {"gen_runs": "The generators have not been trained from further seeds on these "
                             "data files (the command of Section 6 does it).",
                "gen_runs_ranking": _one_run_ranking(lab3), "gen_runs_epochs": ""}
    study = lab3["generative"]["seeds"]
    runs, dcgan, ddpm = study["runs"], rows["dcgan"], rows["ddpm_ancestral"]
    seeds = [run["seed"] for run in runs]
    verdicts = _verdicts(dcgan, ddpm)
    kept = ", ".join(str(run["selected_epoch"]) for run in runs)
    spreads = ", ".join(f"{run['latent_scale']:g}" for run in runs)
    paragraph = (
        f"Each generator was trained {len(runs)} times, from seeds {seeds[0]} to {seeds[-1]} "
        f"(a command of its own, Section 6; the run of Sections 4.2 to 4.5 is the first), each run "
        f"with its own epoch-selecting CNN and latent spread (epochs kept: {kept}; spreads "
        f"{spreads}), and every run was scored on the same "
        f"{lab3['generative']['feature_encoder']['count']} CNNs (Table 4.4, mean ± standard "
        f"deviation over the runs). Between the generators (the DDPM sampled by ancestral "
        f"steps): {verdicts}. Against the goals, for the DCGAN {_met(runs, 'dcgan')}; for the "
        f"DDPM {_met(runs, 'ddpm_ancestral')}.")
    return {"gen_runs": paragraph, "gen_runs_epochs": _other_epochs(lab3, runs),
            "gen_runs_ranking": (
                f"Over {len(runs)} training runs of each (Section 4.6), the DDPM lies at "
                f"{_ratio(ddpm)} and the DCGAN at {_ratio(dcgan)} times the floor on the counting "
                f"CNNs' features. Against the goals, for the DCGAN {_met(runs, 'dcgan')}; for the "
                f"DDPM {_met(runs, 'ddpm_ancestral')}")}
