"""File names of the analysis outputs that the pipelines (Snakemake, DVC) declare: kept here, once, so the rules
and the code that writes the files cannot disagree. Imports nothing heavy (read at Snakemake's parse step)."""

from __future__ import annotations

# Table -> the stem of its plot under results/<profile>/figures/ (PNG and PDF).
TABLE_PLOTS = {"table1": "table1_trend", "table2": "table2_tradeoff", "table3": "table3_trend"}

# Every plot (as `python -m analysis plots --only` names it) -> its file stem under figures/.
PLOT_FILES = {**TABLE_PLOTS, "training": "training_curves", "figure3": "figure3"}


def table_plot_files(results_dir: str, table: str) -> list[str]:
    """results_dir: results/<profile>. Empty for a table without a plot."""
    name = TABLE_PLOTS.get(table)
    return [f"{results_dir}/figures/{name}.{ext}" for ext in ("png", "pdf")] if name else []
