"""`analysis claims --plan` and `--seeds` on results written here with chosen per-seed values and job times.

The seeds a claim needs are checked against an independent search with scipy's t quantile, and one case by hand
from a printed t table; the job counts and seconds are worked out in the test from the files it wrote.
"""

from __future__ import annotations

import csv
import json
import math
import statistics
from pathlib import Path

import pytest
from scipy import stats

from analysis.cli import main
from analysis.claims import evaluate_claims
from analysis.plan import MAX_SEEDS, cost, make_plan, seed_ranges, seeds_to_decide
from analysis.synthetic import write_profile
from analysis.workspace import open_workspace

PROFILE = "px"
RUNS = ("base", "close", "tie", "wide", "good", "absent")
PAPER = "{mIoU: 30.0, fps: 40.0, memory_mb: 900}"
REGISTRY = """
runs:
  base: {model: {arch: segformer}}
  close: {model: {arch: mrcfa}}
  tie: {model: {arch: mrcfa, keep_ratio: 0.1}}
  wide: {model: {arch: mrcfa, keep_ratio: 0.3}}
  good: {model: {arch: mrcfa, keep_ratio: 0.7}}
  absent: {model: {arch: mrcfa, keep_ratio: 0.9}}
tables:
  tablex:
    title: A hand-made table.
    cells: [Name]
    metrics: [mIoU, fps, memory_mb]
    rows:
""" + "".join(f"      - {{label: {r}, run: {r}, cells: {{Name: {r}}}, paper: {PAPER}}}\n" for r in RUNS) + """
claims:
  close: {table: tablex, metric: mIoU, rows: [close], than: [base], expect: "> 0"}
  tie: {table: tablex, metric: mIoU, rows: [tie], than: [base], expect: "> 0"}
  wide: {table: tablex, metric: mIoU, rows: [wide], than: [base], expect: "> 0"}
  good: {table: tablex, metric: mIoU, rows: [good], than: [base], expect: "> 0"}
  absent: {table: tablex, metric: mIoU, rows: [absent], than: [base], expect: "> 0"}
  fps: {table: tablex, metric: fps, change: relative, rows: [close], than: [base], expect: "> 0"}
  memory: {table: tablex, metric: memory_mb, change: relative, rows: [tie], than: [base], expect: "< 0"}
"""
BASE = [30.0, 31.0, 32.0]
# Per-seed effects against base: close 2, 0, 1 (mean 1, sd 1); tie 1, -1, 0 (mean 0: the bound);
# wide 0.1, -2, 2.2 (mean 0.1, sd 2.1: far too close to the bound); good 5, 5.5, 6 (holds).
EFFECTS = {"close": [2.0, 0.0, 1.0], "tie": [1.0, -1.0, 0.0], "wide": [0.1, -2.0, 2.2], "good": [5.0, 5.5, 6.0]}
TRAIN_SECONDS = {"base": [100.0, 120.0, 110.0], "close": [200.0, 200.0, 200.0], "tie": [50.0, 50.0, 50.0],
                 "wide": [60.0, 60.0, 60.0], "good": [70.0, 70.0, 70.0]}
EVAL_SECONDS = 10.0
# Overlapping timings, one round in each of three processes: an FPS interval around 0; memory counted exactly
# and equal on both sides.
BENCH = {"base": [0.10, 0.12, 0.11], "close": [0.11, 0.10, 0.12], "tie": [0.10, 0.11, 0.12]}


def write_tree(root: Path, seeds=(0, 1, 2)) -> None:
    (root / "registry.yaml").write_text(REGISTRY)
    write_profile(root / "profiles", PROFILE, (0, 1, 2), root / "data")
    values = {"base": BASE, **{r: [b + e for b, e in zip(BASE, EFFECTS[r])] for r in EFFECTS}}
    for run, per_seed in values.items():
        run_dir = root / "results" / PROFILE / "runs" / run
        for i, seed in enumerate(seeds):
            d = run_dir / f"seed{seed}"
            d.mkdir(parents=True)
            (d / "model.pt").write_bytes(b"")
            (d / "train.json").write_text(json.dumps({"seconds": TRAIN_SECONDS[run][i % 3]}))
            (d / "metrics.json").write_text(json.dumps({"run": run, "seed": seed, "mIoU": per_seed[i % 3],
                                                        "seconds": EVAL_SECONDS}))
        if run in BENCH:
            (run_dir / "bench.json").write_text(json.dumps({
                "fps": 3 / sum(BENCH[run]), "memory_mb": 500.0, "params_m": 1.0, "protocol": "cached",
                "seconds_cached": BENCH[run], "memory_method": "tensors"}))
    table_bench = root / "results" / PROFILE / "bench" / "tablex.json"
    table_bench.parent.mkdir(parents=True)
    table_bench.write_text(json.dumps({"table": "tablex", "rows": [{"run": r} for r in BENCH], "rounds": 1,
                                       "processes": [{"seconds": {r: [t[i]] for r, t in BENCH.items()}}
                                                     for i in range(3)]}))


def scipy_seeds(effects: list[float], bound: float) -> int | None:
    """The fewest n whose paired t half-width clears |mean − bound|, searched with scipy, independently."""
    gap, sd = abs(statistics.mean(effects) - bound), statistics.stdev(effects)
    for n in range(2, MAX_SEEDS + 1):
        if stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n) < gap:
            return n
    return None


def test_seeds_to_decide_by_hand_and_against_scipy():
    # mean 1, sd 1, bound 0: t_{0.975,5} / √6 = 2.571 / 2.449 = 1.050 (not below 1), t_{0.975,6} / √7 =
    # 2.447 / 2.646 = 0.925: seven seeds (printed t table).
    assert seeds_to_decide(1.0, 1.0, 0.0) == 7
    assert seeds_to_decide(-2.48, 0.66, -1.0) == 4  # 3.182 · 0.66 / 2 = 1.05 < 1.48; 4.303 · 0.66 / √3 = 1.64
    for effects, bound in [([2.0, 0.0, 1.0], 0.0), ([-1.2, -3.0, -2.1, -0.4], -1.0), ([0.3, 0.9], 0.0),
                           ([10.0, 10.5, 9.0], 3.0), ([0.1, -2.0, 2.2], 0.0)]:
        assert seeds_to_decide(statistics.mean(effects), statistics.stdev(effects), bound) == scipy_seeds(effects,
                                                                                                           bound)
    assert seeds_to_decide(0.0, 1.0, 0.0) is None  # the effect on the bound: no seed count decides it
    assert seeds_to_decide(0.1, 2.1, 0.0) is None and scipy_seeds([0.1, -2.0, 2.2], 0.0) is None


def test_plan_of_every_undecided_claim(tmp_path):
    write_tree(tmp_path)
    ws = open_workspace(PROFILE, tmp_path / "results", tmp_path / "registry.yaml", tmp_path / "profiles")
    plan = make_plan(ws)
    by_id = {c.result.spec.id: c for c in plan.claims}
    assert set(by_id) == {"close", "tie", "wide", "absent", "fps", "memory"}  # `good` holds: no plan

    close = by_id["close"]
    assert close.state == "seeds" and close.seeds == (0, 1, 2) and close.sd == pytest.approx(1.0)
    assert close.need == scipy_seeds(EFFECTS["close"], 0.0) == 7 and close.target == tuple(range(7))
    # Seeds 3-6 of close and base: 4 × (train + evaluate) each, at each run's median job (base 110 s, close 200 s).
    assert close.jobs == {(step, r, s) for step in ("train", "evaluate") for r in ("close", "base")
                          for s in range(3, 7)}
    paid = cost(close.jobs, plan.times)
    assert paid.seconds == pytest.approx(4 * (110 + 10) + 4 * (200 + 10)) and not paid.estimated

    assert by_id["tie"].state == "out of reach" and "equals the bound" in by_id["tie"].decides
    assert by_id["wide"].state == "out of reach" and f"more than {MAX_SEEDS}" in by_id["wide"].decides
    absent = by_id["absent"]
    assert absent.state == "not run" and absent.target == (0, 1, 2)
    assert absent.jobs == {(step, "absent", s) for step in ("train", "evaluate") for s in range(3)}
    # A run never made here is costed at the profile's median jobs: train over all 15 recorded, evaluate 10 s.
    median_train = statistics.median([s for xs in TRAIN_SECONDS.values() for s in xs])
    paid = cost(absent.jobs, plan.times)
    assert paid.estimated and paid.seconds == pytest.approx(3 * (median_train + EVAL_SECONDS))
    assert by_id["fps"].state == "benchmark" and "benchmark processes" in by_id["fps"].decides
    assert by_id["memory"].state == "exact" and not by_id["memory"].jobs

    # One command: the table at seeds 0-6; every run's missing seeds, once, and the benchmarks never made.
    (cmd,) = plan.commands
    assert cmd.text == f"snakemake tablex --cores 4 --config profile={PROFILE} 'seeds=[0,1,2,3,4,5,6]'"
    made = ("base", "close", "tie", "wide", "good")
    want = {(step, r, s) for step in ("train", "evaluate") for r in made for s in range(3, 7)}
    want |= {(step, "absent", s) for step in ("train", "evaluate") for s in range(7)}
    want |= {("benchmark", r, None) for r in ("wide", "good", "absent")}
    assert cmd.jobs == want and plan.jobs == want


def test_new_seeds_read_as_ranges():
    assert seed_ranges([8, 0, 1, 2, 5, 7]) == "0-2, 5, 7, 8"
    assert seed_ranges(range(4, 44)) == "4-43" and seed_ranges([]) == ""


def test_cli_plan_text_and_json(tmp_path, capsys):
    write_tree(tmp_path)
    args = ["claims", "--plan", "--profile", PROFILE, "--results", str(tmp_path / "results"),
            "--registry", str(tmp_path / "registry.yaml"), "--profiles-dir", str(tmp_path / "profiles")]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert f"snakemake tablex --cores 4 --config profile={PROFILE} 'seeds=[0,1,2,3,4,5,6]'" in out
    assert "7 seeds (new: 3-6)" in out and "more than 50 seeds" in out
    assert not (tmp_path / "results" / PROFILE / "claims.csv").exists()  # a plan writes nothing
    assert main(args + ["--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    close = next(c for c in data["claims"] if c["claim"] == "close")
    assert close["seeds_to_decide"] == 7 and close["per_seed_sd"] == pytest.approx(1.0)
    assert close["new_jobs"] == {"train": 8, "evaluate": 8, "benchmark": 0}
    assert data["total"]["new_jobs"] == {"train": 27, "evaluate": 27, "benchmark": 3}
    assert data["total"]["untimed_steps"] == ["benchmark"]


@pytest.mark.parametrize("extra, message", [
    (["--seeds", "0,x"], "error: --seeds: expected comma-separated seeds"),
    (["--seeds", "1,1"], "error: --seeds: '1,1' repeats a seed"),
    (["--json"], "error: --json goes with --plan"),
    (["--plan", "--track"], "error: --plan writes nothing"),
])
def test_bad_plan_and_seeds_options_are_one_line_errors(tmp_path, capsys, extra, message):
    write_tree(tmp_path)
    code = main(["claims", "--profile", PROFILE, "--results", str(tmp_path / "results"), "--registry",
                 str(tmp_path / "registry.yaml"), "--profiles-dir", str(tmp_path / "profiles"), *extra])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith(message)


def test_seeds_option_reads_exactly_those_seeds(tmp_path, capsys):
    """Results at seeds 0-4 on disk: `--seeds 0,1,2` decides on three of them, and expects exactly them; asking for
    a seed with no results names it as missing."""
    write_tree(tmp_path, seeds=(0, 1, 2, 3, 4))
    ws = open_workspace(PROFILE, tmp_path / "results", tmp_path / "registry.yaml", tmp_path / "profiles",
                        seeds=[0, 1, 2])
    close = next(r for r in evaluate_claims(ws) if r.spec.id == "close")
    assert close.seeds == "0 1 2" and close.interval.estimate == pytest.approx(1.0)
    every = open_workspace(PROFILE, tmp_path / "results", tmp_path / "registry.yaml", tmp_path / "profiles")
    assert next(r for r in evaluate_claims(every) if r.spec.id == "close").seeds == "0 1 2 3 4"
    args = ["tables", "--profile", PROFILE, "--results", str(tmp_path / "results"), "--registry",
            str(tmp_path / "registry.yaml"), "--profiles-dir", str(tmp_path / "profiles")]
    assert main(args + ["--seeds", "0,1,2"]) == 0
    rows = list(csv.DictReader((tmp_path / "results" / PROFILE / "tables" / "tablex.csv").open()))
    assert {r["run"]: r["mIoU_n_seeds"] for r in rows} == {**{r: "3" for r in EFFECTS}, "base": "3", "absent": "0"}
    assert main(args + ["--seeds", "0,5"]) == 0
    assert "close: missing seed 5" in capsys.readouterr().err
