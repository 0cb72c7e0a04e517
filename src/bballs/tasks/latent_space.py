"""Notebook 03, sections 2.6-2.7: the latent space seen through t-SNE, traversals, a 2-D
lattice, and linear probes of what the codes hold (ball position, occupancy)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from sklearn.linear_model import Ridge
from sklearn.manifold import TSNE
from sklearn.metrics import r2_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from bballs.data.frames import FrameData, FrameSet
from bballs.data.physics import BOX_SIZE
from bballs.models.autoencoders import Autoencoder
from bballs.tasks.autoencoding import TrainedAE, decode, latent_sweep, split_codes

PROBE_ALPHAS = (1e-3, 1e-1, 10.0)
OCCUPANCY_CELLS = 4  # the probe's coarse grid: 4x4 cells of 2.5x2.5 box units


def tsne_embedding(codes: torch.Tensor, seed: int = 0) -> np.ndarray:
    """A 2-D t-SNE embedding (scikit-learn, PCA initialisation) of latent codes."""
    codes = np.asarray(codes, dtype=np.float64)
    perplexity = min(30.0, (len(codes) - 1) / 3)
    return TSNE(2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(codes)


def traversal(model: Autoencoder, code: torch.Tensor, dims: Sequence[int],
              offsets: torch.Tensor) -> torch.Tensor:
    """Frames (len(dims), steps, 32, 32): ``code`` with one dimension ``dims[i]`` at a time
    moved by each of ``offsets[i]`` (shape (len(dims), steps)), the others kept."""
    if offsets.shape[0] != len(dims):
        raise ValueError(f"need one row of offsets per dimension, got {tuple(offsets.shape)} "
                         f"for {len(dims)} dimensions")
    codes = code.repeat(len(dims), offsets.shape[1], 1)
    for row, dim in enumerate(dims):
        codes[row, :, dim] += offsets[row]
    return decode(model, codes.reshape(-1, code.shape[-1])).reshape(*offsets.shape, 32, 32)


def traversal_from_codes(model: Autoencoder, codes: torch.Tensor, index: int = 0,
                         n_dims: int = 6, steps: int = 7, spread: float = 2.0
                         ) -> tuple[torch.Tensor, list[int]]:
    """Traversals around the code of frame ``index``: the ``n_dims`` dimensions of largest
    variance over ``codes``, each moved by -spread..+spread of its standard deviation."""
    std = codes.std(0)
    dims = torch.argsort(std, descending=True)[:n_dims].tolist()
    factors = torch.linspace(-spread, spread, steps)
    offsets = torch.stack([factors * std[d] for d in dims])
    return traversal(model, codes[index], dims, offsets), dims


def lattice(model: Autoencoder, codes: torch.Tensor, n: int = 9,
            quantiles: tuple[float, float] = (0.01, 0.99)) -> tuple[torch.Tensor, np.ndarray]:
    """Frames (n, n, 32, 32) decoded from an n x n lattice of 2-D codes spanning the given
    quantiles of ``codes`` (rows: second dimension, top = largest); returns them with the
    lattice's axis values (2, n)."""
    if codes.shape[1] != 2:
        raise ValueError(f"a lattice needs 2-D codes, got {codes.shape[1]} dimensions")
    low, high = np.quantile(codes.numpy(), quantiles, axis=0)
    axes = np.stack([np.linspace(low[d], high[d], n) for d in range(2)])
    grid = np.array([[axes[0, j], axes[1, n - 1 - i]] for i in range(n) for j in range(n)])
    return decode(model, torch.as_tensor(grid)).reshape(n, n, 32, 32), axes


def probe_targets(frames: FrameSet) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The probes' targets from the generator's stored ball state (ground truth): ``position``,
    the (x, y) of the ball in one-ball frames (frames mask, targets (M, 2)); ``occupancy``, how
    many ball centres fall in each cell of a coarse 4x4 grid of the box (all frames, (N, 16)),
    which does not depend on the order of the balls."""
    if frames.positions is None or frames.radii is None:
        raise ValueError("these frames carry no ground-truth positions")
    present = frames.radii > 0
    one = present.sum(1) == 1
    single = frames.positions[one][present[one]]
    cells = np.clip((frames.positions / (BOX_SIZE / OCCUPANCY_CELLS)).astype(int), 0,
                    OCCUPANCY_CELLS - 1)
    flat = cells[..., 1] * OCCUPANCY_CELLS + cells[..., 0]
    occupancy = np.zeros((len(frames), OCCUPANCY_CELLS ** 2))
    for ball in range(frames.positions.shape[1]):
        np.add.at(occupancy, (np.arange(len(frames)), flat[:, ball]), present[:, ball])
    return {"position": (one, single), "occupancy": (np.ones(len(frames), bool), occupancy)}


def linear_probe(features: dict[str, np.ndarray], targets: dict[str, np.ndarray],
                 alphas: Sequence[float] = PROBE_ALPHAS, standardise: bool = True
                 ) -> dict[str, float]:
    """Ridge regression from features to targets (inputs standardised unless ``standardise`` is
    False, as for raw pixels, whose near-constant border pixels standardisation would blow
    up): alpha chosen by the validation R², then the test R² (variance-weighted over the
    target columns)."""
    features = {split: np.asarray(f, dtype=np.float64) for split, f in features.items()}
    best = None
    for alpha in alphas:
        probe = make_pipeline(StandardScaler(with_std=standardise), Ridge(alpha=alpha))
        probe.fit(features["train"], targets["train"])
        val = r2_score(targets["val"], probe.predict(features["val"]),
                       multioutput="variance_weighted")
        if best is None or val > best[0]:
            best = (val, alpha, probe)
    val, alpha, probe = best
    test = r2_score(targets["test"], probe.predict(features["test"]),
                    multioutput="variance_weighted")
    return {"alpha": alpha, "val_r2": float(val), "test_r2": float(test)}


def probe_rows(runs: dict[str, TrainedAE], data: FrameData) -> list[dict]:
    """Linear probes of the ball state from each latent size's code and, as a reference, from
    the raw pixels; empty when the frames carry no ground truth."""
    splits = ("train", "val", "test")
    if not all(getattr(data, s).has_ground_truth for s in splits):
        return []
    truth = {s: probe_targets(getattr(data, s)) for s in splits}
    sources = {str(latent): {s: codes.numpy() for s, codes in split_codes(run, data).items()}
               for latent, run in latent_sweep(runs).items()}
    sources["pixels"] = {s: getattr(data, s).frames.reshape(len(getattr(data, s)), -1).numpy()
                         for s in splits}
    rows = []
    for name, features in sources.items():
        row = {"features": name if name == "pixels" else f"latent {name}",
               "dims": features["train"].shape[1]}
        for target in ("position", "occupancy"):
            result = linear_probe({s: features[s][truth[s][target][0]] for s in splits},
                                  {s: truth[s][target][1] for s in splits},
                                  standardise=name != "pixels")
            row.update({f"{target}_{key}": value for key, value in result.items()})
        rows.append(row)
    return rows
