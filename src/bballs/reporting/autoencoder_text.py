"""Sentences of Lab 3's autoencoder section generated from ``results/lab3.json``."""

from __future__ import annotations

from collections.abc import Sequence

from bballs.metrics import in_words, marked_verdict, seed_difference
from bballs.tasks.autoencoder_verdicts import percent, share_of_labels


def _sizes(chosen: Sequence[int], order: Sequence[int]) -> str:
    """Latent sizes as "2–128" when they are neighbours in ``order``, else "2, 8 and 64"."""
    places = [order.index(size) for size in chosen]
    if len(chosen) > 1 and places == list(range(places[0], places[0] + len(chosen))):
        return f"{chosen[0]}–{chosen[-1]}"
    return in_words([str(size) for size in chosen])


def _ae_against_pca(row: dict) -> str:
    """The verdict of one sweep row's AE against its PCA code: PCA is one deterministic fit, so
    only the AE's seeds vary (:func:`bballs.metrics.seed_difference`)."""
    seeds = row.get("seeds", 1)
    ae = {"value": row["psnr_of_mse"], "value_std": row.get("psnr_of_mse_std"), "seeds": seeds}
    pca = {"value": row["pca_psnr_of_mse"], "seeds": seeds}
    return seed_difference(ae, pca, "value", ("the AE's code", "the PCA code"))["verdict"]


def _pca_rows(autoencoders: dict) -> list[dict]:
    """The latent sweep's rows that hold a PCA score, by latent size."""
    return sorted((row for row in (autoencoders.get("sweep") or {}).values()
                   if row.get("pca_psnr_of_mse") is not None), key=lambda row: row["latent"])


def pca_comparison(autoencoders: dict) -> str:
    """The AE's code against a PCA code of the same size (PSNR of the mean MSE, the AE's mean
    ± std over its seeds against PCA's single fit), with the report's verdict rule: better
    beyond seed noise where the gap is above twice the AE's seed std. Empty without PCA."""
    rows = _pca_rows(autoencoders)
    if not rows:
        return ""
    order = [row["latent"] for row in rows]
    groups: dict[str, list[int]] = {"the AE's code": [], "the PCA code": [], "neither": []}
    for row in rows:
        verdict = _ae_against_pca(row)
        side = verdict.split(" is better")[0] if "beyond" in verdict else "neither"
        groups[side].append(row["latent"])
    verdicts = [f"{side} is better beyond seed noise at l = {_sizes(sizes, order)}"
                for side, sizes in groups.items() if sizes and side != "neither"]
    if groups["neither"]:
        verdicts.append(f"the gap is within seed noise (or rests on one seed) at "
                        f"l = {_sizes(groups['neither'], order)}")
    examples = "; ".join(
        f"l = {row['latent']}: {row['psnr_of_mse']:.2f}"
        + (f" ± {row['psnr_of_mse_std']:.2f}" if row.get("psnr_of_mse_std") else "")
        + f" against {row['pca_psnr_of_mse']:.2f} dB"
        for row in (rows[len(rows) // 2], rows[-1]))
    why = (" Where PCA leads, its error keeps falling with the code size while the AE's has "
           "levelled off, so the AE's short training or its decoder, not its code, probably "
           "limits it there (not tested)." if groups["the PCA code"] else "")
    return ("Against a PCA code of the same size, fitted on the training frames (the last "
            "column of Table 2.1; one deterministic fit, so twice the AE's seed std is the "
            "threshold), " + ", and ".join(verdicts) + f" ({examples})." + why)


def pca_overtakes(autoencoders: dict) -> str:
    """Where a PCA code beats the AE's beyond seed noise, as a clause for the summary
    (``ae_pca_overtakes``; empty where it never does)."""
    rows = _pca_rows(autoencoders)
    sizes = [row["latent"] for row in rows if _ae_against_pca(row).startswith("the PCA code")]
    if not sizes:
        return ""
    return f"; PCA is better at l = {_sizes(sizes, [row['latent'] for row in rows])}"


def sweep_steps(autoencoders: dict) -> str:
    """Which steps between neighbouring latent sizes raise the PSNR of the mean MSE beyond seed
    noise, by the rule of Section 1.1 (each pair against its own two stds)
    (``ae_sweep_steps``)."""
    rows = sorted((autoencoders.get("sweep") or {}).values(), key=lambda row: row["latent"])
    if len(rows) < 2:
        return ""
    beyond, within = [], []
    for small, large in zip(rows, rows[1:]):
        pair = [{"value": row["psnr_of_mse"], "value_std": row.get("psnr_of_mse_std"),
                 "seeds": row.get("seeds", 1)} for row in (large, small)]
        verdict = marked_verdict(seed_difference(*pair, "value", ("larger", "smaller")))
        step = f"{small['latent']} → {large['latent']}"
        if not verdict.startswith("larger"):
            within.append(step)
        else:
            beyond.append(step + (" (narrowly)" if "narrowly" in verdict else ""))
    if not beyond:
        return "By the rule of Section 1.1, no doubling of *l* raises it beyond seed noise."
    return (f"By the rule of Section 1.1, doubling *l* raises it beyond seed noise at "
            f"{in_words(beyond)}" + (f", but not at {in_words(within)}" if within else "") + ".")


def pretraining_result(autoencoders: dict) -> str:
    """Where pre-training or training from scratch leads beyond seed noise, by share of labels
    (the per-share verdicts of ``lab3.json``), in one sentence."""
    rows = autoencoders.get("pretraining") or {}
    verdicts = autoencoders.get("pretraining_verdict") or {}
    beyond = {key: verdict for key, verdict in verdicts.items() if "beyond" in verdict}
    if not verdicts:
        return ""
    if not beyond:
        return "At every share of labels the two arms are within seed noise"

    def share(key: str) -> str:
        words = share_of_labels(rows[key])
        return words if words == "all labels" else f"{words} of the labels"

    leads = "; ".join(f"with {share(key)}, {verdict}" for key, verdict in beyond.items())
    others = "at every other share" if len(beyond) < len(verdicts) else ""
    return f"Only {leads}" + (f"; {others} the two arms are within seed noise" if others else "")


def per_frame_design_gap(autoencoders: dict, latent: int) -> str:
    """The bilinear-minus-transposed gap of the upsampling study at ``latent`` in mean
    per-frame PSNR, with its verdict (the design rows' means and seed stds)."""
    design = autoencoders.get("design") or {}
    bilinear, transposed = (design.get(f"l{latent}_{kind}") or {}
                            for kind in ("bilinear", "transposed"))
    if bilinear.get("psnr_std") is None or transposed.get("psnr_std") is None:
        return "not established (one seed)"
    difference = seed_difference(bilinear, transposed, "psnr", ("bilinear", "transposed"))
    return (f"{difference['gap']:+.2f} dB, {marked_verdict(difference)} (twice the larger seed "
            f"std: {2 * difference['spread']:.2f} dB)")


def pretraining_benefit(autoencoders: dict) -> str:
    """The pre-training study's answer in a few words: where pre-training is better beyond
    seed noise, or that no benefit was established."""
    verdicts = autoencoders.get("pretraining_verdict") or {}
    helped = [key for key, verdict in verdicts.items()
              if verdict.startswith("pre-train") and "beyond" in verdict]
    if not helped:
        return "no benefit of pre-training was established"
    shares = [f"{percent(autoencoders['pretraining'][key]['fraction'])}%" for key in helped]
    return f"pre-training helped beyond seed noise with {', '.join(shares)} of the labels"
