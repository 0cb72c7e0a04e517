"""Image-to-image tasks on single frames (Lab 3, Proposal 2): denoising, in-painting and
segmentation with the encoder-decoder of :mod:`bballs.models.image_to_image`, each against
classical baselines.

Tasks (corruption levels fixed here and documented in the report):

* ``denoise_gaussian``: additive Gaussian noise of std :data:`GAUSSIAN_SIGMA`, clipped to [0, 1].
* ``denoise_salt_pepper``: a fraction :data:`SALT_PEPPER` of the pixels set to 0 or 1 (half each).
* ``inpaint``: a :data:`HOLE` x :data:`HOLE` square set to 0; the network gets the masked frame
  and the mask as two channels. Training holes are at the centre for half the frames and at a
  uniformly random position for the other half; both positions are scored separately.
* ``segment_binary``: per-pixel ball / background; ``segment_instance``: per-pixel background or
  ball 1..3, balls numbered from left to right by the x coordinate of their centre, a pixel
  covered by two balls belonging to the one it is closer to (relative to the radius). Targets
  are rendered from the generator's stored state (ground truth) by
  :func:`bballs.data.frames.ball_masks`. Clean frames make the foreground a plain threshold of
  the input, so the networks train on frames with Gaussian noise of a per-frame std drawn from
  U(0, :data:`SEGMENT_NOISE_MAX`) and are scored on clean frames and on frames with noise of
  std :data:`GAUSSIAN_SIGMA`.

Restoration networks end in a linear head clipped to [0, 1] and train with the mean squared error
against the clean frame over the whole frame (a sigmoid trained with cross-entropy left a faint
grey background that SSIM punishes; the clipped head outputs exact zeros there). Segmentation
networks output logits and train with cross-entropy. Every run uses Adam, batch 64, lr 2e-3 with
cosine decay, for :data:`EPOCHS` epochs. Training corruptions are drawn
afresh in every step (reproducibly: :func:`bballs.training.loop.fit` re-seeds the global torch
generator every epoch); evaluation corruptions are drawn once from fixed seeds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage
from torch import nn

from bballs.core.files import OutputPaths
from bballs.data import physics
from bballs.data.frames import FrameSet, ball_masks, load_frames
from bballs.metrics import dice, frame_scores, instance_scores, iou, psnr_from_mse
from bballs.models.image_to_image import (
    SKIPS,
    WIDTHS,
    Skip,
    build,
    matched_widths,
)
from bballs.models.spec import count_parameters
from bballs.training.loop import History, TrainConfig, cosine, fit, predict, seed_everything

GAUSSIAN_SIGMA = 0.2
SALT_PEPPER = 0.1
HOLE = 8
SEGMENT_NOISE_MAX = 0.3
EPOCHS = 4
BATCH_SIZE = 64
LR = 2e-3
MEDIAN_SIZES = (3, 5)
GAUSSIAN_SIGMAS = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0)
SMOOTHING_SIGMAS = (0.0, 0.5, 0.75, 1.0, 1.5)
EVAL_SEED = 1234


@dataclass(frozen=True)
class Task:
    """One image-to-image task: its kind ("restore" or "segment") and the network's channels."""

    name: str
    kind: str
    in_channels: int
    out_channels: int
    title: str


TASKS = {task.name: task for task in (
    Task("denoise_gaussian", "restore", 1, 1, f"Gaussian noise (std {GAUSSIAN_SIGMA})"),
    Task("denoise_salt_pepper", "restore", 1, 1, f"salt and pepper ({SALT_PEPPER:.0%} pixels)"),
    Task("inpaint", "restore", 2, 1, f"in-painting ({HOLE}x{HOLE} hole)"),
    Task("segment_binary", "segment", 1, 2, "binary segmentation"),
    Task("segment_instance", "segment", 1, 1 + physics.MAX_BALLS, "instance segmentation"),
)}


def task(name: str) -> Task:
    """The task called ``name`` (a clear error for an unknown one)."""
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; choose from {tuple(TASKS)}")
    return TASKS[name]


# --- corruptions (torch; the global generator when ``generator`` is None) -----------------------

def gaussian_noise(clean: torch.Tensor, sigma: float | torch.Tensor,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """``clean`` plus Gaussian noise of std ``sigma`` (a number or one per frame), clipped."""
    noise = torch.randn(clean.shape, generator=generator).to(clean.device)
    if isinstance(sigma, torch.Tensor):
        sigma = sigma.reshape(-1, *([1] * (clean.ndim - 1))).to(clean.device)
    return (clean + sigma * noise).clamp(0.0, 1.0)


def salt_and_pepper(clean: torch.Tensor, amount: float = SALT_PEPPER,
                    generator: torch.Generator | None = None) -> torch.Tensor:
    """``clean`` with a fraction ``amount`` of the pixels set to 0 (pepper) or 1 (salt)."""
    if not 0 <= amount <= 1:
        raise ValueError(f"amount must be in [0, 1], got {amount}")
    u = torch.rand(clean.shape, generator=generator).to(clean.device)
    return torch.where(u < amount / 2, 0.0, torch.where(u < amount, 1.0, clean))


def square_masks(n: int, position: str, size: int = HOLE, resolution: int = physics.RESOLUTION,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """Masks (n, 1, H, W), 1 inside a ``size`` square hole: at the ``"centre"``, at a uniformly
    ``"random"`` position, or ``"mixed"`` (centre for a random half of the frames)."""
    if position not in ("centre", "random", "mixed"):
        raise ValueError(f"position must be 'centre', 'random' or 'mixed', got {position!r}")
    if not 0 < size <= resolution:
        raise ValueError(f"hole size must be in 1..{resolution}, got {size}")
    corner = torch.randint(0, resolution - size + 1, (n, 2), generator=generator)
    centre = torch.full((n, 2), (resolution - size) // 2)
    if position == "centre":
        corner = centre
    elif position == "mixed":
        corner = torch.where(torch.rand(n, 1, generator=generator) < 0.5, centre, corner)
    index = torch.arange(resolution)
    rows = (index >= corner[:, :1]) & (index < corner[:, :1] + size)
    cols = (index >= corner[:, 1:]) & (index < corner[:, 1:] + size)
    return (rows[:, :, None] & cols[:, None, :]).float()[:, None]


def inpaint_input(clean: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The network's in-painting input: the frame with the hole set to 0, and the mask."""
    mask = mask.to(clean.device)
    return torch.cat([clean * (1 - mask), mask], dim=1)


def training_input(name: str, clean: torch.Tensor) -> torch.Tensor:
    """A freshly corrupted training input for task ``name`` (global torch generator)."""
    if name == "denoise_gaussian":
        return gaussian_noise(clean, GAUSSIAN_SIGMA)
    if name == "denoise_salt_pepper":
        return salt_and_pepper(clean)
    if name == "inpaint":
        return inpaint_input(clean, square_masks(len(clean), "mixed"))
    task(name)
    return gaussian_noise(clean, torch.rand(len(clean)) * SEGMENT_NOISE_MAX)


class TaskStep:
    """The training step of a task: corrupt the clean frames afresh, then the mean squared error
    against the clean frame (restoration) or cross-entropy against the label map
    (segmentation)."""

    def __init__(self, name: str) -> None:
        self.task = task(name)

    def __call__(self, model: nn.Module, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
        clean, target = batch
        output = model(training_input(self.task.name, clean))
        if self.task.kind == "restore":
            return F.mse_loss(output, target)
        return F.cross_entropy(output, target)


# --- data -------------------------------------------------------------------------------------

def instance_labels(positions: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """Label maps (N, H, W) int64 from the generator state: 0 background, k = the k-th ball from
    the left (by centre x); a pixel inside two balls goes to the one with smaller d / r."""
    masks = ball_masks(positions, radii)
    grid = physics.pixel_centres()
    x, y = positions[..., 0][..., None, None], positions[..., 1][..., None, None]
    d2 = (grid[None, None, None, :] - x) ** 2 + (grid[None, None, :, None] - y) ** 2
    scaled = np.where(masks, d2 / np.where(radii > 0, radii, 1.0)[..., None, None] ** 2, np.inf)
    owner = scaled.argmin(axis=1)
    order_x = np.where(radii > 0, positions[..., 0], np.inf)
    rank = np.argsort(np.argsort(order_x, axis=1), axis=1)  # 0 = leftmost present ball
    labels = np.take_along_axis(rank, owner.reshape(len(owner), -1), axis=1).reshape(owner.shape)
    return np.where(masks.any(axis=1), labels + 1, 0).astype(np.int64)


@dataclass
class Split:
    """Clean frames (N, 1, H, W) and their label maps (N, H, W): foreground and instances."""

    frames: torch.Tensor
    binary: torch.Tensor
    instance: torch.Tensor

    def target(self, name: str) -> torch.Tensor:
        """The training target of task ``name``."""
        kind = task(name).kind
        if kind == "restore":
            return self.frames
        return self.binary if name == "segment_binary" else self.instance


def make_split(frame_set: FrameSet) -> Split:
    """Frames and ground-truth label maps of one split (the file must carry the state)."""
    if not frame_set.has_ground_truth:
        raise ValueError("segmentation targets need the generator's state (positions, radii)")
    labels = instance_labels(frame_set.positions, frame_set.radii)
    return Split(frame_set.frames, torch.from_numpy((labels > 0).astype(np.int64)),
                 torch.from_numpy(labels))


@dataclass
class Data:
    train: Split
    val: Split
    test: Split


def load_data(data_dir: str | Path, quick: bool = False) -> Data:
    """Train / val / test splits of :func:`bballs.data.frames.load_frames` with label maps."""
    frames = load_frames(data_dir, quick)
    return Data(*(make_split(getattr(frames, s)) for s in ("train", "val", "test")))


# --- fixed evaluation inputs --------------------------------------------------------------------

@dataclass
class Condition:
    """One scored condition of a task: a key, a title, the network input and what the
    baselines see."""

    name: str
    title: str
    inputs: torch.Tensor
    corrupted: torch.Tensor  # the corrupted frame (N, 1, H, W)
    mask: torch.Tensor | None = None  # in-painting hole (N, 1, H, W)


def conditions(name: str, split: Split, seed: int = EVAL_SEED) -> list[Condition]:
    """The evaluation conditions of task ``name`` on ``split``, drawn from ``seed``."""
    clean = split.frames
    generator = torch.Generator().manual_seed(seed)
    if name == "denoise_gaussian":
        noisy = gaussian_noise(clean, GAUSSIAN_SIGMA, generator)
        return [Condition("noisy", f"Gaussian, std {GAUSSIAN_SIGMA}", noisy, noisy)]
    if name == "denoise_salt_pepper":
        noisy = salt_and_pepper(clean, SALT_PEPPER, generator)
        return [Condition("noisy", f"salt and pepper, {SALT_PEPPER:.0%} of pixels", noisy,
                          noisy)]
    if name == "inpaint":
        out = []
        for position in ("centre", "random"):
            mask = square_masks(len(clean), position, generator=generator)
            inputs = inpaint_input(clean, mask)
            out.append(Condition(position, f"{position} hole", inputs, inputs[:, :1], mask))
        return out
    task(name)
    noisy = gaussian_noise(clean, GAUSSIAN_SIGMA, generator)
    return [Condition("clean", "clean", clean, clean),
            Condition("noisy", f"noisy (std {GAUSSIAN_SIGMA})", noisy, noisy)]


# --- classical baselines ------------------------------------------------------------------------

def _frames(x) -> np.ndarray:
    array = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
    return array.reshape(-1, *array.shape[-2:]).astype(np.float64)


def median_denoise(noisy, size: int) -> np.ndarray:
    """Median filter of ``size`` x ``size`` on every frame: (N, H, W)."""
    if size < 1:
        raise ValueError(f"filter size must be positive, got {size}")
    return ndimage.median_filter(_frames(noisy), size=(1, size, size), mode="reflect")


def gaussian_denoise(noisy, sigma: float) -> np.ndarray:
    """Gaussian filter of std ``sigma`` pixels on every frame: (N, H, W)."""
    if sigma < 0:
        raise ValueError(f"sigma must be non-negative, got {sigma}")
    return ndimage.gaussian_filter(_frames(noisy), sigma=(0, sigma, sigma), mode="reflect")


def nearest_fill(corrupted, mask) -> np.ndarray:
    """Fill every hole pixel with the nearest known pixel (Euclidean, via the indices of
    ``scipy.ndimage.distance_transform_edt``): (N, H, W)."""
    frames, holes = _frames(corrupted), _frames(mask) > 0.5
    out = frames.copy()
    for i, (frame, hole) in enumerate(zip(frames, holes)):
        if hole.any() and not hole.all():
            rows, cols = ndimage.distance_transform_edt(hole, return_distances=False,
                                                        return_indices=True)
            out[i] = frame[rows, cols]
    return out


def threshold_segment(frames, sigma: float = 0.0, threshold: float = 0.5) -> np.ndarray:
    """Foreground masks (N, H, W): frames smoothed by a Gaussian of std ``sigma`` (0: none),
    then thresholded."""
    smooth = gaussian_denoise(frames, sigma) if sigma > 0 else _frames(frames)
    return smooth > threshold


_EIGHT = np.ones((3, 3), dtype=bool)


def component_instances(foreground: np.ndarray, n_instances: int = physics.MAX_BALLS
                        ) -> np.ndarray:
    """Label maps (N, H, W) from foreground masks: the ``n_instances`` largest 8-connected
    components, numbered 1.. from left to right by their centroid's column."""
    out = np.zeros(foreground.shape, dtype=np.int64)
    for i, mask in enumerate(foreground):
        labels, n = ndimage.label(mask, structure=_EIGHT)
        if n == 0:
            continue
        index = np.arange(1, n + 1)
        sizes = ndimage.sum_labels(mask, labels, index)
        kept = index[np.argsort(-sizes, kind="stable")[:n_instances]]
        columns = [c[1] for c in ndimage.center_of_mass(mask, labels, kept)]
        for rank, label in enumerate(kept[np.argsort(columns, kind="stable")]):
            out[i][labels == label] = rank + 1
    return out


# --- scores -------------------------------------------------------------------------------------

def restoration_scores(predicted, clean, mask=None) -> dict[str, float]:
    """SSIM (skimage, data range 1, mean per frame), MSE and the PSNR of that mean MSE; with a
    hole ``mask`` also the MSE inside the hole. ``background`` is the mean output where the truth
    is exactly 0 (a grey offset there costs SSIM far more than PSNR)."""
    pred, truth = np.clip(_frames(predicted), 0, 1), _frames(clean)
    per_frame = frame_scores(pred[:, None], truth[:, None])
    mse = float(per_frame["mse"].mean())
    scores = {"psnr": psnr_from_mse(mse), "ssim": float(per_frame["ssim"].mean()), "mse": mse,
              "background": float(pred[truth == 0].mean()) if (truth == 0).any() else np.nan}
    if mask is not None:
        hole = _frames(mask) > 0.5
        scores["hole_mse"] = float(((pred - truth) ** 2)[hole].mean())
    return scores


def segmentation_scores(predicted: np.ndarray, target: np.ndarray, instance: bool
                        ) -> dict[str, float]:
    """Mean IoU and Dice per image: of the foreground (binary) or over instances
    (:func:`bballs.metrics.instance_scores`)."""
    predicted, target = np.asarray(predicted), np.asarray(target)
    if instance:
        return {k: float(v.mean()) for k, v in instance_scores(predicted, target).items()}
    return {"iou": float(iou(predicted > 0, target > 0).mean()),
            "dice": float(dice(predicted > 0, target > 0).mean())}


PRIMARY = {"restore": "psnr", "segment": "iou"}
METHOD_TITLES = {"network": "network", "input": "input (no change)", "median": "median filter",
                 "gaussian": "Gaussian filter", "nearest": "nearest known pixel",
                 "threshold": "threshold 0.5", "smoothed": "smoothed threshold"}


# --- training -----------------------------------------------------------------------------------

@dataclass
class Run:
    """A trained network of one task and skip type, with its history."""

    task: str
    skip: Skip
    model: nn.Module
    history: History
    checkpoint: Path

    @property
    def train_seconds(self) -> float:
        return float(sum(self.history.epoch_seconds))

    @property
    def params(self) -> int:
        return count_parameters(self.model)


def build_model(name: str, skip: Skip) -> nn.Module:
    """The ``skip`` variant for task ``name`` (same parameter budget for all three skips),
    in channels-last memory layout (much faster convolutions on the CPU)."""
    spec = task(name)
    output = "image" if spec.kind == "restore" else "logits"
    model = build(skip, spec.in_channels, spec.out_channels, output)
    return model.to(memory_format=torch.channels_last)


TAGS = {"restore": "i2i-mse-cosine", "segment": "i2i-bce-cosine"}  # checkpoint fingerprints


def config(quick: bool, seed: int = 0, kind: str = "restore") -> TrainConfig:
    """The recipe of every run: Adam, batch 64, lr 2e-3 with cosine decay (see :func:`train`),
    :data:`EPOCHS` epochs (1 quick); the tag names the loss of the task ``kind`` (segmentation
    keeps the tag of its unchanged cross-entropy recipe)."""
    return TrainConfig(epochs=1 if quick else EPOCHS, batch_size=BATCH_SIZE, lr=LR, seed=seed,
                       tag=TAGS[kind])


def train(name: str, skip: Skip, data: Data, paths: OutputPaths, quick: bool,
          device: torch.device | str | None = None, seed: int = 0) -> Run:
    """Train (or reuse the checkpoint of) the ``skip`` network on task ``name``."""
    seed_everything(seed)
    model = build_model(name, skip)
    checkpoint = paths.checkpoint(f"lab3/i2i_{name}_{skip}")
    splits = [(s.frames, s.target(name)) for s in (data.train, data.val)]
    history = fit(model, *splits, TaskStep(name), config(quick, seed, task(name).kind),
                  checkpoint=checkpoint, make_scheduler=cosine, device=device,
                  desc=f"{name} ({skip})")
    return Run(name, skip, model, history, checkpoint)


def train_all(data: Data, paths: OutputPaths, quick: bool,
              device: torch.device | str | None = None, tasks: tuple[str, ...] = tuple(TASKS),
              skips: tuple[Skip, ...] = SKIPS, seed: int = 0) -> dict[str, dict[str, Run]]:
    """Every task with every skip type: ``runs[task][skip]``."""
    return {name: {skip: train(name, skip, data, paths, quick, device, seed) for skip in skips}
            for name in tasks}


def network_output(run: Run, condition: Condition) -> np.ndarray:
    """The network's output for a condition: an image (N, H, W) or a label map (N, H, W)."""
    out = predict(run.model, condition.inputs)
    if task(run.task).kind == "segment":
        return out.argmax(1).cpu().numpy()
    return out[:, 0].cpu().numpy()


def score_network(run: Run, split: Split) -> dict[str, dict[str, float]]:
    """The network's scores on every condition of its task on ``split``."""
    spec = task(run.task)
    out = {}
    for condition in conditions(run.task, split):
        output = network_output(run, condition)
        if spec.kind == "restore":
            out[condition.name] = restoration_scores(output, split.frames, condition.mask)
        else:
            target = split.target(run.task).numpy()
            out[condition.name] = segmentation_scores(output, target, run.task != "segment_binary")
    return out


# --- baselines with parameters picked on the validation split -----------------------------------

@dataclass
class Method:
    """A baseline: a name, the function of a condition, and the parameter it was tuned to."""

    name: str
    apply: Callable[[Condition], np.ndarray]
    parameter: str = ""


def _pick(candidates, score: Callable[[object], float]):
    return max(candidates, key=score)


def restoration_baselines(name: str, val: Split) -> list[Method]:
    """Baselines of a restoration task; filter sizes / widths chosen by the lowest val MSE."""
    identity = Method("input", lambda c: _frames(c.corrupted))
    if name == "inpaint":
        return [identity, Method("nearest", lambda c: nearest_fill(c.corrupted, c.mask))]
    (condition,) = conditions(name, val)
    clean = _frames(val.frames)

    def neg_mse(output: np.ndarray) -> float:
        return -float(((output - clean) ** 2).mean())

    size = _pick(MEDIAN_SIZES, lambda s: neg_mse(median_denoise(condition.corrupted, s)))
    sigma = _pick(GAUSSIAN_SIGMAS, lambda s: neg_mse(gaussian_denoise(condition.corrupted, s)))
    return [identity,
            Method("median", lambda c: median_denoise(c.corrupted, size), f"{size}x{size}"),
            Method("gaussian", lambda c: gaussian_denoise(c.corrupted, sigma),
                   f"std {sigma:g} px")]


def segmentation_baselines(name: str, val: Split) -> dict[str, list[Method]]:
    """Per condition: the 0.5 threshold, and a Gaussian smoothing (std picked on val by IoU,
    0 allowed) before it; instances are the connected components ordered by x."""
    instance = name == "segment_instance"
    target = val.target(name).numpy()

    def labelled(c: Condition, sigma: float) -> np.ndarray:
        mask = threshold_segment(c.corrupted, sigma)
        return component_instances(mask) if instance else mask.astype(np.int64)

    methods = {}
    for condition in conditions(name, val):
        sigma = _pick(SMOOTHING_SIGMAS, lambda s, c=condition: segmentation_scores(
            labelled(c, s), target, instance)["iou"])
        methods[condition.name] = [
            Method("threshold", lambda c: labelled(c, 0.0)),
            Method("smoothed", lambda c, s=sigma: labelled(c, s), f"std {sigma:g} px")]
    return methods


def score_baselines(name: str, data: Data) -> dict[str, dict[str, dict]]:
    """``scores[condition][method]`` of the classical baselines on the test split."""
    test = data.test
    out: dict[str, dict[str, dict]] = {}
    if task(name).kind == "restore":
        methods = restoration_baselines(name, data.val)
        for condition in conditions(name, test):
            out[condition.name] = {m.name: {**restoration_scores(m.apply(condition), test.frames,
                                                                 condition.mask),
                                            "parameter": m.parameter} for m in methods}
        return out
    target = test.target(name).numpy()
    per_condition = segmentation_baselines(name, data.val)
    for condition in conditions(name, test):
        out[condition.name] = {m.name: {**segmentation_scores(m.apply(condition), target,
                                                              name == "segment_instance"),
                                        "parameter": m.parameter}
                               for m in per_condition[condition.name]}
    return out


# --- the whole study ----------------------------------------------------------------------------

@dataclass
class Study:
    """Scores of every run and baseline, and the skip type selected per task."""

    skips: dict[str, dict[str, dict]] = field(default_factory=dict)
    selected: dict[str, str] = field(default_factory=dict)
    tasks: dict[str, dict[str, dict[str, dict]]] = field(default_factory=dict)
    titles: dict[str, dict[str, str]] = field(default_factory=dict)


def select_skip(runs: dict[str, Run]) -> str:
    """The skip type with the lowest final validation loss."""
    return min(runs, key=lambda skip: runs[skip].history.val_loss[-1])


def evaluate_study(runs: dict[str, dict[str, Run]], data: Data) -> Study:
    """Test scores of every network (per skip type) and, per task, of the selected network
    against the baselines."""
    study = Study()
    for name, by_skip in runs.items():
        study.skips[name] = {}
        for skip, run in by_skip.items():
            study.skips[name][skip] = {"scores": score_network(run, data.test),
                                       "val_loss": run.history.val_loss[-1],
                                       "params": run.params, "train_seconds": run.train_seconds,
                                       "epochs": run.history.epochs_done}
        best = study.selected[name] = select_skip(by_skip)
        baselines = score_baselines(name, data)
        study.tasks[name] = {cond: {"network": {**study.skips[name][best]["scores"][cond],
                                                "parameter": f"{best} skips"}, **methods}
                             for cond, methods in baselines.items()}
        study.titles[name] = {c.name: c.title for c in conditions(name, data.val)}
    return study


# --- tables and the results section -------------------------------------------------------------

def model_rows(reference_task: str = "denoise_gaussian") -> list[dict]:
    """Widths and parameter counts of the three skip variants for every task."""
    rows = []
    for skip in SKIPS:
        row = {"skip": skip, "widths": "-".join(map(str, matched_widths(skip)))}
        for name in TASKS:
            row[f"params_{name}"] = count_parameters(build_model(name, skip))
        rows.append(row)
    return rows


def skip_rows(study: Study) -> list[dict]:
    """Rows task x skip: the primary test metric (first condition), params, train seconds."""
    rows = []
    for name, by_skip in study.skips.items():
        metric = PRIMARY[task(name).kind]
        for skip, entry in by_skip.items():
            conds = list(entry["scores"])
            rows.append({"task": name, "skip": skip, "metric": metric,
                         "score": entry["scores"][conds[0]][metric],
                         "score_2": entry["scores"][conds[-1]][metric] if len(conds) > 1 else None,
                         "val_loss": entry["val_loss"], "params": entry["params"],
                         "train_seconds": entry["train_seconds"],
                         "selected": "yes" if study.selected[name] == skip else ""})
    return rows


def task_rows(study: Study, names: tuple[str, ...]) -> list[dict]:
    """Rows task x condition x method with every score of those methods."""
    return [{"task": name, "condition": study.titles[name][cond],
             "method": METHOD_TITLES[method],
             **{k: v for k, v in scores.items() if k != "parameter"},
             "parameter": scores.get("parameter", "")}
            for name in names for cond, methods in study.tasks[name].items()
            for method, scores in methods.items()]


RESTORE_COLUMNS = {"condition": "corruption", "method": "method", "parameter": "parameter",
                   "psnr": "PSNR (dB)", "ssim": "SSIM", "mse": "MSE",
                   "background": "mean on black"}
INPAINT_COLUMNS = {**RESTORE_COLUMNS, "hole_mse": "MSE in hole"}
SEGMENT_COLUMNS = {"task": "task", "condition": "input", "method": "method",
                   "parameter": "parameter", "iou": "IoU", "dice": "Dice"}
SKIP_COLUMNS = {"task": "task", "skip": "skip", "metric": "metric", "score": "test score",
                "score_2": "test score (2nd condition)", "val_loss": "val loss",
                "params": "params", "train_seconds": "train s", "selected": "selected"}
MODEL_COLUMNS = {"skip": "skip", "widths": "widths",
                 **{f"params_{name}": f"params {name}" for name in TASKS}}


def tables(study: Study) -> dict[str, dict]:
    """The section's tables in the report's format (columns, rows)."""
    return {
        "i2i_models": {"columns": MODEL_COLUMNS, "rows": model_rows()},
        "i2i_skips": {"columns": SKIP_COLUMNS, "rows": skip_rows(study)},
        "i2i_denoise": {"columns": {"task": "task", **RESTORE_COLUMNS},
                        "rows": task_rows(study, ("denoise_gaussian", "denoise_salt_pepper"))},
        "i2i_inpaint": {"columns": INPAINT_COLUMNS, "rows": task_rows(study, ("inpaint",))},
        "i2i_segment": {"columns": SEGMENT_COLUMNS,
                        "rows": task_rows(study, ("segment_binary", "segment_instance"))},
    }


def settings(data: Data, quick: bool) -> dict:
    """Every fixed choice of the study, for the report."""
    return {"gaussian_sigma": GAUSSIAN_SIGMA, "salt_pepper": SALT_PEPPER, "hole": HOLE,
            "segment_noise_max": SEGMENT_NOISE_MAX, "epochs": config(quick).epochs,
            "batch_size": BATCH_SIZE, "lr": LR, "n_train": len(data.train.frames),
            "n_val": len(data.val.frames), "n_test": len(data.test.frames), "quick": quick,
            "median_sizes": list(MEDIAN_SIZES), "gaussian_sigmas": list(GAUSSIAN_SIGMAS),
            "smoothing_sigmas": list(SMOOTHING_SIGMAS),
            "widths": {skip: list(matched_widths(skip)) for skip in SKIPS},
            "input_values": physics.RESOLUTION**2,
            "bottleneck_values": (physics.RESOLUTION // 4) ** 2 * WIDTHS[-1],
            "param_spread": param_spread()}


def param_spread() -> float:
    """The largest relative difference in parameters between the skip types of any task."""
    spreads = []
    for name in TASKS:
        counts = [count_parameters(build_model(name, skip)) for skip in SKIPS]
        spreads.append(max(counts) / min(counts) - 1)
    return max(spreads)


def headline(study: Study) -> dict[str, dict[str, dict]]:
    """Per task and condition: the network's primary score (PSNR or IoU), the best classical
    baseline's (not "input") and the margin network - baseline (positive: network better);
    per task also the spread of the primary score over the skip types (max - min)."""
    out: dict[str, dict[str, dict]] = {}
    for name, by_cond in study.tasks.items():
        metric = PRIMARY[task(name).kind]
        out[name] = {}
        for cond, methods in by_cond.items():
            classical = {m: v[metric] for m, v in methods.items() if m not in ("network", "input")}
            best = max(classical, key=classical.get)
            net = methods["network"][metric]
            out[name][cond] = {"metric": metric, "network": net, "baseline": best,
                               "baseline_title": METHOD_TITLES[best],
                               "baseline_score": classical[best], "margin": net - classical[best]}
        scores = [row["score"] for row in skip_rows(study) if row["task"] == name]
        out[name]["skip_spread"] = max(scores) - min(scores)
    return out


def section(study: Study, data: Data, quick: bool, wall_seconds: float) -> dict:
    """The ``image_to_image`` section of ``lab3.json``."""
    return {"settings": settings(data, quick), "selected": study.selected, "skips": study.skips,
            "tasks": study.tasks, "headline": headline(study), "wall_seconds": wall_seconds,
            "tables": tables(study)}


# --- example grids ------------------------------------------------------------------------------

def example_rows(run: Run, data: Data, n: int = 6, condition: int = -1) -> dict[str, np.ndarray]:
    """Rows of an example grid for a run on the first ``n`` test frames of one condition:
    input, network output, the classical baseline (median filter, nearest known pixel or
    smoothed threshold), truth and the network's error (|output - truth|, or label != truth)."""
    test = Split(data.test.frames[:n], data.test.binary[:n], data.test.instance[:n])
    cond = conditions(run.task, test)[condition]
    output = network_output(run, cond)
    if task(run.task).kind == "restore":
        methods = restoration_baselines(run.task, data.val)
        baseline = methods[-1] if run.task == "inpaint" else methods[1]
        truth = _frames(test.frames)
        error = np.abs(np.clip(output, 0, 1) - truth)
    else:
        baseline = segmentation_baselines(run.task, data.val)[cond.name][-1]
        truth = test.target(run.task).numpy()
        error = (output != truth).astype(float)
    error_name = "|network - truth|" if task(run.task).kind == "restore" else "|network != truth|"
    return {"input": _frames(cond.corrupted), "network": output,
            METHOD_TITLES[baseline.name]: baseline.apply(cond), "truth": truth,
            error_name: error}


def validation_losses(runs: dict[str, dict[str, Run]]) -> dict[str, dict[str, list[float]]]:
    """``losses[task][skip]``: the validation loss per epoch of every run."""
    return {name: {skip: run.history.val_loss for skip, run in by_skip.items()}
            for name, by_skip in runs.items()}
