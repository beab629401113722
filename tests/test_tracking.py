"""mrcfa.tracking against real MLflow 3 stores: SQLite files in tmp_path and a loopback server."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from mrcfa.tracking import store
from mrcfa.provenance import current, stamp, tag
from mrcfa.tracking import Tracker, ensure_store, flatten, git_state, sync_results, tracking_uri

mlflow = pytest.importorskip("mlflow")
from mlflow import MlflowClient  # noqa: E402

MLFLOW_BIN = Path(sys.executable).with_name("mlflow")
PARAMS = {
    "model": {"arch": "mrcfa", "backbone": "b1", "ref_offsets": [-6, -3]},
    "train": {"iters": 5},
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false", *args],
        cwd=cwd, check=True, capture_output=True, text=True,
    ).stdout.strip()


@pytest.fixture(scope="module")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, empty store made once by ensure_store; tests copy it (migrations cost ~2 s)."""
    db = tmp_path_factory.mktemp("template") / "mlflow.db"
    ensure_store(f"sqlite:///{db}")
    assert db.is_file()
    return db


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, template_db: Path):
    """A loopback ``mlflow server``; started at module start so its boot overlaps other tests."""
    root = tmp_path_factory.mktemp("server")
    shutil.copy(template_db, root / "server.db")
    port = _free_port()
    # MLflow 3 servers also boot a job runner with ~7 huey consumer processes; we need none.
    env = {
        **os.environ,
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
    }
    env.pop("MLFLOW_TRACKING_URI", None)
    log = open(root / "server.log", "w")
    proc = subprocess.Popen(
        [
            str(MLFLOW_BIN), "server", "--workers", "1", "--host", "127.0.0.1", "--port", str(port),
            "--backend-store-uri", f"sqlite:///{root / 'server.db'}",
            "--artifacts-destination", str(root / "artifacts"),
        ],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"

    def wait_ready(timeout: float = 90.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert proc.poll() is None, (root / "server.log").read_text()[-3000:]
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as r:
                    if r.status == 200:
                        return url
            except OSError:
                time.sleep(0.5)
        raise TimeoutError((root / "server.log").read_text()[-3000:])

    yield wait_ready
    os.killpg(proc.pid, signal.SIGTERM)  # the CLI, uvicorn and its worker share a session
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    log.close()


@pytest.fixture(autouse=True)
def _env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    if any(item.name == "test_server_round_trip" for item in request.session.items):
        request.getfixturevalue("server")  # boot it now so its ~10-20 s overlap the other tests
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))  # tmp_path: no outer repo
    monkeypatch.chdir(tmp_path)
    store.FAILED.clear()


def test_flatten_and_uri(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert flatten({"a": {"b": {"c": 1}}, "x": [1, 2], "s": "v", "n": None, "f": 0.5, "e": {}}) == {
        "a.b.c": "1", "x": "[1, 2]", "s": "v", "n": "null", "f": "0.5", "e": "{}",
    }
    assert tracking_uri() == f"sqlite:///{tmp_path.resolve()}/mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:1")
    assert tracking_uri() == "http://127.0.0.1:1"
    assert os.environ["MLFLOW_DISABLE_TELEMETRY"] == "true"


def test_git_state(tmp_path: Path) -> None:
    assert git_state(tmp_path) == {"commit": None, "dirty": None}  # not a repository
    _git(tmp_path, "init", "-q")
    (tmp_path / "f.txt").write_text("1")
    _git(tmp_path, "add", "f.txt")
    _git(tmp_path, "commit", "-qm", "init")
    state = git_state(tmp_path)
    assert state == {"commit": _git(tmp_path, "rev-parse", "HEAD"), "dirty": False}
    (tmp_path / "results.json").write_text("{}")
    assert git_state(tmp_path)["dirty"] is False  # untracked files are not changed code
    (tmp_path / "f.txt").write_text("2")
    assert git_state(tmp_path)["dirty"] is True


def test_sqlite_round_trip_and_resume(tmp_path: Path, template_db: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(template_db, tmp_path / "mlflow.db")
    commit = _one_commit_repo(tmp_path)
    art = tmp_path / "pred.txt"
    art.write_text("hello")

    # Default store: sqlite mlflow.db in the cwd (project root), artifacts in mlartifacts/.
    with Tracker(dataset="vspw", profile="demo", run="mrcfa_b1", seed=0, config_hash="0123456789ab", params=PARAMS,
                 tags={"device": "cpu", "tables": "table2"}) as t:
        assert t.enabled and t.run_id
        for it in range(5):
            t.log_metrics({"loss": 1.0 / (it + 1), "lr": 0.1}, step=it * 10)
        t.log_artifact(art, "preds")
        run_id = t.run_id
    assert not (tmp_path / "mlruns").exists()

    c = MlflowClient(tracking_uri=tracking_uri())
    exp = c.get_experiment_by_name("mrcfa-vspw-demo")
    assert exp.artifact_location == (tmp_path / "mlartifacts" / exp.name).resolve().as_uri()
    run = c.get_run(run_id)
    assert run.info.run_name == "mrcfa_b1-seed0" and run.info.status == "FINISHED"
    assert run.data.params["model.ref_offsets"] == "[-6, -3]"
    assert run.data.params["train.iters"] == "5"
    tags = run.data.tags
    assert tags["mlflow.source.git.commit"] == commit and tags["mrcfa.git_dirty"] == "false"  # only untracked files
    assert tags["mrcfa.seed"] == "0" and tags["mrcfa.profile"] == "demo"
    assert tags["mrcfa.device"] == "cpu" and tags["mrcfa.tables"] == "table2"
    assert tags["mrcfa.config_hash"] == "0123456789ab"  # the caller's (the run config's), never one of its own
    hist = c.get_metric_history(run_id, "loss")
    assert [(m.step, m.value) for m in sorted(hist, key=lambda m: m.step)] == [
        (it * 10, 1.0 / (it + 1)) for it in range(5)
    ]
    assert [f.path for f in c.list_artifacts(run_id, "preds")] == ["preds/pred.txt"]
    assert (tmp_path / "mlartifacts" / exp.name / run_id / "artifacts/preds/pred.txt").is_file()
    _check_resumed_run(c, exp, run_id, capsys)
    _check_explicit_run_id_wins(c, exp, run_id)


def _one_commit_repo(path: Path) -> str:
    """A git repository at `path` with one committed file; its commit."""
    _git(path, "init", "-q")
    (path / "f.txt").write_text("1")
    _git(path, "add", "f.txt")
    _git(path, "commit", "-qm", "init")
    return _git(path, "rev-parse", "HEAD")


def _check_resumed_run(c: MlflowClient, exp: Any, run_id: str, capsys: pytest.CaptureFixture[str]) -> None:
    """A later job of the same run+seed continues that run; equal params are fine, changed ones
    keep their first value (MLflow forbids changing) and are reported."""
    changed = {**PARAMS, "train": {"iters": 7}, "eval": {"clip": 4}}
    t2 = Tracker(dataset="vspw", profile="demo", run="mrcfa_b1", seed=0, params=changed)
    assert t2.run_id == run_id and c.get_run(run_id).info.status == "RUNNING"
    t2.log_metrics({"mIoU": 40.5})
    with pytest.raises(ValueError):
        t2.log_metrics({"mIoU": "not a number"})  # argument errors are the caller's bug
    t2.close()
    run = c.get_run(run_id)
    assert run.data.params["train.iters"] == "5" and run.data.params["eval.clip"] == "4"
    assert run.data.tags["mrcfa.params_changed"] == "train.iters"
    assert run.data.metrics["mIoU"] == 40.5 and run.info.status == "FINISHED"
    assert len(c.search_runs([exp.experiment_id])) == 1
    assert "train.iters" in capsys.readouterr().err


def _check_explicit_run_id_wins(c: MlflowClient, exp: Any, run_id: str) -> None:
    """An explicit run id (from a checkpoint) wins; an exception inside marks the run FAILED."""
    with pytest.raises(RuntimeError):
        with Tracker(dataset="vspw", profile="demo", run="other", seed=3, run_id=run_id) as t3:
            assert t3.run_id == run_id
            raise RuntimeError("boom")
    assert c.get_run(run_id).info.status == "FAILED"
    assert len(c.search_runs([exp.experiment_id])) == 1


def test_retry_waits_out_a_locked_sqlite_database(tmp_path: Path) -> None:
    holder = sqlite3.connect(tmp_path / "x.db", isolation_level=None, check_same_thread=False)
    holder.execute("create table t (v int)")
    holder.execute("begin exclusive")
    threading.Timer(0.5, holder.execute, args=("commit",)).start()
    writer = sqlite3.connect(tmp_path / "x.db", timeout=0, isolation_level=None)
    store.retry(writer.execute, "insert into t values (1)")  # locked first, then succeeds
    assert writer.execute("select v from t").fetchall() == [(1,)]
    with pytest.raises(sqlite3.OperationalError):
        store.retry(writer.execute, "not sql")  # other errors are not retried


def test_jobs_with_different_temp_folders_share_the_store_lock(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Cluster jobs on two nodes have node-local temp folders of their own but share the database's folder:
    the lock file beside the database makes the second wait until the first has left."""
    shared, node_a, node_b = (tmp_path / d for d in ("shared", "node_a", "node_b"))
    node_a.mkdir()
    node_b.mkdir()
    uri = f"sqlite:///{shared / 'mlflow.db'}"
    left = tmp_path / "first_left"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom pathlib import Path\nfrom mrcfa.tracking import store\n"
         "with store.store_lock(sys.argv[1]):\n    print('held', flush=True)\n    time.sleep(1.0)\n"
         "    Path(sys.argv[2]).touch()\n", uri, str(left)],
        env={**os.environ, "TMPDIR": str(node_a)}, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        monkeypatch.setenv("TMPDIR", str(node_b))
        monkeypatch.setattr("tempfile.tempdir", None)  # re-read TMPDIR
        with store.store_lock(uri):
            assert left.is_file()  # the first job had finished its locked section
    finally:
        assert holder.wait(timeout=30) == 0
    assert store.lock_path(shared / "mlflow.db") == shared / "mlflow.db.lock"
    assert (shared / "mlflow.db.lock").is_file()


def test_unreachable_server_warns_once(monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "2")
    uri = f"http://127.0.0.1:{_free_port()}"
    start = time.monotonic()
    t = Tracker(dataset="vspw", profile="demo", run="r", seed=0, params=PARAMS, uri=uri)
    assert not t.enabled and t.run_id is None
    t.log_metrics({"loss": 1.0}, step=1)
    t.set_tags({"x": "y"})
    t.log_artifact(__file__)
    t.close("FAILED")
    ensure_store(uri)
    Tracker(dataset="vspw", profile="demo", run="r", seed=1, uri=uri).close()
    assert sync_results(Path("results"), "demo", uri=uri) == 0
    assert time.monotonic() - start < 20
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "WARNING" in err[0] and uri in err[0], err


def _worker(uri: str, i: int) -> str:
    with Tracker(dataset="vspw", profile="demo", run=f"r{i}", seed=i, params={"i": i},
                 uri=uri) as t:
        for step in range(10):
            t.log_metrics({"loss": float(step + i), "acc": 0.5}, step=step)
        return t.run_id


def test_parallel_sqlite_jobs(tmp_path: Path) -> None:
    # Worst case: 8 jobs race on a store that does not exist yet (no ensure_store first), so
    # schema creation, experiment creation and run creation all contend.
    uri = f"sqlite:///{tmp_path / 'par' / 'mlflow.db'}"
    # fork (mlflow already imported, so 8 workers start fast on 2 cores) is safe: this process
    # has never opened this database, so no SQLite connection to it is inherited.
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(8) as pool:
        ids = pool.starmap(_worker, [(uri, i) for i in range(8)])
    assert all(ids) and len(set(ids)) == 8
    c = MlflowClient(tracking_uri=uri)
    runs = c.search_runs([c.get_experiment_by_name("mrcfa-vspw-demo").experiment_id])
    assert sorted(r.info.run_id for r in runs) == sorted(ids)
    for r in runs:
        i = int(r.data.tags["mrcfa.seed"])
        assert r.info.status == "FINISHED" and r.data.params == {"i": str(i)}
        hist = c.get_metric_history(r.info.run_id, "loss")
        assert sorted(m.value for m in hist) == [float(s + i) for s in range(10)]


def test_sync_results(tmp_path: Path, template_db: Path) -> None:
    shutil.copy(template_db, tmp_path / "mlflow.db")
    base = tmp_path / "results" / "demo" / "runs"
    cases = [("mrcfa_b1", 0, None), ("mrcfa_b1", 1, None), ("seg", 0, "cityscapes")]
    for run, seed, dataset in cases:
        d = base / run / f"seed{seed}"
        d.mkdir(parents=True)
        m = {"mIoU": 40.0 + seed, "WIoU": 50.0, "mVC8": 80.0, "mVC16": 75.0, "n_clips": 6,
             "note": "x", "cue_accuracy": {"shown": {"accuracy": 90.0 + seed, "pixels": 10},
                                          "corrupted": {"accuracy": None, "pixels": 0}}}
        if dataset:
            m["dataset"] = dataset
        m["config_hash"], m["code_fingerprint"] = f"{run}-hash", f"code{seed}"
        (d / "metrics.json").write_text(json.dumps(m))
        (d / "history.csv").write_text("iter,loss,lr\n0,2.0,0.1\n10,1.5,0.09\n20,1.0,\n")
        (d / "train.json").write_text(json.dumps({"train_time_s": 12.5, "iters": 20}))
    (base / "mrcfa_b1" / "bench.json").write_text(json.dumps(
        {"fps": 30.0, "fps_cached": 30.0, "fps_clip": 10.0, "memory_mb": 512, "params_m": 0.9,
         "parameters": {"total": 1e6, "inference": 9e5}, "flops": 2e9, "device": "cpu",
         "code_fingerprint": "benchcode"}))
    (base / "empty" / "seed0").mkdir(parents=True)

    # The live train job of mrcfa_b1 seed0 already created the run: sync must continue it.
    live = Tracker(dataset="vspw", profile="demo", run="mrcfa_b1", seed=0)
    live.log_metrics({"loss": 2.0}, step=0)
    live.close()

    assert sync_results(tmp_path / "results", "demo") == 3
    assert sync_results(tmp_path / "results", "demo") == 3  # idempotent
    c = MlflowClient(tracking_uri=tracking_uri())
    vspw = c.get_experiment_by_name("mrcfa-vspw-demo").experiment_id
    runs = {r.info.run_name: r for r in c.search_runs([vspw])}
    assert set(runs) == {"mrcfa_b1-seed0", "mrcfa_b1-seed1"}
    assert runs["mrcfa_b1-seed0"].info.run_id == live.run_id
    for seed in (0, 1):
        r = runs[f"mrcfa_b1-seed{seed}"]
        assert r.info.status == "FINISHED" and r.data.tags["mrcfa.config_hash"] == "mrcfa_b1-hash"
        assert r.data.metrics["mIoU"] == 40.0 + seed and r.data.metrics["n_clips"] == 6
        # Each file's recorded code under its kind's tag; train.json recorded none, so no tag claims one.
        assert r.data.tags[tag("metrics")] == f"code{seed}" and r.data.tags[tag("bench")] == "benchcode"
        assert tag("train") not in r.data.tags
        assert r.data.metrics["fps_clip"] == 10.0 and r.data.metrics["flops"] == 2e9
        assert r.data.metrics["train_time_s"] == 12.5
        assert r.data.metrics["cue_accuracy_shown"] == 90.0 + seed  # nested per-state results are flattened
        assert "cue_accuracy_corrupted" not in r.data.metrics  # no pixel had that state: nothing logged
        loss = c.get_metric_history(r.info.run_id, "loss")
        assert sorted((m.step, m.value) for m in loss) == [(0, 2.0), (10, 1.5), (20, 1.0)]
        assert len(c.get_metric_history(r.info.run_id, "lr")) == 2
    city = c.get_experiment_by_name("mrcfa-cityscapes-demo").experiment_id
    (seg,) = c.search_runs([city])
    assert seg.info.run_name == "seg-seed0" and "fps_clip" not in seg.data.metrics


def test_server_round_trip(server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    uri = server()
    ensure_store(uri)
    art = tmp_path / "curve.csv"
    art.write_text("iter,loss\n0,1\n")
    with Tracker(dataset="vspw", profile="demo", run="mrcfa_b1", seed=0, params=PARAMS, uri=uri,
                 tags={"device": "cpu"}) as t:
        assert t.enabled, "server run failed"
        t.log_metrics({"loss": 2.0}, step=0)
        t.log_metrics({"loss": 1.0}, step=10)
        t.log_artifact(art)
    with Tracker(dataset="vspw", profile="demo", run="mrcfa_b1", seed=0, params=PARAMS,
                 uri=uri) as t2:
        assert t2.run_id == t.run_id
        t2.log_metrics({"mIoU": 41.0})
    c = MlflowClient(tracking_uri=uri)
    run = c.get_run(t.run_id)
    assert run.info.status == "FINISHED" and run.data.params["model.backbone"] == "b1"
    assert run.data.tags["mrcfa.device"] == "cpu" and run.data.metrics["mIoU"] == 41.0
    loss = c.get_metric_history(t.run_id, "loss")
    assert sorted((m.step, m.value) for m in loss) == [(0, 2.0), (10, 1.0)]
    assert [f.path for f in c.list_artifacts(t.run_id)] == ["curve.csv"]
    local = c.download_artifacts(t.run_id, "curve.csv", str(tmp_path / "dl"))
    assert Path(local).read_text() == art.read_text()
    exp = c.get_experiment_by_name("mrcfa-vspw-demo")
    assert len(c.search_runs([exp.experiment_id])) == 1


def test_experiments_are_marked_as_model_development(tmp_path: Path, template_db: Path) -> None:
    """MLflow 3's experiment kind tag: set when a Tracker creates the experiment, and added to one made
    before the tag existed."""
    shutil.copy(template_db, tmp_path / "mlflow.db")
    client = MlflowClient(tracking_uri=tracking_uri())
    old = client.create_experiment("mrcfa-vspw-old")
    Tracker(dataset="vspw", profile="old", run="r", seed=0).close()
    Tracker(dataset="vspw", profile="new", run="r", seed=0).close()
    for name in ("mrcfa-vspw-old", "mrcfa-vspw-new"):
        assert client.get_experiment_by_name(name).tags["mlflow.experimentKind"] == "custom_model_development"
    assert client.get_experiment_by_name("mrcfa-vspw-old").experiment_id == old


def test_runs_say_what_they_are_and_filter_by_table(tmp_path: Path, template_db: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Descriptions, per-table row tags, `--set` overrides as a tag, and the README's search filter."""
    from mrcfa.experiments.registry import load_registry
    from mrcfa.engine.tracked import open_tracker, row_tags
    from mrcfa.overrides import parse_overrides

    shutil.copy(template_db, tmp_path / "mlflow.db")
    monkeypatch.setenv("MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING", "true")
    monkeypatch.setenv("MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL", "0.2")
    registry = load_registry(Path(__file__).resolve().parents[1] / "experiments" / "registry.yaml")
    for run, sets in (("mrcfa_b1", []), ("mrcfa_b1_p10", []), ("mrcfa_b1_l2", []),
                      ("mrcfa_b1", ["model.keep_ratio=0.3", "train.iters=200"])):
        cfg = registry.resolve("smoke", run, parse_overrides(sets))
        tracker = open_tracker(cfg, 0, tags=row_tags(registry, cfg.run))
        tracker.monitor_system()
        time.sleep(0.5)  # a sample or two
        tracker.close()

    client = MlflowClient(tracking_uri=tracking_uri())
    exp = client.get_experiment_by_name("mrcfa-vspw-smoke").experiment_id
    found = client.search_runs([exp], "tags.mrcfa.tables LIKE '%table2%'")
    assert sorted(r.info.run_name for r in found) == ["mrcfa_b1-seed0", "mrcfa_b1_p10-seed0"]
    b1 = next(r for r in found if r.info.run_name == "mrcfa_b1-seed0")
    assert b1.data.tags["mrcfa.table2"] == "p=50%" and b1.data.tags["mrcfa.table3"] == "L=3"
    note = b1.data.tags["mlflow.note.content"]
    hash_b1 = registry.resolve("smoke", "mrcfa_b1").hash()
    assert b1.data.tags["mrcfa.config_hash"] == hash_b1  # one hash: the run config's
    assert "`mrcfa_b1`, seed 0" in note and "`smoke`" in note and hash_b1 in note and "table2:p=50%" in note
    assert any(k.startswith("system/cpu") for k in b1.data.metrics)

    (variant,) = client.search_runs([exp], "tags.mrcfa.overrides LIKE '%keep_ratio%'")
    assert variant.info.run_name.startswith("mrcfa_b1+") and "mrcfa.tables" in variant.data.tags
    assert variant.data.tags["mrcfa.tables"] == ""  # a variant feeds no table
    assert variant.data.tags["mrcfa.overrides"] == "model.keep_ratio=0.3 train.iters=200"
    assert variant.data.params["model.keep_ratio"] == "0.3" and variant.data.params["train.iters"] == "200"
    assert not [k for k in variant.data.params if k.startswith("overrides")]
    assert "Overrides: `model.keep_ratio=0.3 train.iters=200`" in variant.data.tags["mlflow.note.content"]
    assert variant.data.tags["mrcfa.config_hash"] != hash_b1
    variant_cfg = registry.resolve("smoke", "mrcfa_b1", parse_overrides(["model.keep_ratio=0.3", "train.iters=200"]))
    assert variant.data.tags["mrcfa.config_hash"] == variant_cfg.hash()


def test_a_benchmark_is_logged_into_every_seed_with_the_run_config_hash_and_code(tmp_path: Path,
                                                                                  template_db: Path) -> None:
    from mrcfa.experiments.registry import load_registry
    from mrcfa.engine.bench_run import log_bench

    shutil.copy(template_db, tmp_path / "mlflow.db")
    registry = load_registry(Path(__file__).resolve().parents[1] / "experiments" / "registry.yaml")
    cfg = registry.resolve("demo", "mrcfa_b1")
    log_bench(registry, cfg, {"fps": 30.0, "memory_mb": 512.0, "params_m": 0.9, "flops": 2e9,
                              "iters": 20, "run": cfg.run, "config_hash": cfg.hash(), "device": "cpu",
                              **stamp()})
    client = MlflowClient(tracking_uri=tracking_uri())
    runs = client.search_runs([client.get_experiment_by_name("mrcfa-vspw-demo").experiment_id])
    assert sorted(int(r.data.tags["mrcfa.seed"]) for r in runs) == registry.seeds("demo")
    for r in runs:
        assert r.data.tags["mrcfa.config_hash"] == cfg.hash() and r.data.tags[tag("bench")] == current()
        assert r.data.metrics == {"fps": 30.0, "memory_mb": 512.0, "params_m": 0.9, "flops": 2e9}
