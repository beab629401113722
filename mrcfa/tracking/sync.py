"""Re-mirroring the results files into MLflow, e.g. after the store was unreachable during the jobs."""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mrcfa import layout, provenance
from mrcfa.metric_keys import bench_metrics
from mrcfa.metrics import cue_accuracy_scalars
from mrcfa.tracking import store
from mrcfa.tracking.fields import clean_key
from mrcfa.tracking.run import TERMINAL, Tracker


def _load_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:  # a half-written file must not abort the whole sync
        print(f"WARNING: skipping unreadable {path}: {exc}", file=sys.stderr)
        return {}
    return data if isinstance(data, dict) else {}


def _scalars(data: Mapping[str, Any]) -> dict[str, float]:
    return {
        k: float(v)
        for k, v in data.items()
        if isinstance(v, (int, float)) and not isinstance(v, bool)
    }


def _history(path: Path) -> list[tuple[str, float, int]]:
    if not path.is_file():
        return []
    points: list[tuple[str, float, int]] = []
    with path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            try:
                step = int(float(row["iter"]))
            except (KeyError, TypeError, ValueError):
                continue
            for col, cell in row.items():
                if col == "iter" or col is None:
                    continue
                try:
                    points.append((clean_key(col), float(cell), step))
                except (TypeError, ValueError):
                    continue  # blank or non-numeric cell
    return points


def _code_tags(files: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """Each results file's recorded code fingerprint, under its kind's tag (as the jobs tag it)."""
    return {provenance.tag(kind): str(d[provenance.KEY]) for kind, d in files.items() if d.get(provenance.KEY)}


def sync_results(results_dir: str | os.PathLike[str], profile: str, uri: str | None = None) -> int:
    """Re-log ``<results_dir>/<profile>/runs/<run>/seed<S>/`` files into MLflow.

    Idempotent: each run+seed's MLflow run is continued (never duplicated) and metric points
    already present with the same step and value are skipped. Returns the number of runs synced.
    """
    uri = uri or store.tracking_uri()
    run_dirs = layout.run_dirs(profile, results_dir)
    if not run_dirs:
        return 0
    store.ensure_store(uri)
    synced = 0
    for run_dir in run_dirs:
        bench = _load_json(run_dir / layout.BENCH_FILE)  # run-level: mirrored into every seed
        for seed, seed_dir in layout.seed_dirs(run_dir):
            metrics = _load_json(seed_dir / layout.METRICS_FILE)
            train = _load_json(seed_dir / layout.TRAIN_FILE)
            history = _history(seed_dir / layout.HISTORY_FILE)
            if not (metrics or train or history or bench):
                continue
            if uri in store.FAILED:
                return synced
            dataset = str(metrics.get("dataset") or train.get("dataset") or "vspw")
            # The files record the run config's hash; the seed's own files before the run-level benchmark.
            config_hash = metrics.get("config_hash") or train.get("config_hash") or bench.get("config_hash")
            tracker = Tracker(dataset=dataset, profile=profile, run=run_dir.name, seed=seed,
                              config_hash=config_hash, uri=uri)
            scalars = {**_scalars(metrics), **cue_accuracy_scalars(metrics), **_scalars(train), **bench_metrics(bench)}
            points = [(clean_key(k), v, 0) for k, v in scalars.items()]
            tracker.log_points(points + history, dedupe=True)
            tracker.set_tags({"synced_from": str(seed_dir),
                              **_code_tags({"train": train, "metrics": metrics, "bench": bench})})
            ok = tracker.enabled
            prev = tracker.previous_status
            tracker.close(prev if prev in TERMINAL else "FINISHED")
            synced += int(ok)
    return synced
