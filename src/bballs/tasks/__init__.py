"""Workflows of each task, called by the notebooks: Part 1 counting and robustness, Part 2
prediction, roll-outs and benchmarks, and the second assignment (autoencoding, image_to_image,
generation)."""
