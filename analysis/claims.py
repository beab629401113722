"""The paper's claims (experiments/registry.yaml, `claims`) decided on one profile's results.

Each claim's effect (rows − than, or rows / than − 1 in percent) is estimated over seeds with a 95 % interval:

* paired by seed when the two sides share seeds: the effect per shared seed, then a t-interval with n − 1
  degrees of freedom on those n per-seed effects (mean ± t_{0.975, n-1} · sd / √n);
* Welch's t-interval (difference of means, Welch–Satterthwaite degrees of freedom) when they share none;
* FPS changes come from the table's rows timed together (`mrcfa bench-table`): in each of several fresh
  processes, every row once per round; per process the mean over rounds of the per-round log-ratio, then a
  t-interval over the processes' means (P − 1 degrees of freedom), mapped to a relative change
  (`analysis.table_bench`). The process is the block because what differs between processes (memory layout,
  core, the machine's load) moves each process's figures as a whole: an interval from the timed calls of one
  process per run leaves that out, and two such intervals for one quantity can exclude each other. Beside it,
  where a rerun of the job should put its estimate (`rerun`: ± t · sd · √(2/P)); the verdict uses the interval;
* memory counted exactly from the tensors (or by the CUDA allocator) and parameter counts are exact, so their
  interval is the point; an older benchmark without exact memory is one measurement: no interval,
  `inconclusive`.

Verdict: `holds` when the interval lies entirely on the claimed side of the claim's bound (usually 0),
`contradicted` when it lies entirely on the other side, `inconclusive` when the data cannot decide: the interval
contains the bound, or there is no interval (fewer than two seeds, single measurements). `not run` when a row of
the claim has no result at all for its metric (no seed evaluated, or no benchmark); with some seeds missing, the
claim is decided on the seeds present, and its note names the missing ones. A claim on stale rows (results made
with another config or by other code than today's) keeps its verdict; its note names those rows.

Outputs: results/<profile>/claims.{csv,md} (every claim) and tables/tableN_claims.{csv,md} (one table's).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from tabulate import tabulate

from analysis.metrics import metric
from analysis.stats import Interval, paired_interval, welch_interval
from analysis.results import STALE_WORDS, Results
from analysis.table_bench import fps_change, fps_rerun
from analysis.workspace import Workspace
from mrcfa import atomic, layout
from mrcfa.experiments.claims import ClaimSpec, Side
from mrcfa.metric_keys import FPS, MEMORY, PARAMS

NO_INTERVAL = Interval(math.nan, math.nan, math.nan, 0, math.nan, "none")
CLAIMS_COLUMNS = ["claim", "table", "metric", "paper_effect", "effect", "ci_low", "ci_high", "seeds", "verdict",
                  "rerun_low", "rerun_high"]
NOT_RUN = "not run"
VERDICTS = ("holds", "contradicted", "inconclusive", NOT_RUN)

METHOD_NOTE = (
    "Effect = rows − than (relative changes in %), our mean over seeds with a 95 % interval: paired by seed "
    "(t-interval with n − 1 degrees of freedom on the per-seed effects) when the rows share seeds, Welch's "
    "t-interval when they share none. FPS: the table's rows timed together, every row once per round in each of "
    "several fresh processes; per process the mean over rounds of the log-ratio of the two sides' times, then a "
    "t-interval over the processes' means (the process is the block, so the interval covers what changes "
    "between processes); its note says where a rerun of the benchmark job should put its estimate (95 %: the "
    "same mean ± t · sd · √(2/P) over P processes, since the rerun's estimate has an error of its own); "
    "memory counted exactly and parameter counts: exact, the interval is the point. "
    "holds: the interval lies on the claimed side of the bound; contradicted: on the other side; "
    "inconclusive: it contains the bound, or there is no interval (fewer than 2 seeds, one measurement); "
    "not run: a row of the claim has no results for its metric yet. Missing seeds or stale rows (made with "
    "another config or by other code) are named in the note; the verdict stands on the results present."
)


@dataclass(frozen=True)
class ClaimResult:
    spec: ClaimSpec
    interval: Interval
    seeds: str  # the seeds the effect is computed on, e.g. "0 1 2"; "bench" for a single measurement
    verdict: str
    note: str  # what is missing, or why there is no interval
    rerun: Interval = NO_INTERVAL  # FPS claims: where a rerun of the table's benchmark job should land

    @property
    def metric_label(self) -> str:
        return f"{self.spec.metric} (% change)" if self.spec.change == "relative" else self.spec.metric


def decide(spec: ClaimSpec, iv: Interval) -> str:
    if not iv.has_interval:
        return "inconclusive"
    above, below = iv.low > spec.bound, iv.high < spec.bound
    if spec.op == ">":
        return "holds" if above else "contradicted" if below else "inconclusive"
    return "holds" if below else "contradicted" if above else "inconclusive"


def _per_seed(values: pd.DataFrame, run: str, m: str) -> dict[int, float]:
    v = values[(values["run"] == run) & (values["metric"] == m) & values["seed"].notna()]
    return {int(s): float(x) for s, x in zip(v["seed"], v["value"])}


def _bench(values: pd.DataFrame, run: str, m: str) -> float | None:
    v = values[(values["run"] == run) & (values["metric"] == m)]
    return float(v["value"].iloc[0]) if len(v) else None


def _side_per_seed(values: pd.DataFrame, side: Side, m: str) -> dict[int, float]:
    """Seed -> the side's value (the average of its rows), on the seeds every row of the side has."""
    per_row = [_per_seed(values, r, m) for r in side.runs]
    seeds = set.intersection(*(set(p) for p in per_row)) if per_row else set()
    return {s: sum(p[s] for p in per_row) / len(per_row) for s in sorted(seeds)}


def per_seed_effects(spec: ClaimSpec, values: pd.DataFrame) -> dict[int, float]:
    """Seed -> the claim's effect at that seed, on the seeds both sides share (what a paired interval is built on)."""
    a, b = _side_per_seed(values, spec.rows, spec.metric), _side_per_seed(values, spec.than, spec.metric)
    return {s: spec.effect_of(a[s], b[s]) for s in sorted(set(a) & set(b))}


def _missing(results: Results, spec: ClaimSpec, expected: tuple[int, ...]) -> list[str]:
    if _timed_together(spec):  # no per-run file decides it: its table's rows timed together do
        bench = results.table_benches.get(spec.table)
        if bench is not None:
            lacking = [r for r in spec.runs if r not in bench.runs]
            return [f"{spec.table}'s timed rows lack {', '.join(lacking)}"] if lacking else []
        where = layout.path(layout.TABLE_BENCH, results=results.results_root, profile=results.profile,
                            table=spec.table)
        return [f"{where} (`mrcfa bench-table`)"]
    values = results.values
    out = []
    bench = metric(spec.metric).source == "bench"
    for run in spec.runs:
        if bench:
            if _bench(values, run, spec.metric) is None:
                out.append(f"{run} (bench)")
            continue
        have = _per_seed(values, run, spec.metric)
        lacking = [s for s in expected if s not in have]
        if not have:
            out.append(f"{run} (not run yet)")
        elif lacking:
            out.append(f"{run} (seed {', '.join(map(str, lacking))})")
    return out


def _absent(results: Results, spec: ClaimSpec) -> list[str]:
    """The claim's runs without any result for its metric: no seed evaluated, or no benchmark (for FPS: no
    timing of its table's rows together)."""
    if _timed_together(spec):
        bench = results.table_benches.get(spec.table)
        return [run for run in spec.runs if bench is None or run not in bench.runs]
    if metric(spec.metric).source == "bench":
        return [run for run in spec.runs if _bench(results.values, run, spec.metric) is None]
    return [run for run in spec.runs if not _per_seed(results.values, run, spec.metric)]


def _timed_together(spec: ClaimSpec) -> bool:
    return spec.metric == FPS and spec.change == "relative"


def _fps_interval(spec: ClaimSpec, results: Results) -> tuple[Interval, str, str, Interval]:
    """An FPS claim's relative change, from its table's rows timed together in several processes: a t-interval
    over the processes' mean per-round log-ratios (`analysis.table_bench`), and where a rerun of that job should
    land. Per-run figures timed in separate processes never decide it: what differs between processes would
    pass for an effect."""
    bench = results.table_benches[spec.table]  # with every row: `_absent` stops a claim without
    iv = fps_change(bench, spec.rows.runs, spec.than.runs)
    note = "" if iv.has_interval else "fewer than 2 benchmark processes: no interval"
    return iv, bench.design, note, fps_rerun(bench, spec.rows.runs, spec.than.runs)


def _bench_interval(spec: ClaimSpec, results: Results) -> tuple[Interval, str, str, Interval]:
    """A benchmark claim's effect: (interval, seeds column, note, where a rerun should land).

    Relative FPS changes: `_fps_interval`. Memory counted exactly (`memory_method`) and parameter counts are
    exact: the interval is the point. Anything else is one measurement per run: no interval."""
    if _timed_together(spec):
        return _fps_interval(spec, results)
    runs = spec.rows.runs + spec.than.runs
    a = [_bench(results.values, r, spec.metric) for r in spec.rows.runs]
    b = [_bench(results.values, r, spec.metric) for r in spec.than.runs]
    if None in a or None in b:
        return NO_INTERVAL, "bench", "", NO_INTERVAL
    est = spec.effect_of(sum(a) / len(a), sum(b) / len(b))  # type: ignore[arg-type]
    exact = spec.metric == PARAMS or (spec.metric == MEMORY and all(r in results.exact_memory for r in runs))
    if exact:
        return (Interval(est, est, est, 1, math.nan, "exact"), "exact", "exact count: the interval is the point",
                NO_INTERVAL)
    return (Interval(est, math.nan, math.nan, 1, math.nan, "single measurement"), "bench",
            "one benchmark measurement per run: no interval", NO_INTERVAL)


def evaluate_claim(spec: ClaimSpec, results: Results, expected_seeds: tuple[int, ...]) -> ClaimResult:
    values = results.values
    missing = _missing(results, spec, expected_seeds)
    notes = [f"missing: {'; '.join(missing)}"] if missing else []
    if _absent(results, spec):
        return ClaimResult(spec, NO_INTERVAL, "", NOT_RUN, "; ".join(notes))
    if metric(spec.metric).source == "bench":
        iv, seeds, note, rerun = _bench_interval(spec, results)
        notes += [note] if note else []
        return ClaimResult(spec, iv, seeds, decide(spec, iv), "; ".join(notes), rerun)

    a, b = _side_per_seed(values, spec.rows, spec.metric), _side_per_seed(values, spec.than, spec.metric)
    common = sorted(set(a) & set(b))
    if common:
        iv = paired_interval([spec.effect_of(a[s], b[s]) for s in common])
        seeds = " ".join(map(str, common))
        if iv.n < 2:
            notes.append("one seed: no interval")
    elif a and b and spec.change == "difference":
        iv = welch_interval(list(a.values()), list(b.values()))
        seeds = f"{' '.join(map(str, a))} vs {' '.join(map(str, b))}"
        notes.append("no shared seeds: Welch")
        if not iv.has_interval:
            notes.append("fewer than 2 seeds on a side: no interval")
    else:
        iv, seeds = NO_INTERVAL, ""
        if a and b:
            notes.append("no shared seeds: a relative change needs paired seeds")
    return ClaimResult(spec, iv, seeds, decide(spec, iv), "; ".join(notes))


def with_stale_note(r: ClaimResult, stale: Mapping[str, tuple[str, ...]]) -> ClaimResult:
    """The claim with its stale rows (run -> why, `Workspace.stale`) named in its note; the verdict is kept."""
    named = [f"{run} ({', '.join(STALE_WORDS[w] for w in stale[run])})" for run in dict.fromkeys(r.spec.runs)
             if run in stale]
    if not named:
        return r
    return dataclasses.replace(r, note="; ".join(n for n in (r.note, f"stale: {', '.join(named)}") if n))


def evaluate_claims(ws: Workspace, tables: list[str] | None = None) -> list[ClaimResult]:
    specs = [c for c in ws.registry.claims.values() if tables is None or c.table in tables]
    return [with_stale_note(evaluate_claim(c, ws.results, ws.profile.seeds), ws.stale) for c in specs]


def _num(v: float) -> float | None:
    return None if v is None or math.isnan(v) else v


def claims_frame(results: list[ClaimResult]) -> pd.DataFrame:
    """claims.csv: one row per claim, numbers unrounded, absent values empty."""
    recs = [{
        "claim": r.spec.id, "table": r.spec.table, "metric": r.metric_label, "paper_effect": r.spec.paper_effect,
        "effect": _num(r.interval.estimate), "ci_low": _num(r.interval.low), "ci_high": _num(r.interval.high),
        "seeds": r.seeds, "verdict": r.verdict, "rerun_low": _num(r.rerun.low), "rerun_high": _num(r.rerun.high),
    } for r in results]
    return pd.DataFrame.from_records(recs, columns=CLAIMS_COLUMNS)


def _fmt(v: float, unit: str = "") -> str:
    if v is None or math.isnan(v):
        return "--"
    text = f"{v:+.1f}" if abs(v) >= 0.05 or v == 0 else f"{v:+.2g}"
    return text + unit


def claim_rows(results: list[ClaimResult]) -> tuple[list[str], list[list[str]]]:
    """Display rows (plain text) shared by the Markdown, HTML and LaTeX renderings."""
    header = ["claim", "says", "metric", "expect", "paper", "ours", "95 % CI", "seeds", "verdict", "note"]
    rows = []
    for r in results:
        u = r.spec.unit
        ci = (f"[{_fmt(r.interval.low, u)}, {_fmt(r.interval.high, u)}]" if r.interval.has_interval else "--")
        rerun = f"a rerun should give {_fmt(r.rerun.low, u)} to {_fmt(r.rerun.high, u)}" if r.rerun.has_interval else ""
        rows.append([r.spec.id, r.spec.says, r.metric_label, r.spec.expect + u, _fmt(r.spec.paper_effect, u),
                     _fmt(r.interval.estimate, u), ci, r.seeds or "--", r.verdict,
                     "; ".join(n for n in (rerun, r.note) if n)])
    return header, rows


def verdict_counts(results: list[ClaimResult]) -> str:
    counts = {v: sum(r.verdict == v for r in results) for v in VERDICTS}
    return ", ".join(f"{n} {v}" for v, n in counts.items())


def markdown_claims(results: list[ClaimResult], profile: str, title: str = "The paper's claims") -> str:
    header, rows = claim_rows(results)
    esc = [[c.replace("|", r"\|") for c in row] for row in rows]
    body = tabulate(esc, headers=header, tablefmt="github", disable_numparse=True) if rows else "(no claims)"
    head = f"**{title}** on profile `{profile}`: {verdict_counts(results)}."
    return "\n".join([head, "", body, "", METHOD_NOTE]) + "\n"


def write_claims(results: list[ClaimResult], out_base: Path, profile: str, title: str) -> list[Path]:
    """out_base without suffix: writes out_base.csv and out_base.md, atomically."""
    return [atomic.write_text(out_base.with_suffix(".csv"), claims_frame(results).to_csv(index=False)),
            atomic.write_text(out_base.with_suffix(".md"), markdown_claims(results, profile, title))]


def build_claims(ws: Workspace) -> list[Path]:
    """results/<profile>/claims.{csv,md}: every claim of the registry."""
    return write_claims(evaluate_claims(ws), ws.out_dir / "claims", ws.profile.name, "The paper's claims")


def build_table_claims(ws: Workspace, table: str) -> list[Path]:
    results = evaluate_claims(ws, [table])
    return write_claims(results, ws.tables_dir / f"{table}_claims", ws.profile.name, f"Claims of {table}")
