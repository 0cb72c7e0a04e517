"""The Lab 3 outputs of the quick pipeline: figures, results keys and report."""

from __future__ import annotations

import pytest
from pypdf import PdfReader

FIGURES = ["lab3_ae_sweep.png", "lab3_ae_pretraining.png", "lab3_i2i_skips.png",
           "lab3_i2i_curves.png", "lab3_i2i_long_curves.png",
           "lab3_gen_samples.png", "lab3_gen_curves.png"]
RESULT_KEYS = {"data": ["train", "val", "test", "seed"], "autoencoders": ["tables"],
               "image_to_image": ["tables", "long"], "generative": ["tables"],
               "data_source": ["digest", "origin", "files"]}


@pytest.mark.parametrize("figure", FIGURES)
def test_every_figure_is_written(quick_run, figure):
    assert (quick_run / "figures" / figure).stat().st_size > 2_000


def test_results_have_the_documented_keys(quick_results):
    quick_results("lab3.json", RESULT_KEYS)


def test_lab3_report_pdf_has_every_proposal(quick_run):
    reader = PdfReader(quick_run / "lab3_report.pdf")
    text = "".join(page.extract_text() for page in reader.pages)
    assert len(reader.pages) >= 4
    for heading in ("Proposal 1", "Proposal 2", "Proposal 3"):
        assert heading in text
