"""The same `Results` as `analysis.results.load_results`, read from an MLflow tracking store.

Experiments are named `mrcfa.layout.EXPERIMENT`, one per dataset and profile; each MLflow run carries tags `mrcfa.run`,
`mrcfa.seed`, `mrcfa.profile` and metrics named as in the results files. mlflow is imported only
here, and only when asked for, because importing it costs seconds.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from analysis.results import (
    Results,
    bench_records,
    eval_records,
    make_provenance,
    make_values,
)
from mrcfa.layout import is_experiment_of
from mrcfa.metric_keys import BENCH_METRICS, EVAL_METRICS
from mrcfa.offline import stay_offline
from mrcfa.provenance import tag


def _mlflow_runs(uri: str, profile: str) -> list[Any]:
    stay_offline()
    import mlflow  # lazy: heavy import, optional dependency of the analysis

    client = mlflow.MlflowClient(tracking_uri=uri)
    exps = [e for e in client.search_experiments(max_results=1000) if is_experiment_of(e.name, profile)]
    runs: list[Any] = []
    for exp in exps:
        token = None
        while True:
            page = client.search_runs([exp.experiment_id], max_results=1000, page_token=token)
            runs += [r for r in page if r.data.tags.get("mrcfa.profile", profile) == profile]
            token = page.token
            if not token:
                break
    # Oldest first, so that a rerun of the same (run, seed) replaces the earlier one below.
    return sorted(runs, key=lambda r: (r.info.start_time or 0))


def load_results_mlflow(uri: str, profile: str) -> Results:
    """Each kind of result's code fingerprint is read from its own tag (`mrcfa.provenance.tag`)."""
    per_seed: dict[tuple[str, int], dict[str, Any]] = {}
    bench: dict[str, dict[str, Any]] = {}
    prov: dict[tuple[str, int | None, str], dict[str, Any]] = {}  # (run, seed, kind) -> provenance record
    for r in _mlflow_runs(uri, profile):
        tags, metrics = r.data.tags, r.data.metrics
        run = tags.get("mrcfa.run")
        if not run or tags.get("mrcfa.seed") is None:
            continue
        seed = int(tags["mrcfa.seed"])
        config_hash = tags.get("mrcfa.config_hash") or r.data.params.get("config_hash")
        if tag("train") in tags:
            prov[(run, seed, "train")] = {"config_hash": config_hash, "code": tags[tag("train")]}
        if any(m in metrics for m in EVAL_METRICS):
            per_seed[(run, seed)] = metrics
            prov[(run, seed, "metrics")] = {"config_hash": config_hash, "code": tags.get(tag("metrics"))}
        if any(k in metrics for k in BENCH_METRICS):
            bench[run] = {**bench.get(run, {}), **{k: metrics[k] for k in BENCH_METRICS if k in metrics}}
            prov[(run, None, "bench")] = {"config_hash": None, "code": tags.get(tag("bench"))}
    values: list[dict[str, Any]] = []
    for (run, seed), metrics in per_seed.items():
        values += eval_records(run, seed, metrics)
    for run, b in bench.items():
        values += bench_records(run, b)
    records = [{"run": run, "seed": seed, "kind": kind, **p, "detail": "mlflow"}
               for (run, seed, kind), p in prov.items()]
    return Results(profile=profile, source=uri, values=make_values(values), provenance=make_provenance(records),
                   histories={})


def merge_histories(results: Results, histories: dict[tuple[str, int], pd.DataFrame]) -> Results:
    """Training curves live in the results tree; attach them to MLflow-loaded values."""
    return Results(profile=results.profile, source=results.source, values=results.values,
                   provenance=results.provenance, histories={**histories, **results.histories})
