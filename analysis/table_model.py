"""A paper table filled with our numbers: rows, per-metric statistics, best values, deltas."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from analysis.metrics import format_number, metric
from analysis.registry import TableSpec


@dataclass(frozen=True)
class Stat:
    mean: float
    std: float  # NaN with fewer than two seeds
    n: int

    @property
    def has_std(self) -> bool:
        return self.n >= 2 and not math.isnan(self.std)


@dataclass(frozen=True)
class TableRow:
    label: str
    run: str | None
    cited: bool
    cells: dict[str, str]
    ours: dict[str, Stat]  # metric -> our statistic; absent when not measured yet
    paper: dict[str, float]
    released: dict[str, float] = field(default_factory=dict)  # the authors' checkpoint, evaluated here

    def shown(self, m: str) -> Stat | None:
        """The value the table prints: ours, or the paper's for a cited row."""
        if self.cited:
            return Stat(self.paper[m], math.nan, 0) if m in self.paper else None
        return self.ours.get(m)


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    cells: tuple[str, ...]
    metrics: tuple[str, ...]
    rows: tuple[TableRow, ...]

    @property
    def has_cited(self) -> bool:
        return any(r.cited for r in self.rows)

    @property
    def released_metrics(self) -> tuple[str, ...]:
        """Metrics of the "released checkpoint, evaluated here" column group: shown once any row has one."""
        have = {m for r in self.rows for m in r.released}
        return tuple(m for m in self.metrics if m in have)

    def best_rows(self, m: str) -> set[int]:
        """Indices of our rows holding the best value of metric m, compared as printed (ties all bold)."""
        shown = {i: format_number(m, r.ours[m].mean) for i, r in enumerate(self.rows)
                 if not r.cited and m in r.ours}
        if not shown:
            return set()
        pick = max if metric(m).higher_is_better else min
        best = pick(float(v) for v in shown.values())
        return {i for i, v in shown.items() if float(v) == best}


def build_table(spec: TableSpec, summary: pd.DataFrame,
                released: dict[str, dict[str, float]] | None = None) -> Table:
    """`released`: run -> metric -> value of the authors' checkpoint for that run, evaluated here."""
    released = released or {}
    stats: dict[tuple[str, str], Stat] = {
        (r.run, r.metric): Stat(float(r.mean), float(r.std), int(r.n)) for r in summary.itertuples()
    }
    rows = tuple(
        TableRow(
            label=r.label,
            run=r.run,
            cited=r.cited,
            cells=dict(r.cells),
            ours={m: stats[(r.run, m)] for m in spec.metrics if r.run and (r.run, m) in stats},
            paper={m: v for m, v in r.paper.items() if m in spec.metrics},
            released={m: v for m, v in released.get(r.run or "", {}).items() if m in spec.metrics},
        )
        for r in spec.rows
    )
    return Table(spec.key, spec.title, spec.cells, spec.metrics, rows)


VS_PAPER_COLUMNS = ["label", "run", "metric", "ours", "ours_std", "n_seeds", "paper", "diff", "released"]


def vs_paper_frame(table: Table) -> pd.DataFrame:
    """One row per (our row, metric): ours, paper and ours - paper (NaN where either is absent)."""
    recs = []
    for r in table.rows:
        if r.cited:
            continue
        for m in table.metrics:
            s = r.ours.get(m)
            paper = r.paper.get(m, math.nan)
            ours = s.mean if s else math.nan
            recs.append({
                "label": r.label, "run": r.run, "metric": m, "ours": ours,
                "ours_std": s.std if s else math.nan, "n_seeds": s.n if s else 0,
                "paper": paper, "diff": ours - paper, "released": r.released.get(m, math.nan),
            })
    return pd.DataFrame.from_records(recs, columns=VS_PAPER_COLUMNS)
