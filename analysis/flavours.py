"""A table as a grid of display strings, in one of three markups (LaTeX, Markdown, HTML).

One code path decides what a table shows (values, ± std, bold, daggers, missing cells); each
flavour only decides how that looks, so the three outputs cannot disagree.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from dataclasses import dataclass

from analysis.metrics import MetricDef, decimals_for, format_number, metric
from analysis.table_model import Stat, Table, TableRow, effect_unit

MISSING = "--"

_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
}


def latex_escape(text: str) -> str:
    return "".join(_LATEX_SPECIAL.get(c, c) for c in text)


@dataclass(frozen=True)
class Flavour:
    name: str
    escape: Callable[[str], str]
    bold: Callable[[str], str]
    pm: Callable[[str, str], str]  # (mean, std) -> "mean ± std"
    up: str
    down: str
    dagger: Callable[[str], str]
    stale: Callable[[str], str]  # marks a row whose results were made with another config or by other code
    metric_name: Callable[[MetricDef], str]
    signed: Callable[[str], str]  # "+0.3" / "-0.2" as the markup likes signs


LATEX = Flavour(
    name="latex",
    escape=latex_escape,
    bold=lambda s: rf"\textbf{{{s}}}",
    pm=lambda m, s: rf"{m}{{\scriptsize$\pm${s}}}",
    up=r"$\uparrow$",
    down=r"$\downarrow$",
    dagger=lambda s: rf"{s}$^\dagger$",
    stale=lambda s: rf"{s}$^\ddagger$",
    metric_name=lambda m: m.latex,
    signed=lambda s: f"${s}$",
)

MARKDOWN = Flavour(
    name="markdown",
    escape=lambda s: s.replace("|", r"\|"),
    bold=lambda s: f"**{s}**",
    pm=lambda m, s: f"{m} ± {s}",
    up="↑",
    down="↓",
    dagger=lambda s: f"{s}†",
    stale=lambda s: f"{s}‡",
    metric_name=lambda m: m.text,
    signed=lambda s: s,
)

HTML = Flavour(
    name="html",
    escape=html.escape,
    bold=lambda s: f"<b>{s}</b>",
    pm=lambda m, s: f"{m}<small>&nbsp;±&nbsp;{s}</small>",
    up="↑",
    down="↓",
    dagger=lambda s: f"{s}<sup>†</sup>",
    stale=lambda s: f"{s}<sup>‡</sup>",
    metric_name=lambda m: html.escape(m.text),
    signed=lambda s: s.replace("-", "−"),
)

CITED_NOTE = "values cited from the paper (not run here)"
STALE_WHY = {"config": "another config than the registry and profile give today (config hash differs)",
             "code": "other code than today's (code fingerprint differs, or none recorded)"}


TIMED = "rows timed together"  # an FPS column taken from bench/<table>.json: the label of its plots and summary


def timed_note(table: Table) -> str | None:
    """The footnote of an FPS column taken from the rows timed together (plain text); None otherwise."""
    if table.timed is None:
        return None
    return (f"FPS: the {TIMED}, interleaved, in {table.timed.design} "
            f"(bench/{table.key}.json), as the FPS claims are decided")


def stale_note(table: Table) -> str:
    """The footnote of a table's stale rows (plain text): which rows, and why."""
    parts = [f"{text}: {', '.join(r.label for r in table.rows if why in r.stale)}"
             for why, text in STALE_WHY.items() if any(why in r.stale for r in table.rows)]
    return f"stale: results made with {'; with '.join(parts)}; rerun them"


def metric_header(m: str, fl: Flavour) -> str:
    d = metric(m)
    return f"{fl.metric_name(d)} {fl.up if d.higher_is_better else fl.down}"


def stat_text(m: str, s: Stat | None, fl: Flavour, bold: bool = False) -> str:
    if s is None or math.isnan(s.mean):
        return MISSING
    d = decimals_for(m, s.mean)
    mean = format_number(m, s.mean, d)
    mean = fl.bold(mean) if bold else mean
    return fl.pm(mean, format_number(m, s.std, d)) if s.has_std else mean


def number_text(m: str, v: float | None, fl: Flavour, signed: bool = False, like: float | None = None) -> str:
    """`like`: print with the decimals of that value (a difference printed like the paper's number)."""
    if v is None or math.isnan(v):
        return MISSING
    text = format_number(m, v, decimals_for(m, like) if like is not None else None)
    if signed and float(text) != 0:
        return fl.signed(f"+{text}" if v > 0 else text)
    return text.lstrip("-") if float(text) == 0 else text  # no "-0.0"


@dataclass(frozen=True)
class Grid:
    header: list[str]
    rows: list[list[str]]
    cited: list[bool]  # per row: cited from the paper


def main_grid(table: Table, fl: Flavour) -> Grid:
    """The paper's layout: descriptive cells, then one column per metric; best of our rows in bold."""
    header = [fl.escape(c) for c in table.cells] + [metric_header(m, fl) for m in table.metrics]
    best = {m: table.best_rows(m) for m in table.metrics}
    rows: list[list[str]] = []
    for i, r in enumerate(table.rows):
        cells = [fl.escape(r.cells.get(c, "")) for c in table.cells]
        # Daggers go on the first non-empty descriptive cell (usually the method name).
        j = next((k for k, c in enumerate(cells) if c), 0)
        if r.cited and cells:
            cells[j] = fl.dagger(cells[j] or fl.escape(r.label))
        if r.stale and cells:
            cells[j] = fl.stale(cells[j] or fl.escape(r.label))
        values = [stat_text(m, r.shown(m), fl, bold=i in best[m]) for m in table.metrics]
        rows.append(cells + values)
    return Grid(header, rows, [r.cited for r in table.rows])


def row_label(r: TableRow, fl: Flavour) -> str:
    return fl.stale(fl.escape(r.label)) if r.stale else fl.escape(r.label)


EFFECTS_NOTE = ("synthetic data: each row's effect against its reference row (Δ; relative change for FPS, memory "
                "and parameters), ours beside the paper's; values on different data are not compared")


def effect_text(m: str, v: float | None, fl: Flavour) -> str:
    if v is None or math.isnan(v):
        return MISSING
    unit = effect_unit(m)
    text = f"{v:.1f}" if unit else format_number(m, v, max(1, metric(m).decimals))
    if float(text) == 0:
        return text.lstrip("-") + (fl.escape(unit) if unit else "")
    return fl.signed(f"+{text}" if v > 0 else text) + (fl.escape(unit) if unit else "")


def vs_paper_effects_grid(table: Table, fl: Flavour) -> Grid:
    """Our rows only: label, reference row, then per metric our effect / the paper's effect."""
    header = [fl.escape("Row"), fl.escape("against")]
    delta = r"$\Delta$" if fl is LATEX else "Δ"
    for m in table.metrics:
        unit = fl.escape(effect_unit(m))
        parts = (f"ours {delta}{unit}", f"paper {delta}{unit}")
        header += list(parts) if fl is LATEX else [f"{fl.metric_name(metric(m))} {p}" for p in parts]
    rows = []
    for r in table.rows:
        if r.cited:
            continue
        own = r.reference == r.label
        row = [row_label(r, fl), fl.escape("reference" if own else (r.reference or MISSING))]
        for m in table.metrics:
            if own:
                row += ["ref.", "ref."]
                continue
            ours, paper = table.effect(r, m)
            row += [effect_text(m, ours, fl), effect_text(m, paper, fl)]
        rows.append(row)
    return Grid(header, rows, [False] * len(rows))


RELEASED_GROUP = "released checkpoint, evaluated here"


def vs_paper_parts(table: Table, m: str, fl: Flavour) -> list[str]:
    """Column names under one metric: ours (reproduced), paper, Δ, and the released checkpoint's value
    where the authors' trained model was evaluated here."""
    parts = ["ours", "paper", r"$\Delta$" if fl is LATEX else "Δ"]
    return parts + ["released"] * (m in table.released_metrics)


def vs_paper_grid(table: Table, fl: Flavour) -> Grid:
    """Our rows only: label, then per metric ours / paper / ours - paper (/ released checkpoint); effects
    on synthetic data."""
    if table.effects:
        return vs_paper_effects_grid(table, fl)
    header = [fl.escape("Row")]
    for m in table.metrics:
        # LaTeX names the metric once in a spanning header row (see analysis.latex).
        parts = vs_paper_parts(table, m, fl)
        header += parts if fl is LATEX else [f"{fl.metric_name(metric(m))} {p}" for p in parts]
    rows = []
    for r in table.rows:
        if r.cited:
            continue
        row = [row_label(r, fl)]
        for m in table.metrics:
            s = r.ours.get(m)
            paper = r.paper.get(m)
            diff = None if s is None or paper is None else s.mean - paper
            row += [stat_text(m, s, fl), number_text(m, paper, fl), number_text(m, diff, fl, signed=True, like=paper)]
            if m in table.released_metrics:
                row.append(number_text(m, r.released.get(m), fl, like=paper))
        rows.append(row)
    return Grid(header, rows, [False] * len(rows))
