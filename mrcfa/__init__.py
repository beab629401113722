"""MRCFA reproduction harness: one shared model, data, engine and tracking for every table of the paper."""

__version__ = "0.1.0"
