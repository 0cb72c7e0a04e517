"""The bottom layer: project paths, atomic writes and the results JSON files."""
