"""The registry's tables and figures: rows, the runs they read, the paper's numbers, what they need measured."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mrcfa.config import ConfigError
from mrcfa.metric_keys import BENCH_METRICS  # columns that come from `mrcfa bench`


@dataclass(frozen=True)
class RowSpec:
    label: str
    run: str | None  # None for rows cited from the paper
    cited: bool
    cells: dict[str, str]
    paper: dict[str, float]
    reference: str | None = None  # label of the row this row's effects are measured against


@dataclass(frozen=True)
class TableSpec:
    key: str
    title: str
    cells: tuple[str, ...]
    metrics: tuple[str, ...]
    rows: tuple[RowSpec, ...]

    @property
    def runs(self) -> list[str]:
        """Runs this table reads, in row order, each once."""
        return list(dict.fromkeys(r.run for r in self.rows if r.run))

    @property
    def needs_bench(self) -> bool:
        """Does a column (FPS, memory, parameters) come from the runs' benchmarks?"""
        return bool(set(BENCH_METRICS) & set(self.metrics))

    @property
    def needs_eval(self) -> bool:
        return bool(set(self.metrics) - set(BENCH_METRICS))


@dataclass(frozen=True)
class FigureSpec:
    key: str
    title: str
    rows: tuple[tuple[str, str], ...]  # (label, run)

    @property
    def runs(self) -> list[str]:
        return list(dict.fromkeys(run for _, run in self.rows))


def _text(value: Any) -> str:
    # YAML turns `T: 2` into an int and `t1: -1` into a negative int; tables show text.
    return "" if value is None else str(value)


def _row(where: str, raw: dict[str, Any], cells: tuple[str, ...], runs: dict[str, Any],
         reference: str | None) -> RowSpec:
    cited, run = bool(raw.get("cited", False)), raw.get("run")
    if cited and run:
        raise ConfigError(f"{where}: a cited row has no run")
    if not cited and run not in runs:
        raise ConfigError(f"{where}.run: unknown run {run!r}" if run else
                          f"{where}: row {raw['label']!r} has neither `run` nor `cited: true`")
    row_cells = raw.get("cells") or {}
    return RowSpec(label=str(raw["label"]), run=None if cited else str(run), cited=cited,
                   cells={c: _text(row_cells.get(c)) for c in cells},
                   paper={str(k): float(v) for k, v in (raw.get("paper") or {}).items() if v is not None},
                   reference=reference)


def parse_tables(raw_tables: dict[str, Any], runs: dict[str, Any],
                 references: dict[str, dict[str, str | None]]) -> tuple[dict[str, TableSpec], dict[str, FigureSpec]]:
    """The registry's `tables` mapping (shape already checked by its schema) as tables and figures."""
    tables: dict[str, TableSpec] = {}
    figures: dict[str, FigureSpec] = {}
    for key, raw in raw_tables.items():
        where = f"tables.{key}.rows"
        if raw.get("kind") == "figure":
            for i, r in enumerate(raw["rows"]):
                if r.get("run") not in runs:
                    raise ConfigError(f"{where}[{i}].run: unknown run {r.get('run')!r}")
            figures[key] = FigureSpec(key, str(raw.get("title", key)),
                                      tuple((str(r["label"]), str(r["run"])) for r in raw["rows"]))
            continue
        cells = tuple(raw.get("cells", []))
        rows = tuple(_row(f"{where}[{i}]", r, cells, runs, references[key].get(str(r["label"])))
                     for i, r in enumerate(raw["rows"]))
        tables[key] = TableSpec(key, str(raw.get("title", key)), cells, tuple(raw.get("metrics", [])), rows)
    return tables, figures
