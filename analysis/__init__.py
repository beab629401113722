"""Analysis of MRCFA reproduction results: the paper's tables, plots and a reproduction report.

Kept free of torch and of `mrcfa.models`/`mrcfa.engine` so that every table and plot can be rebuilt
from a results tree (or an MLflow store) in seconds on any machine. Submodules are imported lazily
by their users; this package imports nothing on purpose.
"""
