"""Shared fixtures: one generated dataset per test session."""

from __future__ import annotations

import pytest

from bballs.data.dataset import generate_dataset


@pytest.fixture(scope="session")
def dataset_dir(tmp_path_factory):
    """The full default dataset (seed 0), generated once for all tests."""
    folder = tmp_path_factory.mktemp("data")
    generate_dataset(folder, seed=0)
    return folder
