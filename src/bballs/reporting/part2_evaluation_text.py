"""Project 1's Part 2 sentences on how the networks were trained and how they hold up: Task 6
convergence, the Part 2 test set and the gated system's cost."""

from __future__ import annotations

from bballs.core.numbers import count_word
from bballs.metrics import MSE_FACTOR, in_words
from bballs.reporting.tables import minus_sign

MEASURE = "psnr_of_mse"


def task6_curves(history: dict) -> str:
    """What Figure 6's curves say about convergence (``task6_curves``)."""
    train, val = history.get("train_loss") or [], history.get("val_loss") or []
    if len(val) < 2 or len(train) != len(val):
        return ""
    best = min(range(len(val)), key=val.__getitem__)
    side = "above" if train[0] > val[0] else "below"
    text = (f"The training MSE is a running mean over each epoch's changing weights; in epoch 1 "
            f"it lies {side} the validation MSE ({MSE_FACTOR * train[0]:.2f} against "
            f"{MSE_FACTOR * val[0]:.2f}), and by epoch {len(val)} they are "
            f"{MSE_FACTOR * train[-1]:.2f} and {MSE_FACTOR * val[-1]:.2f} (Figure 6). ")
    if best == len(val) - 1:
        earlier = min(val[:-5]) if len(val) > 5 else val[0]
        gain = (earlier - val[-1]) / earlier
        if gain < 0.02:
            return text + (f"The validation MSE is lowest in the last epoch, but only "
                           f"{gain:.1%} below its best before the last five epochs: it has "
                           f"nearly levelled off.")
        return text + (f"The validation MSE is lowest in the last epoch, {gain:.0%} below its "
                       f"best before the last five epochs: still falling.")
    return text + (f"The validation MSE is lowest in epoch {best + 1} "
                   f"({MSE_FACTOR * val[best]:.2f}), so it has levelled off.")


#: The Part 2 test set's predictors (their names in the results, then in words).
TEST_NAMES = (("learnt (Task 6 budget)", "the learnt network"),
              ("baseline U-Net", "the baseline U-Net"), ("physics model", "the physics model"),
              ("last frame", "the last frame"))


def test_set(test: dict) -> dict[str, str]:
    """The Part 2 test set against validation: each predictor's PSNR of the mean MSE on both,
    whether the order holds, and the learnt network's validation optimism (``task7_test``,
    ``task7_test_gap``; empty where it did not run)."""
    scores = {key: test["scores"][key] for key, _ in TEST_NAMES if key in test.get("scores", {})}
    if not scores:
        return {"task7_test": "", "task7_test_gap": "not measured"}
    parts = [f"{words} {scores[key]['test'][MEASURE]:.2f} dB "
             f"(validation {scores[key]['validation'][MEASURE]:.2f})"
             for key, words in TEST_NAMES if key in scores]

    def order(split: str) -> list[str]:
        return sorted(scores, key=lambda key: -scores[key][split][MEASURE])

    same = "the same order as" if order("test") == order("validation") else "another order than"
    learnt = scores.get(TEST_NAMES[0][0])
    gap = learnt["test"][MEASURE] - learnt["validation"][MEASURE] if learnt else None
    gap_words = ("not measured" if gap is None else
                 f"{abs(gap):.2f} dB {'higher' if gap < 0 else 'lower'} than on the test set")
    return {"task7_test": (
        f"On {test['sequences']:,} fresh test sequences (a seed of their own; they chose "
        f"nothing), the seed-0 runs score {in_words(parts)} in PSNR of the mean MSE: {same} "
        f"on validation."), "task7_test_gap": gap_words}


def gate_cost(final: dict) -> dict[str, str]:
    """The gated system against the physics model alone on the same seed, and why it can only
    lose where it does (``gate_cost``)."""
    alone = (final.get("physics_alone") or {}).get(MEASURE)
    if alone is None or MEASURE not in final:
        return {}
    gap = final[MEASURE] - alone
    text = (f", and {minus_sign(f'{gap:+.2f}')} dB against the physics model alone "
            f"({alone:.2f} dB)")
    if gap < 0:
        text += (": on the sequences it hands over, the physics model would have done better, "
                 "and in the mean MSE a few poor forecasts outweigh the many exact ones")
    return {"gate_cost": text}


def physics_steps(long_horizon: dict) -> str:
    """How many of the long-horizon sequences the physics model gets visibly wrong (``off``)
    as the horizon grows, and where that count rises: the steps of its PSNR curve
    (``physics_steps``; empty without the curves)."""
    curve = (long_horizon.get("curves") or {}).get("physics model") or {}
    off, n = curve.get("off"), long_horizon.get("sequences")
    if not off or not n:
        return ""
    if not any(off):
        return (f" The physics model gets none of the {n:,} sequences visibly wrong (frame MSE "
                f"above 10⁻³) in {len(off)} frames.")
    first = 5  # the first predicted frame is t = 5
    rises = [str(first + i) for i in range(1, len(off)) if off[i] > off[i - 1]]
    where = f", rising at t = {in_words(rises)}" if rises else ""
    at_first = count_word(off[0]) if off[0] else "none"
    return (f" Few sequences set that curve: the number the physics model gets visibly wrong "
            f"(frame MSE above 10⁻³) is {at_first} of {n:,} at t = {first} and "
            f"{count_word(off[-1])} at t = {first + len(off) - 1}{where}; its PSNR steps "
            f"down where a sequence joins them.")
