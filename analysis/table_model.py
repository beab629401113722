"""A paper table filled with our numbers: rows, per-metric statistics, best values, deltas."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from analysis.metrics import format_number, metric
from analysis.table_bench import TableBench, row_fps
from mrcfa.experiments.tables import TableSpec
from mrcfa.metric_keys import FPS


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
    reference: str | None = None  # label of the row effects are measured against
    released: dict[str, float] = field(default_factory=dict)  # the authors' checkpoint, evaluated here
    # Why its results are stale: "config" (made with another config than the registry resolves it to today),
    # "code" (made by other code than today's); empty when current.
    stale: tuple[str, ...] = ()

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
    # Synthetic data: the versus-the-paper table compares effects (each row against its reference row),
    # never our values against the paper's VSPW/Cityscapes values.
    effects: bool = False
    # The rows timed together (bench/<table>.json) where the FPS column comes from them, as the FPS claims do;
    # None: from each run's own benchmark.
    timed: TableBench | None = None

    @property
    def has_cited(self) -> bool:
        return any(r.cited for r in self.rows)

    @property
    def has_stale(self) -> bool:
        return any(r.stale for r in self.rows)

    def best_rows(self, m: str) -> set[int]:
        """Indices of our rows holding the best value of metric m, compared as printed (ties all bold)."""
        shown = {i: format_number(m, r.ours[m].mean) for i, r in enumerate(self.rows)
                 if not r.cited and m in r.ours}
        if not shown:
            return set()
        pick = max if metric(m).higher_is_better else min
        best = pick(float(v) for v in shown.values())
        return {i for i, v in shown.items() if float(v) == best}

    @property
    def released_metrics(self) -> tuple[str, ...]:
        """Metrics of the "released checkpoint, evaluated here" column group: shown once any row has one
        (values only, so never beside synthetic-data effects)."""
        have = {m for r in self.rows for m in r.released}
        return () if self.effects else tuple(m for m in self.metrics if m in have)

    def row(self, label: str) -> TableRow | None:
        return next((r for r in self.rows if r.label == label), None)

    def effect(self, r: TableRow, m: str) -> tuple[float, float]:
        """(ours, paper) effect of row r against its reference: a difference for evaluation metrics, a
        relative change in percent for benchmark metrics (FPS, memory, parameters). NaN where absent."""
        ref = self.row(r.reference) if r.reference else None
        if ref is None:
            return math.nan, math.nan
        ours = r.ours.get(m), ref.ours.get(m)
        paper = r.paper.get(m, math.nan), ref.paper.get(m, math.nan)
        mine = _change(m, ours[0].mean, ours[1].mean) if ours[0] and ours[1] else math.nan
        return mine, _change(m, *paper)


def stale_columns(r: TableRow) -> dict[str, object]:
    """The CSV columns of a row's staleness: `stale` (True/False) and `stale_why` ("config", "code", "config code")."""
    return {"stale": bool(r.stale), "stale_why": " ".join(r.stale)}


def effect_unit(m: str) -> str:
    return "%" if metric(m).source == "bench" else ""


def _change(m: str, value: float, ref: float) -> float:
    if metric(m).source == "bench":
        return (value / ref - 1.0) * 100.0 if ref else math.nan
    return value - ref


def build_table(spec: TableSpec, summary: pd.DataFrame, effects: bool = False,
                released: dict[str, dict[str, float]] | None = None,
                stale: Mapping[str, tuple[str, ...]] | None = None, timed: TableBench | None = None) -> Table:
    """`released`: run -> metric -> value of the authors' checkpoint for that run, evaluated here; `stale`: run ->
    why its results are stale (another config hash than the registry gives today, other code); `timed`: the
    table's rows timed together, which then give the FPS column (one benchmark job's figures, like each run's own)."""
    stale = stale or {}
    released = released or {}
    stats: dict[tuple[str, str], Stat] = {
        (r.run, r.metric): Stat(float(r.mean), float(r.std), int(r.n)) for r in summary.itertuples()
    }
    use_timed = False
    if timed is not None and FPS in spec.metrics:
        if missing := set(spec.runs) - timed.runs:
            warnings.warn(f"bench/{spec.key}.json has no timings of {', '.join(sorted(missing))}: {spec.key}'s "
                          f"FPS column shows each run's own benchmark (rerun `mrcfa bench-table --table "
                          f"{spec.key}`)", stacklevel=2)
        else:
            use_timed = True
            stats |= {(run, FPS): Stat(fps, math.nan, 1) for run, fps in row_fps(timed).items()}
    rows = tuple(
        TableRow(
            label=r.label,
            run=r.run,
            cited=r.cited,
            cells=dict(r.cells),
            ours={m: stats[(r.run, m)] for m in spec.metrics if r.run and (r.run, m) in stats},
            paper={m: v for m, v in r.paper.items() if m in spec.metrics},
            reference=r.reference,
            released={m: v for m, v in released.get(r.run or "", {}).items() if m in spec.metrics},
            stale=tuple(stale.get(r.run or "", ())),
        )
        for r in spec.rows
    )
    return Table(spec.key, spec.title, spec.cells, spec.metrics, rows, effects, timed if use_timed else None)


VS_PAPER_COLUMNS = ["label", "run", "metric", "ours", "ours_std", "n_seeds", "paper", "diff", "released", "stale",
                    "stale_why"]
VS_PAPER_EFFECT_COLUMNS = ["label", "run", "metric", "reference", "unit", "ours_effect", "paper_effect", "n_seeds",
                           "stale", "stale_why"]


def vs_paper_frame(table: Table) -> pd.DataFrame:
    """One row per (our row, metric): ours, paper and ours - paper (NaN where either is absent).
    For a table of effects (synthetic data): the row's effect against its reference, ours and the paper's."""
    recs = []
    for r in table.rows:
        if r.cited:
            continue
        for m in table.metrics:
            s = r.ours.get(m)
            rec: dict[str, object] = {"label": r.label, "run": r.run, "metric": m, "n_seeds": s.n if s else 0,
                                      **stale_columns(r)}
            if table.effects:
                ours, paper = table.effect(r, m)
                rec |= {"reference": r.reference or "", "unit": effect_unit(m) or "points", "ours_effect": ours,
                        "paper_effect": paper}
            else:
                ours, paper = (s.mean if s else math.nan), r.paper.get(m, math.nan)
                rec |= {"ours": ours, "ours_std": s.std if s else math.nan, "paper": paper, "diff": ours - paper,
                        "released": r.released.get(m, math.nan)}
            recs.append(rec)
    return pd.DataFrame.from_records(recs, columns=VS_PAPER_EFFECT_COLUMNS if table.effects else VS_PAPER_COLUMNS)
