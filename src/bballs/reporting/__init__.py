"""Outputs: results JSON (results), figures (plots and the per-notebook plot modules), model
summaries, the notebook pipeline, the reports and the hand-in archives."""
