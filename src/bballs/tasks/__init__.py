"""Workflows of each course Task, called by the notebooks.

========================================  ==========================================
Task (notebook)                           modules
========================================  ==========================================
Tasks 1-3: Table 2 CNN (01)               ``counting``
Task 4: a better counter (01)             ``part1_task4``, ``robustness``
Tasks 5-6: Table 3 U-Net, skips (02)      ``prediction``, ``part2_recipes`` (TASK5)
Task 7: beyond the U-Net (02)             ``part2_task7``, ``part2_recipes`` (TASK7),
                                          ``rollout``, ``task7_bench``
Lab 3 (03, 04, 05)                        ``autoencoding``, ``image_to_image``,
                                          ``generation``
========================================  ==========================================
"""
