"""Shared fixtures: one generated dataset per test session."""

from __future__ import annotations

import json

import pytest

from bballs.data.dataset import generate_dataset
from bballs.reporting.pipeline import reproduce


@pytest.fixture(scope="session")
def dataset_dir(tmp_path_factory):
    """The full default dataset (seed 0), generated once for all tests."""
    folder = tmp_path_factory.mktemp("data")
    generate_dataset(folder, seed=0)
    return folder


@pytest.fixture(scope="session")
def quick_run(dataset_dir, tmp_path_factory):
    """The quick pipeline of every assignment this checkout holds, run once for all tests."""
    out = tmp_path_factory.mktemp("quick")
    reproduce(quick=True, data_dir=dataset_dir, output_dir=out)
    return out


@pytest.fixture(scope="session")
def quick_results(quick_run):
    """A check that the quick run's results file ``name`` holds every section and field of
    ``keys`` (``{section: [field, ...]}``)."""
    def check(name: str, keys: dict[str, list[str]]) -> None:
        results = json.loads((quick_run / "results" / name).read_text())
        for section, fields in keys.items():
            assert results[section], section
            if isinstance(results[section], dict):
                assert set(fields) <= set(results[section]), section
                assert results[section].get("quick", True) is True
    return check


END_TO_END_FIXTURES = {"quick_run", "quick_results"}  # the whole quick pipeline, minutes


def pytest_collection_modifyitems(items):
    """Mark the end-to-end tests ``slow`` (``-m "not slow"`` leaves them out while developing;
    README command 2 runs them all)."""
    for item in items:
        if END_TO_END_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
