"""Project 1's Part 1 sentences generated from ``results/part1.json`` for the report: the test
accuracies with their intervals (Task 3), the shift-family headline, the architecture control
and quoted shift levels (Task 4)."""

from __future__ import annotations

from bballs.core.numbers import count_word
from bballs.metrics import seed_difference, share_interval, verdict_summary
from bballs.reporting import task4_text
from bballs.tasks.robustness import LARGEST_STD, SELECTION_SHARED


def sentences(part1: dict) -> dict[str, str]:
    """Every generated Part 1 sentence of the report, by placeholder name (``{text[...]}``)."""
    families, improved = part1.get("shift_families") or {}, part1.get("improved") or {}
    swept = _swept_families(families, improved)
    texts = {**_family_means(swept), **_test_intervals(part1),
             **_architecture_control(improved), **_layout_gaps(improved),
             **_baseline_cnn(improved), **_weakest_level(swept),
             **_model_changes(improved), **_untrained_families(improved),
             "task4_recipes": count_word(len(improved.get("ablation") or [])),
             **task4_text.sentences(improved),
             **_curves((part1.get("spec") or {}).get("history") or {})}
    for key, counter in (("selected", "selected counter"), ("baseline", "baseline CNN")):
        texts[f"task4_noise_{key}"] = _level(families, "noise", counter, STRONGEST_NOISE)
    return texts


def _swept_families(families: dict, improved: dict) -> dict:
    """The shift families as Table 2's sweep scored them: the selected recipe's and the
    baseline CNN's accuracy per level, means over the sweep's seeds, with the levels of the
    notebook's ``families`` (whose own scores, of the notebook's retrained models, are Figure
    4's); the notebook's families where the sweep has none, so the text quotes one run."""
    rows = improved.get("by_variant") or {}
    chosen = (rows.get(improved.get("model")) or {}).get("families") or {}
    baseline = (rows.get("spec") or {}).get("families") or {}
    swept = {name: {**family, "selected counter": chosen[name], "baseline CNN": baseline[name]}
             for name, family in families.items() if isinstance(family, dict)
             and len(chosen.get(name) or []) == len(baseline.get(name) or [])
             == len(family.get("levels") or [None])}
    return swept if swept and len(swept) == len(families) else families


def _family_means(families: dict) -> dict[str, str]:
    """The selected Task 4 counter's and the baseline CNN's accuracy under the shift families:
    each family's mean over its levels, averaged with every family weighted equally, over the
    families that share nothing with the held-out selection shifts (``task4_families``,
    ``task4_families_baseline``; :data:`~bballs.tasks.robustness.SELECTION_SHARED` left out)."""
    means = {}
    for key, counter in (("task4_families", "selected counter"),
                         ("task4_families_baseline", "baseline CNN")):
        by_family = {name: family[counter] for name, family in families.items()
                     if isinstance(family, dict) and family.get(counter)}
        unseen = [sum(v) / len(v) for name, v in by_family.items() if name not in SELECTION_SHARED]
        if unseen:
            means[key] = f"{sum(unseen) / len(unseen):.1%}"
    means["task4_unseen_families"] = count_word(
        sum(1 for name, f in families.items() if isinstance(f, dict) and "selected counter" in f
            and name not in SELECTION_SHARED))
    return means


CONTROL = "spec+sym+scale+looks"  # the baseline CNN with the robust recipes' training
HARDEST = "touching balls"


def _architecture_control(improved: dict) -> dict[str, str]:
    """How much of the selected counter's robustness its architecture carries: the baseline
    CNN trained like the robust recipes (:data:`CONTROL`) against the selected counter, on the
    families that did not choose the model (equal weights) and on :data:`HARDEST`
    (``task4_control``)."""
    rows = {r["variant"]: r for r in improved.get("robustness") or []}
    chosen, control = rows.get(improved.get("model")), rows.get(CONTROL)
    if not chosen or not control:
        return {}
    if chosen is control:
        return {"task4_control": "the selected recipe is that control: the baseline CNN itself",
                "task4_control_short": "the selected recipe keeps the baseline CNN"}

    names = [k for k in chosen if k not in SELECTION_SHARED and k not in (
        "variant", "title", "seeds", "worst level", LARGEST_STD)]

    def unseen(row: dict) -> float:
        return sum(row[k] for k in names) / len(names)

    gap = unseen(chosen) - unseen(control)
    noise = max(chosen.get(LARGEST_STD) or 0.0, control.get(LARGEST_STD) or 0.0)
    beyond = abs(gap) > 2 * noise
    verdict = ("more than twice the largest seed std of a family mean" if beyond
               else "within twice the largest seed std of a family mean, so not established")
    top = max(names, key=lambda k: abs(chosen[k] - control[k]))
    share = (chosen[top] - control[top]) / len(names) / gap if gap else 0.0
    short = (f"with the same augmentation and training, the architecture adds {100 * gap:.1f} "
             f"points under the families ({'beyond' if beyond else 'within'} seed noise), "
             f"{share:.0%} of them on {top}")
    return {"task4_control_short": short, "task4_control": (
        f"the baseline CNN trained with the same augmentation and schedule counts "
        f"{unseen(control):.1%} under the families that played no part in the choice "
        f"({100 * gap:.1f} points below the selected recipe in the same sweep, {verdict}). "
        f"{top[0].upper() + top[1:]} carry {share:.0%} of that gap ({control[top]:.1%} against "
        f"{chosen[top]:.1%} for the selected model)")}


#: the model changes of Task 4 measured alone: (recipe before, recipe after, the change)
MODEL_CHANGES = (("spec+long", "countnet+long", "CountNet instead of the baseline CNN"),
                 ("countnet+long+sym+size", "countnet+long+sym+size+ae",
                  "autoencoder pre-training"))
MEASURES = (("test_accuracy", "on the test file"), ("heldout_val_accuracy",
                                                    "under the selection shifts"))


def _model_changes(improved: dict) -> dict[str, str]:
    """Each model change of :data:`MODEL_CHANGES` against the recipe before it, on the test file
    and under the held-out shifts, with the verdict of their seeds (``task4_model_changes``)."""
    rows = improved.get("by_variant") or {}
    parts = []
    for before, after, change in MODEL_CHANGES:
        if before not in rows or after not in rows:
            continue
        scores = []
        for metric, where in MEASURES:
            a, b = ({"score": r[f"{metric}_mean"], "score_std": r.get(f"{metric}_std"),
                     "seeds": r.get("seeds", 1)} for r in (rows[after], rows[before]))
            verdict = seed_difference(a, b, "score", (change.split(" instead")[0],
                                                      rows[before].get("title", before)))
            scores.append(f"{_mean_std(a)} against {_mean_std(b)} {where} "
                          f"({verdict['verdict']})")
        parts.append(f"{change}: {' and '.join(scores)}")
    return {"task4_model_changes": "; ".join(parts)} if parts else {}


#: which parts of a Task 4 recipe's name train on each shift family (none: no recipe does)
TRAINED_BY = {"ball radius": ("scale", "size"), "contrast": ("looks",), "blur": ("looks",),
              "noise": ("looks",), "salt and pepper": ("looks",), "8-bit": ("looks",),
              "touching balls": ("looks",), "near the walls": ("walls",), "soft profile": (),
              "gamma": ()}
BASELINE = "spec"  # the baseline CNN with the Task 2 recipe


def _untrained_families(improved: dict) -> dict[str, str]:
    """How many of the families that did not choose the model the selected recipe trains on,
    and the baseline CNN's and the selected recipe's scores (Table 2) on the others
    (``task4_untrained``)."""
    rows = {r["variant"]: r for r in improved.get("robustness") or []}
    chosen, base = rows.get(improved.get("model")), rows.get(BASELINE)
    if not chosen or not base:
        return {}
    parts = set(chosen["variant"].split("+"))
    unseen = [f for f in TRAINED_BY if f not in SELECTION_SHARED and f in chosen]
    untrained = [f for f in unseen if not parts & set(TRAINED_BY[f])]
    text = (f"the selected recipe trains on changes like {count_word(len(unseen) - len(untrained))}"
            f" of these {count_word(len(unseen))} families")
    if untrained:
        text += (" (not on " + " or ".join(untrained) + ", where the baseline CNN already scores "
                 + " and ".join(f"{base[f]:.1%}" for f in untrained) + " and the selected "
                 "recipe " + " and ".join(f"{chosen[f]:.1%}" for f in untrained) + ")")
    return {"task4_untrained": text}


def _mean_std(row: dict) -> str:
    std = row.get("score_std")
    return f"{row['score']:.1%}" + ("" if std is None else f" ± {std:.1%}")


STRONGEST_NOISE = 3  # the level of the noise family the report quotes (σ = 0.2)


DENSITY, WIDE = "density+sym+scale+looks", "countnet+sym+scale+looks"
LAYOUT_LEVELS = (("ball radius", 1, "radius 0.8"),
                 ("touching balls", 2, "strongly overlapping balls"))


def _layout_gaps(improved: dict) -> dict[str, str]:
    """The verdict rule applied to the density counter against CountNet, both with the full
    augmentation, at the shift levels the report quotes (``task4_layout_gaps``: a sentence
    that names the seeds it rests on)."""
    rows = improved.get("by_variant") or {}
    try:
        arms = {name: [{"score": rows[v]["families"][family][level],
                        "score_std": rows[v]["families_std"][family][level],
                        "seeds": rows[v].get("seeds", 1)} for v in (DENSITY, WIDE)]
                for family, level, name in LAYOUT_LEVELS}
    except (KeyError, IndexError, TypeError):  # no such rows, or rows without shift families
        return {}
    verdicts = {name: seed_difference(*pair, "score", ("the density counter", "CountNet"))[
        "verdict"] for name, pair in arms.items()}
    seeds = min(arm["seeds"] for pair in arms.values() for arm in pair)
    return {"task4_layout_gaps": (
        f"By our rule for calling a gap real ({seeds} seed{'s' * (seeds != 1)} each, a gap "
        f"above twice the larger seed std): {verdict_summary(verdicts)}")}


def _baseline_cnn(improved: dict) -> dict[str, str]:
    """The baseline CNN's Task 4 test accuracy over the same seeds as the selected counter, with
    its seed std where there are several (``task4_baseline_cnn``)."""
    row = (improved.get("by_variant") or {}).get("spec") or {}
    if row.get("test_accuracy_mean") is None:
        return {}
    std = row.get("test_accuracy_std")
    spread = f" ± {std:.1%}" if std is not None and row.get("seeds", 1) > 1 else " (one seed)"
    return {"task4_baseline_cnn": f"{row['test_accuracy_mean']:.1%}{spread}"}


def _weakest_level(families: dict, counter: str = "selected counter") -> dict[str, str]:
    """The lowest accuracy of ``counter`` at any level of any shift family, with the family
    and the level (``task4_weakest``)."""
    levels = [(accuracy, name, family["levels"][k], family.get("unit", ""))
              for name, family in families.items() if isinstance(family, dict)
              for k, accuracy in enumerate(family.get(counter) or [])]
    if not levels:
        return {}
    accuracy, name, level, unit = min(levels)
    unit = unit.split(" (")[0]
    where = f"{name}, {unit} = {level:g}" if unit else name
    return {"task4_weakest": f"{accuracy:.1%} ({where})"}


def _level(families: dict, family: str, counter: str, level: int) -> str:
    """One counter's accuracy at one level of a shift family, with its seed std where it was
    trained with several seeds."""
    entry = families.get(family) or {}
    if counter not in entry:
        return "n/a"
    text = f"{entry[counter][level]:.1%}"
    spread = (entry.get("std") or {}).get(counter)
    return f"{text} ± {spread[level]:.1%}" if spread else text


def _test_intervals(part1: dict) -> dict[str, str]:
    """The baseline CNN's and the connected-components counter's test accuracy with its 95 %
    interval over the test frames (``task3_cnn_interval``, ``task3_components_interval``) and
    whether their difference is established (``task3_difference``): by McNemar's test where the
    results hold the paired comparison (``classical.paired``), else by whether the intervals
    overlap."""
    matrix = (part1.get("spec") or {}).get("confusion_matrix")
    if not matrix:
        return {}
    n = int(sum(map(sum, matrix)))
    found = {}
    for key, section in (("cnn", "spec"), ("components", "classical")):
        accuracy = (part1.get(section) or {}).get("test_accuracy")
        if accuracy is not None:
            found[key] = share_interval(round(accuracy * n), n)
    texts = {f"task3_{key}_interval": f"95% Wilson interval {low:.1%} to {high:.1%} over the "
                                      f"{n} test frames" for key, (low, high) in found.items()}
    paired = (part1.get("classical") or {}).get("paired")
    if paired:
        texts["task3_difference"] = _paired_verdict(paired)
    elif len(found) == 2:
        (a_low, a_high), (b_low, b_high) = found["cnn"], found["components"]
        overlap = a_low <= b_high and b_low <= a_high
        texts["task3_difference"] = ("the intervals overlap, so at this test-set size the "
                                     "difference is not established" if overlap else
                                     "the intervals do not overlap")
    return texts


def _paired_verdict(paired: dict) -> str:
    """McNemar's test of the baseline CNN (``only_a``) against connected components
    (``only_b``, :func:`~bballs.metrics.paired_difference`) in words, at the 5% level."""
    a, b, p = paired["only_a"], paired["only_b"], paired["p_value"]
    if a + b == 0:
        return "the two counters are right on the same frames, so no difference is established"
    shown = f"p = {p:.3f}" if p >= 0.001 else "p < 0.001"
    better = "the CNN" if a > b else "connected components"
    verdict = (f"so the difference is established at the 5% level, in favour of {better}"
               if p < 0.05 else "so at this test-set size the difference is not established")
    frames = "frame" if a + b == 1 else "frames"
    return (f"of the {a + b} {frames} only one counter gets right, the CNN gets {a} and "
            f"connected components {b} (McNemar's exact test: {shown}), {verdict}")


CURVES = (("training loss", "train_loss", -1), ("validation loss", "val_loss", -1),
          ("validation accuracy", "val_accuracy", 1))  # name, history key, better direction


def _curves(history: dict) -> dict[str, str]:
    """What Figure 2's curves do, epoch by epoch (``task2_curves``): each curve improves every
    epoch, or where it goes the wrong way; and the epoch of the lowest validation loss."""
    if not history.get("val_loss"):
        return {}
    if len(history["val_loss"]) < 2:
        return {"task2_curves": "a single epoch ran, so the curves show no trend."}
    parts = []
    for name, key, better in CURVES:
        values = history.get(key) or []
        if len(values) < 2:
            return {}
        shown = (lambda v: f"{v:.1%}") if "accuracy" in key else (lambda v: f"{v:.3f}")
        worse = [k for k in range(1, len(values)) if (values[k] - values[k - 1]) * better < 0]
        if not worse:
            improves = all(a != b for a, b in zip(values, values[1:]))
            parts.append(f"the {name} {'rises' if better > 0 else 'falls'} every epoch" if improves
                         else f"the {name} never {'falls' if better > 0 else 'rises'}")
            continue
        steps = ", ".join(f"epoch {k + 1} ({shown(values[k - 1])} to {shown(values[k])})"
                          for k in worse)
        parts.append(f"the {name} goes from {shown(values[0])} to {shown(values[-1])} but "
                     f"{'falls' if better > 0 else 'rises'} at {steps}")
    losses = history["val_loss"]
    best = min(range(len(losses)), key=losses.__getitem__) + 1
    ending = ("the last epoch has the lowest validation loss, so nothing shows over-fitting "
              f"within {len(losses)} epochs" if best == len(losses) else
              f"the validation loss is lowest after epoch {best}, which may mean over-fitting")
    return {"task2_curves": f"{'; '.join(parts)}; {ending}."}

