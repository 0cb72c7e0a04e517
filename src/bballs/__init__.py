"""bballs: deep learning on bouncing balls, the course work of each assignment it holds."""

__version__ = "0.1.0"
