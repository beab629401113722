"""The experiment registry (tables, rows, runs, the paper's claims) and run profiles, read from YAML.

Claims and reference rows are parsed by `mrcfa.claims`, the same code the pipeline's reader uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from analysis.metrics import METRICS
from mrcfa.claims import ClaimSpec, parse_claims, parse_references
from mrcfa.config import read_profile

DEFAULT_DATASET = "vspw"


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


@dataclass(frozen=True)
class FigureSpec:
    key: str
    title: str
    rows: tuple[tuple[str, str], ...]  # (label, run)

    @property
    def runs(self) -> list[str]:
        return list(dict.fromkeys(run for _, run in self.rows))


@dataclass(frozen=True)
class Registry:
    path: Path
    runs: dict[str, dict[str, Any]]
    tables: dict[str, TableSpec]
    figures: dict[str, FigureSpec]
    claims: dict[str, ClaimSpec] = field(default_factory=dict)

    def claims_of(self, table: str) -> list[ClaimSpec]:
        return [c for c in self.claims.values() if c.table == table]

    def dataset_of(self, run: str) -> str:
        return str(self.runs.get(run, {}).get("dataset", DEFAULT_DATASET))


@dataclass(frozen=True)
class Profile:
    name: str
    path: Path
    seeds: tuple[int, ...]
    datasets: dict[str, dict[str, Any]] = field(default_factory=dict)
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)  # per step: threads, mem_mb, gpu, ...

    def dataset_root(self, dataset: str) -> Path | None:
        root = self.datasets.get(dataset, {}).get("root")
        return Path(root) if root else None

    def synthetic(self, dataset: str) -> bool:
        """Is this dataset generated (`source: synth`) rather than the real one on disk?"""
        return self.datasets.get(dataset, {}).get("source") == "synth"

    def num_classes(self, dataset: str) -> int | None:
        n = self.datasets.get(dataset, {}).get("num_classes")
        return int(n) if n is not None else None


def _cell_text(value: Any) -> str:
    # YAML turns `T: 2` into an int and `t1: -1` into a negative int; tables show text.
    return "" if value is None else str(value)


def _parse_row(table: str, raw: dict[str, Any], cells: tuple[str, ...], runs: dict[str, Any],
               reference: str | None) -> RowSpec:
    cited = bool(raw.get("cited", False))
    run = raw.get("run")
    if not cited and not run:
        raise ValueError(f"{table}: row {raw.get('label')!r} has neither `run` nor `cited: true`")
    if run and run not in runs:
        raise ValueError(f"{table}: row {raw.get('label')!r} names unknown run {run!r}")
    paper = {str(k): float(v) for k, v in (raw.get("paper") or {}).items() if v is not None}
    row_cells = raw.get("cells") or {}
    return RowSpec(
        label=str(raw["label"]),
        run=None if cited else str(run),
        cited=cited,
        cells={c: _cell_text(row_cells.get(c)) for c in cells},
        paper=paper,
        reference=reference,
    )


def load_registry(path: str | Path) -> Registry:
    path = Path(path)
    data = yaml.safe_load(path.read_text())
    runs: dict[str, dict[str, Any]] = {str(k): dict(v or {}) for k, v in (data.get("runs") or {}).items()}
    tables: dict[str, TableSpec] = {}
    figures: dict[str, FigureSpec] = {}
    raw_tables = data.get("tables") or {}
    references = parse_references(raw_tables)
    for key, raw in raw_tables.items():
        if raw.get("kind") == "figure":
            figures[key] = FigureSpec(
                key=key,
                title=str(raw.get("title", key)),
                rows=tuple((str(r["label"]), str(r["run"])) for r in raw.get("rows", [])),
            )
            continue
        cells = tuple(str(c) for c in raw.get("cells", []))
        metrics = tuple(str(m) for m in raw.get("metrics", []))
        unknown = [m for m in metrics if m not in METRICS]
        if unknown:
            raise ValueError(f"{key}: unknown metrics {unknown}")
        tables[key] = TableSpec(
            key=key,
            title=str(raw.get("title", key)),
            cells=cells,
            metrics=metrics,
            rows=tuple(_parse_row(key, r, cells, runs, references[key].get(str(r.get("label"))))
                       for r in raw.get("rows", [])),
        )
    claims = parse_claims(data.get("claims"), raw_tables)
    return Registry(path=path, runs=runs, tables=tables, figures=figures, claims=claims)


def load_profile(path: str | Path) -> Profile:
    """The profile at `path`, merged onto the profile it `extends`, as the pipeline reads it."""
    path = Path(path)
    data = read_profile(path.parent, path.stem)
    return Profile(
        name=path.stem,
        path=path,
        seeds=tuple(int(s) for s in data.get("seeds", [0])),
        datasets={str(k): dict(v or {}) for k, v in (data.get("datasets") or {}).items()},
        resources={str(k): dict(v or {}) for k, v in (data.get("resources") or {}).items()},
    )
