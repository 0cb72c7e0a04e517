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


def test_without_the_separate_studies_only_their_values_are_missing(tmp_path):
    """Data files the ``i2i-long`` and ``gen-seeds`` commands have not run on: the report names
    only those studies' values as missing, so ``reproduce`` builds it with them as n/a and says
    which command fills them."""
    import json
    import shutil

    from bballs.core.files import project_root
    from bballs.reporting.pipeline import from_sweeps
    from bballs.reporting.report import ReportError, render_markdown

    shutil.copytree(project_root() / "figures", tmp_path / "figures")
    (tmp_path / "results").mkdir()
    lab3 = json.loads((project_root() / "results" / "lab3.json").read_text())
    section = lab3["image_to_image"]
    del section["long"]
    section["tables"] = {k: v for k, v in section["tables"].items() if "long" not in k}
    generative = lab3["generative"]
    assert "seeds" in generative  # the committed results hold the seed study
    del generative["seeds"]
    del generative["tables"]["gen_seeds"]
    (tmp_path / "results" / "lab3.json").write_text(json.dumps(lab3))
    with pytest.raises(ReportError) as error:
        render_markdown(tmp_path, report="lab3_report")
    assert error.value.missing and all(from_sweeps(f, "lab3_report") for f in error.value.missing)
    assert any("gen_seeds" in field for field in error.value.missing)
    text = render_markdown(tmp_path, report="lab3_report", allow_missing=True)
    assert "n/a" in text and "have not been trained from further seeds" in text


def test_the_lab3_settings_note_reads_the_recipes_and_every_recipe_skips_weight_decay():
    from bballs.reporting.lab3_report import _settings_note
    from bballs.tasks import autoencoding, generation, latent_classifiers

    recipes = (autoencoding.AE_RECIPE, latent_classifiers.LATENT_RECIPE,
               latent_classifiers.FINETUNE_RECIPE, generation.GAN_RECIPE,
               generation.DIFFUSION_RECIPE)
    assert all(r.weight_decay == 0 for r in recipes)  # "Adam without weight decay throughout"
    note = _settings_note({"generative": {
        "feature_encoder": {"count": 5, "width": 16, "feature_dim": 32},
        "budget": {"features": {"epochs": 3, "batch_size": 64, "lr": 0.002}}}})
    assert note.startswith("Adam without weight decay throughout; autoencoders 6 epochs of batch")
    assert "the 5 Fréchet feature CNNs: the counting CNN with 16 channels" in note
    assert "3 epochs of batch 64 at learning rate 2×10⁻³" in note
    assert "filter settings" not in note  # no image-to-image settings given


def test_the_lab3_report_describes_the_generator_constants_the_code_uses():
    from pathlib import Path

    from bballs.data import physics

    assert (physics.SPEED, physics.SUBSTEPS, physics.BOX_SIZE) == (0.5, 2, 10.0)
    report = Path(__file__).resolve().parents[1] / "report" / "lab3_report.md"
    text = " ".join(report.read_text().split())
    assert "scaled together to norm 0.5 box units per frame, applied in two sub-steps" in text


def test_the_baselines_and_the_in_painting_rows_are_named_from_the_results():
    from bballs.reporting.lab3_report import _baseline_words

    def study(denoise, inpaint):
        return {"tasks": {"denoise_gaussian": {"noisy": {m: {} for m in denoise}},
                          "inpaint": {"centre": {m: {} for m in inpaint}}}}
    old = _baseline_words(study(("network", "input", "median", "gaussian"),
                                ("network", "input", "nearest")))
    assert old["i2i_denoise_baselines"] == ("the corrupted input unchanged, a median filter and "
                                            "a Gaussian filter")
    assert old["i2i_inpaint_rows"].startswith("input (hole black)")
    new = _baseline_words(study(("network", "input", "median", "gaussian", "nl_means", "tv"),
                                ("network", "input", "nearest", "biharmonic")))
    assert new["i2i_denoise_baselines"].endswith("non-local means and total-variation denoising")
    assert "biharmonic in-painting" in new["i2i_inpaint_baselines"]
    assert new["i2i_inpaint_rows"].startswith("input (hole drawn grey)")


def test_the_denoising_margins_are_read_from_the_headline():
    from bballs.reporting.lab3_report import _denoise_margins

    def headline(gaussian: float, salt: float) -> dict:
        return {"headline": {
            "denoise_gaussian": {"noisy": {"margin": gaussian, "baseline_title": "median filter"}},
            "denoise_salt_pepper": {"noisy": {"margin": salt, "baseline_title": "median filter"}}}}

    assert _denoise_margins(headline(11.38, 7.95)) == (
        "The network beats every filter we tried in PSNR, by 11.4 dB on Gaussian noise (best "
        "filter: median filter) and 8.0 dB on salt and pepper (best filter: median filter).")
    assert _denoise_margins(headline(2.0, -0.5)).startswith("Network minus best filter in PSNR")
    assert _denoise_margins({}) == ""


def test_leads_just_beyond_seed_noise_are_marked_narrowly_in_every_lab3_verdict():
    from bballs.reporting.autoencoder_text import sweep_steps
    from bballs.reporting.generator_text import _verdicts
    from bballs.reporting.lab3_report import _denoising_lead

    def ae(latent: int, db: float) -> dict:
        return {"latent": latent, "psnr_of_mse": db, "psnr_of_mse_std": 0.5, "seeds": 3}

    sweep = {"sweep": {"a": ae(2, 10.0), "b": ae(4, 11.2), "c": ae(8, 14.0)}}
    assert sweep_steps(sweep) == ("By the rule of Section 1.1, doubling *l* raises it beyond "
                                  "seed noise at 2 → 4 (narrowly) and 4 → 8.")

    def run(fd: float, valid: float, tv: float) -> dict:
        return {"seeds": 3, "fd_over_floor_mean": fd, "fd_over_floor_std": 0.5,
                "valid_mean": valid, "valid_std": 0.01, "position_tv_mean": tv,
                "position_tv_std": 0.01}

    text = _verdicts(run(5.0, 0.90, 0.10), run(3.8, 0.91, 0.05))
    assert "on the distance the DDPM is narrowly better beyond seed noise" in text
    assert "on the positions the DDPM is better beyond seed noise" in text
    row = {"sigma": 0.2, "lead_verdict": "the denoising AE is better beyond seed noise",
           "denoising_psnr_of_mse_mean": 22.4, "plain_psnr_of_mse_mean": 21.2,
           "denoising_psnr_of_mse_std": 0.3, "plain_psnr_of_mse_std": 0.5}
    lead = {"denoising_lead": "from σ = 0.2 on the denoising AE leads beyond seed noise",
            "noise": {"sigma0.2": row}}
    assert _denoising_lead(lead).endswith("seed noise (narrowly at σ = 0.2)")
    clear = {**lead, "noise": {"sigma0.2": {**row, "denoising_psnr_of_mse_mean": 23.0}}}
    assert _denoising_lead(clear) == lead["denoising_lead"]


def test_the_upsampling_verdict_says_narrowly_once():
    from bballs.reporting.autoencoder_text import per_frame_design_gap

    def row(db: float) -> dict:
        return {"psnr": db, "psnr_std": 0.65, "seeds": 3}

    design = {"design": {"l16_bilinear": row(31.62), "l16_transposed": row(30.29)}}
    assert per_frame_design_gap(design, 16) == (
        "+1.33 dB, bilinear is narrowly better beyond seed noise (twice the larger seed std: "
        "1.30 dB)")
    assert per_frame_design_gap({}, 16) == "not established (one seed)"
