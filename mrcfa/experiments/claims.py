"""The paper's claims and each row's reference row, read from the registry's plain YAML data.

Part of `mrcfa.experiments`, the one reader of `experiments/registry.yaml` for the pipeline and the tables alike.
No torch, no pandas: Snakemake's parse step reads this too.

A claim compares two sides of one table, `rows` and `than`, each a list of row labels (or run names) of that
table; a side of several rows stands for their average. Its effect is rows − than (`change: difference`, in the
metric's units) or rows / than − 1 (`change: relative`, in percent), and `expect` (`"> B"` or `"< B"`) says on
which side of the bound B the paper puts it. The paper's effect is computed from the rows' paper numbers.

A row's reference (`reference:` on the table, or on a row to override it) is the row its effects are measured
against in the versus-the-paper tables of synthetic profiles.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

CHANGES = ("difference", "relative")
_EXPECT = re.compile(r"^\s*([<>])\s*([-+]?\d+(?:\.\d+)?)\s*$")
_CLAIM_KEYS = {"table", "says", "metric", "rows", "than", "change", "expect"}


class ClaimError(ValueError):
    """A claim or a reference in the registry is wrong; the message starts with the dotted field name."""


@dataclass(frozen=True)
class Side:
    """Rows of one table whose values, averaged, make one side of a comparison."""

    labels: tuple[str, ...]
    runs: tuple[str, ...]
    paper: float  # the paper's value of this side (average of its rows)


@dataclass(frozen=True)
class ClaimSpec:
    id: str
    table: str
    says: str
    metric: str
    rows: Side
    than: Side
    change: str  # "difference" | "relative"
    op: str  # ">" | "<"
    bound: float
    paper_effect: float

    @property
    def expect(self) -> str:
        return f"{self.op} {self.bound:g}"

    @property
    def unit(self) -> str:
        return "%" if self.change == "relative" else ""

    @property
    def runs(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.rows.runs + self.than.runs))

    def effect_of(self, rows: float, than: float) -> float:
        if self.change == "difference":
            return rows - than
        return (rows / than - 1.0) * 100.0 if than else float("nan")


def _rows_of(table: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in table.get("rows") or [] if isinstance(r, dict)]


def _find_row(tname: str, table: dict[str, Any], name: Any, where: str) -> dict[str, Any]:
    """A row by label, else by run (when exactly one row of the table reads it)."""
    rows = _rows_of(table)
    hits = [r for r in rows if str(r.get("label")) == str(name)] or [r for r in rows if r.get("run") == name]
    if len(hits) != 1:
        labels = ", ".join(str(r.get("label")) for r in rows)
        raise ClaimError(f"{where}: unknown row {name!r} in {tname} (rows: {labels})")
    return hits[0]


def _side(tname: str, table: dict[str, Any], names: Any, metric: str, where: str) -> Side:
    if isinstance(names, str):
        names = [names]
    if not isinstance(names, list) or not names:
        raise ClaimError(f"{where}: expected a non-empty list of row labels of {tname}")
    rows = [_find_row(tname, table, n, f"{where}[{i}]") for i, n in enumerate(names)]
    for i, r in enumerate(rows):
        if r.get("cited") or not r.get("run"):
            raise ClaimError(f"{where}[{i}]: row {r.get('label')!r} is cited from the paper, not run here")
        if (r.get("paper") or {}).get(metric) is None:
            raise ClaimError(f"{where}[{i}]: row {r.get('label')!r} has no paper value for {metric}")
    paper = sum(float(r["paper"][metric]) for r in rows) / len(rows)
    return Side(tuple(str(r["label"]) for r in rows), tuple(str(r["run"]) for r in rows), paper)


def parse_claim(cid: str, raw: Any, tables: dict[str, Any]) -> ClaimSpec:
    where = f"claims.{cid}"
    if not isinstance(raw, dict):
        raise ClaimError(f"{where}: expected a mapping")
    unknown = sorted(set(raw) - _CLAIM_KEYS)
    if unknown:
        raise ClaimError(f"{where}.{unknown[0]}: unknown field (known: {', '.join(sorted(_CLAIM_KEYS))})")
    for key in ("table", "metric", "rows", "than", "expect"):
        if key not in raw:
            raise ClaimError(f"{where}.{key}: missing")
    tname = str(raw["table"])
    table = tables.get(tname)
    if not isinstance(table, dict) or table.get("kind") == "figure":
        known = ", ".join(k for k, t in tables.items() if isinstance(t, dict) and t.get("kind") != "figure")
        raise ClaimError(f"{where}.table: unknown table {tname!r} (known: {known})")
    metric = str(raw["metric"])
    metrics = [str(m) for m in table.get("metrics") or []]
    if metric not in metrics:
        raise ClaimError(f"{where}.metric: {metric!r} is not a metric of {tname} (metrics: {', '.join(metrics)})")
    change = str(raw.get("change", "difference"))
    if change not in CHANGES:
        raise ClaimError(f"{where}.change: must be one of {', '.join(CHANGES)}, got {change!r}")
    m = _EXPECT.match(str(raw["expect"]))
    if not m:
        raise ClaimError(f"{where}.expect: expected '> B' or '< B' with a number B, got {raw['expect']!r}")
    rows = _side(tname, table, raw["rows"], metric, f"{where}.rows")
    than = _side(tname, table, raw["than"], metric, f"{where}.than")
    if set(rows.runs) & set(than.runs):
        raise ClaimError(f"{where}.than: a row cannot be on both sides ({', '.join(set(rows.labels) & set(than.labels))})")
    if change == "relative" and than.paper == 0:
        raise ClaimError(f"{where}.change: relative change against a paper value of 0")
    spec = ClaimSpec(id=cid, table=tname, says=str(raw.get("says", cid)), metric=metric, rows=rows, than=than,
                     change=change, op=m.group(1), bound=float(m.group(2)), paper_effect=0.0)
    return replace(spec, paper_effect=spec.effect_of(rows.paper, than.paper))


def parse_claims(raw: Any, tables: dict[str, Any]) -> dict[str, ClaimSpec]:
    """`raw`: the registry's `claims` mapping (id -> claim); `tables`: its `tables` mapping, as YAML gives them."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ClaimError("claims: expected a mapping of claim id -> claim")
    return {str(cid): parse_claim(str(cid), c, tables) for cid, c in raw.items()}


def parse_references(tables: dict[str, Any]) -> dict[str, dict[str, str | None]]:
    """table -> row label -> the label of its reference row (None for cited rows or a table without one)."""
    out: dict[str, dict[str, str | None]] = {}
    for tname, table in tables.items():
        if not isinstance(table, dict) or table.get("kind") == "figure":
            continue
        default = table.get("reference")
        refs: dict[str, str | None] = {}
        for i, row in enumerate(_rows_of(table)):
            name = row.get("reference", default)
            if row.get("cited") or name is None:
                refs[str(row.get("label"))] = None
                continue
            where = f"tables.{tname}.rows[{i}].reference" if "reference" in row else f"tables.{tname}.reference"
            ref = _find_row(tname, table, name, where)
            if ref.get("cited"):
                raise ClaimError(f"{where}: reference row {ref.get('label')!r} is cited, not run here")
            refs[str(row.get("label"))] = str(ref["label"])
        out[str(tname)] = refs
    return out
