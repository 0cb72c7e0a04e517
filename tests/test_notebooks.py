"""Every notebook executes headless in quick mode and writes its figures and results."""

from __future__ import annotations

import json

import nbformat
import pytest

from bballs.pipeline import notebook_dir, run_notebook

NOTEBOOK_OUTPUTS = {
    "01_ball_count_classifier.ipynb": (
        ["part1_curves.png", "part1_confusion.png", "part1_accuracy_by_radius.png"],
        "part1.json",
        {"spec": ["test_accuracy", "confusion_matrix", "history"],
         "classical": ["test_accuracy"]},
    ),
    "02_unet_video_prediction.ipynb": (
        ["part2_train_loss.png", "part2_val_loss.png", "part2_predictions.png",
         "part2_per_horizon.png"],
        "part2.json",
        {"last_frame": ["mse", "ssim", "psnr"],
         "spec_unet": ["mse", "ssim", "psnr", "psnr_of_mse", "history"]},
    ),
}


@pytest.mark.parametrize("name", list(NOTEBOOK_OUTPUTS))
def test_notebook_runs_in_quick_mode_and_writes_outputs(name, dataset_dir, tmp_path):
    figures, results_name, keys = NOTEBOOK_OUTPUTS[name]
    executed = run_notebook(name, quick=True, data_dir=dataset_dir, output_dir=tmp_path,
                            executed=tmp_path / name)
    for figure in figures:
        assert (tmp_path / "figures" / figure).stat().st_size > 5_000, figure
    results = json.loads((tmp_path / "results" / results_name).read_text())
    for section, fields in keys.items():
        assert set(fields) <= set(results[section]), section
    errors = [o for c in nbformat.read(executed, 4).cells for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors


@pytest.mark.parametrize("name", list(NOTEBOOK_OUTPUTS))
def test_notebook_defines_no_classes_or_functions(name):
    notebook = nbformat.read(notebook_dir() / name, 4)
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    assert "\nclass " not in code and "\ndef " not in code and not code.startswith(("def ",
                                                                                    "class "))
