"""The core project's outputs of the quick pipeline: figures, results keys and report."""

from __future__ import annotations

import json

import pytest
from pypdf import PdfReader

FIGURES = [
    "part1_curves.png", "part1_confusion.png", "part1_accuracy_by_radius.png",
    "part1_improved_confusion.png", "part1_ablation.png", "part1_shift_families.png",
    "part2_train_loss.png", "part2_val_loss.png", "part2_predictions.png",
    "part2_per_horizon.png", "part2_task7_predictions.png", "part2_task7_per_horizon.png",
    "part2_task7_error_maps.png", "part2_long_horizon.png", "part2_predictions.gif",
]
RESULT_KEYS = {
    "part1.json": {"spec": ["test_accuracy", "confusion_matrix", "history"],
                   "classical": ["test_accuracy"],
                   "improved": ["test_accuracy_mean", "test_accuracy_std",
                                "test_accuracy_per_seed", "ablation", "selection", "by_variant",
                                "tables"],
                   "shift_families": ["ball radius", "contrast", "blur", "noise"],
                   "data_source": ["digest", "origin", "files"]},
    "part2.json": {"last_frame": ["mse", "ssim", "psnr"],
                   "spec_unet": ["mse", "ssim", "psnr", "psnr_of_mse", "history"],
                   "physics": ["mse", "ssim", "psnr"],
                   "skips": ["table", "by_model", "tables"],
                   "learnt": ["mse", "ssim", "psnr", "psnr_of_mse", "ablation"],
                   "physics_model": ["mse", "ssim", "psnr", "psnr_of_mse", "constants",
                                     "train_seconds", "inference_seconds"],
                   "final_system": ["psnr_of_mse", "ssim", "threshold", "physics_share",
                                    "learnt_share", "physics_alone", "learnt_alone",
                                    "given_counts", "calibration"],
                   "task7_variants": ["rows", "table", "sequences", "summary", "tables"],
                   "task7_reidentified": ["rows", "tables", "summary", "training_sequences"],
                   "task7": ["rows", "tables"],
                   "long_horizon": ["curves"],
                   "data_source": ["digest", "origin", "files"]},
}


@pytest.mark.parametrize("figure", FIGURES)
def test_every_figure_is_written(quick_run, figure):
    assert (quick_run / "figures" / figure).stat().st_size > 2_000


@pytest.mark.parametrize("name", list(RESULT_KEYS))
def test_results_have_the_documented_keys(quick_results, name):
    quick_results(name, RESULT_KEYS[name])


def test_report_pdf_shows_numbers_from_the_results(quick_run):
    results = json.loads((quick_run / "results" / "part1.json").read_text())
    reader = PdfReader(quick_run / "report.pdf")
    text = "".join(page.extract_text() for page in reader.pages)
    assert len(reader.pages) >= 4
    assert f"{results['spec']['test_accuracy']:.1%}" in text
    assert "Task 7" in text and "84,467" in text and "615,339" in text
