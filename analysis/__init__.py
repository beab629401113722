"""Analysis of MRCFA reproduction results: the paper's tables, plots and a reproduction report.

Kept free of torch, of `mrcfa.engine` and of the networks (`mrcfa.models` but its torch-free table of variants,
which the run configs read) so that every table and plot can be rebuilt from a results tree (or an MLflow store)
in seconds on any machine (tests/test_imports.py). Submodules are imported lazily by their users; this package
imports nothing on purpose.
"""
