"""Headrace: a self-hosted ELT platform driven by a git project of YAML and SQL."""

__version__ = "0.1.0"
