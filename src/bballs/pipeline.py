"""Headless execution of the notebooks and the whole reproduction chain."""

from __future__ import annotations

import shutil
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
              output_dir: str | Path | None = None, force: bool = False,
              notebooks: tuple[str, ...] = NOTEBOOKS) -> Path:
    """The whole chain: data (if missing), every notebook, report.pdf and code.zip.

    Full mode writes into the project (executed notebooks, figures/, results/, report/,
    dist/code.zip). Quick mode writes everything under ``build/quick`` unless ``output_dir`` is
    given, so a smoke test never overwrites the full results. Finished trainings are reused
    from their checkpoints unless ``force`` (which deletes them first). Returns the output folder.
    """
    from bballs.package import build_zip
    from bballs.report import build

    started = time.perf_counter()
    root = project_root()
    data_dir = Path(data_dir) if data_dir else root / "data"
    if output_dir is None and quick:
        output_dir = root / "build" / "quick"
    out = Path(output_dir) if output_dir else root
    separate = out.resolve() != root.resolve()
    if force and (out / "checkpoints").is_dir():
        print(f"[force] removing {out / 'checkpoints'}: every model is retrained")
        shutil.rmtree(out / "checkpoints")
    _stage("data", lambda: ensure_dataset(data_dir, seed=seed))
    for name in notebooks:
        target = out / "notebooks" / name if separate else None
        if target:
            target.parent.mkdir(parents=True, exist_ok=True)
        _stage(name, lambda name=name, target=target: run_notebook(
            name, quick=quick, seed=seed, data_dir=data_dir, output_dir=out, executed=target))
    pdf = out / "report.pdf" if separate else None
    _stage("report.pdf", lambda: print(f"       {build(root=out, out=pdf)}"))
    archive = out / "code.zip" if separate else None
    _stage("code.zip", lambda: print(f"       {build_zip(archive)}"))
    print(f"[done] total {time.perf_counter() - started:.0f} s; outputs in {out}")
    return out


def _stage(label: str, action) -> None:
    started = time.perf_counter()
    print(f"[....] {label}", flush=True)
    action()
    print(f"[ ok ] {label} ({time.perf_counter() - started:.0f} s)", flush=True)
