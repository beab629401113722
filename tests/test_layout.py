"""One layout of the results tree and one metric vocabulary, read the same way everywhere."""

from __future__ import annotations

import json
from pathlib import Path

from analysis.metrics import METRICS
from analysis.results import load_results
from conftest import ROOT
from mrcfa import layout
from mrcfa.engine.paths import RunPaths
from mrcfa.experiments import schema
from mrcfa.experiments.registry import load_registry
from mrcfa.metric_keys import BENCH_METRICS, EVAL_METRICS, TABLE_METRICS, bench_metrics


def test_a_pattern_keeps_the_fields_it_is_not_given():
    assert layout.path(layout.MODEL) == "results/{profile}/runs/{run}/seed{seed}/model.pt"
    assert layout.path(layout.METRICS, profile="demo", run="mrcfa_b1", seed=1) == \
        "results/demo/runs/mrcfa_b1/seed1/metrics.json"
    assert layout.path(layout.BENCH, results="/tmp/r", profile="p", run="r") == "/tmp/r/p/runs/r/bench.json"
    paths = RunPaths.of("p", "r", 3, "res", "wk")
    assert (str(paths.model), str(paths.bench), str(paths.checkpoint)) == (
        "res/p/runs/r/seed3/model.pt", "res/p/runs/r/bench.json", "wk/p/r/seed3/last.pt")


def test_seed_folders_are_parsed_one_way(tmp_path: Path):
    run = tmp_path / "results/p/runs/r"
    for name in ("seed10", "seed2", "seedx", "seed", "samples", "seed1"):
        (run / name).mkdir(parents=True)
    (run / "seed5").write_text("a file, not a folder")
    assert [s for s, _ in layout.seed_dirs(run)] == [1, 2, 10]
    assert layout.seed_of("seed-1") == -1 and layout.seed_of("seed1x") is None
    assert layout.run_dirs("p", tmp_path / "results") == [run] and layout.run_dirs("q", tmp_path) == []
    assert layout.seed_dirs(tmp_path / "absent") == []


def test_one_metric_vocabulary_for_registry_tables_and_results(tmp_path: Path):
    registry = load_registry(ROOT / "experiments/registry.yaml")
    assert list(METRICS) == list(TABLE_METRICS) == [*EVAL_METRICS, *BENCH_METRICS]
    assert {m for t in registry.tables.values() for m in t.metrics} <= set(TABLE_METRICS)
    assert schema.validator("registry").schema["$defs"]["metric"]["enum"] == list(TABLE_METRICS)
    # A bench.json under the vocabulary's keys: MLflow gets them, the tables read them as they are.
    bench = {"fps": 40.0, "fps_cached": 40.0, "fps_clip": 10.0, "memory_mb": 900.0, "memory_mb_cached": 900.0,
             "params_m": 16.2, "flops": 1e9, "protocol": "cached", "iters": 20, "device": "cpu"}
    path = Path(layout.path(layout.BENCH, results=tmp_path, profile="p", run="r"))
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(bench))
    logged = bench_metrics(bench)
    assert set(BENCH_METRICS) <= set(logged) and "iters" not in logged and "fps_clip" in logged
    values = load_results(tmp_path, "p").values
    assert dict(zip(values["metric"], values["value"])) == {m: bench[m] for m in BENCH_METRICS}
