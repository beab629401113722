"""Results of the runs as one tidy table (run, seed, metric, value), from the results tree.

The results tree written by the engine is the source of truth; `analysis.mlflow_source` builds
the same `Results` from an MLflow store. Evaluation metrics exist per seed; benchmark metrics
(fps, memory, params) once per run, stored with seed <NA>.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.table_bench import TableBench, load_table_benches
from mrcfa import layout, provenance
from mrcfa.metric_keys import BENCH_METRICS, EVAL_METRICS

VALUE_COLUMNS = ["run", "seed", "metric", "value"]
# kind: the results file (a key of FILE_OF_KIND); code: its recorded code fingerprint.
PROVENANCE_COLUMNS = ["run", "seed", "kind", "config_hash", "code", "detail"]
SUMMARY_COLUMNS = ["run", "metric", "mean", "std", "n"]
EXACT_MEMORY_METHODS = ("tensors", "cuda allocator")  # `mrcfa bench`'s memory_method values


@dataclass(frozen=True)
class Results:
    profile: str
    source: str  # results directory or MLflow URI, for the report
    values: pd.DataFrame  # VALUE_COLUMNS
    provenance: pd.DataFrame  # PROVENANCE_COLUMNS: config hashes and devices
    histories: dict[tuple[str, int], pd.DataFrame] = field(default_factory=dict)  # (run, seed) -> iter, loss, lr
    # Benchmarks: the runs whose memory is an exact count (`memory_method` in bench.json) rather than one noisy
    # reading, and each table's rows timed together (`mrcfa bench-table`), read from `results_root`.
    exact_memory: frozenset[str] = frozenset()
    table_benches: dict[str, TableBench] = field(default_factory=dict)
    results_root: str = layout.RESULTS_ROOT

    def eval_seeds(self, run: str) -> set[int]:
        v = self.values
        rows = v[(v["run"] == run) & v["metric"].isin(EVAL_METRICS) & v["seed"].notna()]
        return {int(s) for s in rows["seed"].unique()}

    def has_bench(self, run: str) -> bool:
        v = self.values
        return bool(((v["run"] == run) & v["metric"].isin(BENCH_METRICS)).any())

    def runs(self) -> set[str]:
        return set(self.values["run"].unique())

    def at_seeds(self, seeds: Collection[int]) -> Results:
        """These results on `seeds` only (benchmarks, seed-free, stay): what a command given `--seeds` reads."""
        keep = [int(s) for s in seeds]

        def rows(df: pd.DataFrame) -> pd.DataFrame:
            return df[df["seed"].isna() | df["seed"].isin(keep)].reset_index(drop=True)

        return replace(self, values=rows(self.values), provenance=rows(self.provenance),
                       histories={k: h for k, h in self.histories.items() if k[1] in keep})


def make_values(records: list[dict[str, Any]]) -> pd.DataFrame:
    """The canonical value table; both loaders go through here so they compare equal."""
    df = pd.DataFrame.from_records(records, columns=VALUE_COLUMNS)
    df = df.dropna(subset=["value"])
    df = df.astype({"run": "object", "metric": "object", "value": "float64"})
    df["seed"] = df["seed"].astype("Int64")
    return df.sort_values(["run", "metric", "seed"], na_position="first").reset_index(drop=True)


def make_provenance(records: list[dict[str, Any]]) -> pd.DataFrame:
    df = pd.DataFrame.from_records(records, columns=PROVENANCE_COLUMNS)
    df["seed"] = df["seed"].astype("Int64")
    return df.sort_values(["run", "kind", "seed"], na_position="first").reset_index(drop=True)


def eval_records(run: str, seed: int, metrics: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"run": run, "seed": seed, "metric": m, "value": _num(metrics.get(m))}
        for m in EVAL_METRICS
    ]


def bench_records(run: str, bench: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A run's benchmark metrics (bench.json, or its MLflow run), under the same keys."""
    return [{"run": run, "seed": None, "metric": m, "value": _num(bench.get(m))} for m in BENCH_METRICS]


def _num(v: Any) -> float | None:
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if f != f else f  # NaN counts as absent


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        warnings.warn(f"skipping unreadable {path}: {exc}", stacklevel=3)
        return None
    return data if isinstance(data, dict) else None


def load_released(results_root: str | Path, profile: str) -> dict[str, dict[str, float]]:
    """The authors' released checkpoints evaluated here: run -> metric -> value, from
    results/<profile>/released/<run>/metrics.json (`snakemake released`)."""
    out: dict[str, dict[str, float]] = {}
    released = Path(layout.path(layout.RELEASED, results=results_root, profile=profile))
    for path in sorted(released.glob(f"*/{layout.METRICS_FILE}")):
        if (m := _read_json(path)) is not None:
            out[path.parent.name] = {r["metric"]: r["value"] for r in eval_records(path.parent.name, 0, m)
                                     if r["value"] is not None}
    return out


def load_results(results_root: str | Path, profile: str) -> Results:
    """Read every run under results/<profile>/runs; runs in progress (no metrics.json yet) are absent."""
    values: list[dict[str, Any]] = []
    prov: list[dict[str, Any]] = []
    histories: dict[tuple[str, int], pd.DataFrame] = {}
    exact_memory: set[str] = set()
    for run_dir in layout.run_dirs(profile, results_root):
        run = run_dir.name
        bench = _read_json(run_dir / layout.BENCH_FILE) if (run_dir / layout.BENCH_FILE).is_file() else None
        if bench is not None:
            values += bench_records(run, bench)
            prov.append({"run": run, "seed": None, "kind": "bench", "config_hash": bench.get("config_hash"),
                         "code": bench.get(provenance.KEY), "detail": str(bench.get("device", ""))})
            if bench.get("memory_method") in EXACT_MEMORY_METHODS:
                exact_memory.add(run)
        for seed, seed_dir in layout.seed_dirs(run_dir):
            metrics, train, history = (seed_dir / name for name in (layout.METRICS_FILE, layout.TRAIN_FILE,
                                                                     layout.HISTORY_FILE))
            if metrics.is_file() and (m := _read_json(metrics)):
                if m.get("run", run) != run:
                    warnings.warn(f"{metrics} names run {m.get('run')!r}", stacklevel=2)
                values += eval_records(run, seed, m)
                prov.append({"run": run, "seed": seed, "kind": "metrics", "config_hash": m.get("config_hash"),
                             "code": m.get(provenance.KEY), "detail": str(m.get("dataset", ""))})
            if train.is_file() and (t := _read_json(train)):
                prov.append({"run": run, "seed": seed, "kind": "train", "config_hash": t.get("config_hash"),
                             "code": t.get(provenance.KEY),
                             "detail": f"{t.get('iters', '?')} iters, {float(t.get('seconds') or 0):.0f} s"})
            if history.is_file():
                try:
                    histories[(run, seed)] = pd.read_csv(history)
                except (OSError, ValueError, pd.errors.EmptyDataError) as exc:
                    warnings.warn(f"skipping unreadable {history}: {exc}", stacklevel=2)
    table_benches = load_table_benches(results_root, profile)
    for table, tb in table_benches.items():  # a row timed together with its table's rows: judged like a bench.json
        prov += [{"run": run, "seed": None, "kind": TABLE_BENCH_KIND, "config_hash": h, "code": tb.code,
                  "detail": table} for run, h in tb.config_hashes.items()]
    source = layout.path(layout.RUNS, results=results_root, profile=profile)
    return Results(profile=profile, source=source, values=make_values(values),
                   provenance=make_provenance(prov), histories=histories, exact_memory=frozenset(exact_memory),
                   table_benches=table_benches, results_root=str(results_root))


STALE_WORDS = {"config": "another config", "code": "other code"}  # another config hash than today's; other code
STALE_REASONS = tuple(STALE_WORDS)
TABLE_BENCH_KIND = "bench_table"  # provenance rows of bench/<table>.json, one per timed row, detail = the table
FILE_OF_KIND = {"train": layout.TRAIN_JSON, "metrics": layout.METRICS, "bench": layout.BENCH,
                TABLE_BENCH_KIND: layout.TABLE_BENCH}


@dataclass(frozen=True)
class Stale:
    """A results file made with another config or by other code than today's: `why` holds STALE_REASONS."""

    run: str
    seed: int | None  # None for the run's benchmark
    kind: str  # a key of FILE_OF_KIND
    why: tuple[str, ...]
    table: str | None = None  # for a table's rows timed together

    def path(self, results_root: str | Path, profile: str) -> str:
        return layout.path(FILE_OF_KIND[self.kind], results=results_root, profile=profile, run=self.run,
                           seed=self.seed, table=self.table)


def stale_files(provenance: pd.DataFrame, today: dict[str, str], code: str) -> list[Stale]:
    """The results files of `today`'s runs (run -> the config hash the registry resolves it to now) that record
    another config hash (made with an older registry or profile; a file that records none is not judged on it)
    or another code fingerprint than `code` (made by other code; a file that records none is older code)."""
    out = []
    for r in provenance.itertuples():
        if r.run not in today:
            continue
        config = isinstance(r.config_hash, str) and bool(r.config_hash) and r.config_hash != today[r.run]
        why = tuple(w for w, differs in zip(STALE_REASONS, (config, r.code != code)) if differs)
        if why:
            table = str(r.detail) if r.kind == TABLE_BENCH_KIND else None
            out.append(Stale(str(r.run), None if pd.isna(r.seed) else int(r.seed), str(r.kind), why, table))
    return out


def stale_runs(stale: list[Stale]) -> dict[str, tuple[str, ...]]:
    """Run -> why any of its results files is stale (STALE_REASONS, in that order)."""
    out: dict[str, set[str]] = {}
    for s in stale:
        out.setdefault(s.run, set()).update(s.why)
    return {run: tuple(w for w in STALE_REASONS if w in why) for run, why in out.items()}


def summarise(values: pd.DataFrame) -> pd.DataFrame:
    """Mean, sample standard deviation (ddof=1; NaN for one seed) and count per (run, metric)."""
    if values.empty:
        return pd.DataFrame(columns=SUMMARY_COLUMNS)
    g = values.groupby(["run", "metric"], sort=True)["value"]
    out = g.agg(mean="mean", std=lambda s: s.std(ddof=1) if len(s) > 1 else float("nan"), n="count")
    return out.reset_index()[SUMMARY_COLUMNS]


@dataclass(frozen=True)
class Missing:
    """What a run still lacks. `parts` names each absent piece (e.g. 'seed 1', 'bench', 'samples')."""

    run: str
    parts: tuple[str, ...]
    entirely: bool  # nothing of the run exists yet
    used_by: tuple[str, ...] = ()

    def describe(self) -> str:
        what = "not run yet" if self.entirely else "missing " + ", ".join(self.parts)
        where = f" (used by {', '.join(self.used_by)})" if self.used_by else ""
        return f"{self.run}: {what}{where}"


def find_missing(
    results: Results,
    needs: dict[str, tuple[bool, bool]],
    seeds: tuple[int, ...],
    used_by: dict[str, list[str]] | None = None,
) -> list[Missing]:
    """`needs` maps run -> (needs evaluation, needs benchmark); expected seeds come from the profile."""
    out: list[Missing] = []
    for run, (need_eval, need_bench) in needs.items():
        have = results.eval_seeds(run)
        bench = results.has_bench(run)
        parts = [f"seed {s}" for s in seeds if need_eval and s not in have]
        if need_bench and not bench:
            parts.append("bench")
        if parts:
            entirely = not have and not bench
            out.append(Missing(run, tuple(parts), entirely, tuple((used_by or {}).get(run, ()))))
    return out
