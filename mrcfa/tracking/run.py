"""`Tracker`: one job's params, metrics, tags and artifacts, logged into the MLflow run of (run, seed)."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Callable, TypeVar

from mrcfa import layout
from mrcfa.provenance import git_state
from mrcfa.tracking import store
from mrcfa.tracking.fields import clean_key, flatten, quoted

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities import Run

T = TypeVar("T")

_MAX_PARAM_LEN = 6000  # MLflow truncates longer values; compare truncated values on resume
_MAX_TAG_LEN = 8000
TERMINAL = ("FINISHED", "FAILED", "KILLED")


class Tracker:
    """Logs one job into the MLflow run of (run, seed); a no-op after the first MLflow error.

    `config_hash` is the run config's own hash (`RunConfig.hash()`, also in the results files), tagged
    `mrcfa.config_hash`; the tracker never computes one. Caller tags whose key has no dot are namespaced as
    ``mrcfa.<key>`` (e.g. ``device``, ``tables``, ``rows``); dotted keys (``mlflow.note.content``) are verbatim.
    """

    def __init__(
        self,
        *,
        dataset: str,
        profile: str,
        run: str,
        seed: int,
        config_hash: str | None = None,
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, Any] | None = None,
        run_id: str | None = None,
        uri: str | None = None,
    ) -> None:
        self.dataset = quoted(str(dataset), "dataset")
        self.profile = quoted(str(profile), "profile")
        self.run = quoted(str(run), "run")
        self.seed = int(seed)
        self.uri = uri or store.tracking_uri()
        self.experiment_name = layout.experiment_name(self.dataset, self.profile)
        self.run_name = f"{self.run}-seed{self.seed}"
        self.run_id: str | None = None
        self.enabled = self.uri not in store.FAILED
        self.previous_status: str | None = None  # status of a continued run before we reopened it
        self._client: MlflowClient | None = None
        self._existing_params: dict[str, str] = {}
        self._monitor: Any = None  # MLflow's SystemMetricsMonitor, when asked for
        # Identity tags are written only at creation: an explicit run_id must not be relabelled.
        self._ident = {
            "mrcfa.run": self.run,
            "mrcfa.seed": str(self.seed),
            "mrcfa.profile": self.profile,
        }
        auto: dict[str, Any] = {"mrcfa.dataset": self.dataset}
        if config_hash:
            auto["mrcfa.config_hash"] = config_hash
        git = git_state()
        if git["commit"]:
            auto["mlflow.source.git.commit"] = git["commit"]
        if git["dirty"] is not None:
            auto["mrcfa.git_dirty"] = str(git["dirty"]).lower()
        self._guard(self._open, run_id)
        self.set_tags({**auto, **(tags or {})})
        if params:
            self.log_params(params)

    # -- plumbing ------------------------------------------------------------------------------

    @property
    def _c(self) -> MlflowClient:
        assert self._client is not None, "only used while enabled, i.e. after a successful open"
        return self._client

    def _guard(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        if not self.enabled:
            return None
        try:
            return store.retry(fn, *args, **kwargs)
        except Exception as exc:
            self.enabled = False
            if self.uri not in store.FAILED:
                store.FAILED.add(self.uri)
                store.warn(self.uri, exc)
            return None

    def _search(self, client: MlflowClient, exp_id: str) -> list[Run]:
        flt = " and ".join(f"tags.`{k}` = '{v}'" for k, v in self._ident.items())
        return list(
            client.search_runs([exp_id], flt, order_by=["attributes.start_time ASC"], max_results=9)
        )

    def _open(self, run_id: str | None) -> None:
        from mlflow.exceptions import MlflowException

        with store.store_lock(self.uri):
            client = store.client(self.uri)  # eager in MLflow 3: builds the store (and SQLite schema)
            run = None
            if run_id:  # from a checkpoint: continue exactly that run if this store has it
                try:
                    run = client.get_run(run_id)
                except MlflowException as exc:
                    if exc.error_code != "RESOURCE_DOES_NOT_EXIST":
                        raise
                    run = None  # checkpoint from another store: fall back to the tags
                if run is not None and run.info.lifecycle_stage == "deleted":
                    client.restore_run(run_id)
            exp_id = run.info.experiment_id if run else store.experiment_id(client, self.uri, self.experiment_name)
            store.mark_kind(client, exp_id)
            if run is None:
                found = self._search(client, exp_id)
                run = found[0] if found else None
            if run is not None:
                self.previous_status = run.info.status
            else:
                run = client.create_run(exp_id, tags=dict(self._ident), run_name=self.run_name)
                # Two processes on an HTTP store may both have created one: keep the oldest.
                oldest = self._search(client, exp_id)[0]
                if oldest.info.run_id != run.info.run_id:
                    client.delete_run(run.info.run_id)
                    run = oldest
            if run.info.status != "RUNNING":
                client.update_run(run.info.run_id, status="RUNNING")
        self._client, self.run_id = client, run.info.run_id
        self._existing_params = dict(run.data.params)

    # -- logging -------------------------------------------------------------------------------

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Log (flattened) params; equal re-logs are skipped, changed values warned and kept."""
        flat = {clean_key(k): v[:_MAX_PARAM_LEN] for k, v in flatten(params).items()}
        if not self.enabled:
            return
        old = self._existing_params
        new = {k: v for k, v in flat.items() if k not in old}
        changed = sorted(k for k, v in flat.items() if k in old and old[k] != v)
        if changed:
            # MLflow forbids changing a param; record that this job ran with a different value.
            print(
                f"WARNING: MLflow run {self.run_name} keeps its earlier values for changed "
                f"params: {', '.join(changed)}",
                file=sys.stderr,
            )
            self.set_tags({"mrcfa.params_changed": ",".join(changed)})
        from mlflow.entities import Param

        items = [Param(k, v) for k, v in new.items()]
        for i in range(0, len(items), 100):  # MLflow: at most 100 params per batch
            self._guard(self._c.log_batch, self.run_id, params=items[i : i + 100])
        if self.enabled:
            old.update(new)

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        values = {clean_key(k): float(v) for k, v in metrics.items()}  # non-numbers: caller bug
        self.log_points([(k, v, int(step or 0)) for k, v in values.items()])

    def log_points(self, points: list[tuple[str, float, int]], dedupe: bool = False) -> None:
        """Log (key, value, step) points; `dedupe` skips those already there (a re-sync must not grow histories)."""
        if not self.enabled or not points:
            return
        from mlflow.entities import Metric

        if dedupe:
            have: dict[str, set[tuple[int, float]]] = {}
            for key in {k for k, _, _ in points}:
                hist = self._guard(self._c.get_metric_history, self.run_id, key)
                if hist is None:
                    return
                have[key] = {(m.step, m.value) for m in hist}
            points = [p for p in points if (p[2], p[1]) not in have[p[0]]]
        now = int(time.time() * 1000)
        items = [Metric(k, v, now, s) for k, v, s in points]
        for i in range(0, len(items), 1000):  # MLflow: at most 1000 metrics per batch
            self._guard(self._c.log_batch, self.run_id, metrics=items[i : i + 1000])

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        if not self.enabled or not tags:
            return
        from mlflow.entities import RunTag

        items = [
            RunTag(k if "." in k else f"mrcfa.{k}", str(v)[:_MAX_TAG_LEN]) for k, v in tags.items()
        ]
        for i in range(0, len(items), 100):
            self._guard(self._c.log_batch, self.run_id, tags=items[i : i + 100])

    def log_artifact(self, path: str | os.PathLike[str], artifact_path: str | None = None) -> None:
        """Upload a file, or a directory's contents, under ``artifact_path``."""
        p = Path(path)
        if not p.exists():
            raise FileNotFoundError(p)
        if not self.enabled:
            return
        if p.is_dir():
            self._guard(self._c.log_artifacts, self.run_id, str(p), artifact_path)
        else:
            self._guard(self._c.log_artifact, self.run_id, str(p), artifact_path)

    def monitor_system(self) -> None:
        """Record CPU, memory, disk and network use (and the GPU's, with nvidia-ml-py installed) as MLflow's
        `system/*` metrics until close(), when MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING=true asks for them, as it
        does for MLflow's own runs. Off by default: every sample is one more write to a shared SQLite file."""
        from mlflow.environment_variables import MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING

        if not self.enabled or not MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING.get():
            return
        from mlflow.system_metrics.system_metrics_monitor import SystemMetricsMonitor

        self._monitor = self._guard(SystemMetricsMonitor, self.run_id, tracking_uri=self.uri,
                                    resume_logging=self.previous_status is not None)
        if self._monitor is not None:
            self._monitor.start()

    def close(self, status: str = "FINISHED") -> None:
        if status not in TERMINAL:
            raise ValueError(f"status must be one of {TERMINAL}, got {status!r}")
        if self._monitor is not None:  # before the run ends: its last samples are flushed into it
            self._monitor.finish()
            self._monitor = None
        if self.enabled:
            self._guard(self._c.set_terminated, self.run_id, status)
        self.enabled = False  # closed: later calls are no-ops

    def __enter__(self) -> Tracker:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close("FINISHED")
        elif issubclass(exc_type, KeyboardInterrupt):
            self.close("KILLED")
        else:
            self.close("FAILED")
