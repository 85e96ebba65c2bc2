"""emergence: when and where interpretable concepts are born inside language models."""

__version__ = "0.1.0"
