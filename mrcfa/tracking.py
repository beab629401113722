"""MLflow mirror of every job's parameters, metrics and artifacts.

The files under ``results/`` are the source of truth; MLflow is a browsable mirror. So nothing in
here may fail a job: any MLflow error prints one warning and turns the tracker into a no-op.
Only argument mistakes (programming errors) raise.

One MLflow experiment per (dataset, profile) and one MLflow run per (run, seed): train, evaluate
and bench jobs of the same run+seed find that run again by its ``mrcfa.*`` tags.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Callable, TypeVar

from mrcfa.metrics import cue_accuracy_scalars

# Before mlflow is ever imported (it reads these lazily, but set them early for subprocesses too).
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
# MLflow's HTTP default (7 retries, exponential backoff, 120 s timeout) would stall a job for
# minutes when the server is down; a mirror should give up within seconds.
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "30")

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities import Run

__all__ = ["Tracker", "ensure_store", "flatten", "git_state", "sync_results", "tracking_uri"]

T = TypeVar("T")

_LOCK_RETRY_S = 15.0  # total backoff budget for "database is locked"
_MAX_PARAM_LEN = 6000  # MLflow truncates longer values; compare truncated values on resume
_MAX_TAG_LEN = 8000
_TERMINAL = ("FINISHED", "FAILED", "KILLED")
_BAD_KEY_CHARS = re.compile(r"[^\w./\- ]")
# Marks experiments as model training, not GenAI, for MLflow 3's UI (3.17.2 goes by the "Model training" mode
# chosen in the browser instead, whatever the tag; the README says how to open the runs table).
EXPERIMENT_KIND = {"mlflow.experimentKind": "custom_model_development"}
# URIs that already failed in this process: later trackers stay silent no-ops ("one warning").
_FAILED: set[str] = set()


# --------------------------------------------------------------------------------------------
# Store location and setup


def tracking_uri() -> str:
    """``MLFLOW_TRACKING_URI`` if set, else ``sqlite:///<cwd>/mlflow.db`` (never ./mlruns)."""
    env = os.environ.get("MLFLOW_TRACKING_URI", "").strip()
    if env:
        return env
    return "sqlite:///" + str(Path.cwd().resolve() / "mlflow.db")


def _sqlite_path(uri: str) -> Path | None:
    """The database file of a local SQLite URI, else None."""
    if not uri.startswith("sqlite:///"):
        return None
    raw = uri[len("sqlite:///") :].split("?", 1)[0]
    if not raw or raw == ":memory:":
        return None
    return Path(raw).resolve()  # relative SQLite paths are relative to cwd, as in SQLAlchemy


def _artifact_location(uri: str, experiment: str) -> str | None:
    """Artifacts of a SQLite store go to ``mlartifacts/<experiment>/`` beside the database.

    Without this, MLflow 3 puts SQLite-backed artifacts under ``./mlruns`` of whatever the cwd
    is when the store is first built. HTTP servers pick their own (served) location.
    """
    db = _sqlite_path(uri)
    return (db.parent / "mlartifacts" / experiment).as_uri() if db else None


@contextlib.contextmanager
def _store_lock(uri: str) -> Iterator[None]:
    """Serialise schema creation and find-or-create of runs across processes on one SQLite file.

    MLflow's SqlAlchemyStore creates tables without a lock, so parallel first opens race; the lock
    lives in the temp dir so it never litters the project root.
    """
    db = _sqlite_path(uri)
    try:
        import fcntl
    except ImportError:  # non-POSIX: rely on the locked-retry alone
        fcntl = None  # type: ignore[assignment]
    if db is None or fcntl is None:
        yield
        return
    db.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha1(str(db).encode()).hexdigest()[:16]
    with open(Path(tempfile.gettempdir()) / f"mrcfa-mlflow-{digest}.lock", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _is_locked(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _ in range(8):  # MLflow wraps sqlite3.OperationalError in MlflowException
        if seen is None:
            return False
        text = str(seen).lower()
        if "database is locked" in text or "database table is locked" in text:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _retry(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call ``fn``, retrying SQLite lock contention with jittered exponential backoff."""
    deadline = time.monotonic() + _LOCK_RETRY_S
    delay = 0.05
    while True:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            if not _is_locked(exc) or time.monotonic() + delay > deadline:
                raise
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 2.0)


def _warn(uri: str, exc: BaseException) -> None:
    msg = " ".join(f"{type(exc).__name__}: {exc}".split())
    if len(msg) > 400:
        msg = msg[:400] + "..."
    print(
        f"WARNING: MLflow tracking at {uri} failed, continuing without tracking: {msg}",
        file=sys.stderr,
        flush=True,
    )


def _client(uri: str) -> MlflowClient:
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=uri)


def ensure_store(uri: str | None = None) -> None:
    """Create the database and schema once, before jobs fan out. Warns (never raises) on error."""
    uri = uri or tracking_uri()
    if uri in _FAILED:
        return
    try:
        with _store_lock(uri):
            # Any call builds the store; building a SQLite store creates/migrates its schema.
            _retry(_client(uri).search_experiments, max_results=1)
    except Exception as exc:
        _FAILED.add(uri)
        _warn(uri, exc)


# --------------------------------------------------------------------------------------------
# Helpers for tags and params


def git_state(cwd: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """``{"commit": sha or None, "dirty": bool or None}``; None where git or a repo is missing."""

    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(
                ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10, check=True
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout

    head = git("rev-parse", "--verify", "HEAD")
    status = git("status", "--porcelain")
    return {
        "commit": (head.strip() or None) if head else None,
        "dirty": bool(status.strip()) if status is not None else None,
    }


def _param_str(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, (bool, int, float, list, tuple)):
        return json.dumps(value, default=str)
    return str(value)


def flatten(d: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested mapping -> ``{"a.b.c": str}``; lists and scalars are JSON-encoded (except strings)."""
    out: dict[str, str] = {}
    for key, value in d.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            out.update(flatten(value, name) if value else {name: "{}"})
        else:
            out[name] = _param_str(value)
    return out


def _key(name: str) -> str:
    # MLflow rejects other characters in param/metric keys; a mirror should not fail on them.
    return _BAD_KEY_CHARS.sub("_", str(name))[:250]


def _config_hash(flat: Mapping[str, str]) -> str:
    return hashlib.sha256(json.dumps(dict(flat), sort_keys=True).encode()).hexdigest()[:12]


def _quote(value: str, what: str) -> str:
    if not value or "'" in value or '"' in value or "`" in value:
        raise ValueError(f"invalid {what} for tracking: {value!r}")
    return value


# --------------------------------------------------------------------------------------------
# Tracker


class Tracker:
    """Logs one job into the MLflow run of (run, seed); a no-op after the first MLflow error.

    Caller tags whose key has no dot are namespaced as ``mrcfa.<key>`` (e.g. ``device``,
    ``tables``, ``rows``); dotted keys (``mlflow.note.content``) are used verbatim.
    """

    def __init__(
        self,
        *,
        dataset: str,
        profile: str,
        run: str,
        seed: int,
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, Any] | None = None,
        run_id: str | None = None,
        uri: str | None = None,
    ) -> None:
        self.dataset = _quote(str(dataset), "dataset")
        self.profile = _quote(str(profile), "profile")
        self.run = _quote(str(run), "run")
        self.seed = int(seed)
        self.uri = uri or tracking_uri()
        self.experiment_name = f"mrcfa-{self.dataset}-{self.profile}"
        self.run_name = f"{self.run}-seed{self.seed}"
        self.run_id: str | None = None
        self.enabled = self.uri not in _FAILED
        self._client: MlflowClient | None = None
        self._prev_status: str | None = None  # status of a continued run before we reopened it
        self._existing_params: dict[str, str] = {}
        self._monitor: Any = None  # MLflow's SystemMetricsMonitor, when asked for
        self._ident = {
            "mrcfa.run": self.run,
            "mrcfa.seed": str(self.seed),
            "mrcfa.profile": self.profile,
        }
        flat = flatten(params) if params else {}
        # Identity tags are written only at creation: an explicit run_id must not be relabelled.
        auto: dict[str, Any] = {"mrcfa.dataset": self.dataset}
        if flat:
            auto["mrcfa.config_hash"] = _config_hash(flat)
        git = git_state()
        if git["commit"]:
            auto["mlflow.source.git.commit"] = git["commit"]
        if git["dirty"] is not None:
            auto["mrcfa.git_dirty"] = str(git["dirty"]).lower()
        self._guard(self._open, run_id)
        self.set_tags({**auto, **(tags or {})})
        if flat:
            self.log_params(flat)

    # -- plumbing ------------------------------------------------------------------------------

    @property
    def _c(self) -> MlflowClient:
        assert self._client is not None, "only used while enabled, i.e. after a successful open"
        return self._client

    def _guard(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        if not self.enabled:
            return None
        try:
            return _retry(fn, *args, **kwargs)
        except Exception as exc:
            self.enabled = False
            if self.uri not in _FAILED:
                _FAILED.add(self.uri)
                _warn(self.uri, exc)
            return None

    def _experiment_id(self, client: MlflowClient) -> str:
        exp = client.get_experiment_by_name(self.experiment_name)
        if exp is None:
            try:
                location = _artifact_location(self.uri, self.experiment_name)
                return client.create_experiment(self.experiment_name, artifact_location=location,
                                                tags=EXPERIMENT_KIND)
            except Exception:  # another process created it first (HTTP stores are not locked)
                exp = client.get_experiment_by_name(self.experiment_name)
                if exp is None:
                    raise
        if exp.lifecycle_stage == "deleted":
            client.restore_experiment(exp.experiment_id)
        return exp.experiment_id

    @staticmethod
    def _mark_kind(client: MlflowClient, exp_id: str) -> None:
        """Experiments made before the kind tag existed get it when next opened."""
        tags = client.get_experiment(exp_id).tags
        for key, value in EXPERIMENT_KIND.items():
            if tags.get(key) != value:
                client.set_experiment_tag(exp_id, key, value)

    def _search(self, client: MlflowClient, exp_id: str) -> list[Run]:
        flt = " and ".join(f"tags.`{k}` = '{v}'" for k, v in self._ident.items())
        return list(
            client.search_runs([exp_id], flt, order_by=["attributes.start_time ASC"], max_results=9)
        )

    def _open(self, run_id: str | None) -> None:
        from mlflow.exceptions import MlflowException

        with _store_lock(self.uri):
            client = _client(self.uri)  # eager in MLflow 3: builds the store (and SQLite schema)
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
            exp_id = run.info.experiment_id if run else self._experiment_id(client)
            self._mark_kind(client, exp_id)
            if run is None:
                found = self._search(client, exp_id)
                run = found[0] if found else None
            if run is not None:
                self._prev_status = run.info.status
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
        flat = {_key(k): v[:_MAX_PARAM_LEN] for k, v in flatten(params).items()}
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
        values = {_key(k): float(v) for k, v in metrics.items()}  # non-numbers: caller bug
        self._log_points([(k, v, int(step or 0)) for k, v in values.items()])

    def _log_points(self, points: list[tuple[str, float, int]], dedupe: bool = False) -> None:
        if not self.enabled or not points:
            return
        from mlflow.entities import Metric

        if dedupe:  # re-syncs must not grow histories: skip (key, step, value) already there
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
                                    resume_logging=self._prev_status is not None)
        if self._monitor is not None:
            self._monitor.start()

    def close(self, status: str = "FINISHED") -> None:
        if status not in _TERMINAL:
            raise ValueError(f"status must be one of {_TERMINAL}, got {status!r}")
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


# --------------------------------------------------------------------------------------------
# Re-mirroring results files


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
                    points.append((_key(col), float(cell), step))
                except (TypeError, ValueError):
                    continue  # blank or non-numeric cell
    return points


def sync_results(results_dir: str | os.PathLike[str], profile: str, uri: str | None = None) -> int:
    """Re-log ``<results_dir>/<profile>/runs/<run>/seed<S>/`` files into MLflow.

    Idempotent: each run+seed's MLflow run is continued (never duplicated) and metric points
    already present with the same step and value are skipped. Returns the number of runs synced.
    """
    uri = uri or tracking_uri()
    base = Path(results_dir) / profile / "runs"
    if not base.is_dir():
        return 0
    ensure_store(uri)
    synced = 0
    for run_dir in sorted(p for p in base.iterdir() if p.is_dir()):
        bench = _load_json(run_dir / "bench.json")  # run-level: mirrored into every seed
        for seed_dir in sorted(run_dir.iterdir()):
            m = re.fullmatch(r"seed(\d+)", seed_dir.name)
            if not m or not seed_dir.is_dir():
                continue
            metrics = _load_json(seed_dir / "metrics.json")
            train = _load_json(seed_dir / "train.json")
            history = _history(seed_dir / "history.csv")
            if not (metrics or train or history or bench):
                continue
            if uri in _FAILED:
                return synced
            dataset = str(metrics.get("dataset") or train.get("dataset") or "vspw")
            tracker = Tracker(
                dataset=dataset, profile=profile, run=run_dir.name, seed=int(m.group(1)), uri=uri
            )
            scalars = {**_scalars(metrics), **cue_accuracy_scalars(metrics), **_scalars(train), **_scalars(bench)}
            points = [(_key(k), v, 0) for k, v in scalars.items()]
            tracker._log_points(points + history, dedupe=True)
            tracker.set_tags({"synced_from": str(seed_dir)})
            ok = tracker.enabled
            prev = tracker._prev_status
            tracker.close(prev if prev in _TERMINAL else "FINISHED")
            synced += int(ok)
    return synced
