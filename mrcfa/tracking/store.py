"""Where the MLflow store is, and opening it safely: one SQLite file shared by parallel jobs.

Any MLflow error disables tracking for that URI for the rest of the process (`FAILED`), after one warning.
"""

from __future__ import annotations

import contextlib
import os
import random
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, TypeVar

from mrcfa.offline import stay_offline

# Before mlflow is ever imported (it reads these lazily, but set them early for subprocesses too).
stay_offline()
# MLflow's HTTP default (7 retries, exponential backoff, 120 s timeout) would stall a job for
# minutes when the server is down; a mirror should give up within seconds.
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "30")

if TYPE_CHECKING:
    from mlflow import MlflowClient

T = TypeVar("T")

LOCK_RETRY_S = 15.0  # total backoff budget for "database is locked"
# Marks experiments as model training, not GenAI, for MLflow 3's UI (3.17.2 goes by the "Model training" mode
# chosen in the browser instead, whatever the tag; docs/mlflow.md says how to open the runs table).
EXPERIMENT_KIND = {"mlflow.experimentKind": "custom_model_development"}
# URIs that already failed in this process: later trackers stay silent no-ops ("one warning").
FAILED: set[str] = set()


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


def lock_path(db: Path) -> Path:
    """`mlflow.db.lock` beside `mlflow.db`: jobs on other machines that share the folder take the same lock."""
    return db.with_name(db.name + ".lock")


@contextlib.contextmanager
def store_lock(uri: str) -> Iterator[None]:
    """Serialise schema creation and find-or-create of runs across processes on one SQLite file.

    MLflow's SqlAlchemyStore creates tables without a lock, so parallel first opens race. The lock file
    lives beside the database, not in a node-local temp folder, so that cluster jobs on several nodes
    serialise too (on a shared file system with working locks, the condition SQLite itself needs).
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
    with open(lock_path(db), "a") as fh:
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


def retry(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call ``fn``, retrying SQLite lock contention with jittered exponential backoff."""
    deadline = time.monotonic() + LOCK_RETRY_S
    delay = 0.05
    while True:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            if not _is_locked(exc) or time.monotonic() + delay > deadline:
                raise
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 2.0)


def warn(uri: str, exc: BaseException) -> None:
    msg = " ".join(f"{type(exc).__name__}: {exc}".split())
    if len(msg) > 400:
        msg = msg[:400] + "..."
    print(
        f"WARNING: MLflow tracking at {uri} failed, continuing without tracking: {msg}",
        file=sys.stderr,
        flush=True,
    )


def client(uri: str) -> MlflowClient:
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=uri)


def ensure_store(uri: str | None = None) -> None:
    """Create the database and schema once, before jobs fan out. Warns (never raises) on error."""
    uri = uri or tracking_uri()
    if uri in FAILED:
        return
    try:
        with store_lock(uri):
            # Any call builds the store; building a SQLite store creates/migrates its schema.
            retry(client(uri).search_experiments, max_results=1)
    except Exception as exc:
        FAILED.add(uri)
        warn(uri, exc)


def experiment_id(mlflow: MlflowClient, uri: str, name: str) -> str:
    """The id of experiment `name`, created (with its kind tag and artifact folder) or restored as needed."""
    exp = mlflow.get_experiment_by_name(name)
    if exp is None:
        try:
            return mlflow.create_experiment(name, artifact_location=_artifact_location(uri, name),
                                            tags=EXPERIMENT_KIND)
        except Exception:  # another process created it first (HTTP stores are not locked)
            exp = mlflow.get_experiment_by_name(name)
            if exp is None:
                raise
    if exp.lifecycle_stage == "deleted":
        mlflow.restore_experiment(exp.experiment_id)
    return exp.experiment_id


def mark_kind(mlflow: MlflowClient, exp_id: str) -> None:
    """Experiments made before the kind tag existed get it when next opened."""
    tags = mlflow.get_experiment(exp_id).tags
    for key, value in EXPERIMENT_KIND.items():
        if tags.get(key) != value:
            mlflow.set_experiment_tag(exp_id, key, value)
