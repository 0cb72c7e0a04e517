"""Workflows of each course Task, called by the notebooks.

==============================  ========================  ==========================================
Task (notebook)                 module                    main functions
==============================  ========================  ==========================================
Tasks 1-3: baseline CNN (01)    counting                  load_counting_data, SPEC_RECIPE,
                                                          train_counter, evaluate_counter,
                                                          accuracy_by_radius, spec_config
Task 4: a better counter (01)   part1_task4               TASK4 (recipes), selected_recipe,
                                                          pretrain_autoencoder, label_study_summary,
                                                          sweep_tables
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
Lab 3 autoencoders (03)         autoencoding              train_all, sweep, section
                                latent_classifiers        classification_rows, pretraining_rows,
                                                          head_rows
                                latent_space              tsne_embedding, traversal, linear_probe
Lab 3 image-to-image (04)       image_to_image            load_data, train_all, score_network
                                image_to_image_baselines  score_baselines
                                image_to_image_study      evaluate_study, headline, section
Lab 3 generative models (05)    generation                train_gan, train_diffusion, validity,
                                                          frechet_rows, tables
Training loop speed (bench)     loop_benchmark            run
==============================  ========================  ==========================================

The physics model itself is in :mod:`bballs.physics_model`, the networks in :mod:`bballs.models`.
"""
