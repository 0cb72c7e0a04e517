"""The training engine: one loop for every model whose step owns the loss (loop), the GAN loop
(gan) and the cached experiment sweeps of Part 1 and 2 (experiments)."""
