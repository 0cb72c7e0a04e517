"""The Lab 3 mini-project: autoencoders (notebook 03), image-to-image CNNs (04) and generative
models (05) on single frames; ``report/lab3_report.pdf`` and ``lab3_code.zip``.

Where each proposal's code is (modules of :mod:`bballs.tasks` unless named otherwise):

==============================  ==========================  ========================================
proposal (notebook)             module                      main functions
==============================  ==========================  ========================================
autoencoders (03)               autoencoding                train_all, sweep, section
                                latent_classifiers          classification_rows, pretraining_rows,
                                                            head_rows
                                autoencoder_verdicts        pretraining_verdict, denoising_lead
                                latent_space                tsne_embedding, traversal, linear_probe
image-to-image (04)             image_to_image              load_data, train_all, score_network
                                image_to_image_baselines    score_baselines
                                image_to_image_study        evaluate_study, headline, section
                                image_to_image_convergence  run (``i2i-long``), recorded, section
generative models (05)          generation                  train_gan, train_diffusion,
                                                            interpolate, tables
                                sample_frechet              train_feature_encoders, frechet_rows
                                sample_validity             validity, validity_row, compare_counts
                                generation_seeds            run (``gen-seeds``), recorded, tables
==============================  ==========================  ========================================

The networks are in :mod:`bballs.models.autoencoders`, :mod:`bballs.models.image_to_image` and
:mod:`bballs.models.generative`, the scores in :mod:`bballs.image_metrics`.
"""

from __future__ import annotations

from bballs.core.assignments import Assignment

ASSIGNMENT = Assignment(
    "lab3", 2, ("03_autoencoders.ipynb", "04_image_to_image.ipynb", "05_generative_models.ipynb"),
    "lab3_report", ("lab3.json",), "lab3_code.zip",
    ("notebooks/03_*", "notebooks/04_*", "notebooks/05_*", "report/lab3_report.md",
     "report/lab3/*", "src/bballs/core/assignment_lab3.py", "src/bballs/models/autoencoders.py",
     "src/bballs/models/image_to_image.py", "src/bballs/models/generative.py",
     "src/bballs/tasks/autoencoding.py", "src/bballs/tasks/autoencoder_verdicts.py",
     "src/bballs/tasks/latent_*.py",
     "src/bballs/tasks/image_to_image*.py", "src/bballs/tasks/generation*.py",
     "src/bballs/tasks/sample_validity.py", "src/bballs/tasks/sample_frechet.py",
     "src/bballs/training/gan.py", "src/bballs/classical/restoration.py",
     "src/bballs/classical/pca.py", "src/bballs/reporting/autoencoder_text.py",
     "src/bballs/data/corruptions.py", "src/bballs/data/frames.py",
     "src/bballs/image_metrics.py", "src/bballs/reporting/autoencoder_plots.py",
     "src/bballs/reporting/image_to_image_plots.py", "src/bballs/reporting/generative_plots.py",
     "src/bballs/reporting/lab3_report.py",
     "tests/test_autoencoders.py", "tests/test_image_to_image.py", "tests/test_generative.py",
     "tests/test_gan.py", "tests/rendered_frames.py", "tests/test_frames.py",
     "tests/test_lab3_outputs.py", "results/lab3.json", "results/lab3_long.json",
     "results/lab3_gen_seeds.json",
     "figures/lab3_*", "src/bballs/cli_lab3.py"),
    tables="bballs.reporting.lab3_report:tables",
    course="TNM112 Deep Learning for Media Technology — Lab 3 mini-project",
    course_key="lab3_course",
    sections="lab3",
    data_files=("part2_bballs_sequence.npz",),
    commands="bballs.cli_lab3",
    sweep_fields=("[long]", "table[i2i_long", "text[i2i_long", "[seeds]", "table[gen_seeds"),
    sweep_hint="`python -m bballs i2i-long` trains the longer image-to-image study and `python -m "
               "bballs gen-seeds` the generators' further seeds on these data files (about an "
               "hour and 20 minutes on a 2-core CPU); then run notebooks 04 and 05 and "
               "`python -m bballs report`")
