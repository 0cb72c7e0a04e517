"""The core project: Part 1 counts the balls in a frame (Tasks 1-4, notebook 01), Part 2 predicts
the next 5 frames from 5 (Tasks 5-7, notebook 02); ``report/report.pdf`` and ``code.zip``.

Where each Task's code is (modules of :mod:`bballs.tasks` unless named otherwise):

==============================  ========================  ==========================================
Task (notebook)                 module                    main functions
==============================  ========================  ==========================================
Tasks 1-3: baseline CNN (01)    counting                  load_counting_data, SPEC_RECIPE,
                                                          train_counter, evaluate_counter,
                                                          accuracy_by_radius
Task 4: a better counter (01)   part1_task4               TASK4 (recipes), selected_recipe,
                                                          pretrain_autoencoder, sweep_tables
                                robustness                heldout_validation, shift_families,
                                                          robustness_rows, robustness_table
Tasks 5-6: baseline U-Net (02)  prediction                load_prediction_data, SPEC_RECIPE,
                                                          train_predictor, evaluate_predictor,
                                                          table_row, declare_table
                                part2_recipes             TASK5 (the skip study)
Task 7: beyond the U-Net (02)   part2_task7               calibrate, final_system, score_gate,
                                                          reference_rows, physics_rows,
                                                          summary_rows (the answer table)
                                part2_recipes             TASK7 (learnt predictors),
                                                          rollout_predictor
                                rollout                   long_sequences, roll_out, horizon_curves
                                task7_bench               run (bench-physics)
                                task7_variants            benchmark, reidentified_benchmark (bench-
                                                          physics --variants)
Training loop speed (bench)     loop_benchmark            run
==============================  ========================  ==========================================

The physics model itself is in :mod:`bballs.physics_model`, the networks in
:mod:`bballs.models.spec`, :mod:`bballs.models.improved` and :mod:`bballs.models.unet_variants`.
"""

from __future__ import annotations

from bballs.core.assignments import Assignment

ASSIGNMENT = Assignment(
    "project1", 1, ("01_ball_count_classifier.ipynb", "02_unet_video_prediction.ipynb"), "report",
    ("part1.json", "part2.json"), "code.zip",
    ("notebooks/01_*", "notebooks/02_*", "report/report.md", "src/bballs/cli_project1.py",
     "src/bballs/core/assignment_project1.py",
     "src/bballs/physics_model/*", "src/bballs/tasks/part1_task4.py",
     "src/bballs/tasks/part2_*.py", "src/bballs/tasks/task7_*.py",
     "src/bballs/tasks/robustness.py", "src/bballs/tasks/rollout.py",
     "src/bballs/tasks/frozen_shifts.py",
     "src/bballs/tasks/prediction.py", "src/bballs/tasks/counting.py",
     "src/bballs/tasks/loop_benchmark.py", "src/bballs/training/experiments.py",
     "src/bballs/models/spec.py", "src/bballs/models/unet_variants.py",
     "src/bballs/models/improved.py", "src/bballs/data/augment.py",
     "src/bballs/data/variants.py", "src/bballs/data/shifts.py",
     "src/bballs/classical/counting.py", "src/bballs/classical/physics_predictor.py",
     "src/bballs/reporting/prediction_plots.py", "src/bballs/reporting/project1_report.py",
     "src/bballs/reporting/part1_sentences.py", "src/bballs/reporting/part2_sentences.py",
     "src/bballs/reporting/task4_text.py", "src/bballs/reporting/part2_evaluation_text.py",
     "src/bballs/reporting/layer_tables.py", "tests/test_layer_tables.py",
     "tests/test_inverse_physics.py", "tests/test_torch_physics.py", "tests/test_part2_task7.py",
     "tests/test_variants.py", "tests/test_robustness.py", "tests/test_experiments.py",
     "tests/test_unet_variants.py", "tests/test_models.py", "tests/test_prediction.py",
     "tests/test_counting_training.py", "tests/test_augment.py", "tests/test_classical.py",
     "tests/test_rollout.py", "tests/test_loop_benchmark.py", "tests/test_shifts.py",
     "tests/test_report_tables.py", "tests/test_project1_outputs.py", "results/part*.json",
     "results/task*.json", "figures/part1_*", "figures/part2_*"),
    tables="bballs.reporting.project1_report:tables",
    course="HKUST CSIT 6000M Recent Advances in Deep Learning — Project 1",
    course_key="course",
    commands="bballs.cli_project1",
    sweep_fields=("[by_variant]", "[robustness]", "[skips]", "[ablation]",
                  "table[task4", "table[skips]", "table[task7]", "text[task4_heldout]",
                  "text[task4_layout_gaps]", "text[task4_baseline_cnn]", "text[task5_"),
    sweep_hint="`python -m bballs experiments task4` (and task5, task7) compute the ablation rows "
               "for these data files; then `python -m bballs report`")
