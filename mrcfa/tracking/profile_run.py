"""One MLflow run per profile for what is decided over many runs: the paper's claims.

It lives in each experiment of the profile (`mrcfa.layout.EXPERIMENT`), is named `claims`, is found again by
its `mrcfa.kind` tag, and carries `claims.csv`/`claims.md` as artifacts and one `mrcfa.claim.<id>` tag per claim
(its verdict), so the runs table can filter on them. Like every tracker here it never fails the caller.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from mrcfa import layout
from mrcfa.tracking import store
from mrcfa.tracking.fields import quoted

KIND = "claims"


def log_claims(profile: str, datasets: Iterable[str], files: Iterable[Path], verdicts: Mapping[str, str],
               uri: str | None = None) -> list[str]:
    """Log the claims files and verdicts; returns the MLflow run ids written (empty when tracking failed)."""
    uri = uri or store.tracking_uri()
    if uri in store.FAILED:
        return []
    profile = quoted(profile, "profile")
    tags = {"mrcfa.kind": KIND, "mrcfa.profile": profile} | {f"mrcfa.claim.{k}": v for k, v in verdicts.items()}
    written = []
    try:
        with store.store_lock(uri):
            client = store.client(uri)
            for dataset in dict.fromkeys(datasets):
                exp_id = store.experiment_id(client, uri, layout.experiment_name(quoted(dataset, "dataset"), profile))
                found = client.search_runs([exp_id], f"tags.`mrcfa.kind` = '{KIND}'", max_results=1)
                run_id = found[0].info.run_id if found else client.create_run(exp_id, run_name=KIND).info.run_id
                for key, value in tags.items():
                    client.set_tag(run_id, key, value)
                for path in files:
                    client.log_artifact(run_id, str(path))
                client.set_terminated(run_id)
                written.append(run_id)
    except Exception as exc:  # a mirror: warn once, never fail the analysis
        store.FAILED.add(uri)
        store.warn(uri, exc)
    return written
