"""Data: the bouncing-balls generator (physics), the .npz files (dataset), their digests
(identity) and checks (check), pixel noise (noise), and each assignment's own views of them."""
