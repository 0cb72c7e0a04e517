"""Sequences from the dataset's generator, for tests that need real-looking frames."""

from __future__ import annotations

import numpy as np

from bballs.data.dataset import FileSpec, generate_arrays


def generated_sequences(n: int = 6, t: int = 10, seed: int = 0) -> tuple[np.ndarray, dict]:
    """``n`` sequences of ``t`` frames (n, t, 32, 32) and the generator's arrays."""
    arrays = generate_arrays(FileSpec("x", n, t), np.random.default_rng(seed))
    return arrays["data"].reshape(n, t, 32, 32), arrays
