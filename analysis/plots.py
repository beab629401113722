"""Plots of the reproduction: Table 2 trade-off, Table 1/3 trends, training curves, Fig. 3 strip.

Every plot function returns a matplotlib Figure (built without pyplot, so no global state) and
`build_plots` saves each as PNG and PDF under results/<profile>/figures/, atomically.
"""

from __future__ import annotations

import io
import math
import multiprocessing as mp
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, never a display

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from mrcfa import atomic  # noqa: E402
from analysis.flavours import TIMED  # noqa: E402
from analysis.metrics import metric  # noqa: E402
from mrcfa.layout import PLOT_FILES, TABLE_PLOTS  # noqa: E402
from mrcfa.metric_keys import FPS  # noqa: E402
from analysis.qualitative import plot_figure3  # noqa: E402
from analysis.table_model import Table  # noqa: E402
from analysis.workspace import TRAINING_KEY, Workspace  # noqa: E402

OURS_STYLE = {"color": "tab:blue", "linestyle": "-", "marker": "o"}
PAPER_STYLE = {"color": "tab:orange", "linestyle": "--", "marker": "s"}


def axis_label(m: str) -> str:
    d = metric(m)
    return f"{d.text} ({d.unit})" if d.unit and d.unit not in d.text else d.text


def _overlap(a: np.ndarray, b: np.ndarray) -> bool:
    """Do two series share a value range (so one y-axis shows both honestly)?"""
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    if a.size == 0 or b.size == 0:
        return True
    tol = 0.05 * max(np.abs(a).max(), np.abs(b).max())
    return bool(a.min() <= b.max() + tol and b.min() <= a.max() + tol)


def ours_vs_paper(ax: Axes, x: np.ndarray, table: Table, m: str) -> None:
    """Ours solid (± std band), paper dashed; the paper gets its own y-axis when the scales differ
    (the demo profile's synthetic data and CPU timings are not on the paper's scale)."""
    rows = [r for r in table.rows if not r.cited]
    mean = np.array([r.ours[m].mean if m in r.ours else np.nan for r in rows])
    std = np.array([r.ours[m].std if m in r.ours and r.ours[m].has_std else 0.0 for r in rows])
    paper = np.array([r.paper.get(m, np.nan) for r in rows])
    label = axis_label(m)
    ax.plot(x, mean, label="ours", **OURS_STYLE)
    if np.any(std > 0):
        ax.fill_between(x, mean - std, mean + std, color=OURS_STYLE["color"], alpha=0.2, linewidth=0)
    paper_ax = ax
    if not _overlap(mean, paper):
        paper_ax = ax.twinx()
        paper_ax.set_ylabel(f"paper: {label}", color=PAPER_STYLE["color"])
        label = f"ours: {label}"
    paper_ax.plot(x, paper, label="paper", **PAPER_STYLE)
    ax.set_ylabel(label)
    if np.all(np.isnan(mean)):
        ax.text(0.5, 0.5, "no results yet", transform=ax.transAxes, ha="center", va="center", color="grey")
    handles = ax.get_lines() + (paper_ax.get_lines() if paper_ax is not ax else [])
    ax.legend(handles, [h.get_label() for h in handles], fontsize="small", loc="best")
    ax.set_title(metric(m).text + (f" ({TIMED})" if m == FPS and table.timed else ""))
    ax.grid(alpha=0.3)


def _positions(table: Table, cell: str | None) -> tuple[np.ndarray, list[str] | None]:
    """Numeric x from a cell like '70%' or '3'; otherwise categorical positions with row labels."""
    rows = [r for r in table.rows if not r.cited]
    if cell is not None:
        try:
            return np.array([float(r.cells[cell].rstrip("%")) for r in rows]), None
        except ValueError:
            pass
    return np.arange(len(rows), dtype=float), [r.label for r in rows]


def plot_metric_trend(table: Table, metrics: list[str], cell: str | None, xlabel: str, title: str) -> Figure:
    x, ticks = _positions(table, cell)
    width, height = 4.4 * len(metrics), 3.9 if ticks is None else 4.5
    fig = Figure(figsize=(width, height))
    panels = fig.subplots(1, len(metrics), squeeze=False)[0]
    for ax, m in zip(panels, metrics):
        ours_vs_paper(ax, x, table, m)
        ax.set_xlabel(xlabel)
        if ticks is not None:
            ax.set_xticks(x, ticks, rotation=35, ha="right", fontsize="small")
        elif len(x):
            ax.set_xticks(np.unique(x))
    # Fixed margins (room for a twin y-axis label on the right of each panel, and for slanted
    # categorical tick labels): constrained layout would cost more than the drawing itself.
    twin = len(fig.axes) > len(panels)
    fig.subplots_adjust(left=0.7 / width, right=1 - (0.75 if twin else 0.2) / width, top=1 - 0.75 / height,
                        bottom=(0.6 if ticks is None else 1.1) / height, wspace=0.55 if twin else 0.3)
    fig.suptitle(f"{title} (shaded: ± std over seeds)")
    return fig


def plot_table2_tradeoff(table: Table) -> Figure:
    """Accuracy against speed and memory as the token selection ratio p varies."""
    metrics = [m for m in ("mIoU", "fps", "memory_mb") if m in table.metrics]
    return plot_metric_trend(table, metrics, "p", "token selection ratio p (%)",
                             "Table 2: accuracy / speed / memory trade-off against p")


def plot_table1_trend(table: Table) -> Figure:
    metrics = [m for m in ("mIoU", "mVC8", "mVC16") if m in table.metrics]
    return plot_metric_trend(table, metrics, None, "reference frames",
                             "Table 1: accuracy and consistency against the reference frames")


def plot_table3_trend(table: Table) -> Figure:
    metrics = [m for m in ("mIoU", "mVC8", "mVC16", "fps") if m in table.metrics]
    return plot_metric_trend(table, metrics, "L", "number of feature scales L",
                             "Table 3: accuracy and speed against the number of scales L")


def draw_training(ax: Axes, run: str, histories: dict[int, pd.DataFrame], labels: bool = True) -> None:
    for seed, h in sorted(histories.items()):
        # Colour by seed so that one figure-level legend serves every panel of the grid.
        ax.plot(h["iter"], h["loss"], label=f"seed {seed}", linewidth=1.2, color=f"C{seed % 10}")
    ax.set_title(run, fontsize="small")
    ax.grid(alpha=0.3)
    if labels:
        ax.set_xlabel("iteration")
        ax.set_ylabel("training loss")
        ax.legend(fontsize="small")


def plot_training_curve(run: str, histories: dict[int, pd.DataFrame]) -> Figure:
    fig = Figure(figsize=(5, 3.5))
    draw_training(fig.subplots(), run, histories)
    fig.subplots_adjust(left=0.14, right=0.97, bottom=0.14, top=0.9)
    return fig


def plot_training_curves(
    histories: dict[tuple[str, int], pd.DataFrame], runs: list[str], ncols: int = 4
) -> Figure | None:
    """Small multiples: one panel per run (registry order), one line per seed. Shared labels and one
    legend instead of one per panel: with ~30 panels, per-panel text dominates the rendering time."""
    by_run = {run: {s: h for (r, s), h in histories.items() if r == run} for run in runs}
    by_run = {run: hs for run, hs in by_run.items() if hs}
    if not by_run:
        return None
    ncols = min(ncols, len(by_run))
    nrows = math.ceil(len(by_run) / ncols)
    fig = Figure(figsize=(3.2 * ncols, 2.0 * nrows + 0.8))
    # Shared axes: tick labels only on the outer panels (text layout is most of the drawing time),
    # and the same scale everywhere, so the runs' losses compare at a glance.
    axes = fig.subplots(nrows, ncols, squeeze=False, sharex=True, sharey=True).ravel()
    for ax, (run, hs) in zip(axes, by_run.items()):
        draw_training(ax, run, hs, labels=False)
        ax.tick_params(labelsize="x-small")
        ax.label_outer()
        # Few ticks: each tick is several artists, and ~30 panels multiply them.
        ax.yaxis.set_major_locator(MaxNLocator(3))
        ax.xaxis.set_major_locator(MaxNLocator(3))
    for ax in axes[len(by_run):]:
        ax.set_visible(False)
    seeds = sorted({s for hs in by_run.values() for s in hs})
    handles = [Line2D([], [], color=f"C{s % 10}", label=f"seed {s}") for s in seeds]
    fig.legend(handles=handles, loc="upper right", ncols=len(seeds), fontsize="small")
    fig.supxlabel("iteration")
    fig.supylabel("training loss")
    fig.suptitle("Training loss per run (one line per seed)")
    height = 2.0 * nrows + 0.8
    fig.subplots_adjust(left=0.06, right=0.99, bottom=0.5 / height, top=1 - 0.7 / height, hspace=0.3, wspace=0.08)
    return fig


@dataclass(frozen=True)
class SavedFigure:
    key: str  # the plot name given to --only
    title: str
    png: Path
    pdf: Path
    png_bytes: bytes  # kept for embedding in the report without re-reading


@dataclass(frozen=True)
class Rendered:
    key: str
    name: str  # file stem
    title: str
    png: bytes
    pdf: bytes


def render(fig: Figure, dpi: int = 100) -> tuple[bytes, bytes]:
    out = []
    for fmt in ("png", "pdf"):
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, dpi=dpi)
        out.append(buf.getvalue())
    return out[0], out[1]


def save_figure(fig: Figure, out_dir: Path, name: str, key: str = "", title: str = "") -> SavedFigure:
    png, pdf = render(fig)
    return _write(Rendered(key or name, name, title, png, pdf), out_dir)


def _write(r: Rendered, out_dir: Path) -> SavedFigure:
    png = atomic.write_bytes(out_dir / f"{r.name}.png", r.png)
    pdf = atomic.write_bytes(out_dir / f"{r.name}.pdf", r.pdf)
    return SavedFigure(r.key, r.title, png, pdf, r.png)


Maker = Callable[[Workspace], list[tuple[str, str, Figure]]]  # -> (file stem, title, figure)


def _table_plot(key: str, name: str, fn: Callable[[Table], Figure]) -> Maker:
    def make(ws: Workspace) -> list[tuple[str, str, Figure]]:
        if key not in ws.registry.tables:
            return []
        return [(name, ws.registry.tables[key].title, fn(ws.table(key)))]
    return make


TRAINING_TITLE = "Training loss per run"


def _training(ws: Workspace) -> list[tuple[str, str, Figure]]:
    fig = plot_training_curves(ws.results.histories, list(ws.registry.runs))
    return [] if fig is None else [(PLOT_FILES[TRAINING_KEY], TRAINING_TITLE, fig)]


def _figure3(ws: Workspace) -> list[tuple[str, str, Figure]]:
    spec = ws.registry.figures.get("figure3")
    return [] if spec is None else [(PLOT_FILES["figure3"], spec.title, plot_figure3(ws, spec))]


# Plot name (as given to --only) -> maker; listed from the most to the least expensive to draw,
# so that parallel workers finish at about the same time.
PLOTS: dict[str, Maker] = {
    TRAINING_KEY: _training,
    "figure3": _figure3,
    "table1": _table_plot("table1", TABLE_PLOTS["table1"], plot_table1_trend),
    "table3": _table_plot("table3", TABLE_PLOTS["table3"], plot_table3_trend),
    "table2": _table_plot("table2", TABLE_PLOTS["table2"], plot_table2_tradeoff),
}

DISPLAY_ORDER = ("table1", "table2", "table3", TRAINING_KEY, "figure3")

_WORKSPACE: Workspace | None = None  # handed to forked workers by inheritance, not pickling


def _render_key(key: str) -> list[Rendered]:
    assert _WORKSPACE is not None
    return [Rendered(key, name, title, *render(fig)) for name, title, fig in PLOTS[key](_WORKSPACE)]


def default_jobs() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def build_plots(ws: Workspace, only: list[str] | None = None, jobs: int | None = None) -> list[SavedFigure]:
    """Draw and save the plots. Drawing (text layout, rasterising) is most of the analysis time,
    so plots are drawn in forked worker processes when more than one CPU is available."""
    global _WORKSPACE
    keys = [k for k in PLOTS if k in (only or PLOTS)]
    jobs = min(jobs or default_jobs(), len(keys))
    _WORKSPACE = ws
    ws.summary  # computed once here, inherited by the workers
    try:
        if jobs > 1 and "fork" in mp.get_all_start_methods():
            with ProcessPoolExecutor(jobs, mp_context=mp.get_context("fork")) as pool:
                rendered = [r for rs in pool.map(_render_key, keys) for r in rs]
        else:
            rendered = [r for k in keys for r in _render_key(k)]
    finally:
        _WORKSPACE = None
    order = {k: i for i, k in enumerate(only or DISPLAY_ORDER)}
    return [_write(r, ws.figures_dir) for r in sorted(rendered, key=lambda r: order[r.key])]
