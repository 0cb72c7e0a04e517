"""The training engine: one loop for every model, whose step owns the loss (loop), and its
checkpoints and run records (checkpoints); each assignment adds its own loops and sweeps."""
