"""MLflow mirror of every job's parameters, metrics and artifacts.

The files under ``results/`` are the source of truth; MLflow is a browsable mirror. So nothing in
here may fail a job: any MLflow error prints one warning and turns the tracker into a no-op.
Only argument mistakes (programming errors) raise.

One MLflow experiment per (dataset, profile) and one MLflow run per (run, seed): train, evaluate
and bench jobs of the same run+seed find that run again by its ``mrcfa.*`` tags.

- `store`: where the store is (URI), SQLite locking and lock retries, experiment creation;
- `fields`: flattened params, clean keys (the git state comes from `mrcfa.provenance`);
- `run`: the `Tracker` of one job;
- `sync`: re-logging the results files (`mrcfa track sync`).
"""

from mrcfa.provenance import git_state
from mrcfa.tracking.fields import flatten
from mrcfa.tracking.run import Tracker
from mrcfa.tracking.store import ensure_store, tracking_uri
from mrcfa.tracking.sync import sync_results

__all__ = ["Tracker", "ensure_store", "flatten", "git_state", "sync_results", "tracking_uri"]
