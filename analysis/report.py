"""A self-contained reproduction report per profile: results/<profile>/report.html and report.md.

Everything the page needs is inside it (inline CSS, figures as base64 data URIs), so it can be
mailed or archived on its own. Runs not done yet are listed, never silently dropped.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
from tabulate import tabulate

from mrcfa import atomic, provenance
from analysis.claims import METHOD_NOTE, ClaimResult, build_claims, claim_rows, evaluate_claims, verdict_counts
from analysis.environment import Environment, collect
from analysis.flavours import (CITED_NOTE, EFFECTS_NOTE, HTML, Grid, main_grid, stale_note, timed_note,
                               vs_paper_grid)
from analysis.plots import DISPLAY_ORDER, TRAINING_TITLE, SavedFigure, build_plots
from analysis.results import STALE_WORDS, Missing
from analysis.table_model import Table
from analysis.tables import build_tables, markdown_table, markdown_vs_paper, tables_for
from analysis.workspace import Workspace
from mrcfa.layout import PLOT_FILES

CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
.wide{overflow-x:auto;max-width:100%;margin:.6em 0 1.2em}
table{border-collapse:collapse;font-size:.9em}
th,td{padding:.25em .6em;text-align:right;border-bottom:1px solid #e4e4e4}
th{border-bottom:2px solid #888}td:first-child,th:first-child{text-align:left}
th.prose,td.prose{text-align:left;min-width:10em}
tr.cited td{color:#666;font-style:italic}
.missing{background:#fff4e5;border-left:4px solid #f0a020;padding:.5em 1em}
.ok{background:#eef8ee;border-left:4px solid #3a3;padding:.5em 1em}
figure{margin:1em 0}figure img{max-width:100%;border:1px solid #ddd}figcaption{font-size:.9em;color:#555}
code{background:#f4f4f4;padding:0 .2em;overflow-wrap:anywhere}.note{font-size:.85em;color:#555}
"""


@dataclass(frozen=True)
class ReportPaths:
    html: Path
    markdown: Path


# Columns of sentences, not numbers: read from the left, and too wide to squeeze into a few words a line.
PROSE_COLUMNS = {"says", "note", "missing", "used by", "training", "bench device"}


def html_grid(grid: Grid, prose: frozenset[int] = frozenset()) -> str:
    """Cells of `grid` are already HTML (the HTML flavour escapes and marks up); columns in `prose` are
    text. A table wider than the page scrolls inside its own box, so the page keeps its width."""
    cls = [" class='prose'" if i in prose else "" for i in range(len(grid.header))]
    head = "".join(f"<th{c}>{h}</th>" for c, h in zip(cls, grid.header))
    cited_attr = ' class="cited"'
    body = "".join(
        f"<tr{cited_attr if cited else ''}>" + "".join(f"<td{c}>{v}</td>" for c, v in zip(cls, row)) + "</tr>"
        for row, cited in zip(grid.rows, grid.cited)
    )
    return f"<div class='wide'><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"


def html_plain(header: list[str], rows: list[list[object]]) -> str:
    esc = [[html.escape(str(c)) for c in r] for r in rows]
    prose = frozenset(i for i, h in enumerate(header) if h in PROSE_COLUMNS)
    return html_grid(Grid([html.escape(h) for h in header], esc, [False] * len(esc)), prose)


def missing_rows(missing: list[Missing]) -> list[list[str]]:
    return [[m.run, "not run yet" if m.entirely else ", ".join(m.parts), ", ".join(m.used_by)] for m in missing]


def _recorded(column: pd.Series) -> list[str]:
    return sorted({str(v) for v in column if isinstance(v, str) and v})


def provenance_rows(ws: Workspace) -> list[list[str]]:
    """One row per run with results: seeds, config hash(es) and code fingerprint(s) over its metrics/train/bench
    files, training, device, and whether it is stale (made with another config or by other code than today's)."""
    prov = ws.results.provenance
    rows = []
    for run in sorted(set(prov["run"])):
        p = prov[prov["run"] == run]
        seeds = sorted(int(s) for s in p["seed"].dropna().unique())
        device = "; ".join(sorted({str(d) for d in p.loc[p["kind"] == "bench", "detail"] if d}))
        train = "; ".join(sorted({str(d) for d in p.loc[p["kind"] == "train", "detail"] if d}))
        hashes = _recorded(p["config_hash"])
        why = ws.stale.get(run, ())
        notes = ["config hash differs between files"] * (len(hashes) > 1)
        notes += [f"stale: {', '.join(STALE_WORDS[w] for w in why)}"] * bool(why)
        rows.append([run, ", ".join(map(str, seeds)) or "-", ", ".join(hashes) or "-",
                     ", ".join(_recorded(p["code"])) or "-", train or "-", device or "-", "; ".join(notes)])
    return rows


PROVENANCE_HEADER = ["run", "seeds", "config hash", "code", "training", "bench device", "note"]
MISSING_HEADER = ["run", "missing", "used by"]


def _env_rows(env: Environment) -> list[list[str]]:
    dirty = {None: "", True: " (uncommitted changes)", False: ""}[env.git_dirty]
    rows = [["python", env.python], ["platform", env.platform], ["git commit", env.git_commit + dirty],
            ["code fingerprint", provenance.current()]]
    return rows + [[k, v] for k, v in env.packages.items()]


def _claims_html(claims: list[ClaimResult]) -> str:
    header, rows = claim_rows(claims)
    return html_plain(header, rows) if rows else "<p>No claims.</p>"


def render_html(ws: Workspace, tables: list[Table], figures: list[SavedFigure], env: Environment,
                missing: list[Missing], generated: str, claims: list[ClaimResult] | None = None) -> str:
    claims = claims or []
    name = html.escape(ws.profile.name)
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>MRCFA reproduction: {name}</title><style>{CSS}</style></head><body>",
        f"<h1>MRCFA reproduction report: profile <code>{name}</code></h1>",
        f"<p class='note'>Generated {html.escape(generated)} from <code>{html.escape(ws.results.source)}</code>; "
        f"git commit <code>{html.escape(env.git_commit)}</code>. Seeds expected: "
        f"{html.escape(', '.join(map(str, ws.profile.seeds)))}. Values are mean ± sample std over seeds.</p>",
        "<h2>The paper's claims</h2>",
        f"<p>{html.escape(verdict_counts(claims))}.</p>",
        _claims_html(claims),
        f"<p class='note'>{html.escape(METHOD_NOTE)}</p>",
        "<h2>Missing results</h2>",
    ]
    if missing:
        parts.append(f"<div class='missing'><p>{len(missing)} run(s) incomplete; their cells show "
                     f"<code>--</code>.</p>{html_plain(MISSING_HEADER, missing_rows(missing))}</div>")
    else:
        parts.append("<p class='ok'>Every run of every table and figure is complete.</p>")
    parts.append("<h2>Tables</h2>")
    for t in tables:
        parts.append(f"<h3>{html.escape(t.key)}: {html.escape(t.title)}</h3>")
        stale = [f"<p class='note'>‡ {html.escape(stale_note(t))}.</p>"] if t.has_stale else []
        parts.append(html_grid(main_grid(t, HTML)))
        if t.has_cited:
            parts.append(f"<p class='note'>† {html.escape(CITED_NOTE)}.</p>")
        if timed := timed_note(t):
            parts.append(f"<p class='note'>{html.escape(timed)}.</p>")
        parts += stale
        what = f"Versus the paper ({EFFECTS_NOTE})" if t.effects else "Ours versus the paper (Δ = ours − paper)"
        parts.append(f"<p class='note'>{html.escape(what)}:</p>")
        parts.append(html_grid(vs_paper_grid(t, HTML)))
        parts += stale
        own = [c for c in claims if c.spec.table == t.key]
        if own:
            parts.append(f"<p class='note'>Claims of {html.escape(t.key)}:</p>")
            parts.append(_claims_html(own))
    parts.append("<h2>Figures</h2>")
    if not figures:
        parts.append("<p>No figures (no results yet).</p>")
    for f in figures:
        data = base64.b64encode(f.png_bytes).decode("ascii")
        parts.append(f"<figure><img alt='{html.escape(f.title)}' src='data:image/png;base64,{data}'>"
                     f"<figcaption>{html.escape(f.png.stem)}: {html.escape(f.title)}</figcaption></figure>")
    parts.append("<h2>Provenance</h2>")
    parts.append(html_plain(PROVENANCE_HEADER, provenance_rows(ws)))
    parts.append("<h2>Environment</h2>")
    parts.append(html_plain(["item", "value"], _env_rows(env)))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _md(header: list[str], rows: list[list[str]]) -> str:
    return tabulate(rows, headers=header, tablefmt="github", disable_numparse=True)


def render_markdown(ws: Workspace, tables: list[Table], figures: list[SavedFigure], env: Environment,
                    missing: list[Missing], generated: str, base: Path,
                    claims: list[ClaimResult] | None = None) -> str:
    claims = claims or []
    header, rows = claim_rows(claims)
    out = [
        f"# MRCFA reproduction report: profile `{ws.profile.name}`", "",
        f"Generated {generated} from `{ws.results.source}`; git commit `{env.git_commit}`. "
        f"Seeds expected: {', '.join(map(str, ws.profile.seeds))}. Values are mean ± sample std over seeds.", "",
        "## The paper's claims", "", f"{verdict_counts(claims)}.", "",
        _md(header, [[c.replace("|", r"\|") for c in r] for r in rows]) if rows else "No claims.", "",
        METHOD_NOTE, "",
        "## Missing results", "",
    ]
    if missing:
        out += [f"{len(missing)} run(s) incomplete; their cells show `--`.", "",
                _md(MISSING_HEADER, missing_rows(missing))]
    else:
        out.append("Every run of every table and figure is complete.")
    out += ["", "## Tables", ""]
    for t in tables:
        own = [c for c in claims if c.spec.table == t.key]
        out += [markdown_table(t, ws.profile.name), markdown_vs_paper(t, ws.profile.name, own)]
    out += ["## Figures", ""]
    for f in figures:
        png = f.png.resolve()
        rel = png.relative_to(base) if png.is_relative_to(base) else png
        pdf = rel.with_suffix(".pdf").as_posix()
        out += [f"![{f.title}]({rel.as_posix()})", "", f"*{f.png.stem}*: {f.title} ([PDF]({pdf}))", ""]
    out += ["## Provenance", "", _md(PROVENANCE_HEADER, provenance_rows(ws)), "",
            "## Environment", "", _md(["item", "value"], _env_rows(env)), ""]
    return "\n".join(out)


def drawn_figures(ws: Workspace) -> list[SavedFigure]:
    """The figures already drawn under figures/ (by `analysis plots`), in display order; absent ones left out."""
    specs = {**ws.registry.tables, **ws.registry.figures}
    out = []
    for key in DISPLAY_ORDER:
        png = ws.figures_dir / f"{PLOT_FILES[key]}.png"
        if png.is_file():
            title = specs[key].title if key in specs else TRAINING_TITLE
            out.append(SavedFigure(key, title, png, png.with_suffix(".pdf"), png.read_bytes()))
    return out


def build_report(ws: Workspace, jobs: int | None = None, rebuild: bool = True) -> ReportPaths:
    """With `rebuild`, writes the tables, claims and figures too, so the Markdown report's image links resolve;
    without, writes only the report and embeds the figures already drawn (the pipelines: other steps own them)."""
    if rebuild:
        build_tables(ws)
        build_claims(ws)
    claims = evaluate_claims(ws)
    figures = build_plots(ws, jobs=jobs) if rebuild else drawn_figures(ws)
    tables = tables_for(ws)
    keys = list(ws.registry.tables) + list(ws.registry.figures)
    missing = ws.missing(keys)
    env = collect(ws.registry.path.resolve().parent)
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out = ws.out_dir
    html_path = atomic.write_text(out / "report.html", render_html(ws, tables, figures, env, missing, generated, claims))
    md_path = atomic.write_text(out / "report.md",
                                render_markdown(ws, tables, figures, env, missing, generated, out.resolve(),
                                                claims))
    return ReportPaths(html_path, md_path)
