"""Project 1's Task 4 sentences on the frozen test and on single recipe changes, generated from
``results/part1.json`` (:func:`sentences`)."""

from __future__ import annotations

from bballs.core.numbers import count_word, power_of_ten
from bballs.data.augment import short_name
from bballs.metrics import in_words, seed_difference, verdict_summary
from bballs.tasks.frozen_shifts import NEW_SHIFTS as FROZEN_NEW
from bballs.tasks.frozen_shifts import SHIFTS
from bballs.tasks.part1_task4 import TASK4_BY_NAME


def sentences(improved: dict) -> dict[str, str]:
    """The frozen test's paragraph and headline, the walls verdict and the selected recipe, by
    placeholder name."""
    table = (improved.get("tables") or {}).get("task4_frozen")
    return {"task4_frozen_text": _frozen_test(table), "task4_frozen_short": _frozen_short(table),
            "task4_walls": _walls(improved), "task4_recipe": _recipe(improved.get("model"))}


def _frozen_test(table: dict | None) -> str:
    """Task 4's frozen test in one paragraph (``task4_frozen_text``; empty where it did not run):
    each counter's accuracy per shift and the seed verdicts, grouped."""
    if not table or not table.get("rows"):
        return ""
    rows = table["rows"]
    shifts = in_words([f"{row['shift']} ({SHIFTS[row['shift']]})" for row in rows])

    def scores(key: str) -> str:
        return in_words([_percent_spread(row, key) for row in rows])

    verdicts = verdict_summary({row["shift"]: _with_article(row["verdict"]) for row in rows},
                               "on")
    return (f"**Frozen test.** After the recipes and the selection rule were fixed, we made fresh "
            f"test-like frames and three shifts unlike any augmentation or family, and scored "
            f"them once (Table 3): {shifts}. The selected counter counts {scores('selected')}, "
            f"the baseline CNN {scores('baseline')} ({rows[0]['seeds']} seeds each) and "
            f"connected components {scores('components')}; {verdicts}.{_frozen_reading(rows)}")


def _with_article(verdict: str) -> str:
    return f"the {verdict}" if verdict.startswith(("selected", "baseline")) else verdict


def _frozen_reading(rows: list[dict]) -> str:
    """What the frozen test's new shifts say: the networks' means over them, and a shift that
    breaks both networks (below 50%) where connected components hold."""
    new = [row for row in rows if row["shift"] in FROZEN_NEW]
    if not new:
        return ""
    selected, baseline = _mean(new, "selected"), _mean(new, "baseline")
    above = selected > baseline
    reading = ("some of its robustness carries over to shifts it never trained on" if above else
               "its augmentation makes it robust to the shifts it trains on, not to new ones")
    text = (f" On the {count_word(len(new))} new shifts the selected counter averages "
            f"{selected:.1%}, {'above' if above else 'not above'} the baseline CNN's "
            f"{baseline:.1%}: {reading}.")
    broken = [row for row in new if max(row["selected_mean"], row["baseline_mean"]) < 0.5]
    for row in broken:
        text += (f" The {row['shift']} breaks both networks ({row['selected_mean']:.1%} and "
                 f"{row['baseline_mean']:.1%}), while connected components keep "
                 f"{row['components']:.1%}.")
    return text


def _frozen_short(table: dict | None) -> str:
    """The frozen test's headline, its two kinds of part apart: fresh test-like frames, then
    the mean over the new shifts, each against the baseline CNN (``task4_frozen_short``; "not
    run" where it did not)."""
    if not table or not table.get("rows"):
        return "not run for these results"
    new = [row for row in table["rows"] if row["shift"] in FROZEN_NEW]
    fresh = [row for row in table["rows"] if row["shift"] not in FROZEN_NEW]
    parts = [f"{_mean(fresh, 'selected'):.1%} of fresh test-like frames (baseline CNN "
             f"{_mean(fresh, 'baseline'):.1%})"] if fresh else []
    if new:
        parts.append(f"{_mean(new, 'selected'):.1%} on average under the "
                     f"{count_word(len(new))} new shifts (baseline CNN "
                     f"{_mean(new, 'baseline'):.1%})")
    return f"{' and '.join(parts)[:-1]}; Table 3)"  # the last bracket names the table


def _mean(rows: list[dict], key: str) -> float:
    """The mean over ``rows`` of one counter's accuracy (``<key>_mean``)."""
    return sum(row[f"{key}_mean"] for row in rows) / len(rows)


def _percent_spread(row: dict, key: str) -> str:
    """A row's accuracy ``key`` in percent, with its seed std where it has one."""
    if key in row:
        return f"{row[key]:.1%}"
    std = row.get(f"{key}_std")
    return f"{row[f'{key}_mean']:.1%}" + (f" ± {std:.1%}" if std is not None else "")


WALLS = ("countnet+sym+scale+looks", "countnet+sym+scale+walls+looks")  # before, after


def _walls(improved: dict) -> str:
    """What moving balls to the walls did to the test accuracy, with its seed verdict
    (``task4_walls``)."""
    rows = improved.get("by_variant") or {}
    if not all(name in rows for name in WALLS):
        return "was also tried (Table 1)"
    before, after = ({"score": rows[n]["test_accuracy_mean"],
                      "score_std": rows[n].get("test_accuracy_std"),
                      "seeds": rows[n].get("seeds", 1)} for n in WALLS)
    verdict = seed_difference(after, before, "score", ("after", "before"))["verdict"]
    was, now = (_percent_spread(rows[n], "test_accuracy") for n in WALLS)
    if verdict == "within seed noise" or verdict.startswith("not established"):
        return f"left the test accuracy where it was ({now} against {was}, {verdict}; Table 1)"
    change = "lowered" if after["score"] < before["score"] else "raised"
    return f"{change} the test accuracy to {now} from {was} (beyond seed noise; Table 1)"


def _recipe(name: str | None) -> str:
    """The selected recipe in one line: its training and augmentation (``task4_recipe``)."""
    variant = TASK4_BY_NAME.get(name or "")
    if variant is None:
        return "see Table 9"
    recipe = variant.recipe
    schedule = ", cosine decay" if variant.schedule else ""
    return (f"{recipe.epochs} epochs of batch {recipe.batch_size} at learning rate "
            f"{power_of_ten(recipe.lr)}{schedule}; augmentation: {short_name(variant.augment)}")
