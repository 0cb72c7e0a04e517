"""bballs: counting and predicting bouncing balls with CNNs (course project solution bundle)."""

__version__ = "0.1.0"
