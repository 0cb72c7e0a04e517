"""What the three dataset files hold and how the Part 1 test images differ from the training ones.

:func:`check_folder` inspects every file without unpickling anything (keys, dtypes, shapes,
value ranges, label counts, whether :func:`~bballs.data.dataset.load_npz` accepts it) and
compares image statistics of the Part 1 training and test files; :func:`format_report` turns the
result into text and :func:`problems` lists what makes a file unusable.
"""

from __future__ import annotations

import math
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import ndimage

from bballs.data import physics
from bballs.data.dataset import PART1_TEST, PART1_TRAIN, PART2_SEQUENCES, load_npz

FILES = (PART1_TRAIN, PART1_TEST, PART2_SEQUENCES)
LABEL_KEYS = ("labels", "label")
PART2_MIN_FRAMES = 10  # Tasks 5-7 take 5 input and 5 target frames
BRIGHT = 0.5  # a pixel above this belongs to a ball's bright area
GREY = (0.25, 0.75)  # pixels between these are a ball's soft edge
DARK = 0.1  # a pixel whose 5x5 neighbourhood stays below this (after a 3x3 median) is background


@dataclass
class ArraySummary:
    """One key of an archive: dtype, shape and value range (None where not read)."""

    key: str
    dtype: str
    shape: tuple[int, ...] | None
    low: float | None = None
    high: float | None = None
    note: str = ""


@dataclass
class FileCheck:
    """One dataset file: its arrays, label counts and whether the project can use it."""

    name: str
    path: Path
    arrays: list[ArraySummary] = field(default_factory=list)
    label_counts: dict[int | float, int] = field(default_factory=dict)
    problem: str | None = None  # one line; None when the file is usable
    frames: np.ndarray | None = field(default=None, repr=False, compare=False)
    labels: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def usable(self) -> bool:
        return self.problem is None


@dataclass
class ShiftRow:
    """One image statistic of the Part 1 training and test files."""

    name: str
    train: float
    test: float
    differs: bool
    sentence: str

    @property
    def ratio(self) -> float:
        return self.test / self.train if self.train else math.inf if self.test else 1.0


@dataclass
class DataReport:
    """Every file's check and the train-vs-test comparison (None without both Part 1 files)."""

    folder: Path
    files: list[FileCheck]
    shift: list[ShiftRow] | None = None
    tolerance: float = 0.15

    def file(self, name: str) -> FileCheck:
        return next(check for check in self.files if check.name == name)


# --- one file ------------------------------------------------------------------------------------

def inspect_file(path: str | Path) -> FileCheck:
    """Keys, dtypes, shapes, value ranges and label counts of one file (never unpickled), and
    :func:`load_npz`'s verdict; the loaded frames and labels are kept when it accepts the file."""
    path = Path(path)
    check = FileCheck(path.name, path)
    if path.is_file():
        check.arrays, labels = _summarise_arrays(path)
        if labels is not None:
            check.label_counts = label_counts(labels)
    try:
        check.frames, check.labels = load_npz(path)
    except Exception as error:  # any failure of a damaged file is a problem line, not a crash
        check.problem = _one_line(str(error) or type(error).__name__)
        return check
    check.problem = _layout_problem(path, check.frames.shape)
    return check


def label_counts(labels: np.ndarray) -> dict[int | float, int]:
    """How many labels take each value; 1, 2 and 3 always appear, other values only if present."""
    labels = np.asarray(labels).ravel()
    counts = {k: 0 for k in range(1, physics.MAX_BALLS + 1)}
    if not np.issubdtype(labels.dtype, np.number):
        return counts
    values, numbers = np.unique(labels[np.isfinite(labels)], return_counts=True)
    counts.update({_as_key(v): int(n) for v, n in zip(values, numbers)})
    return counts


def _as_key(value) -> int | float:
    return int(value) if float(value).is_integer() else float(value)


def _summarise_arrays(path: Path) -> tuple[list[ArraySummary], np.ndarray | None]:
    try:
        archive = np.load(path, allow_pickle=False)
    except Exception:  # unreadable: load_npz names the reason
        return [], None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        return [_summary("(whole file)", archive)], None
    summaries, labels = [], None
    with archive:
        for key in archive.files:
            try:
                array = archive[key]
            except Exception as error:
                summaries.append(_unreadable(archive, key, error))
                continue
            summaries.append(_summary(key, array))
            if key in LABEL_KEYS and labels is None:
                labels = array
    return summaries, labels


def _summary(key: str, array: np.ndarray) -> ArraySummary:
    summary = ArraySummary(key, str(array.dtype), tuple(array.shape))
    if array.size and (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        summary.low, summary.high = float(np.nanmin(array)), float(np.nanmax(array))
        if not np.isfinite(array).all():
            summary.note = "holds NaN or inf"
    return summary


def _unreadable(archive: np.lib.npyio.NpzFile, key: str, error: Exception) -> ArraySummary:
    """An array that cannot be read: its header if that can be, and why."""
    pickled = "pickle" in str(error)
    note = "object array: needs pickle, not read" if pickled else f"unreadable ({error})"
    dtype, shape = "object" if pickled else "?", None
    try:
        member = key if key in archive.zip.namelist() else f"{key}.npy"
        with archive.zip.open(member) as stream:
            version = np.lib.format.read_magic(stream)
            reader = {(1, 0): np.lib.format.read_array_header_1_0,
                      (2, 0): np.lib.format.read_array_header_2_0}[version]
            shape, _, header_dtype = reader(stream)
            dtype = str(header_dtype)
    except (KeyError, ValueError, OSError, zipfile.BadZipFile):
        pass
    return ArraySummary(key, dtype, shape, note=_one_line(note))


def _layout_problem(path: Path, shape: tuple[int, ...]) -> str | None:
    if path.name in (PART1_TRAIN, PART1_TEST) and shape[1] != 1:
        return f"{path}: a Part 1 file holds single images, (N, 1, ...); found {shape[1]} frames."
    if path.name == PART2_SEQUENCES and shape[1] < PART2_MIN_FRAMES:
        return (f"{path}: Part 2 sequences need {PART2_MIN_FRAMES} frames (5 inputs, 5 targets); "
                f"found {shape[1]}.")
    return None


def _one_line(text: str) -> str:
    return " ".join(text.split())


# --- image statistics of Part 1 ------------------------------------------------------------------

@dataclass(frozen=True)
class Quantity:
    """An image statistic: its table name, the words for more and less, and the smallest
    absolute difference that counts (below it, any ratio is noise)."""

    name: str
    template: str  # with {factor} and {word}
    words: tuple[str, str]
    floor: float


QUANTITIES = {
    "mean_intensity": Quantity("mean intensity", "test images are {factor} {word} on average",
                               ("brighter", "darker"), 0.005),
    "ball_area": Quantity(f"bright area per ball (pixels > {BRIGHT})",
                          "test balls are {factor} {word} in area", ("larger", "smaller"), 2.0),
    "size_spread": Quantity("ball-size spread (CV of 1-ball area)",
                            "test ball sizes are {factor} {word} (spread of one-ball areas)",
                            ("more varied", "more uniform"), 0.05),
    "edge_softness": Quantity(f"grey share of ball pixels ({GREY[0]}-{GREY[1]})",
                              "test ball edges are {factor} {word} (share of grey pixels)",
                              ("softer", "sharper"), 0.03),
    "noise": Quantity("noise (residual std, background)",
                      "test backgrounds are {factor} {word} (noise level)",
                      ("noisier", "cleaner"), 0.005),
    **{f"share_{k}": Quantity(f"share of {k}-ball images",
                              f"test has {{factor}} {{word}} images with {k} ball{'s' * (k > 1)}",
                              ("more", "fewer"), 0.1)
       for k in range(1, physics.MAX_BALLS + 1)},
}


def image_stats(frames: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """The :data:`QUANTITIES` of images (N, T, H, W) or (N, H, W) with ball counts (N,)."""
    images = np.asarray(frames, dtype=np.float32).reshape(-1, *frames.shape[-2:])
    labels = np.repeat(np.asarray(labels), len(images) // len(labels))
    area = (images > BRIGHT).sum(axis=(1, 2)) / labels
    single = area[labels == 1]
    ball = images > GREY[0]
    stats = {
        "mean_intensity": float(images.mean()),
        "ball_area": float(area.mean()),
        "size_spread": float(single.std() / single.mean()) if single.size > 1 else math.nan,
        "edge_softness": float((ball & (images < GREY[1])).sum() / max(ball.sum(), 1)),
        "noise": noise_level(images),
    }
    stats.update({f"share_{k}": float((labels == k).mean())
                  for k in range(1, physics.MAX_BALLS + 1)})
    return stats


def noise_level(images: np.ndarray) -> float:
    """Standard deviation of the high-pass residual (image minus its 3x3 median) over the
    background, away from balls (rounded to 1e-6, so clean rendered frames give 0)."""
    smooth = ndimage.median_filter(images, size=(1, 3, 3))
    dark = ndimage.maximum_filter(smooth, size=(1, 5, 5)) < DARK
    return round(float((images - smooth)[dark].std()), 6) if dark.any() else math.nan


def compare(train: dict[str, float], test: dict[str, float],
            tolerance: float = 0.15) -> list[ShiftRow]:
    """One row per quantity; it differs when the ratio leaves [1/(1+tol), 1+tol] and the
    absolute difference exceeds the quantity's floor."""
    rows = []
    for key, quantity in QUANTITIES.items():
        a, b = train[key], test[key]
        big, small = max(abs(a), abs(b)), min(abs(a), abs(b))
        differs = bool(abs(b - a) > quantity.floor and big > (1 + tolerance) * small)
        factor = f"{big / small:.2g}x" if small > 0 else "much"
        sentence = quantity.template.format(factor=factor, word=quantity.words[int(b < a)])
        rows.append(ShiftRow(quantity.name, a, b, differs,
                             f"{sentence}: test {b:.3g} vs train {a:.3g}"))
    return rows


# --- the folder ----------------------------------------------------------------------------------

def check_folder(folder: str | Path, tolerance: float = 0.15) -> DataReport:
    """Inspect the three files of ``folder`` and compare the Part 1 training and test images."""
    folder = Path(folder)
    report = DataReport(folder, [inspect_file(folder / name) for name in FILES],
                        tolerance=tolerance)
    train, test = report.file(PART1_TRAIN), report.file(PART1_TEST)
    if train.frames is not None and test.frames is not None:
        report.shift = compare(image_stats(train.frames, train.labels),
                               image_stats(test.frames, test.labels), tolerance)
    return report


def problems(report: DataReport) -> list[str]:
    """One line per unusable file."""
    return [check.problem for check in report.files if check.problem]


def format_report(report: DataReport) -> str:
    """The report as text: each file, then the train-vs-test table and what differs."""
    lines = [f"Dataset files in {report.folder}"]
    for check in report.files:
        lines += ["", *_format_file(check)]
    lines += ["", *_format_shift(report)]
    return "\n".join(lines)


def _format_file(check: FileCheck) -> list[str]:
    if not check.path.is_file():
        return [f"{check.name}: MISSING", f"  load_npz      refused: {check.problem}"]
    verdict = "usable" if check.usable else "NOT usable"
    lines = [f"{check.name}: {verdict} ({check.path.stat().st_size / 1e6:.1f} MB)"]
    if not check.arrays:
        lines.append("  no readable arrays")
    for array in check.arrays:
        shape = "?" if array.shape is None else str(array.shape)
        span = "" if array.low is None else f"  range [{array.low:.4g}, {array.high:.4g}]"
        note = f"  ({array.note})" if array.note else ""
        lines.append(f"  {array.key:<10} {array.dtype:<8} {shape:<22}{span}{note}")
    if check.label_counts:
        counts = ", ".join(f"{k}: {n}" for k, n in check.label_counts.items())
        lines.append(f"  label counts  {counts}")
    if check.frames is None:
        return [*lines, f"  load_npz      refused: {check.problem}"]
    lines.append(f"  load_npz      frames {tuple(check.frames.shape)} float32 in [0, 1], "
                 f"labels {tuple(check.labels.shape)}")
    if check.problem:
        lines.append(f"  layout        {check.problem}")
    return lines


def _format_shift(report: DataReport) -> list[str]:
    title = "Part 1 training vs test images"
    if report.shift is None:
        return [f"{title}: skipped (needs both Part 1 files usable)"]
    width = max(len(row.name) for row in report.shift)
    lines = [f"{title} (tolerance {report.tolerance:.0%}):",
             f"  {'quantity':<{width}}  {'train':>9}  {'test':>9}  {'ratio':>6}"]
    for row in report.shift:
        mark = "  differs" if row.differs else ""
        lines.append(f"  {row.name:<{width}}  {row.train:>9.4g}  {row.test:>9.4g}  "
                     f"{row.ratio:>6.3g}{mark}")
    differing = [row.sentence for row in report.shift if row.differs]
    lines.append("Differences:" if differing else "No quantity differs beyond the tolerance.")
    lines += [f"  - {sentence}." for sentence in differing]
    return lines
