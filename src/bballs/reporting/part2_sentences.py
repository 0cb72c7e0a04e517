"""Generated Part 2 sentences of the Project 1 report: rankings stated only as far as the
recorded seeds support them."""

from __future__ import annotations

from bballs.core.numbers import count_word
from bballs.metrics import MIN_SEEDS, in_words, narrowly, seed_difference
from bballs.reporting import part2_evaluation_text as evaluation
from bballs.reporting.tables import minus_sign
from bballs.tasks.part2_recipes import (
    BASELINE_SWEEP,
    TASK7_BY_NAME,
    TASK7_CONTROL,
    TASK7_LONG,
)
from bballs.tasks.part2_task7 import seeds_phrase

# the learnt network's chain of changes (Table 7), each measured against the row before it
GAIN_CHAIN = (("unet+bs16+cosine", ""), ("predictor", "the frame predictor"),
              ("predictor+sym", "symmetries"), ("predictor+sym+time", "time reversal"),
              ("predictor+sym+time+bce", "binary cross-entropy"),
              (TASK7_LONG.name, "the Task 6 budget"))
MEASURE = evaluation.MEASURE  # PSNR of the mean MSE ranks Part 2 predictors
ESTABLISHED = "beyond seed noise"  # the end of a gain's verdict that establishes it
# Task 5: each skip type against the addition-skip U-Net of the sweep (BASELINE_SWEEP, Table 4)
SKIP_CHANGES = (("unet-no-skips", "without skips"),
                ("unet-concat-skips", "concatenation instead of addition"))
PHYSICS_MEAN = "physics model (counts read from the frames, mean of seeds)"
# the comparisons the Part 2 answers rest on (higher, lower): Table 7 rows
HEADLINE_PAIRS = ((TASK7_LONG.name, "baseline U-Net"), ("baseline U-Net", "last frame"),
                  (PHYSICS_MEAN, TASK7_LONG.name),
                  # why the physics prior was dropped: every frame predictor row against it
                  *((name, "physics-prior+sym") for name, _ in GAIN_CHAIN[1:5]))


def sentences(part2: dict) -> dict[str, str]:
    """Every generated Part 2 sentence of the report, by placeholder name (``{text[...]}``)."""
    rows = {r["variant"]: r for r in (part2.get("learnt") or {}).get("ablation") or []}
    chain = [(phrase, *_gain_verdict(rows[before], rows[after]),
              _ssim_change(rows[before], rows[after]), _spread(rows[before], rows[after]))
             for (before, _), (after, phrase) in zip(GAIN_CHAIN, GAIN_CHAIN[1:])
             if before in rows and after in rows]
    gains = [(gain, _gain_text(phrase, gain, verdict)) for phrase, gain, verdict, *_ in chain]
    skips = (part2.get("skips") or {}).get("by_model") or {}
    texts = _against_baseline(part2.get("spec_unet") or {},
                              rows.get(TASK7_LONG.name) or part2.get("learnt"),
                              skips.get(BASELINE_SWEEP))
    texts.update(_skip_study(skips))
    texts["task7_training_control"] = _training_control(rows, skips.get(BASELINE_SWEEP))
    texts.update(evaluation.test_set(part2.get("test_set") or {}))
    texts["task6_curves"] = evaluation.task6_curves(
        (part2.get("spec_unet") or {}).get("history") or {})
    texts.update(_baseline_phrase((part2.get("skips") or {}).get("table") or [],
                                  part2.get("spec_unet") or {}))
    texts["layout_spread"] = _layout_spread(part2.get("spec_unet") or {},
                                            skips.get(BASELINE_SWEEP) or {},
                                            (part2.get("machine") or {}).get("torch_threads"))
    if gains:
        gains.sort(key=lambda g: -g[0])
        texts["task7_gains"] = "; ".join(text for _, text in gains)
    if chain:
        texts["task7_expectations"] = _expectations(chain)
    if rows:  # the learnt network's sweep rows (Table 7)
        texts["task7_recipes"] = str(len(rows))
    texts["task7_overtaken"] = _overtaken((part2.get("long_horizon") or {}).get("curves") or {})
    texts["physics_steps"] = evaluation.physics_steps(part2.get("long_horizon") or {})
    return {**texts, **_psnr_orders((part2.get("task7") or {}).get("rows") or []),
            **evaluation.gate_cost(part2.get("final_system") or {})}


def _label(row: dict) -> str:
    variant = TASK7_BY_NAME.get(row["variant"])
    return variant.label if variant is not None and variant.label else row["variant"]


def _psnr_orders(rows: list[dict]) -> dict[str, str]:
    """Which pairs of Table 7's rows the mean per-sequence PSNR orders the other way round
    from the PSNR of the mean MSE, and whether the pairs the answers rest on keep their order
    (``psnr_orders``)."""
    scored = {r["variant"]: r for r in rows
              if r.get("psnr_mean") is not None and r.get(f"{MEASURE}_mean") is not None}
    if len(scored) < 2:
        return {}
    flips = sorted(((a, b) for a in scored.values() for b in scored.values()
                    if a[f"{MEASURE}_mean"] > b[f"{MEASURE}_mean"]
                    and a["psnr_mean"] < b["psnr_mean"]),
                   key=lambda pair: pair[0]["psnr_mean"] - pair[1]["psnr_mean"])
    if not flips:
        return {"psnr_orders": "Ranked by it instead, no two rows of Table 7 change order."}
    above: dict[str, list[dict]] = {}  # the largest reversals, grouped by the row raised
    for low, high in flips[:2]:
        above.setdefault(high["variant"], []).append(low)
    shown = [f"the {_label(scored[high])} ({scored[high]['psnr_mean']:.2f} dB) above the "
             + " and the ".join(f"{_label(low)} ({low['psnr_mean']:.2f} dB)" for low in lows)
             for high, lows in above.items()]
    more = f", and {len(flips) - 2} more" if len(flips) > 2 else ""
    flipped = {(a["variant"], b["variant"]) for a, b in flips}
    headline = [pair for pair in HEADLINE_PAIRS if all(name in scored for name in pair)]
    behind: dict[str, list[str]] = {}  # each reversed answer comparison, by its lower row
    for high, low in headline:
        if (high, low) in flipped:
            behind.setdefault(low, []).append(high)
    changed = [f"the {_label(scored[low])} now leads the "
               + in_words([_label(scored[high]) for high in highs])
               for low, highs in behind.items()]
    count = sum(len(highs) for highs in behind.values())
    verdict = (f" {_changes(count)} that the answers rest on: {'; '.join(changed)}. A "
               f"conclusion drawn from {'it' if count == 1 else 'them'} depends on the "
               f"convention."
               if changed else " The comparisons the answers rest on keep their order.")
    pairs = ("one pair of Table 7's rows changes order: " if len(flips) == 1 else
             f"{len(flips)} pairs of Table 7's rows change order, among them ")
    return {"psnr_orders": f"Ranked by it instead, {pairs}{'; '.join(shown)}{more}.{verdict}"}


def _changes(n: int) -> str:
    return ("One of these reversals touches a comparison" if n == 1 else
            f"{count_word(n).capitalize()} of these reversals touch comparisons")


def _layout_spread(spec: dict, sweep: dict, threads: int | None) -> str:
    """The Task 6 run of seed 0 (at ``threads`` PyTorch threads, channels-last) beside the Task 5
    sweep's runs of the same recipe (one thread, default memory layout), as a clause; empty
    without both (``layout_spread``)."""
    std = sweep.get(f"{MEASURE}_std")
    if MEASURE not in spec or not std or sweep.get("seeds", 1) < 2:
        return ""
    run = f"{_threads(threads)}, " if threads else ""
    return (f": the Task 5 sweep's addition-skip U-Net scores {sweep[f'{MEASURE}_mean']:.2f} ± "
            f"{std:.2f} dB over its {sweep['seeds']} seeds (one thread, default layout), the "
            f"Task 6 run of seed 0 {spec[MEASURE]:.2f} dB ({run}channels-last layout)")


def _skip_study(skips: dict) -> dict[str, str]:
    """Task 5's skip types against addition skips in PSNR of the mean MSE and SSIM, with what
    their seeds say (``task5_skips``), and the no-skip verdict alone (``task5_short``)."""
    base = skips.get(BASELINE_SWEEP)
    found = [(skips[name], phrase) for name, phrase in SKIP_CHANGES if name in skips]
    if not base or not found:
        return {}
    parts = [f"{_gain(base, row, phrase)[1]}, SSIM {row['ssim_mean']:.4f} against "
             f"{base['ssim_mean']:.4f}" for row, phrase in found]
    return {"task5_skips": "Against addition skips, in PSNR of the mean MSE: "
                           + "; ".join(parts) + ".",
            "task5_short": _gain(base, found[0][0],
                                 f"{found[0][1]}, the PSNR of the mean MSE changes by")[1]}


def _against_baseline(spec: dict, learnt: dict | None,
                      baseline_seeds: dict | None = None) -> dict[str, str]:
    """The learnt network's lead over the baseline U-Net in dB of PSNR of the mean MSE with the
    verdict of both rows' seeds where the Task 5 sweep holds the baseline's (``baseline_seeds``),
    else against the learnt network's own seed std (the single Task 6 run ranks nothing;
    ``task7_vs_baseline``)."""
    learnt = learnt or {}
    mean = learnt.get(f"{MEASURE}_mean", learnt.get(MEASURE))
    if mean is not None and (baseline_seeds or {}).get("seeds", 1) > 1:
        _, text = _gain(baseline_seeds, {**learnt, f"{MEASURE}_mean": mean},
                        "The learnt network against the baseline U-Net in PSNR of the mean MSE:")
        return {"task7_vs_baseline": (
            f"{text}, the baseline's seeds from the Task 5 sweep "
            f"({baseline_seeds[f'{MEASURE}_mean']:.2f} ± "
            f"{baseline_seeds.get(f'{MEASURE}_std') or 0:.2f} dB).")}
    if mean is None or MEASURE not in spec:
        return {}
    gap, std = mean - spec[MEASURE], learnt.get(f"{MEASURE}_std")
    side = "ahead of" if gap >= 0 else "behind"
    spread = (f", {abs(gap) / std:.0f} times its own seed std over {_seeds(learnt['seeds'])}; "
              f"the baseline U-Net ran once" if std else "; both ran once")
    return {"task7_vs_baseline": (
        f"The learnt network is {abs(gap):.2f} dB {side} the baseline U-Net in PSNR of the mean "
        f"MSE{spread}, so by our rule this ranking is not established (the baseline's seed "
        f"spread is not measured).")}


def _training_control(rows: dict, baseline: dict | None) -> str:
    """How much of the learnt network's lead its training explains: the baseline U-Net trained
    like it for the same steps (:data:`TASK7_CONTROL`) against the baseline U-Net's Task 6
    recipe (the Task 5 sweep's seeds) and against the learnt network, with verdicts
    (``task7_training_control``; empty without the control's row)."""
    control, learnt = rows.get(TASK7_CONTROL.name), rows.get(TASK7_LONG.name)
    if not control or not learnt:
        return ""
    text = (f" Trained like the learnt network for the same 20,000 steps (augmentations and "
            f"cosine decay; MSE loss), the baseline U-Net reaches "
            f"{control[f'{MEASURE}_mean']:.2f} dB")
    if baseline and baseline.get("seeds", 1) > 1:
        text += _gain(baseline, control, ": the training alone changes it by")[1]
    return text + _gain(control, learnt, "; the learnt network's architecture and loss then "
                                         "add")[1] + "."


LEARNT_CURVE, CLASSICAL_CURVE = "learnt (Task 6 budget)", "classical predictor"
FIRST_FRAME = 5  # the first predicted frame of a roll-out (t = 5)


def _overtaken(curves: dict) -> str:
    """Where in the long roll-outs the classical predictor first beats the learnt network, in
    SSIM and in MSE (``task7_overtaken``; empty where it never does or the curves are
    missing)."""
    learnt, classical = curves.get(LEARNT_CURVE), curves.get(CLASSICAL_CURVE)
    if not learnt or not classical:
        return ""
    firsts = []
    for metric, name, better in (("ssim", "SSIM", lambda a, b: a > b),
                                 ("mse", "PSNR of the mean MSE", lambda a, b: a < b)):
        step = next((i for i, (a, b) in enumerate(zip(classical[metric], learnt[metric]))
                     if better(a, b)), None)
        if step is not None:
            firsts.append(f"in {name} from t = {FIRST_FRAME + step}")
    if not firsts:
        return ""
    return (" The classical predictor, which simulates our generator's physics, overtakes it "
            + " and ".join(firsts) + ".")


def _baseline_phrase(skip_table: list[dict], spec: dict) -> dict[str, str]:
    """The baseline U-Net's scores in words (``baseline_over_seeds``): mean ± std over the Task 5
    sweep's seeds where it holds several, else the Task 6 run."""
    if not {MEASURE, "ssim"} <= spec.keys():
        return {}
    return {"baseline_over_seeds": seeds_phrase(skip_table, BASELINE_SWEEP, spec)}


def _gain(before: dict, after: dict, phrase: str) -> tuple[float, str]:
    """The change from ``before`` to ``after`` in dB of PSNR of the mean MSE, with what the
    seeds of both rows say about it (:func:`_gain_verdict`), in words after ``phrase``."""
    gain, verdict = _gain_verdict(before, after)
    return gain, _gain_text(phrase, gain, verdict)


def _gain_text(phrase: str, gain: float, verdict: str) -> str:
    return f"{phrase} {_decibels(gain)} ({verdict})"


def _decibels(gain: float) -> str:
    return f"{minus_sign(f'{gain:+.2f}')} dB"


def _gain_verdict(before: dict, after: dict) -> tuple[float, str]:
    """The change from ``before`` to ``after`` in dB of PSNR of the mean MSE and what the seeds
    of both rows say about it (:func:`bballs.metrics.seed_difference`: established only with
    :data:`~bballs.metrics.MIN_SEEDS` seeds each and a gain beyond twice the seed std)."""
    means = [{**row, MEASURE: row[f"{MEASURE}_mean"]} for row in (after, before)]
    difference = seed_difference(*means, MEASURE, ("after", "before"))
    gain, seeds = difference["gap"], min(before["seeds"], after["seeds"])
    if before["seeds"] != after["seeds"]:
        verdict = f"{_seeds(after['seeds'])} against {_seeds(before['seeds'])}, not established"
    elif seeds < MIN_SEEDS:
        verdict = f"{_seeds(seeds)}, not established"
    elif difference["verdict"] == "within seed noise":
        verdict = f"{seeds} seeds, within seed noise"
    else:
        verdict = f"{seeds} seeds, {ESTABLISHED}"
    return gain, verdict


def _spread(before: dict, after: dict) -> float:
    """A gain's seed noise: the larger seed std of its two rows (0 without one)."""
    return max(before.get(f"{MEASURE}_std") or 0.0, after.get(f"{MEASURE}_std") or 0.0)


def _largest(gain: float, spread: float, others: list[tuple[float, float]]) -> bool | None:
    """Whether ``gain`` is the chain's largest: True if no other gain is larger, False if one
    is larger beyond twice the larger seed noise of the two, None (undecided) otherwise."""
    above = [(g, s) for g, s in others if g > gain]
    if not above:
        return True
    return None if all(g - gain <= 2 * max(s, spread) for g, s in above) else False


#: what each Task 7 change was expected to do (the report lists it with the change), and whether
#: a measured gain in dB (with its seed noise, and the chain's other gains and theirs) meets it:
#: True, False or None (undecided)
SMALL_GAIN = 0.5  # dB: a "small" gain is positive and below this
EXPECTED = {"the frame predictor": ("the largest gain", _largest),
            "symmetries": ("a small gain", lambda g, s, others: 0 < g < SMALL_GAIN),
            "time reversal": ("a small gain", lambda g, s, others: 0 < g < SMALL_GAIN),
            "binary cross-entropy": ("a gain", lambda g, s, others: g > 0),
            "the Task 6 budget": ("a clear gain", lambda g, s, others: g >= SMALL_GAIN)}


def _expectations(chain: list[tuple[str, float, str, float | None, float]]) -> str:
    """Each change of the chain (phrase, gain, its verdict from :func:`_gain_verdict`, its SSIM
    change, its seed noise) against what was expected of it (:data:`EXPECTED`), judged only
    where the gain is established and the expectation decided ("undecided" otherwise): "as
    expected", "not as expected", or "mixed" where the SSIM fell (``task7_expectations``)."""
    parts = []
    for index, (phrase, gain, verdict, ssim, spread) in enumerate(chain):
        if phrase not in EXPECTED:
            continue
        expected, meets = EXPECTED[phrase]
        measured = f"{_decibels(gain)} ({verdict})" + (
            "" if ssim is None else f", SSIM {minus_sign(f'{ssim:+.4f}')}")
        others = [(g, s) for k, (_, g, _, _, s) in enumerate(chain) if k != index]
        met = meets(gain, spread, others)
        if not verdict.endswith(ESTABLISHED):
            word = "undecided"
        elif met is None:  # the gain is established, whether it meets the expectation is not
            word = f"established, but whether it is {expected} is undecided"
        elif not met:
            word = "not as expected"
        elif ssim is not None and ssim < 0:
            word = "mixed: the PSNR rose, the SSIM fell"
        elif narrowly(gain, spread):
            word = "as expected, narrowly (a lead worth more seeds)"
        else:
            word = "as expected"
        parts.append(f"- {phrase}: expected {expected}; {measured}: {word}")
    return ";\n".join(parts) + "."


def _ssim_change(before: dict, after: dict) -> float | None:
    """The change in mean SSIM from ``before`` to ``after`` (None without it)."""
    if before.get("ssim_mean") is None or after.get("ssim_mean") is None:
        return None
    return after["ssim_mean"] - before["ssim_mean"]


def _seeds(n: int) -> str:
    return "one seed" if n == 1 else f"{n} seeds"


def _threads(n: int) -> str:
    return {1: "one thread", 2: "two threads"}.get(n, f"{n} threads")
