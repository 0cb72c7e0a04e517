"""Workflows of each course Task, called by the notebooks.

========================================  ==========================================
Task (notebook)                           modules
========================================  ==========================================
Tasks 1-3: Table 2 CNN (01)               ``counting``
Task 4: a better counter (01)             ``part1_task4``, ``robustness``
Tasks 5-6: Table 3 U-Net, skips (02)      ``prediction``, ``part2_recipes`` (TASK5)
Task 7: beyond the U-Net (02)             ``part2_task7``, ``part2_recipes`` (TASK7),
                                          ``rollout``, ``task7_bench``
Lab 3 autoencoders (03)                   ``autoencoding``, ``latent_classifiers``,
                                          ``latent_space``
Lab 3 image-to-image (04)                 ``image_to_image``, ``image_to_image_study``
Lab 3 generative models (05)              ``generation``
========================================  ==========================================
"""
