"""Data: the bouncing-balls generator (physics), the .npz files (dataset), augmentations and
the single frames of the second assignment (frames)."""
