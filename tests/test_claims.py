"""The paper's claims: parsed and validated from the registry, decided with intervals on hand-built results.

Every expected number below is worked out by hand in the test (mean, sample sd, t quantile written out), never
copied from a run of the code.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest

from analysis.claims import CLAIMS_COLUMNS, build_claims, evaluate_claim, evaluate_claims
from analysis.cli import main
from analysis.results import Results, make_provenance, make_values
from analysis.stats import paired_interval, rerun_interval, t_quantile, welch_interval
from analysis.synthetic import write_profile
from analysis.table_bench import TableBench, fps_change, fps_rerun, process_means
from analysis.workspace import open_workspace
from mrcfa import provenance
from mrcfa.config import ConfigError
from mrcfa.experiments.registry import load_registry

REPO = Path(__file__).resolve().parents[1]
PROFILE = "cx"

# Student t quantiles t_{0.975, df} from a printed table (e.g. any statistics textbook's appendix).
T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 10: 2.228, 20: 2.086, 30: 2.042, 60: 2.000, 120: 1.980}

REGISTRY = """
runs:
  base: {model: {arch: segformer}}
  good: {model: {arch: mrcfa}}
  bad: {model: {arch: mrcfa, keep_ratio: 0.1}}
  noisy: {model: {arch: mrcfa, keep_ratio: 0.3}}
  absent: {model: {arch: mrcfa, keep_ratio: 0.7}}
tables:
  tablex:
    title: A hand-made table.
    cells: [Name]
    metrics: [mIoU, mVC8, fps, memory_mb]
    reference: Base
    rows:
      - {label: Base, run: base, cells: {Name: base}, paper: {mIoU: 30.0, mVC8: 80.0, fps: 40.0, memory_mb: 1000}}
      - {label: Good, run: good, cells: {Name: good}, paper: {mIoU: 32.5, mVC8: 82.0, fps: 50.0, memory_mb: 850}}
      - {label: Bad, run: bad, cells: {Name: bad}, paper: {mIoU: 28.0, mVC8: 79.0, fps: 60.0, memory_mb: 800}}
      - {label: Noisy, run: noisy, cells: {Name: noisy}, paper: {mIoU: 30.5, mVC8: 80.0, fps: 45.0, memory_mb: 950}}
      - {label: Absent, run: absent, cells: {Name: absent}, paper: {mIoU: 31.0, mVC8: 81.0, fps: 44.0, memory_mb: 990}}
      - {label: Cited, cited: true, cells: {Name: cited}, paper: {mIoU: 99.0}}
claims:
  win: {table: tablex, says: Good beats Base, metric: mIoU, rows: [Good], than: [Base], expect: "> 0"}
  loss: {table: tablex, says: Bad beats Base, metric: mIoU, rows: [Bad], than: [Base], expect: "> 0"}
  overlap: {table: tablex, says: Noisy beats Base, metric: mIoU, rows: [Noisy], than: [Base], expect: "> 0"}
  little: {table: tablex, says: Noisy costs little, metric: mIoU, rows: [Noisy], than: [Base], expect: "> -1.0"}
  group: {table: tablex, says: Good beats Bad and Noisy, metric: mVC8, rows: [Good], than: [Bad, Noisy], expect: "> 0"}
  relative: {table: tablex, says: Good raises mIoU by a share, metric: mIoU, change: relative, rows: [Good],
             than: [Base], expect: "> 0"}
  fps: {table: tablex, says: Good is faster, metric: fps, change: relative, rows: [Good], than: [Base], expect: "> 0"}
  memory: {table: tablex, says: Good is lighter, metric: memory_mb, change: relative, rows: [Good], than: [Base],
           expect: "< 0"}
  missing: {table: tablex, says: Absent beats Base, metric: mIoU, rows: [Absent], than: [Base], expect: "> 0"}
"""

# mIoU and mVC8 per (run, seed), chosen so the hand arithmetic is short.
MIOU = {
    "base": [35.0, 35.5, 36.5],
    "good": [40.0, 41.0, 42.0],  # good - base = 5.0, 5.5, 5.5
    "bad": [30.0, 30.5, 31.0],  # bad - base = -5.0, -5.0, -5.5
    "noisy": [36.0, 34.0, 38.5],  # noisy - base = 1.0, -1.5, 2.0
}
MVC8 = {"base": [80.0, 80.0, 80.0], "good": [84.0, 85.0, 86.0], "bad": [80.0, 81.0, 82.0], "noisy": [82.0, 81.0, 80.0]}
BENCH = {"base": (40.0, 1000.0), "good": (50.0, 900.0), "bad": (55.0, 800.0), "noisy": (45.0, 950.0)}


def write_run(root: Path, run: str, seeds, miou, mvc8, bench=None) -> None:
    """A run's results files, made by today's code (as the engine records it)."""
    code = {provenance.KEY: provenance.current()}
    for seed, m, v in zip(seeds, miou, mvc8):
        d = root / "results" / PROFILE / "runs" / run / f"seed{seed}"
        d.mkdir(parents=True, exist_ok=True)
        (d / "metrics.json").write_text(json.dumps({"run": run, "seed": seed, "mIoU": m, "mVC8": v, **code}))
    if bench is not None:
        d = root / "results" / PROFILE / "runs" / run
        d.mkdir(parents=True, exist_ok=True)
        (d / "bench.json").write_text(json.dumps({"fps": bench[0], "memory_mb": bench[1], "params_m": 1.0,
                                                  "protocol": "cached", **code}))


def tree(root: Path, seeds=(0, 1, 2), profile_seeds=None, runs=("base", "good", "bad", "noisy")):
    root.mkdir(parents=True, exist_ok=True)
    (root / "registry.yaml").write_text(REGISTRY)
    for run in runs:
        n = len(seeds)
        write_run(root, run, seeds, MIOU[run][:n], MVC8[run][:n], BENCH[run])
    write_profile(root / "profiles", PROFILE, tuple(profile_seeds or seeds), root / "data")
    return open_workspace(PROFILE, root / "results", root / "registry.yaml", root / "profiles")


def by_id(ws) -> dict:
    return {r.spec.id: r for r in evaluate_claims(ws)}


def sample_sd(xs):
    m = sum(xs) / len(xs)
    return math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1))


# --- the t quantile -----------------------------------------------------------------------------


@pytest.mark.parametrize("df,t", sorted(T975.items()))
def test_t_quantile_matches_printed_table(df, t):
    assert t_quantile(0.975, df) == pytest.approx(t, abs=6e-4)


def test_t_quantile_closed_forms_and_refusals():
    assert t_quantile(0.975, 1) == pytest.approx(math.tan(math.pi * 0.475), rel=1e-9)  # the Cauchy quantile
    a = 0.95  # df = 2: sqrt(2) * a / sqrt(1 - a^2) for the (1 + a) / 2 quantile
    assert t_quantile(0.975, 2) == pytest.approx(math.sqrt(2) * a / math.sqrt(1 - a * a), rel=1e-9)
    assert t_quantile(0.025, 5) == pytest.approx(-t_quantile(0.975, 5), rel=1e-12)
    assert t_quantile(0.975, math.inf) == pytest.approx(1.959964, abs=1e-6)  # the normal's
    qs = [t_quantile(0.975, df) for df in (1, 1.5, 2, 3, 7, 30, 200)]  # Welch's df need not be whole
    assert qs == sorted(qs, reverse=True)
    for p, df in ((1.0, 3), (0.0, 3), (0.975, 0), (0.975, -1)):
        with pytest.raises(ValueError):
            t_quantile(p, df)


def test_interval_functions_by_hand():
    iv = paired_interval([1.0, 2.0, 3.0])  # mean 2, sd 1, se 1/sqrt(3)
    half = 4.302653 * 1.0 / math.sqrt(3)
    assert (iv.estimate, iv.n, iv.df, iv.method) == (2.0, 3, 2, "paired t")
    assert iv.low == pytest.approx(2 - half, abs=1e-5) and iv.high == pytest.approx(2 + half, abs=1e-5)
    one = paired_interval([4.0])
    assert one.estimate == 4.0 and not one.has_interval
    # Where a rerun over three new blocks should land: the same centre, sqrt(2) times the half-width.
    rerun = rerun_interval([1.0, 2.0, 3.0])
    assert (rerun.estimate, rerun.n, rerun.df, rerun.method) == (2.0, 3, 2, "rerun")
    assert rerun.high - 2 == pytest.approx(math.sqrt(2) * (iv.high - 2)) and rerun.low == pytest.approx(4 - rerun.high)
    assert not rerun_interval([4.0]).has_interval and not rerun_interval([]).has_interval
    # Welch, equal n = 3 and equal variances 4: se^2 = 4/3 + 4/3, df = (8/3)^2 / (2 * (4/3)^2 / 2) = 4.
    w = welch_interval([10.0, 12.0, 14.0], [4.0, 6.0, 8.0])
    half = 2.776445 * math.sqrt(8 / 3)
    assert w.df == pytest.approx(4.0) and w.estimate == pytest.approx(6.0)
    assert w.low == pytest.approx(6 - half, abs=1e-5) and w.high == pytest.approx(6 + half, abs=1e-5)


# --- claims decided on hand-built results ---------------------------------------------------------


def test_clear_win_holds(tmp_path):
    r = by_id(tree(tmp_path))["win"]
    diffs = [40.0 - 35.0, 41.0 - 35.5, 42.0 - 36.5]  # 5.0, 5.5, 5.5
    mean = (5.0 + 5.5 + 5.5) / 3
    sd = math.sqrt(((5.0 - mean) ** 2 + 2 * (5.5 - mean) ** 2) / 2)
    half = 4.302653 * sd / math.sqrt(3)
    assert r.interval.estimate == pytest.approx(mean) and sd == pytest.approx(sample_sd(diffs))
    assert r.interval.low == pytest.approx(mean - half, abs=1e-5)
    assert r.interval.high == pytest.approx(mean + half, abs=1e-5)
    assert r.interval.low > 0 and r.verdict == "holds"
    assert r.seeds == "0 1 2" and r.note == ""
    assert r.spec.paper_effect == pytest.approx(32.5 - 30.0)


def test_clear_loss_is_contradicted(tmp_path):
    r = by_id(tree(tmp_path))["loss"]
    mean = (-5.0 - 5.0 - 5.5) / 3
    sd = math.sqrt((2 * (-5.0 - mean) ** 2 + (-5.5 - mean) ** 2) / 2)
    half = 4.302653 * sd / math.sqrt(3)
    assert r.interval.estimate == pytest.approx(mean)
    assert (r.interval.low, r.interval.high) == (pytest.approx(mean - half, abs=1e-5),
                                                 pytest.approx(mean + half, abs=1e-5))
    assert r.interval.high < 0 and r.verdict == "contradicted"


def test_overlapping_seeds_are_inconclusive(tmp_path):
    ws = tree(tmp_path)
    r = by_id(ws)["overlap"]
    mean = (1.0 - 1.5 + 2.0) / 3  # 0.5
    sd = math.sqrt(((1.0 - mean) ** 2 + (-1.5 - mean) ** 2 + (2.0 - mean) ** 2) / 2)
    half = 4.302653 * sd / math.sqrt(3)
    assert r.interval.estimate == pytest.approx(0.5)
    assert r.interval.low == pytest.approx(0.5 - half, abs=1e-5) and r.interval.high == pytest.approx(0.5 + half,
                                                                                                        abs=1e-5)
    assert r.interval.low < 0 < r.interval.high and r.verdict == "inconclusive"
    # The same effect against a tolerance: "costs little" holds only if the whole interval is above -1.0.
    little = by_id(ws)["little"]
    assert little.interval.estimate == pytest.approx(0.5)
    assert little.verdict == ("holds" if 0.5 - half > -1.0 else "inconclusive") == "inconclusive"


def test_tolerance_claim_holds_and_is_contradicted(tmp_path):
    # Noisy 0.2, 0.3, 0.4 above Base: mean 0.3, sd 0.1, half = 4.302653 * 0.1 / sqrt(3) = 0.248 > -1 side.
    (tmp_path / "registry.yaml").write_text(REGISTRY)
    write_run(tmp_path, "base", (0, 1, 2), [35.0, 35.0, 35.0], [80.0] * 3)
    write_run(tmp_path, "noisy", (0, 1, 2), [35.2, 35.3, 35.4], [80.0] * 3)
    write_profile(tmp_path / "profiles", PROFILE, (0, 1, 2), tmp_path / "data")
    ws = open_workspace(PROFILE, tmp_path / "results", tmp_path / "registry.yaml", tmp_path / "profiles")
    little = by_id(ws)["little"]
    assert little.interval.low == pytest.approx(0.3 - 4.302653 * 0.1 / math.sqrt(3), abs=1e-5)
    assert little.verdict == "holds"
    # A drop of 3 points: the whole interval lies below -1.0, so "costs little" is contradicted.
    write_run(tmp_path, "noisy", (0, 1, 2), [32.0, 31.9, 32.1], [80.0] * 3)
    ws = open_workspace(PROFILE, tmp_path / "results", tmp_path / "registry.yaml", tmp_path / "profiles")
    little = by_id(ws)["little"]
    assert little.interval.estimate == pytest.approx(-3.0)
    assert little.interval.high == pytest.approx(-3.0 + 4.302653 * 0.1 / math.sqrt(3), abs=1e-5)
    assert little.verdict == "contradicted"


def test_one_seed_gives_no_interval(tmp_path):
    r = by_id(tree(tmp_path, seeds=(0,)))["win"]
    assert r.interval.estimate == pytest.approx(40.0 - 35.0)
    assert math.isnan(r.interval.low) and math.isnan(r.interval.high)
    assert r.verdict == "inconclusive" and "one seed" in r.note and r.seeds == "0"


def test_group_side_is_averaged_seed_by_seed(tmp_path):
    r = by_id(tree(tmp_path))["group"]
    # Per seed: Good - (Bad + Noisy) / 2 on mVC8.
    diffs = [84.0 - (80.0 + 82.0) / 2, 85.0 - (81.0 + 81.0) / 2, 86.0 - (82.0 + 80.0) / 2]  # 3, 4, 5
    assert diffs == [3.0, 4.0, 5.0]
    half = 4.302653 * 1.0 / math.sqrt(3)
    assert r.interval.estimate == pytest.approx(4.0)
    assert r.interval.low == pytest.approx(4.0 - half, abs=1e-5) and r.verdict == "holds"
    assert r.spec.paper_effect == pytest.approx(82.0 - (79.0 + 80.0) / 2)


def test_relative_claim_on_seeds(tmp_path):
    r = by_id(tree(tmp_path))["relative"]
    pct = [(40.0 / 35.0 - 1) * 100, (41.0 / 35.5 - 1) * 100, (42.0 / 36.5 - 1) * 100]
    mean = sum(pct) / 3
    half = 4.302653 * sample_sd(pct) / math.sqrt(3)
    assert r.interval.estimate == pytest.approx(mean)
    assert r.interval.low == pytest.approx(mean - half, abs=1e-4) and r.verdict == "holds"
    assert r.metric_label == "mIoU (% change)"
    assert r.spec.paper_effect == pytest.approx((32.5 / 30.0 - 1) * 100)


def test_without_the_tables_timed_rows_fps_is_not_run_and_memory_is_one_measurement(tmp_path):
    ws = tree(tmp_path)
    res = by_id(ws)
    fps, mem = res["fps"], res["memory"]
    # FPS claims are decided from the table's rows timed together only: its file is named as missing.
    assert math.isnan(fps.interval.estimate) and not fps.interval.has_interval and fps.verdict == "not run"
    assert fps.note == f"missing: {tmp_path / 'results' / PROFILE / 'bench' / 'tablex.json'} (`mrcfa bench-table`)"
    assert fps.spec.paper_effect == pytest.approx((50.0 / 40.0 - 1) * 100) and fps.metric_label == "fps (% change)"
    # Memory read once (no memory_method): one measurement, no interval.
    assert mem.interval.estimate == pytest.approx((900.0 / 1000.0 - 1) * 100)  # -10 %
    assert not mem.interval.has_interval and mem.seeds == "bench" and mem.verdict == "inconclusive"
    assert "one benchmark measurement" in mem.note
    assert mem.spec.paper_effect == pytest.approx((850.0 / 1000.0 - 1) * 100)


def write_table_bench(root: Path, table: str, processes: list[dict[str, list[float]]],
                      code: str | None = None) -> Path:
    """bench/<table>.json as `mrcfa bench-table` writes it (the fields the claims read, and the orders)."""
    runs = list(processes[0])
    rounds = len(processes[0][runs[0]])
    code = provenance.current() if code is None else code
    path = root / "results" / PROFILE / "bench" / f"{table}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "profile": PROFILE, "table": table, "rows": [{"run": r} for r in runs], "rounds": rounds,
        provenance.KEY: code,
        "processes": [{"seconds": p, "order": [runs[i % len(runs):] + runs[:i % len(runs)] for i in range(rounds)]}
                      for p in processes]}))
    return path


def _set_memory_method(root: Path, run: str, method: str) -> None:
    path = root / "results" / PROFILE / "runs" / run / "bench.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "memory_method": method}))


def test_fps_claims_from_the_tables_rows_timed_together_and_exact_memory(tmp_path):
    tree(tmp_path)
    # Three processes, two rounds each; in every round Base takes 1.25, 1.20 or 1.30 times Good's seconds, while
    # each process (and round) has its own speed.
    ratios = [1.25, 1.20, 1.30]
    good = [[0.020, 0.021], [0.030, 0.029], [0.018, 0.019]]
    procs = [{"good": g, "base": [t * r for t in g], "bad": [0.05, 0.05], "noisy": [0.04, 0.04]}
             for g, r in zip(good, ratios)]
    write_table_bench(tmp_path, "tablex", procs)
    _set_memory_method(tmp_path, "good", "tensors")
    _set_memory_method(tmp_path, "base", "tensors")
    res = by_id(open_workspace(PROFILE, tmp_path / "results", tmp_path / "registry.yaml", tmp_path / "profiles"))
    fps, mem = res["fps"], res["memory"]
    # Per process, the mean per-round log-ratio is log(ratio); then t over the three processes, df = 2.
    logs = [math.log(r) for r in ratios]
    m = sum(logs) / 3
    half = 4.302653 * sample_sd(logs) / math.sqrt(3)
    want = [(math.exp(x) - 1) * 100 for x in (m, m - half, m + half)]
    assert [fps.interval.estimate, fps.interval.low, fps.interval.high] == pytest.approx(want, abs=1e-4)
    assert 0 < fps.interval.low < fps.interval.estimate < fps.interval.high
    assert fps.verdict == "holds" and fps.seeds == "3 processes x 2 rounds" and fps.note == ""
    assert (fps.interval.n, fps.interval.df) == (3, 2)
    # Where a rerun of the job should land: sqrt(2) times as wide in log, around the same estimate.
    want = [(math.exp(x) - 1) * 100 for x in (m - math.sqrt(2) * half, m + math.sqrt(2) * half)]
    assert [fps.rerun.low, fps.rerun.high] == pytest.approx(want, abs=1e-4) and fps.rerun.method == "rerun"
    assert not mem.rerun.has_interval
    build_claims(open_workspace(PROFILE, tmp_path / "results", tmp_path / "registry.yaml", tmp_path / "profiles"))
    text = (tmp_path / "results" / PROFILE / "claims.csv").read_text()
    fps_row = next(r for r in csv.DictReader(io.StringIO(text)) if r["claim"] == "fps")
    assert [float(fps_row["rerun_low"]), float(fps_row["rerun_high"])] == pytest.approx(want, abs=1e-4)
    md_row = next(line for line in (tmp_path / "results" / PROFILE / "claims.md").read_text().splitlines()
                  if line.startswith("| fps "))
    assert f"a rerun should give +{want[0]:.1f}% to +{want[1]:.1f}%" in md_row
    # Memory counted exactly: the interval is the point, so -10 % decides the claim.
    assert (mem.interval.low, mem.interval.high) == (mem.interval.estimate, mem.interval.estimate)
    assert mem.interval.estimate == pytest.approx(-10.0) and mem.verdict == "holds" and mem.seeds == "exact"


def test_a_side_of_several_rows_is_the_mean_of_their_log_times_round_by_round():
    # rows = [a], than = [b, c]: per round, (log b + log c) / 2 - log a.
    bench = TableBench("t", ({"a": (1.0, 2.0), "b": (2.0, 2.0), "c": (8.0, 8.0)},
                             {"a": (1.0, 1.0), "b": (1.0, 1.0), "c": (4.0, 4.0)}), rounds=2)
    # Process 1: round 1 log(4) - log(1) = log 4; round 2 log(4) - log(2) = log 2; mean log(sqrt(8)).
    # Process 2: log(2) - 0 both rounds.
    assert process_means(bench, ["a"], ["b", "c"]) == pytest.approx([math.log(8) / 2, math.log(2)])
    iv = fps_change(bench, ["a"], ["b", "c"])
    logs = [math.log(8) / 2, math.log(2)]
    half = 12.706205 * sample_sd(logs) / math.sqrt(2)
    assert iv.estimate == pytest.approx((math.exp(sum(logs) / 2) - 1) * 100)
    assert iv.low == pytest.approx((math.exp(sum(logs) / 2 - half) - 1) * 100, rel=1e-6)


def test_fps_that_overlaps_is_inconclusive_and_a_row_not_timed_is_named(tmp_path):
    tree(tmp_path)
    procs = [{"good": [0.020, 0.022], "base": [0.021, 0.023]}, {"good": [0.024, 0.025], "base": [0.022, 0.023]},
             {"good": [0.020, 0.020], "base": [0.020, 0.021]}]
    write_table_bench(tmp_path, "tablex", procs)
    res = by_id(open_workspace(PROFILE, tmp_path / "results", tmp_path / "registry.yaml", tmp_path / "profiles"))
    assert res["fps"].interval.has_interval and res["fps"].interval.low < 0 < res["fps"].interval.high
    assert res["fps"].verdict == "inconclusive"
    write_table_bench(tmp_path, "tablex", [{"good": p["good"]} for p in procs])
    res = by_id(open_workspace(PROFILE, tmp_path / "results", tmp_path / "registry.yaml", tmp_path / "profiles"))
    assert res["fps"].verdict == "not run" and res["fps"].note == "missing: tablex's timed rows lack base"
    (tmp_path / "results" / PROFILE / "bench" / "tablex.json").write_text('{"table": "tablex", "processes": 3}')
    with pytest.warns(UserWarning, match="skipping unreadable"):
        ws = open_workspace(PROFILE, tmp_path / "results", tmp_path / "registry.yaml", tmp_path / "profiles")
    assert by_id(ws)["fps"].note.startswith("missing: ")


def test_claims_on_rows_without_results_are_not_run(tmp_path):
    res = by_id(tree(tmp_path))
    r = res["missing"]
    assert r.verdict == "not run" and math.isnan(r.interval.estimate) and not r.interval.has_interval
    assert "absent (not run yet)" in r.note and r.seeds == ""
    # A missing seed is named too; the claim is decided on the seeds both rows have.
    ws = tree(tmp_path / "b", seeds=(0, 1), profile_seeds=(0, 1, 2))
    win = by_id(ws)["win"]
    assert "good (seed 2)" in win.note and "base (seed 2)" in win.note
    assert win.seeds == "0 1" and win.interval.estimate == pytest.approx((5.0 + 5.5) / 2)
    half = 12.706205 * sample_sd([5.0, 5.5]) / math.sqrt(2)
    assert win.interval.low == pytest.approx(5.25 - half, abs=1e-4) and win.verdict == "holds"
    # One seed present: no interval, but something was run: inconclusive, not "not run".
    one = by_id(tree(tmp_path / "c", seeds=(0,), profile_seeds=(0, 1, 2)))["win"]
    assert one.verdict == "inconclusive" and "one seed" in one.note
    # A benchmark claim whose row has no bench.json, and a group side with one row absent: not run.
    (tmp_path / "results" / PROFILE / "runs" / "base" / "bench.json").unlink()
    for f in (tmp_path / "results" / PROFILE / "runs" / "noisy").rglob("metrics.json"):
        f.unlink()
    res = by_id(open_workspace(PROFILE, tmp_path / "results", tmp_path / "registry.yaml", tmp_path / "profiles"))
    assert res["memory"].verdict == "not run" and "base (bench)" in res["memory"].note
    assert res["fps"].verdict == "not run" and "`mrcfa bench-table`" in res["fps"].note  # no table timed
    assert res["group"].verdict == "not run" and "noisy (not run yet)" in res["group"].note
    assert res["win"].verdict == "holds" and res["loss"].verdict == "contradicted"  # their rows are all there


def test_claims_on_stale_rows_keep_their_verdict_and_say_so(tmp_path):
    tree(tmp_path)
    path = tmp_path / "results" / PROFILE / "runs" / "good" / "seed1" / "metrics.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), provenance.KEY: "0123456789ab"}))
    res = by_id(open_workspace(PROFILE, tmp_path / "results", tmp_path / "registry.yaml", tmp_path / "profiles"))
    assert res["win"].verdict == "holds" and res["win"].note == "stale: good (other code)"
    assert res["group"].verdict == "holds" and res["group"].note == "stale: good (other code)"
    assert res["loss"].note == "" and "stale" not in res["missing"].note


def test_no_shared_seeds_uses_welch(tmp_path):
    (tmp_path / "registry.yaml").write_text(REGISTRY)
    write_run(tmp_path, "good", (0, 1, 2), [10.0, 12.0, 14.0], [80.0] * 3)
    write_run(tmp_path, "base", (3, 4, 5), [4.0, 6.0, 8.0], [80.0] * 3)
    write_profile(tmp_path / "profiles", PROFILE, (0, 1, 2, 3, 4, 5), tmp_path / "data")
    ws = open_workspace(PROFILE, tmp_path / "results", tmp_path / "registry.yaml", tmp_path / "profiles")
    r = by_id(ws)["win"]
    half = 2.776445 * math.sqrt(4 / 3 + 4 / 3)  # df = 4 (see test_interval_functions_by_hand)
    assert r.interval.method == "Welch t" and r.interval.estimate == pytest.approx(6.0)
    assert r.interval.low == pytest.approx(6.0 - half, abs=1e-5) and r.verdict == "holds"
    assert r.seeds == "0 1 2 vs 3 4 5"


def test_claims_csv_and_md_written_atomically_with_exact_columns(tmp_path):
    ws = tree(tmp_path)
    paths = build_claims(ws)
    assert sorted(p.name for p in paths) == ["claims.csv", "claims.md"]
    assert not list(ws.out_dir.glob(".claims*"))  # no temporary file left behind
    text = (ws.out_dir / "claims.csv").read_text()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert text.splitlines()[0] == ",".join(CLAIMS_COLUMNS)
    assert CLAIMS_COLUMNS == ["claim", "table", "metric", "paper_effect", "effect", "ci_low", "ci_high", "seeds",
                              "verdict", "rerun_low", "rerun_high"]
    got = {r["claim"]: r for r in rows}
    assert list(got) == ["win", "loss", "overlap", "little", "group", "relative", "fps", "memory", "missing"]
    assert got["win"]["verdict"] == "holds" and got["loss"]["verdict"] == "contradicted"
    assert float(got["win"]["effect"]) == pytest.approx(16 / 3)
    assert got["fps"]["ci_low"] == "" and got["missing"]["effect"] == ""
    assert {r["rerun_low"] for r in rows} == {""}  # no FPS claim was timed together here
    md = (ws.out_dir / "claims.md").read_text()
    assert "absent (not run yet)" in md and "paired by seed" in md and "Welch" in md
    # Holds: win, group, relative; contradicted: loss; not run: missing (its row has no results); the rest have
    # intervals over 0 or none.
    assert got["missing"]["verdict"] == "not run" and got["overlap"]["verdict"] == "inconclusive"
    assert "3 holds, 1 contradicted, 3 inconclusive, 2 not run" in md and "not run: a row of the claim" in md


def test_cli_claims_writes_and_prints(tmp_path, capsys):
    tree(tmp_path)
    args = ["claims", "--profile", PROFILE, "--results", str(tmp_path / "results"),
            "--registry", str(tmp_path / "registry.yaml"), "--profiles-dir", str(tmp_path / "profiles")]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "| win " in out and "holds" in out and (tmp_path / "results" / PROFILE / "claims.csv").is_file()
    (tmp_path / "results" / PROFILE / "claims.csv").unlink()
    assert main(args + ["--only", "tablex"]) == 0
    assert "Claims of tablex" in capsys.readouterr().out
    assert not (tmp_path / "results" / PROFILE / "claims.csv").exists()  # --only prints, writes nothing
    assert main(args + ["--strict"]) == 3  # the claim on `absent` lacks its run


def test_cli_claims_track_logs_files_and_verdicts_to_mlflow(tmp_path, monkeypatch, capsys):
    """`--track` (the pipeline's claims rule) files claims.{csv,md} and one verdict tag per claim in a run
    `claims` of the profile's experiment, a real SQLite store; a second call reuses that run."""
    from mlflow import MlflowClient

    tree(tmp_path)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    args = ["claims", "--profile", PROFILE, "--results", str(tmp_path / "results"), "--track",
            "--registry", str(tmp_path / "registry.yaml"), "--profiles-dir", str(tmp_path / "profiles")]
    assert main(args) == 0 and main(args) == 0
    client = MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name(f"mrcfa-vspw-{PROFILE}")
    runs = client.search_runs([exp.experiment_id], "tags.`mrcfa.kind` = 'claims'")
    assert len(runs) == 1 and runs[0].info.run_name == "claims" and runs[0].info.status == "FINISHED"
    tags = runs[0].data.tags
    want = {r.spec.id: r.verdict for r in evaluate_claims(
        open_workspace(PROFILE, tmp_path / "results", tmp_path / "registry.yaml", tmp_path / "profiles"))}
    assert {k.removeprefix("mrcfa.claim."): v for k, v in tags.items() if k.startswith("mrcfa.claim.")} == want
    assert tags["mrcfa.claim.win"] == "holds" and tags["mrcfa.claim.loss"] == "contradicted"
    assert tags["mrcfa.claim.missing"] == "not run" and tags["mrcfa.claim.overlap"] == "inconclusive"
    files = {a.path for a in client.list_artifacts(runs[0].info.run_id)}
    assert files == {"claims.csv", "claims.md"}
    local = client.download_artifacts(runs[0].info.run_id, "claims.csv", str(tmp_path / "dl"))
    assert Path(local).read_text() == (tmp_path / "results" / PROFILE / "claims.csv").read_text()


def test_table_outputs_carry_their_claims(tmp_path):
    ws = tree(tmp_path)
    from analysis.tables import build_tables

    build_tables(ws)
    rows = list(csv.DictReader((ws.tables_dir / "tablex_claims.csv").open()))
    assert [r["claim"] for r in rows][:2] == ["win", "loss"]
    vs_md = (ws.tables_dir / "tablex_vs_paper.md").read_text()
    vs_tex = (ws.tables_dir / "tablex_vs_paper.tex").read_text()
    assert "Claims of tablex" in vs_md and "absent (not run yet)" in vs_md
    assert r"\texttt{win}" in vs_tex and r"\textbf{holds}" in vs_tex and r"\textbf{not run}" in vs_tex
    assert {r["claim"]: r["verdict"] for r in rows}["missing"] == "not run"
    assert "| missing " in vs_md and "| not run " in (ws.tables_dir / "tablex_claims.md").read_text()


# --- the null check: a row against itself reads `inconclusive` ---------------------------------------------

# Base and Twin are one model under two names: every true effect between them is 0.
AA_REGISTRY = """
runs:
  base: {model: {arch: mrcfa}}
  twin: {model: {arch: mrcfa}}
tables:
  tablea:
    title: A row and its twin.
    cells: [Name]
    metrics: [mIoU, fps]
    rows:
      - {label: Base, run: base, cells: {Name: base}, paper: {mIoU: 30.0, fps: 40.0}}
      - {label: Twin, run: twin, cells: {Name: twin}, paper: {mIoU: 30.5, fps: 41.0}}
claims:
  aa_fps: {table: tablea, says: Twin is faster, metric: fps, change: relative, rows: [Twin], than: [Base],
           expect: "> 0"}
  aa_miou: {table: tablea, says: Twin beats Base, metric: mIoU, rows: [Twin], than: [Base], expect: "> 0"}
"""
AA_SEEDS = {"base": (0, 1, 2), "twin": (3, 4, 5)}  # the twin's accuracy comes from another seed set


def simulate_processes(rng, processes: int = 5, rounds: int = 30) -> list[dict[str, tuple[float, ...]]]:
    """Timings of Base and Twin (20 ms a call, both) in benchmark processes that differ: each process slows
    every row alike (machine state, sd 0.10 in log), and each row by its own factor (memory layout, sd 0.05),
    on top of each call's own noise (sd 0.01)."""
    out = []
    for _ in range(processes):
        common = rng.lognormal(0.0, 0.10)
        out.append({run: tuple(0.020 * common * rng.lognormal(0.0, 0.05) * rng.lognormal(0.0, 0.01, rounds))
                    for run in ("base", "twin")})
    return out


def one_process_per_run_interval(procs) -> tuple[float, float]:
    """The interval FPS claims had when each run was benchmarked in a process of its own: Welch's t-interval on
    the two runs' per-call log seconds (Base timed in the first process, Twin in the second), in % of FPS."""
    iv = welch_interval([math.log(t) for t in procs[0]["base"]], [math.log(t) for t in procs[1]["twin"]])
    return (math.exp(iv.low) - 1) * 100, (math.exp(iv.high) - 1) * 100


def aa_miou(rng) -> dict[str, list[float]]:
    """mIoU of the same model under two seed sets: one distribution (60 ± 1.5 points)."""
    return {run: [float(x) for x in rng.normal(60.0, 1.5, len(seeds))] for run, seeds in AA_SEEDS.items()}


def aa_workspace(root: Path, procs, miou):
    (root / "registry.yaml").write_text(AA_REGISTRY)
    for run, seeds in AA_SEEDS.items():
        write_run(root, run, seeds, miou[run], [80.0] * len(seeds))
    write_table_bench(root, "tablea", [{r: list(p[r]) for r in p} for p in procs])
    write_profile(root / "profiles", PROFILE, (0, 1, 2, 3, 4, 5), root / "data")
    return open_workspace(PROFILE, root / "results", root / "registry.yaml", root / "profiles")


def test_a_row_against_itself_is_inconclusive_where_one_process_per_run_was_not(tmp_path):
    rng = np.random.default_rng(2022)
    procs = simulate_processes(rng)
    res = by_id(aa_workspace(tmp_path, procs, aa_miou(rng)))
    fps, miou = res["aa_fps"], res["aa_miou"]
    assert fps.interval.low < 0 < fps.interval.high and fps.verdict == "inconclusive"
    assert fps.seeds == "5 processes x 30 rounds"
    assert miou.interval.method == "Welch t" and miou.interval.low < 0 < miou.interval.high
    assert miou.verdict == "inconclusive" and miou.seeds == "3 4 5 vs 0 1 2"  # rows (Twin) vs than
    # The same timings, one process per run: the processes' difference passes for an effect.
    low, high = one_process_per_run_interval(procs)
    assert not low < 0 < high


def test_null_check_coverage_over_many_simulated_benchmarks():
    """Over 400 simulated A/A comparisons the new interval covers the true 0 about 95 % of the time, the
    one-process-per-run interval rarely; the accuracy A/A claim is rarely decided either way."""
    reg_path = Path(tempfile.mkdtemp()) / "registry.yaml"
    reg_path.write_text(AA_REGISTRY)
    reg = load_registry(reg_path)
    rng = np.random.default_rng(7)
    covered = {"new": 0, "old": 0, "miou": 0}
    reps = 400
    for _ in range(reps):
        procs = simulate_processes(rng)
        miou = aa_miou(rng)
        values = make_values([{"run": run, "seed": s, "metric": "mIoU", "value": v}
                              for run, seeds in AA_SEEDS.items() for s, v in zip(seeds, miou[run])])
        results = Results(PROFILE, "simulated", values, make_provenance([]),
                          table_benches={"tablea": TableBench("tablea", tuple(procs), 30)})
        decided = {c: evaluate_claim(reg.claims[c], results, (0, 1, 2, 3, 4, 5)) for c in ("aa_fps", "aa_miou")}
        covered["new"] += decided["aa_fps"].verdict == "inconclusive"
        covered["miou"] += decided["aa_miou"].verdict == "inconclusive"
        low, high = one_process_per_run_interval(procs)
        covered["old"] += low < 0 < high
    assert covered["new"] / reps >= 0.90 and covered["miou"] / reps >= 0.90
    assert covered["old"] / reps <= 0.30


def test_a_rerun_lands_in_the_rerun_interval_about_95_percent_of_the_time():
    """Pairs of simulated benchmark jobs of six processes each, with differing processes: the second job's
    estimate falls inside the first job's rerun interval about 95 % of the time, inside its confidence
    interval clearly less often (the two estimates' difference spreads sqrt(2) times as much as one)."""
    rng = np.random.default_rng(11)
    inside = {"rerun": 0, "ci": 0}
    reps = 1000
    for _ in range(reps):
        first, second = (TableBench("t", tuple(simulate_processes(rng, processes=6, rounds=5)), 5)
                         for _ in range(2))
        again = fps_change(second, ["twin"], ["base"]).estimate
        rerun, ci = fps_rerun(first, ["twin"], ["base"]), fps_change(first, ["twin"], ["base"])
        assert rerun.estimate == pytest.approx(ci.estimate) and rerun.low < ci.low and ci.high < rerun.high
        inside["rerun"] += rerun.low <= again <= rerun.high
        inside["ci"] += ci.low <= again <= ci.high
    assert 0.93 <= inside["rerun"] / reps <= 0.97
    assert inside["ci"] / reps <= 0.90


# --- the real registry's claims -----------------------------------------------------------------


def test_registry_claims_and_paper_effects():
    reg = load_registry(REPO / "experiments" / "registry.yaml")
    c = reg.claims
    for table in ("table1", "table2", "table3", "table4", "table5", "table6"):
        assert reg.claims_of(table), table
    assert c["t2_p50_costs_little_miou"].paper_effect == pytest.approx(38.9 - 39.4)  # -0.5
    assert c["t2_p50_gains_fps"].paper_effect == pytest.approx((40.1 / 32.9 - 1) * 100)  # +21.9 %
    assert c["t2_p50_saves_memory"].paper_effect == pytest.approx((903 / 1068 - 1) * 100)  # -15.4 %
    assert c["t2_p10_loses_clearly"].paper_effect == pytest.approx(35.9 - 38.9)  # -3.0
    assert c["t1_three_refs_beat_one"].paper_effect == pytest.approx(38.9 - (38.0 + 38.1 + 38.2 + 37.4) / 4)
    assert c["t3_l3_beats_l1"].paper_effect == pytest.approx(38.9 - 37.5)
    assert c["t6_b1_miou"].paper_effect == pytest.approx(75.1 - 74.1)
    assert {k for k in c if k.startswith("t5_")} == {f"t5_b{b}_{m}" for b in (0, 1, 2, 5) for m in ("miou", "mvc8")}
    # The paper's own numbers satisfy every claim it makes.
    for spec in c.values():
        assert (spec.paper_effect > spec.bound) if spec.op == ">" else (spec.paper_effect < spec.bound), spec.id
    # The pipeline decides them from exactly the results files of the runs they compare; FPS claims from their
    # table's rows timed together, which the table (its claims file) waits for as well.
    inputs = reg.claims_inputs("demo")
    per_run = {p.split("/")[3] for p in inputs if p.startswith("results/demo/runs/")}
    assert per_run == {r for spec in c.values() if spec.metric != "fps" for r in spec.runs}
    assert reg.bench_tables() == ["table2"] == [spec.table for spec in c.values() if spec.metric == "fps"]
    assert [p for p in inputs if not p.startswith("results/demo/runs/")] == ["results/demo/bench/table2.json"]
    assert "results/demo/bench/table2.json" in reg.table_inputs("table2", "demo")
    assert not any("/bench/" in p for t in reg.tables if t != "table2" for p in reg.table_inputs(t, "demo"))


BAD_CLAIMS = [
    ({"table": "table9"}, "claims.c.table: unknown table 'table9'"),
    ({"rows": ["p=55%"]}, "claims.c.rows[0]: unknown row 'p=55%' in table2"),
    ({"than": ["p=100%", "nope"]}, "claims.c.than[1]: unknown row 'nope' in table2"),
    ({"metric": "WIoU"}, "claims.c.metric: 'WIoU' is not a metric of table2"),
    ({"metric": "mIoUx"}, "claims.c.metric: 'mIoUx' is not a metric of table2"),
    ({"expect": "bigger"}, "claims.c.expect: expected '> B' or '< B'"),
    ({"change": "ratio"}, "claims.c.change: must be one of difference, relative"),
    ({"colour": "red"}, "claims.c.colour: unknown field"),
    ({"than": ["p=50%"]}, "claims.c.than: a row cannot be on both sides"),
]


@pytest.mark.parametrize("change,message", BAD_CLAIMS)
def test_bad_claims_are_one_line_errors_naming_the_field(tmp_path, change, message):
    claim = {"table": "table2", "metric": "mIoU", "rows": ["p=50%"], "than": ["p=100%"], "expect": "> 0", **change}
    text = (REPO / "experiments" / "registry.yaml").read_text().split("\nclaims:")[0]
    (tmp_path / "registry.yaml").write_text(text + "\nclaims:\n  c: " + json.dumps(claim) + "\n")
    with pytest.raises(ConfigError) as e:
        load_registry(tmp_path / "registry.yaml")
    assert message in str(e.value) and "\n" not in str(e.value)


def test_claim_on_a_cited_row_is_refused(tmp_path):
    text = (REPO / "experiments" / "registry.yaml").read_text().split("\nclaims:")[0]
    claim = {"table": "table5", "metric": "mIoU", "rows": ["MRCFA MiT-B1"], "than": ["PSPNet"], "expect": "> 0"}
    (tmp_path / "registry.yaml").write_text(text + "\nclaims:\n  c: " + json.dumps(claim) + "\n")
    with pytest.raises(ConfigError, match=r"claims.c.than\[0\]: row 'PSPNet' is cited"):
        load_registry(tmp_path / "registry.yaml")


def test_summary_prints_the_figures_with_machine_and_threads(tmp_path, capsys):
    tree(tmp_path)
    bench = tmp_path / "results" / PROFILE / "runs" / "base" / "bench.json"
    bench.write_text(json.dumps({**json.loads(bench.read_text()), "device": "testcpu", "threads": 3}))
    train_json = [tmp_path / "results" / PROFILE / "runs" / "base" / f"seed{seed}" / "train.json" for seed in (0, 1, 2)]
    for seed, path in enumerate(train_json):
        path.write_text(json.dumps({"seconds": 60.0 * (seed + 1)}))
    args = ["summary", "--profile", PROFILE, "--results", str(tmp_path / "results"),
            "--registry", str(tmp_path / "registry.yaml"), "--profiles-dir", str(tmp_path / "profiles")]
    assert main(args) == 0
    assert "median 2.0 min per job, 1 thread(s) each (profile)" in capsys.readouterr().out  # none recorded
    for seed, path in enumerate(train_json):  # the threads the jobs ran with (`--set-threads`), as recorded
        path.write_text(json.dumps({"seconds": 60.0 * (seed + 1), "threads": 2}))
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "median 2.0 min per job, 2 torch thread(s) each (train.json)" in out
    train_json[0].write_text(json.dumps({"seconds": 60.0}))  # one job of older code: its threads are unknown
    assert main(args) == 0
    assert "2, ? torch thread(s) each (train.json)" in capsys.readouterr().out
    # Base 35.0, 35.5, 36.5: mean 35.67, sd sqrt((0.667^2 + 0.167^2 + 0.833^2) / 2) = 0.76; Good 41.0 ± 1.0.
    assert "mIoU (mean ± std over seeds): 35.7 ± 0.8, 41.0 ± 1.0, 30.5 ± 0.5, 36.2 ± 2.3, --" in out
    assert "FPS (one benchmark per run, 3 figures): 40.0, 50.0, 55.0, 45.0, --" in out
    assert "Memory (MB) (one benchmark per run, 3 figures): 1000, 900, 800, 950, --" in out
    assert "each run's benchmark: device testcpu, 3 thread(s)" in out
    assert "3 job(s), 6.0 min in all, median 2.0 min per job" in out
    assert f"{os.cpu_count()} CPU(s)" in out


def test_summary_names_the_seeds_it_read_not_the_profiles(tmp_path, capsys):
    tree(tmp_path, seeds=(0, 1, 2), profile_seeds=(0, 1))  # a seed run beyond the profile's (--config seeds=...)
    args = ["summary", "--profile", PROFILE, "--results", str(tmp_path / "results"),
            "--registry", str(tmp_path / "registry.yaml"), "--profiles-dir", str(tmp_path / "profiles")]
    assert main(args) == 0
    assert "(seeds 0, 1, 2)" in capsys.readouterr().out
    assert main([*args, "--seeds", "0,1"]) == 0
    assert "(seeds 0, 1)" in capsys.readouterr().out
