"""The three dataset files of the project: generation, safe loading and the 80/20 split."""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from bballs.core.files import atomic_path
from bballs.data import physics

PART1_TRAIN = "part1_bballs_training.npz"
PART1_TEST = "part1_bballs_test.npz"
PART2_SEQUENCES = "part2_bballs_sequence.npz"
GENERATE_COMMAND = "python -m bballs data --out {folder}"


@dataclass(frozen=True)
class FileSpec:
    """One dataset file: its name, size, sequence length and ball-radius distribution.

    ``radius_range`` is (low, high) for a radius drawn uniformly per ball, or None for the fixed
    radius of the original dataset. A range makes the file's distribution differ from the others.
    """

    name: str
    n_sequences: int
    n_frames: int
    radius_range: tuple[float, float] | None = None


TEST_RADIUS_RANGE = (0.8, 1.6)
PART1_BURN_IN = 10  # Part 1 shows one frame drawn from the first PART1_BURN_IN frames.

DEFAULT_FILES = (
    FileSpec(PART1_TRAIN, 500, 1),
    FileSpec(PART1_TEST, 200, 1, TEST_RADIUS_RANGE),
    FileSpec(PART2_SEQUENCES, 5000, 10),
)


def draw_radii(
    n_sequences: int, radius_range: tuple[float, float] | None, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Balanced ball counts in {1, 2, 3} (shuffled) and radii (N, 3), 0 for absent balls."""
    counts = rng.permutation(np.resize(np.arange(1, physics.MAX_BALLS + 1), n_sequences))
    if radius_range is None:
        radii = np.full((n_sequences, physics.MAX_BALLS), physics.RADIUS)
    else:
        radii = rng.uniform(*radius_range, size=(n_sequences, physics.MAX_BALLS))
    radii[np.arange(physics.MAX_BALLS)[None, :] >= counts[:, None]] = 0.0
    return counts.astype(np.int64), radii


def generate_arrays(spec: FileSpec, rng: np.random.Generator,
                    power: float = physics.PROFILE_POWER) -> dict[str, np.ndarray]:
    """Simulate and render one file's arrays in the official layout, plus ground-truth state
    (``power``: the ball profile's, see :func:`bballs.data.physics.render`).

    Official keys: ``data`` float32 (N, T, 1024) in [0, 1] and ``labels`` int64 (N,) = number of
    balls. Extra keys: ``positions`` (N, T, 3, 2) ball centres in box units (x, y) and ``radii``
    (N, 3), both float32, with radius 0 marking an absent ball.
    """
    labels, radii = draw_radii(spec.n_sequences, spec.radius_range, rng)
    if spec.n_frames == 1:
        track = physics.simulate(radii, PART1_BURN_IN, rng)
        shown = rng.integers(0, PART1_BURN_IN, size=spec.n_sequences)
        track = track[np.arange(spec.n_sequences), shown][:, None]
    else:
        track = physics.simulate(radii, spec.n_frames, rng)
    frames = physics.render(track, radii, power=power)
    return {
        "data": frames.reshape(spec.n_sequences, spec.n_frames, -1),
        "labels": labels,
        "positions": track.astype(np.float32),
        "radii": radii.astype(np.float32),
    }


def generate_dataset(
    out_dir: str | Path, seed: int = 0, files: tuple[FileSpec, ...] = DEFAULT_FILES,
    only: tuple[str, ...] | None = None,
) -> list[Path]:
    """Write the dataset files into ``out_dir`` (just the names in ``only``, if given).

    Each file has its own random stream drawn from ``seed`` and its position in ``files``, so
    the same seed gives identical files whether they are written together or one at a time.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for index, spec in enumerate(files):
        if only is not None and spec.name not in only:
            continue
        rng = np.random.default_rng([seed, index])
        path = out_dir / spec.name
        with atomic_path(path) as tmp:  # the temporary name ends in .npz, as savez wants
            np.savez_compressed(tmp, **generate_arrays(spec, rng))
        written.append(path)
    from bballs.data.identity import record_generated  # identity reads files with load_npz

    record_generated(out_dir, [path.name for path in written], seed)
    return written


def ensure_dataset(data_dir: str | Path, seed: int = 0,
                   files: Sequence[str] | None = None) -> Path:
    """Generate the dataset files (``files``: these names only; None: all three) missing from
    ``data_dir``; files already there (yours or the official ones) are validated with
    :func:`load_npz` and never replaced. A file is the same whether generated alone or with
    the others."""
    data_dir = Path(data_dir)
    wanted = [spec.name for spec in DEFAULT_FILES if files is None or spec.name in files]
    missing = tuple(name for name in wanted if not (data_dir / name).is_file())
    for name in wanted:
        if name not in missing:
            load_npz(data_dir / name)
    if missing:
        print(f"generating the missing {', '.join(missing)} (seed {seed}); "
              f"existing files are kept")
        generate_dataset(data_dir, seed=seed, only=missing)
    return data_dir


def load_npz(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Load a dataset file as frames float32 (N, T, 32, 32) in [0, 1] and labels int64 (N,).

    Accepts our files and the official ones: key ``labels`` or ``label``; data (N, T, 1024) or
    (N, T, 32, 32); float in [0, 1] or uint8 in 0..255. Unknown keys are ignored. Never unpickles.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: dataset file not found. Generate it with "
            f"`{GENERATE_COMMAND.format(folder=path.parent)}` or copy the official file there."
        )
    archive = _open_archive(path)
    with archive:
        keys = set(archive.files)
        data = _read_key(path, archive, keys, ("data",))
        labels = _read_key(path, archive, keys, ("labels", "label"))
    return _check_frames(path, data), _check_labels(path, labels, len(data))


def _corrupt(path: Path, error: Exception) -> ValueError:
    return ValueError(
        f"{path}: not a readable .npz archive ({type(error).__name__}: {error}). The file is "
        f"corrupt or truncated; regenerate it with `{GENERATE_COMMAND.format(folder=path.parent)}`."
    )


def _open_archive(path: Path):
    try:
        archive = np.load(path, allow_pickle=False)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
        raise _corrupt(path, error) from error
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(
            f"{path}: holds a single array, not an .npz archive with 'data' and 'labels'. "
            "Save both with np.savez(path, data=..., labels=...)."
        )
    return archive


def _read_key(path: Path, archive, keys: set[str], names: tuple[str, ...]) -> np.ndarray:
    name = next((n for n in names if n in keys), None)
    if name is None:
        raise ValueError(
            f"{path}: missing key {' or '.join(repr(n) for n in names)} (found {sorted(keys)}). "
            "Dataset files must hold 'data' and 'labels' arrays."
        )
    try:
        return archive[name]
    except ValueError as error:  # object arrays need pickle, which we refuse
        if "pickle" not in str(error):
            raise _corrupt(path, error) from error
        raise ValueError(
            f"{path}: array {name!r} is an object (pickled) array, which is refused for safety. "
            "Re-save it as a plain numeric array with np.savez."
        ) from error
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as error:
        raise _corrupt(path, error) from error


def _check_frames(path: Path, data: np.ndarray) -> np.ndarray:
    side = physics.RESOLUTION
    if data.ndim == 3 and data.shape[2] == side * side:
        data = data.reshape(*data.shape[:2], side, side)
    if data.ndim != 4 or data.shape[2:] != (side, side) or data.shape[0] == 0:
        raise ValueError(
            f"{path}: 'data' has shape {data.shape}; expected (N, T, {side * side}) or "
            f"(N, T, {side}, {side}) with N > 0."
        )
    if data.dtype == np.uint8:
        return data.astype(np.float32) / 255.0
    if not np.issubdtype(data.dtype, np.floating):
        raise ValueError(f"{path}: 'data' has dtype {data.dtype}; expected float or uint8.")
    if not np.isfinite(data).all():
        raise ValueError(f"{path}: 'data' contains NaN or inf values; regenerate the file.")
    if data.min() < 0 or data.max() > 1:
        raise ValueError(
            f"{path}: float 'data' spans [{data.min():.3g}, {data.max():.3g}]; expected [0, 1] "
            "(store 0..255 images as uint8)."
        )
    return data.astype(np.float32, copy=False)


def _check_labels(path: Path, labels: np.ndarray, n_sequences: int) -> np.ndarray:
    labels = np.squeeze(labels)
    if labels.ndim != 1 or len(labels) != n_sequences:
        raise ValueError(
            f"{path}: 'labels' has shape {labels.shape} but 'data' holds {n_sequences} "
            "sequences; expected one label per sequence."
        )
    if not np.issubdtype(labels.dtype, np.number) or not np.isfinite(labels).all():
        raise ValueError(f"{path}: 'labels' must be finite numbers (got dtype {labels.dtype}).")
    if (labels != np.round(labels)).any():
        raise ValueError(f"{path}: 'labels' must be whole numbers of balls; found "
                         f"{labels[labels != np.round(labels)][:3].tolist()}.")
    bad = sorted(set(np.unique(labels).tolist()) - set(range(1, physics.MAX_BALLS + 1)))
    if bad:
        raise ValueError(f"{path}: 'labels' must count 1 to {physics.MAX_BALLS} balls; found "
                         f"{bad[:5]}. Regenerate the file or fix its labels.")
    return labels.astype(np.int64)


def load_ground_truth(path: str | Path) -> dict[str, np.ndarray]:
    """The extra state keys (``positions``, ``radii``) of a generated file."""
    with np.load(path, allow_pickle=False) as archive:
        missing = {"positions", "radii"} - set(archive.files)
        if missing:
            raise ValueError(
                f"{path}: no ground-truth keys {sorted(missing)}; only files written by "
                "`python -m bballs data` carry them."
            )
        return {"positions": archive["positions"], "radii": archive["radii"]}


def split_train_val(array, train_fraction: float = 0.8):
    """First ``train_fraction`` of the rows for training, the rest for validation (no shuffle)."""
    cut = int(round(len(array) * train_fraction))
    return array[:cut], array[cut:]


def to_tensor(array: np.ndarray, device: torch.device | str = "cpu") -> torch.Tensor:
    """A numpy array as a tensor on ``device`` (float32 stays float32, ints become int64)."""
    return torch.from_numpy(np.ascontiguousarray(array)).to(device)


@dataclass
class TrainValTensors:
    """Training and validation tensors, as ``fit`` takes them."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor

    @property
    def train(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.x_train, self.y_train

    @property
    def val(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.x_val, self.y_val


def split_sequence(frames, n_input: int = 5):
    """Inputs (first ``n_input`` frames) and targets (the rest) of (N, T, H, W) sequences."""
    return frames[:, :n_input], frames[:, n_input:]
