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


END_TO_END_FIXTURES = {"quick_run"}  # the whole quick pipeline, minutes


def pytest_collection_modifyitems(items):
    """Mark the end-to-end tests ``slow`` (``-m "not slow"`` leaves them out while developing;
    README command 2 runs them all)."""
    for item in items:
        if END_TO_END_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
