"""What would decide the claims the results leave undecided: `python -m analysis claims --plan`.

A claim on per-seed metrics is decided on its paired per-seed effects (`analysis.claims`): n seeds with mean d and
sample sd s give the 95 % interval d ± t_{0.975, n-1} · s / √n. Taking d and s as observed, n seeds decide the
claim once that half-width is below |d − bound|; the plan is the smallest such n up to MAX_SEEDS (a projection:
new seeds move d and s too). A claim with fewer than two paired seeds has no spread yet: the plan runs it at the
profile's seeds (at least SPREAD_SEEDS). The cost is the train and evaluate jobs of the seeds that have no results
file yet, at the job times the profile's runs recorded (train.json's and metrics.json's `seconds`).

Benchmark claims do not depend on seeds: an FPS interval narrows with more benchmark processes; memory and
parameter counts are exact.

The commands: one `snakemake` per distinct seed list, naming the tables whose claims it decides; a table target
makes every run of its table at those seeds, so a command's cost covers all of them, each job counted once.
"""

from __future__ import annotations

import json
import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import stats
from tabulate import tabulate

from analysis.claims import NOT_RUN, ClaimResult, evaluate_claims, per_seed_effects
from analysis.job_times import JobTimes, recorded_times
from analysis.metrics import metric
from analysis.stats import LEVEL
from analysis.workspace import Workspace
from mrcfa import layout

DECIDED = ("holds", "contradicted")
MAX_SEEDS = 50  # beyond this a claim is out of a reproduction's reach: its effect is too close to the bound
SPREAD_SEEDS = 3  # seeds that first measure a spread when fewer than two exist
STEPS = ("train", "evaluate", "benchmark")

Job = tuple[str, str, int | None]  # (step, run, seed); a benchmark has no seed


def seeds_to_decide(effect: float, sd: float, bound: float, cap: int = MAX_SEEDS) -> int | None:
    """The fewest seeds n (2 ≤ n ≤ cap) whose interval half-width t_{(1+LEVEL)/2, n-1} · sd / √n is below
    |effect − bound|; None when none is (the effect equal to the bound, or too close to it)."""
    gap = abs(effect - bound)
    if gap == 0 or cap < 2:
        return None
    n = np.arange(2, cap + 1)
    half = stats.t.ppf((1 + LEVEL) / 2, n - 1) * sd / np.sqrt(n)
    hits = np.flatnonzero(half < gap)
    return int(n[hits[0]]) if hits.size else None


def with_new_seeds(seeds: set[int], n: int) -> tuple[int, ...]:
    """`seeds` and the smallest unused seeds after them, n in all (never fewer than `seeds`)."""
    out, s = set(seeds), 0
    while len(out) < n:
        out.add(s)
        s += 1
    return tuple(sorted(out))


def missing_jobs(ws: Workspace, runs: list[str] | tuple[str, ...], seeds: tuple[int, ...],
                 bench: bool) -> frozenset[Job]:
    """The jobs Snakemake would run for `runs` at `seeds`: those whose results file is absent (a train job's
    evaluation reruns with it); `bench`: also absent benchmarks."""
    jobs: set[Job] = set()
    for run in runs:
        for seed in seeds:
            fields = {"results": ws.results_root, "profile": ws.profile.name, "run": run, "seed": seed}
            train = not all(Path(layout.path(p, **fields)).is_file() for p in (layout.MODEL, layout.TRAIN_JSON))
            if train:
                jobs.add(("train", run, seed))
            if train or not Path(layout.path(layout.METRICS, **fields)).is_file():
                jobs.add(("evaluate", run, seed))
        if bench and not ws.run_dir(run).joinpath(layout.BENCH_FILE).is_file():
            jobs.add(("benchmark", run, None))
    return frozenset(jobs)


@dataclass(frozen=True)
class Cost:
    counts: dict[str, int]  # step -> new jobs
    seconds: float  # the jobs with a recorded time, one after another
    estimated: bool  # some of them from the profile's median job (runs never made here)
    untimed: tuple[str, ...]  # steps with jobs that have no recorded time (benchmarks; older results files)

    def jobs_text(self) -> str:
        return " + ".join(f"{n} {step}" for step, n in self.counts.items() if n) or "none"

    def time_text(self) -> str:
        if not self.seconds:
            return "--" if self.untimed else "0"
        return ("~" if self.estimated else "") + duration(self.seconds) + ("+" if self.untimed else "")


def cost(jobs: frozenset[Job], times: JobTimes) -> Cost:
    seconds, estimated, untimed = 0.0, False, set()
    for step, run, _ in jobs:
        sec, measured = times.estimate(step, run) if step != "benchmark" else (None, False)
        if sec is None:
            untimed.add(step)
        else:
            seconds, estimated = seconds + sec, estimated or not measured
    counts = {step: sum(j[0] == step for j in jobs) for step in STEPS}
    return Cost(counts, seconds, estimated, tuple(s for s in STEPS if s in untimed))


def duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 5400 else f"{seconds / 3600:.1f} h"


@dataclass(frozen=True)
class ClaimPlan:
    result: ClaimResult
    state: str  # "seeds": more seeds decide it; "not run"; "one seed"; "benchmark"; "exact"; "out of reach"
    seeds: tuple[int, ...]  # the paired seeds its effect has now
    sd: float  # the per-seed effects' sample sd; NaN below two seeds
    need: int | None  # seeds that decide it
    decides: str  # what decides it, in words
    target: tuple[int, ...]  # the seeds to run (now's and new); () when seeds do not decide it
    jobs: frozenset[Job]


def seed_ranges(seeds: Sequence[int]) -> str:
    """Seeds in words, runs of three or more as ranges: 0-2, 5, 7, 8 (a plan may add forty seeds)."""
    parts: list[list[int]] = []
    for s in sorted(seeds):
        if parts and s == parts[-1][-1] + 1:
            parts[-1].append(s)
        else:
            parts.append([s])
    return ", ".join(f"{p[0]}-{p[-1]}" if len(p) >= 3 else ", ".join(map(str, p)) for p in parts)


def _seed_claim(ws: Workspace, r: ClaimResult) -> ClaimPlan:
    effects = per_seed_effects(r.spec, ws.results.values)
    have, expected = tuple(effects), set(ws.profile.seeds)
    if len(have) < 2:
        target = with_new_seeds(set(have) | expected, 0)
        target = target if len(target) >= 2 else with_new_seeds(set(target), SPREAD_SEEDS)
        state = "not run" if not have else "one seed"
        return ClaimPlan(r, state, have, math.nan, None, f"{state}: run at {len(target)} seeds",
                         target, missing_jobs(ws, r.spec.runs, target, False))
    values = list(effects.values())
    mean, sd = float(np.mean(values)), float(np.std(values, ddof=1))
    need = seeds_to_decide(mean, sd, r.spec.bound)
    if need is None:
        why = "never: the effect equals the bound" if mean == r.spec.bound else f"more than {MAX_SEEDS} seeds"
        return ClaimPlan(r, "out of reach", have, sd, None, why, (), frozenset())
    target = with_new_seeds(set(have) | expected, need)
    new = [s for s in target if s not in have]
    return ClaimPlan(r, "seeds", have, sd, need, f"{need} seeds (new: {seed_ranges(new) or 'none'})",
                     target, missing_jobs(ws, r.spec.runs, target, False))


def _bench_claim(ws: Workspace, r: ClaimResult) -> ClaimPlan:
    jobs = missing_jobs(ws, r.spec.runs, (), True)
    if jobs:
        return ClaimPlan(r, "not run", (), math.nan, None, f"not run: benchmark {len(jobs)} run(s)", (), jobs)
    if r.verdict == NOT_RUN:  # an FPS claim: its table's rows are timed together by one job
        why = f"not run: time {r.spec.table}'s rows (`mrcfa bench-table`)"
        return ClaimPlan(r, "not run", (), math.nan, None, why, (), jobs)
    if r.interval.method == "exact":
        return ClaimPlan(r, "exact", (), math.nan, None, "never: an exact count equal to the bound", (), jobs)
    if r.interval.has_interval:
        why = "more benchmark processes narrow it (seeds do not)"
    else:
        why = "rerun its benchmark: one measurement has no interval"
    return ClaimPlan(r, "benchmark", (), math.nan, None, why, (), jobs)


def plan_claim(ws: Workspace, r: ClaimResult) -> ClaimPlan:
    return _bench_claim(ws, r) if metric(r.spec.metric).source == "bench" else _seed_claim(ws, r)


@dataclass(frozen=True)
class Command:
    tables: tuple[str, ...]
    seeds: tuple[int, ...]
    jobs: frozenset[Job]
    text: str


@dataclass(frozen=True)
class Plan:
    profile: str
    seeds: tuple[int, ...]  # the seeds the command read as expected (the profile's, or --seeds)
    claims: list[ClaimPlan]
    commands: list[Command]
    times: JobTimes

    @property
    def jobs(self) -> frozenset[Job]:
        """Every command's new jobs, each once."""
        return frozenset().union(*(c.jobs for c in self.commands))


def snakemake_command(ws: Workspace, tables: list[str], seeds: tuple[int, ...]) -> str:
    config = [f"profile={ws.profile.name}"]
    if list(seeds) != list(ws.registry.load_profile(ws.profile.name, ws.profile.path.parent).seeds):
        config.append(f"'seeds=[{','.join(map(str, seeds))}]'")  # quoted: [...] is a shell pattern
    return f"snakemake {' '.join(tables)} --cores 4 --config {' '.join(config)}"


def _commands(ws: Workspace, claims: list[ClaimPlan]) -> list[Command]:
    """One command per distinct seed list; a table's list holds the expected seeds and every target of its claims."""
    by_table: dict[str, set[int]] = {}
    for c in claims:
        if c.target or c.state == "not run":
            by_table.setdefault(c.result.spec.table, set(ws.profile.seeds)).update(c.target)
    groups: dict[tuple[int, ...], list[str]] = {}
    for table in (t for t in ws.registry.tables if t in by_table):
        groups.setdefault(tuple(sorted(by_table[table])), []).append(table)
    out = []
    for seeds, tables in groups.items():
        jobs = frozenset().union(*(missing_jobs(ws, ws.registry.table_runs(t), seeds, ws.registry.needs_bench(t))
                                   for t in tables))
        out.append(Command(tuple(tables), seeds, jobs, snakemake_command(ws, tables, seeds)))
    return out


def make_plan(ws: Workspace, tables: list[str] | None = None) -> Plan:
    """The plan for every claim of `tables` (default: all) whose verdict is neither holds nor contradicted."""
    undecided = [r for r in evaluate_claims(ws, tables) if r.verdict not in DECIDED]
    claims = [plan_claim(ws, r) for r in undecided]
    return Plan(ws.profile.name, tuple(ws.profile.seeds), claims, _commands(ws, claims), recorded_times(ws))


def _num(v: float, unit: str, sign: str = "+") -> str:
    return "--" if v is None or math.isnan(v) else f"{v:{sign}.2f}{unit}"


NOTE = ("seeds to decide: the fewest n whose 95 % interval, the observed effect ± t_{0.975, n-1} · sd / √n, clears "
        f"the bound (sd: of the paired per-seed effects; at most {MAX_SEEDS} seeds). Job time: the new train and "
        "evaluate jobs (seeds without a results file) at this profile's recorded times, one after another "
        "(median per run; ~: some runs never made here, costed at the profile's median job; +: and jobs with no "
        "recorded time; --: none recorded).")


def plan_text(plan: Plan) -> str:
    head = (f"Plan for the undecided claims on profile {plan.profile} (expected seeds "
            f"{' '.join(map(str, plan.seeds))}): {len(plan.claims)} undecided.")
    if not plan.claims:
        return head + " Nothing to plan."
    rows = []
    for c in plan.claims:
        spec, paid = c.result.spec, cost(c.jobs, plan.times)
        rows.append([spec.id, c.result.verdict, _num(c.result.interval.estimate, spec.unit), spec.expect + spec.unit,
                     str(len(c.seeds)) if c.seeds else "--", _num(c.sd, spec.unit, ""), c.decides,
                     paid.jobs_text() if c.jobs else "--", paid.time_text() if c.jobs else "--"])
    header = ["claim", "verdict", "effect", "bound", "seeds", "per-seed sd", "decides", "new jobs", "job time"]
    table = tabulate(rows, headers=header, tablefmt="simple", disable_numparse=True)
    lines = [head, "", table, "", textwrap.fill(NOTE, 116), ""]
    if not plan.commands:
        return "\n".join(lines + ["No seeds decide these claims (see `decides`)."])
    lines.append("To run (a table target makes all its runs at these seeds; existing results are reused):")
    for cmd in plan.commands:
        paid = cost(cmd.jobs, plan.times)
        lines += [f"  {cmd.text}", f"      {paid.jobs_text()} job(s), {paid.time_text()} of job time"]
    total = cost(plan.jobs, plan.times)
    untimed = f" (not counted: {', '.join(total.untimed)} jobs, no recorded time)" if total.untimed else ""
    lines.append(f"In all: {total.jobs_text()} job(s), {total.time_text()} of job time{untimed}.")
    return "\n".join(lines)


def _cost_json(jobs: frozenset[Job], times: JobTimes) -> dict:
    paid = cost(jobs, times)
    return {"new_jobs": paid.counts, "job_seconds": round(paid.seconds, 1), "estimated": paid.estimated,
            "untimed_steps": list(paid.untimed)}


def plan_json(plan: Plan) -> str:
    def num(v: float) -> float | None:
        return None if math.isnan(v) else v

    claims = [{"claim": c.result.spec.id, "table": c.result.spec.table, "verdict": c.result.verdict,
               "state": c.state, "effect": num(c.result.interval.estimate), "expect": c.result.spec.expect,
               "unit": c.result.spec.unit, "seeds": list(c.seeds), "per_seed_sd": num(c.sd),
               "seeds_to_decide": c.need, "decides": c.decides, "target_seeds": list(c.target),
               **_cost_json(c.jobs, plan.times)} for c in plan.claims]
    commands = [{"tables": list(c.tables), "seeds": list(c.seeds), "command": c.text, **_cost_json(c.jobs, plan.times)}
                for c in plan.commands]
    return json.dumps({"profile": plan.profile, "seeds": list(plan.seeds), "claims": claims, "commands": commands,
                       "total": _cost_json(plan.jobs, plan.times)}, indent=1)
