"""Benchmarking as a job: the settings a benchmark runs with, and where a registry run's timings are filed
(its bench.json, and the MLflow run of every seed of its profile, which the tables read them with)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mrcfa import layout, provenance
from mrcfa.atomic import write_json
from mrcfa.config import BenchConfig, ModelConfig, RunConfig
from mrcfa.engine.bench import benchmark
from mrcfa.engine.tracked import open_tracker, row_tags
from mrcfa.metric_keys import PROTOCOLS, bench_metrics

# A model named on the command line rather than a registry run: a quick look, shorter than a profile's.
AD_HOC = BenchConfig(size=(480, 864), iters=20, warmup=3, protocols=PROTOCOLS)


def with_changes(base: BenchConfig, size: tuple[int, int] | None = None, iters: int | None = None,
                 warmup: int | None = None, protocols: Sequence[str] | None = None) -> BenchConfig:
    """`base`, with the settings given on the command line (None, or an empty list: keep base's)."""
    return dataclasses.replace(base, size=size or base.size, iters=iters or base.iters,
                               warmup=base.warmup if warmup is None else warmup,
                               protocols=tuple(protocols) if protocols else base.protocols)


def time_model(model: ModelConfig, bc: BenchConfig, threads: int | None = None,
               weights: str | Path | None = None) -> dict[str, Any]:
    """`benchmark` with the settings of `bc`."""
    return benchmark(model, size=bc.size, iters=bc.iters, warmup=bc.warmup, threads=threads,
                     protocols=bc.protocols, weights=weights)


def bench_run(registry: Any, cfg: RunConfig, bc: BenchConfig, *, threads: int | None = None,
              weights: str | Path | None = None, results: str | Path = layout.RESULTS_ROOT,
              track: bool = True) -> dict[str, Any]:
    """Time a registry run's model. With random weights (the released benchmark's way) the result is the
    run's: written to its bench.json and logged to MLflow; a checkpoint's timings are returned, never filed."""
    result = time_model(cfg.model, bc, threads, weights)
    if weights is not None:
        return result
    result |= {"run": cfg.run, "profile": cfg.profile, "config_hash": cfg.hash(), "overrides": cfg.overrides,
               **provenance.stamp()}
    write_json(Path(layout.path(layout.BENCH, results=results, profile=cfg.profile, run=cfg.run)), result)
    if track:
        log_bench(registry, cfg, result)
    return result


def log_bench(registry: Any, cfg: RunConfig, result: dict[str, Any]) -> None:
    """A benchmark does not depend on the seed: its metrics go into the MLflow run of every seed."""
    metrics = bench_metrics(result)
    for seed in registry.seeds(cfg.profile):
        tracker = open_tracker(cfg, seed, tags={**row_tags(registry, cfg.run),
                                                provenance.tag("bench"): result[provenance.KEY]})
        tracker.log_metrics(metrics)
        tracker.close()
