"""Tasks 4 and 7: named training variants, multi-seed ablation sweeps and their result rows.

Every run is checkpointed (``checkpoints/<task>/<variant>_seed<k>.pt``) and appends one row
(variant, seed, configuration, scores, parameters, wall time) to ``results/<task>_ablation.json``;
a row already there for the same configuration is kept, so sweeps resume where they stopped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from functools import partial
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.optim.lr_scheduler import CosineAnnealingLR

from bballs import augment as aug
from bballs import counting, prediction
from bballs.data import PART2_SEQUENCES, load_npz, split_train_val, to_tensor
from bballs.improved_models import CountNet, FrameAutoencoder, FramePredictor
from bballs.models import BallCounter, UNet, count_parameters
from bballs.results import OutputPaths, read_results, update_results
from bballs.training import TrainConfig, fit, load_weights, seed_everything

SEEDS = (0, 1, 2)
AUGMENTS: dict[str, Callable | None] = {
    "none": None,
    "symmetry": aug.symmetry_augment,
    "symmetry+size": aug.counting_augment,
    "symmetry+time": aug.sequence_augment,
    "symmetry only (sequences)": partial(aug.sequence_augment, time_reversal=False),
}
MODELS: dict[str, Callable[[], nn.Module]] = {
    "BallCounter": BallCounter, "CountNet": CountNet, "UNet": UNet,
    "FramePredictor": FramePredictor,
    "PhysicsPriorPredictor": partial(FramePredictor, in_frames=10, prior=True),
}
PHYSICS_PRIOR_MODELS = ("PhysicsPriorPredictor",)


def cosine(optimizer: torch.optim.Optimizer, epochs: int) -> CosineAnnealingLR:
    """Cosine decay of the learning rate to 0 over the run, stepped once per epoch."""
    return CosineAnnealingLR(optimizer, epochs)


@dataclass(frozen=True)
class Variant:
    """One training recipe: model, optimisation, augmentation and (Task 4) pre-training."""

    name: str
    change: str  # what differs from the row before / the specification, in words
    model: str
    epochs: int
    batch_size: int = 4
    lr: float = 1e-3
    augment: str = "none"
    schedule: bool = False
    loss: str = "mse"
    pretrained: bool = False
    label_fraction: float = 1.0

    def config(self, seed: int, quick: bool) -> TrainConfig:
        return TrainConfig(epochs=1 if quick else self.epochs, batch_size=self.batch_size,
                           lr=self.lr, seed=seed, tag=self.tag)

    @property
    def tag(self) -> str:
        return (f"aug={self.augment},cosine={self.schedule},loss={self.loss},"
                f"pretrained={self.pretrained},labels={self.label_fraction}")


TASK4_VARIANTS = (
    Variant("spec", "Table 2 CNN, Task 2 recipe (5 epochs, batch 4)", "BallCounter", 5),
    Variant("spec+long", "30 epochs, batch 16, cosine learning-rate decay", "BallCounter", 30,
            16, schedule=True),
    Variant("spec+long+sym", "+ random flips / transposes (8 symmetries)", "BallCounter", 30, 16,
            augment="symmetry", schedule=True),
    Variant("spec+long+sym+size", "+ ball-size jitter (grey dilation/erosion by 1 px)",
            "BallCounter", 30, 16, augment="symmetry+size", schedule=True),
    Variant("countnet+long", "CountNet (batch norm, global average pooling), no augmentation",
            "CountNet", 30, 16, schedule=True),
    Variant("countnet+long+sym+size", "CountNet + symmetries + ball-size jitter", "CountNet",
            30, 16, augment="symmetry+size", schedule=True),
    Variant("countnet+long+sym+size+ae", "+ encoder pre-trained as an autoencoder on Part 2 "
            "frames", "CountNet", 30, 16, augment="symmetry+size", schedule=True,
            pretrained=True),
)
TASK4_FINAL = TASK4_VARIANTS[5]
LABEL_FRACTIONS = (0.1, 0.25, 0.5)
AE_EPOCHS, AE_FRAMES = 3, 12_000


def task4_label_variants() -> tuple[Variant, ...]:
    """Final recipe from scratch and with pre-training, on 10 %, 25 % and 50 % of the labels."""
    rows = []
    for fraction in LABEL_FRACTIONS:
        for base in (TASK4_VARIANTS[5], TASK4_VARIANTS[6]):
            rows.append(replace(base, name=f"{base.name}@{fraction:.0%}",
                                change=f"{fraction:.0%} of the 400 labels",
                                label_fraction=fraction))
    return tuple(rows)


# --- running ------------------------------------------------------------------------------------

def _checkpoint(paths: OutputPaths, task: str, variant: Variant, seed: int) -> Path:
    return paths.checkpoint(f"{task}/{variant.name}_seed{seed}")


def _build(variant: Variant, seed: int) -> nn.Module:
    seed_everything(seed)
    return MODELS[variant.model]()


def _run_counter(variant: Variant, seed: int, data: counting.CountingData, paths: OutputPaths,
                 quick: bool, data_dir: Path) -> tuple[nn.Module, dict]:
    model = _build(variant, seed)
    if variant.pretrained:
        autoencoder = pretrain_autoencoder(data_dir, seed, paths, quick)
        model.encoder.load_state_dict(autoencoder.encoder.state_dict())
    n_labels = max(8, int(round(len(data.x_train) * variant.label_fraction)))
    subset = replace(data, x_train=data.x_train[:n_labels], y_train=data.y_train[:n_labels])
    started = time.perf_counter()
    history = counting.train_counter(
        model, subset, variant.config(seed, quick),
        checkpoint=_checkpoint(paths, "task4", variant, seed),
        augment=AUGMENTS[variant.augment], make_scheduler=cosine if variant.schedule else None,
        desc=f"{variant.name} seed {seed}")
    scores = counting.evaluate_counter(model, data.x_test, data.y_test)
    return model, {
        "test_accuracy": scores["accuracy"], "confusion_matrix": scores["confusion_matrix"],
        "val_accuracy": history.val_accuracy[-1], "train_labels": n_labels,
        "train_seconds": float(sum(history.epoch_seconds)),
        "wall_seconds": time.perf_counter() - started,
    }


def pretrain_autoencoder(data_dir: Path, seed: int, paths: OutputPaths,
                         quick: bool = False) -> FrameAutoencoder:
    """Train the autoencoder on single frames of the Part 2 *training* split (no labels used)."""
    frames, _ = load_npz(Path(data_dir) / PART2_SEQUENCES)
    train, val = split_train_val(frames)
    n = 256 if quick else AE_FRAMES
    rng = np.random.default_rng(seed)
    pick = rng.choice(train.shape[0] * train.shape[1], size=n, replace=False)
    x = to_tensor(train.reshape(-1, 1, 32, 32)[np.sort(pick)])
    x_val = to_tensor(val[:200, :1].reshape(-1, 1, 32, 32))
    seed_everything(seed)
    model = FrameAutoencoder()
    fit(model, (x, x), (x_val, x_val), nn.MSELoss(),
        TrainConfig(epochs=1 if quick else AE_EPOCHS, batch_size=64, seed=seed, tag="ae"),
        checkpoint=paths.checkpoint(f"task4/autoencoder_seed{seed}"), desc="autoencoder")
    return model


def run_sweep(task: str, variants, seeds, paths: OutputPaths, data_dir: Path,
              quick: bool = False) -> list[dict]:
    """Run every (variant, seed) not yet in the task's ablation file; return all its rows."""
    results_file = paths.results / f"{task}_ablation.json"
    rows = read_results(results_file).get("rows", [])
    done = {(r["variant"], r["seed"], r["tag"], r["epochs"]) for r in rows}
    data = (counting.load_counting_data(data_dir, quick=quick) if task == "task4"
            else prediction.load_prediction_data(data_dir, quick=quick))
    for variant in variants:
        for seed in seeds:
            config = variant.config(seed, quick)
            if (variant.name, seed, variant.tag, config.epochs) in done:
                continue
            runner = _run_counter if task == "task4" else _run_predictor
            model, scores = runner(variant, seed, data, paths, quick, data_dir)
            rows.append({"variant": variant.name, "change": variant.change, "seed": seed,
                         "tag": variant.tag, "epochs": config.epochs, "quick": quick,
                         "parameters": count_parameters(model), **asdict(config), **scores})
            update_results(results_file, "rows", rows)
    return rows


def summarise(rows: list[dict], metrics: tuple[str, ...]) -> list[dict]:
    """Mean and standard deviation over seeds of each metric, one row per variant, in the order
    the variants are defined."""
    known = [v.name for v in (*TASK4_VARIANTS, *task4_label_variants(), *TASK7_VARIANTS)]
    names = sorted(dict.fromkeys(r["variant"] for r in rows),
                   key=lambda name: known.index(name) if name in known else len(known))
    table = []
    for name in names:
        group = [r for r in rows if r["variant"] == name]
        entry = {"variant": name, "change": group[0]["change"], "seeds": len(group),
                 "parameters": group[0]["parameters"],
                 "train_seconds": float(np.mean([r["train_seconds"] for r in group]))}
        for metric in metrics:
            values = np.array([r[metric] for r in group], dtype=float)
            entry[f"{metric}_mean"] = float(values.mean())
            entry[f"{metric}_std"] = float(values.std())
        table.append(entry)
    return table


# --- Task 7 -------------------------------------------------------------------------------------

TASK7_VARIANTS = (
    Variant("unet+bs16+cosine", "Table 3 U-Net, batch 16, lr 2e-3, cosine decay (optimisation "
            "only)", "UNet", 10, 16, 2e-3, schedule=True),
    Variant("predictor", "FramePredictor: residual blocks, coordinates, sigmoid(change from last "
            "frame)", "FramePredictor", 10, 16, 2e-3, schedule=True),
    Variant("predictor+sym", "+ the 8 symmetries of the square on whole sequences",
            "FramePredictor", 10, 16, 2e-3, augment="symmetry only (sequences)", schedule=True),
    Variant("predictor+sym+time", "+ time reversal of whole sequences", "FramePredictor", 10, 16,
            2e-3, augment="symmetry+time", schedule=True),
    Variant("predictor+sym+time+bce", "binary cross-entropy loss instead of MSE",
            "FramePredictor", 10, 16, 2e-3, augment="symmetry+time", schedule=True, loss="bce"),
    Variant("physics-prior+sym", "the physics predictor's forecast as 5 more input channels; "
            "the network corrects it (symmetries; no time reversal, the forecast is one-way)",
            "PhysicsPriorPredictor", 10, 16, 2e-3, augment="symmetry only (sequences)",
            schedule=True),
)
TASK7_FINAL = TASK7_VARIANTS[4]
LOSSES: dict[str, Callable[[], nn.Module]] = {"mse": nn.MSELoss, "bce": nn.BCELoss}


_PRIOR_CACHE: list[tuple[prediction.PredictionData, prediction.PredictionData]] = []


def uses_physics_prior(variant: Variant) -> bool:
    return variant.model in PHYSICS_PRIOR_MODELS


def prior_data(data: prediction.PredictionData) -> prediction.PredictionData:
    """``data`` with the physics forecast appended to the inputs (computed once per dataset)."""
    if not _PRIOR_CACHE or _PRIOR_CACHE[0][0] is not data:
        _PRIOR_CACHE[:] = [(data, prediction.with_physics_prior(data))]
    return _PRIOR_CACHE[0][1]


def variant_data(variant: Variant, data: prediction.PredictionData) -> prediction.PredictionData:
    """The inputs ``variant``'s model expects: with the physics forecast if it uses one."""
    return prior_data(data) if uses_physics_prior(variant) else data


def rollout_predictor(variant: Variant, model: nn.Module):
    """``model`` as a next-5-frames predictor on raw frames, for autoregressive roll-outs."""
    from bballs import rollout

    if uses_physics_prior(variant):
        return rollout.physics_prior_predictor(model)
    return rollout.model_predictor(model)


def _run_predictor(variant: Variant, seed: int, data: prediction.PredictionData,
                   paths: OutputPaths, quick: bool, data_dir: Path) -> tuple[nn.Module, dict]:
    model = _build(variant, seed)
    data = variant_data(variant, data)
    history = prediction.train_predictor(
        model, data, variant.config(seed, quick),
        checkpoint=_checkpoint(paths, "task7", variant, seed),
        loss_fn=LOSSES[variant.loss](), augment=AUGMENTS[variant.augment],
        make_scheduler=cosine if variant.schedule else None, desc=f"{variant.name} seed {seed}")
    scores, _ = prediction.evaluate_predictor(model, data)
    return model, {"mse": scores["mse"], "ssim": scores["ssim"], "psnr": scores["psnr"],
                   "psnr_of_mse": scores["psnr_of_mse"], "per_horizon": scores["per_horizon"],
                   "train_seconds": float(sum(history.epoch_seconds))}


def final_model(task: str, seed: int, paths: OutputPaths, data_dir: Path,
                quick: bool = False) -> tuple[nn.Module, dict]:
    """Train (or reuse) the final recipe of ``task`` for one seed; its row is recorded too."""
    variant = TASK4_FINAL if task == "task4" else TASK7_FINAL
    rows = run_sweep(task, (variant,), (seed,), paths, data_dir, quick)
    row = next(r for r in reversed(rows) if r["variant"] == variant.name and r["seed"] == seed)
    model = load_weights(_build(variant, seed), _checkpoint(paths, task, variant, seed))
    return model.eval(), row


def mode_rows(paths: OutputPaths, task: str, quick: bool) -> list[dict]:
    """The ablation rows of ``task`` recorded in the given mode (quick or full)."""
    rows = read_results(paths.results / f"{task}_ablation.json").get("rows", [])
    return [r for r in rows if r.get("quick") == quick]


def markdown_table(table: list[dict], columns: dict[str, str]) -> str:
    """A Markdown table of summary rows; ``columns`` maps a field (or metric) to its header.

    A metric with ``_mean`` and ``_std`` fields is shown as ``mean ± std``.
    """
    lines = ["| " + " | ".join(columns.values()) + " |", "|" + "---|" * len(columns)]
    for row in table:
        cells = []
        for field in columns:
            if f"{field}_mean" in row:
                cells.append(f"{row[f'{field}_mean']:.4g} ± {row[f'{field}_std']:.2g}")
            elif isinstance(row.get(field), float):
                cells.append(f"{row[field]:.4g}")
            else:
                cells.append(str(row.get(field, "")))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
