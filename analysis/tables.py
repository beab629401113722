"""Tables 1-6 from the results: LaTeX, Markdown and CSV, each with a versus-the-paper twin.

Outputs per table under results/<profile>/tables/: tableN.{tex,md,csv}, tableN_vs_paper.{tex,md,csv}
(the table's claims under the comparison in .tex and .md) and tableN_claims.{csv,md}. On a profile whose
data are synthetic the versus-the-paper twin compares effects (each row against its reference row), not
values. Every file is written atomically.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
from tabulate import tabulate

from analysis import latex
from analysis.claims import ClaimResult, claim_rows, evaluate_claims, markdown_claims, write_claims
from analysis.flavours import (CITED_NOTE, EFFECTS_NOTE, MARKDOWN, RELEASED_GROUP, main_grid, stale_note,
                               timed_note, vs_paper_grid)
from analysis.table_model import Table, stale_columns, vs_paper_frame
from analysis.workspace import Workspace
from mrcfa import atomic


def _nan_to_none(v: float) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else v


def table_frame(table: Table) -> pd.DataFrame:
    """CSV twin: one row per table row; numbers unrounded, absent values empty."""
    recs = []
    for r in table.rows:
        rec: dict[str, object] = {"label": r.label, "run": r.run or "", "cited": r.cited, **stale_columns(r),
                                  **r.cells}
        for m in table.metrics:
            s = r.ours.get(m)
            rec[f"{m}_mean"] = s.mean if s else None
            rec[f"{m}_std"] = _nan_to_none(s.std) if s else None
            rec[f"{m}_n_seeds"] = s.n if s else 0
            rec[f"{m}_paper"] = r.paper.get(m)
            if m in table.released_metrics:
                rec[f"{m}_released"] = r.released.get(m)
        recs.append(rec)
    return pd.DataFrame.from_records(recs)


def markdown_table(table: Table, profile: str) -> str:
    grid = main_grid(table, MARKDOWN)
    body = tabulate(grid.rows, headers=grid.header, tablefmt="github", disable_numparse=True)
    lines = [f"**{table.key}**: {table.title} Profile `{profile}`; mean ± std over seeds.", "", body]
    if table.has_cited:
        lines += ["", f"† {CITED_NOTE}."]
    if timed := timed_note(table):
        lines += ["", f"{timed}."]
    if table.has_stale:
        lines += ["", f"‡ {stale_note(table)}."]
    return "\n".join(lines) + "\n"


def markdown_vs_paper(table: Table, profile: str, claims: list[ClaimResult] | None = None) -> str:
    grid = vs_paper_grid(table, MARKDOWN)
    body = tabulate(grid.rows, headers=grid.header, tablefmt="github", disable_numparse=True)
    what = f"{EFFECTS_NOTE}." if table.effects else "Δ = ours − paper."
    if table.released_metrics:
        what += f" *released*: the authors' trained checkpoint ({RELEASED_GROUP})."
    head = f"**{table.key} versus the paper**: {table.title} Profile `{profile}`; {what}"
    parts = [head, "", body] + (["", f"‡ {stale_note(table)}."] if table.has_stale else [])
    if claims:
        parts += ["", markdown_claims(claims, profile, f"Claims of {table.key}").rstrip("\n")]
    return "\n".join(parts) + "\n"


def tables_for(ws: Workspace, only: list[str] | None = None) -> list[Table]:
    keys = only or list(ws.registry.tables)
    return [ws.table(k) for k in keys]


def write_table(table: Table, out_dir: Path, profile: str, claims: list[ClaimResult] | None = None) -> list[Path]:
    vs = vs_paper_frame(table)
    note = latex.render_claims(*claim_rows(claims)) if claims else None
    outputs = {
        f"{table.key}.tex": latex.render_table(table, profile),
        f"{table.key}.md": markdown_table(table, profile),
        f"{table.key}.csv": table_frame(table).to_csv(index=False),
        f"{table.key}_vs_paper.tex": latex.render_vs_paper(table, profile, note),
        f"{table.key}_vs_paper.md": markdown_vs_paper(table, profile, claims),
        f"{table.key}_vs_paper.csv": vs.to_csv(index=False),
    }
    paths = [atomic.write_text(out_dir / name, text) for name, text in outputs.items()]
    return paths + write_claims(claims or [], out_dir / f"{table.key}_claims", profile, f"Claims of {table.key}")


def build_tables(ws: Workspace, only: list[str] | None = None, out_dir: str | Path | None = None) -> list[Path]:
    paths: list[Path] = []
    for table in tables_for(ws, only):
        paths += write_table(table, Path(out_dir) if out_dir else ws.tables_dir, ws.profile.name,
                             evaluate_claims(ws, [table.key]))
    return paths
