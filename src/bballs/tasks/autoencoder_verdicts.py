"""The autoencoder studies' comparisons in words: pre-training against training from scratch
over seeds, and the noise levels at which the denoising autoencoder leads the plain one."""

from __future__ import annotations

from collections.abc import Sequence

from bballs.metrics import seed_difference


def percent(fraction: float) -> str:
    """A share of the labels in percent without spurious digits: "0.25", "5", "100"."""
    return f"{100 * fraction:.4g}"


def share_of_labels(row: dict) -> str:
    """A row of the pre-training study by its share of the labels: "0.25%", "all labels"."""
    return "all labels" if row["fraction"] == 1 else f"{percent(row['fraction'])}%"


def pretraining_verdict(row: dict) -> str:
    """Pre-trained against from scratch in one row of the pre-training study, in words."""
    arm = {init: {"test": row[f"{init}_test_accuracy"], "test_std": row[f"{init}_test_std"],
                  "seeds": row["seeds"]} for init in ("pretrained", "scratch")}
    return seed_difference(arm["pretrained"], arm["scratch"], "test",
                           ("pre-training", "training from scratch"))["verdict"]


def denoising_lead(noise_rows: Sequence[dict]) -> str:
    """In words, the test noise levels at which the denoising AE leads the plain AE (PSNR of the
    mean MSE) beyond seed noise (by more than twice the seed std), from each row's ``lead_verdict``
    (:func:`bballs.tasks.autoencoding.noise_rows`)."""
    levels = sorted(r["sigma"] for r in noise_rows)
    ahead = sorted(r["sigma"] for r in noise_rows
                   if r["lead_verdict"].startswith("the denoising AE"))
    rule = "the denoising AE leads beyond seed noise"
    if not ahead:
        verdicts = {r["lead_verdict"] for r in noise_rows}
        if any(v.startswith("not established") for v in verdicts):
            return "no lead of the denoising AE is established (fewer than 3 seeds)"
        return "at no noise level does the denoising AE lead beyond seed noise"
    if ahead == [s for s in levels if s >= ahead[0]]:
        return f"from σ = {ahead[0]:g} on {rule}"
    return f"{rule} at σ = " + ", ".join(f"{s:g}" for s in ahead)
