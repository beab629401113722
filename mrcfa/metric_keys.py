"""The metric vocabulary: one name per measured quantity, the same in the results files (metrics.json,
bench.json), in MLflow and in the tables (the registry's `metrics:` columns, `analysis`). No torch.

Evaluation metrics exist per seed (metrics.json, percent). Benchmark metrics exist once per run (bench.json)
and are those of the profile's first protocol (`bench.protocols[0]`, recorded in bench.json as `protocol`);
every protocol's own measurements sit beside them as `<key>_<protocol>` (`fps_cached`, `memory_mb_clip`,
`flops_cached`), with each timed call's seconds as `seconds_<protocol>`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# `mrcfa bench`'s timing protocols (`mrcfa.engine.bench`); a profile's first one gives the tables' FPS and memory.
PROTOCOLS: tuple[str, ...] = ("cached", "clip")
EVAL_METRICS: tuple[str, ...] = ("mIoU", "WIoU", "mVC8", "mVC16")
FPS, MEMORY, PARAMS, FLOPS = "fps", "memory_mb", "params_m", "flops"
BENCH_METRICS: tuple[str, ...] = (FPS, MEMORY, PARAMS)  # table columns measured by `mrcfa bench`
TABLE_METRICS: tuple[str, ...] = EVAL_METRICS + BENCH_METRICS
PROTOCOL_METRICS: tuple[str, ...] = (FPS, MEMORY, FLOPS)  # measured once per protocol
SECONDS = "seconds"


def per_protocol(key: str, protocol: str) -> str:
    """`fps`, `cached` -> `fps_cached`."""
    return f"{key}_{protocol}"


def is_bench_metric(key: str) -> bool:
    """A benchmark result's metric (logged to MLflow), as opposed to its settings and provenance."""
    return key in BENCH_METRICS + PROTOCOL_METRICS or key.rsplit("_", 1)[0] in PROTOCOL_METRICS


def bench_metrics(result: Mapping[str, Any]) -> dict[str, float]:
    """The metrics of a bench.json (or `mrcfa bench` result): what MLflow holds for the run's benchmark."""
    return {k: float(v) for k, v in result.items()
            if is_bench_metric(k) and isinstance(v, (int, float)) and not isinstance(v, bool)}
