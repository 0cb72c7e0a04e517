"""Headless execution of the notebooks and the whole reproduction chain."""

from __future__ import annotations

import time
from pathlib import Path

import papermill

from bballs.data import ensure_dataset
from bballs.results import project_root

NOTEBOOKS = ("01_ball_count_classifier.ipynb", "02_unet_video_prediction.ipynb")


def notebook_dir() -> Path:
    return project_root() / "notebooks"


def run_notebook(name: str, *, quick: bool, seed: int = 0, data_dir: str | Path | None = None,
                 output_dir: str | Path | None = None, executed: str | Path | None = None) -> Path:
    """Execute one notebook top to bottom with papermill; returns the executed copy.

    The executed notebook (with its outputs) overwrites the source unless ``executed`` is given.
    """
    source = notebook_dir() / name
    executed = Path(executed) if executed else source
    parameters = {"QUICK": quick, "SEED": seed,
                  "DATA_DIR": str(data_dir) if data_dir else None,
                  "OUTPUT_DIR": str(output_dir) if output_dir else None}
    papermill.execute_notebook(str(source), str(executed), parameters=parameters,
                               cwd=str(source.parent), progress_bar=False, kernel_name="python3")
    return executed


def reproduce(*, quick: bool, seed: int = 0, data_dir: str | Path | None = None,
              output_dir: str | Path | None = None, executed_dir: str | Path | None = None,
              notebooks: tuple[str, ...] = NOTEBOOKS) -> None:
    """Generate missing data, then execute every notebook, printing one line per stage."""
    started = time.perf_counter()
    data_dir = Path(data_dir) if data_dir else project_root() / "data"
    _stage("data", lambda: ensure_dataset(data_dir, seed=seed))
    for name in notebooks:
        if not (notebook_dir() / name).is_file():
            print(f"[skip] {name}: not in this version of the project")
            continue
        target = Path(executed_dir) / name if executed_dir else None
        _stage(name, lambda name=name, target=target: run_notebook(
            name, quick=quick, seed=seed, data_dir=data_dir, output_dir=output_dir,
            executed=target))
    print(f"[done] total {time.perf_counter() - started:.0f} s")


def _stage(label: str, action) -> None:
    started = time.perf_counter()
    print(f"[....] {label}", flush=True)
    action()
    print(f"[ ok ] {label} ({time.perf_counter() - started:.0f} s)", flush=True)
