"""Task 7's physics model: a differentiable simulator, Gauss-Newton fitting, system
identification, the state encoder and the trained predictor."""
