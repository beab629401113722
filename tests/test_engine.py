"""Training, resumption, evaluation and benchmarking through the real command line."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from PIL import Image

from conftest import ROOT, tool_env
from analysis.results import EXACT_MEMORY_METHODS, load_results
from mrcfa import provenance
from mrcfa.experiments.files import deep_merge
from mrcfa.experiments.registry import load_registry
from mrcfa.engine.bench import interleaved, rotating, train_step
from mrcfa.engine.preflight import data_problems
from mrcfa.metric_keys import BENCH_METRICS, bench_metrics
from mrcfa.provenance import stamp

RESUME_PROFILE = {
    "train": {"iters": 48, "batch_size": 2, "warmup_iters": 2, "checkpoint_every": 4, "log_every": 1,
              "lr": 1e-3},
}


def mrcfa(cwd: Path, *args: str, check: bool = True, **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "mrcfa", *args], cwd=cwd, env=tool_env(), capture_output=True,
                          text=True, **kw)
    if check and proc.returncode != 0:
        raise AssertionError(f"mrcfa {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return proc


@pytest.fixture
def project(pipeline_dir: Path) -> Path:
    """The pipeline folder with a `resume` profile (smoke, longer training) and the smoke data written."""
    profiles = pipeline_dir / "experiments" / "profiles"
    smoke = yaml.safe_load((profiles / "smoke.yaml").read_text())
    smoke["train"] |= RESUME_PROFILE["train"]
    (profiles / "resume.yaml").write_text(yaml.safe_dump(smoke))
    mrcfa(pipeline_dir, "synth", "--profile", "smoke", "--json")
    return pipeline_dir


def _train_args(run: str = "mrcfa_b1", profile: str = "resume") -> list[str]:
    return ["train", "--profile", profile, "--run", run, "--seed", "0", "--threads", "1", "--no-track", "--json"]


def _weights(path: Path) -> dict[str, torch.Tensor]:
    return torch.load(path, map_location="cpu", weights_only=True)


@pytest.mark.slow
def test_kill9_and_rerun_equals_an_uninterrupted_run(project, tmp_path):
    run_dir = project / "results/resume/runs/mrcfa_b1/seed0"
    ckpt = project / "work/resume/mrcfa_b1/seed0/last.pt"

    # Interrupted: kill -9 once a checkpoint exists and training has moved past it.
    proc = subprocess.Popen([sys.executable, "-m", "mrcfa", *_train_args()], cwd=project, env=tool_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 300
    while time.time() < deadline and not ckpt.exists() and proc.poll() is None:
        time.sleep(0.05)
    assert ckpt.exists(), "no checkpoint was written"
    saved_at = torch.load(ckpt, weights_only=False)["iter"]
    proc.send_signal(signal.SIGKILL)  # at once: a fast machine finishes the remaining iterations in well under 1 s
    proc.wait()
    assert not (run_dir / "model.pt").exists()
    resumed = mrcfa(project, *_train_args())
    assert "resuming mrcfa_b1 seed 0 from iteration" in resumed.stderr
    assert not ckpt.exists()  # cleaned up after a finished run
    interrupted = _weights(run_dir / "model.pt")
    history = (run_dir / "history.csv").read_text()

    # Uninterrupted reference, in a fresh results/work tree.
    mrcfa(project, *_train_args(), "--results", str(tmp_path / "r"), "--work", str(tmp_path / "w"))
    reference = _weights(tmp_path / "r/resume/runs/mrcfa_b1/seed0/model.pt")
    assert interrupted.keys() == reference.keys()
    assert all(torch.equal(interrupted[k], reference[k]) for k in reference)
    assert history == (tmp_path / "r/resume/runs/mrcfa_b1/seed0/history.csv").read_text()
    assert saved_at >= 4


@pytest.mark.slow
def test_sigterm_saves_a_checkpoint_and_exits_nonzero(project):
    ckpt = project / "work/resume/segformer_b1/seed0/last.pt"
    proc = subprocess.Popen([sys.executable, "-m", "mrcfa", *_train_args("segformer_b1")], cwd=project,
                            env=tool_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    log = ""
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:  # wait until the first iterations ran
        time.sleep(0.2)
        if ckpt.exists():
            break
    proc.send_signal(signal.SIGTERM)
    _, log = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM, log[-2000:]
    assert "stopped by signal" in log and ckpt.exists()
    state = torch.load(ckpt, weights_only=False)
    assert 0 < state["iter"] < 24 and len(state["history"]) == state["iter"]


@pytest.mark.slow
def test_smoke_training_lowers_the_loss_and_evaluates(project):
    mrcfa(project, *_train_args("segformer_b1"))
    rows = (project / "results/resume/runs/segformer_b1/seed0/history.csv").read_text().splitlines()[1:]
    losses = [float(r.split(",")[1]) for r in rows]
    assert sum(losses[-6:]) / 6 < sum(losses[:6]) / 6
    out = mrcfa(project, "evaluate", "--profile", "resume", "--run", "segformer_b1", "--seed", "0", "--no-track",
                "--json", "--save-preds", "preds")
    brief = json.loads(out.stdout)
    metrics = json.loads((project / "results/resume/runs/segformer_b1/seed0/metrics.json").read_text())
    assert brief["mIoU"] == pytest.approx(metrics["mIoU"]) and metrics["num_videos"] == 2
    assert metrics["mVC8"] is not None  # smoke videos are long enough for mVC
    # Synthetic data: accuracy by cue state covers exactly the object pixels of the val masks.
    root = project / "data/smoke/synth_vspw"
    objects = 0
    for video in (root / "val.txt").read_text().split():
        for mask in (root / "data" / video / "mask").glob("*.png"):
            raw = np.asarray(Image.open(mask))
            objects += int(((raw > 1) & (raw != 255)).sum())  # raw 1 is the background
    cues = metrics["cue_accuracy"]
    assert set(cues) == {"shown", "hidden", "corrupted"}
    assert sum(c["pixels"] for c in cues.values()) == objects > 0
    assert all(c["accuracy"] is None or 0 <= c["accuracy"] <= 100 for c in cues.values())
    # Scoring the saved predictions with the official-metric scorer gives the same numbers.
    scored = json.loads(mrcfa(project, "evaluate", "--data-root", "data/smoke/synth_vspw", "--pred-dir", "preds",
                              "--num-classes", "4", "--json").stdout)
    for key in ("mIoU", "WIoU", "mVC8", "mVC16"):
        assert scored[key] == pytest.approx(metrics[key]), key


def test_data_root_and_init_from(project, tmp_path):
    """A dataset kept elsewhere (--data-root) gives the same run and numbers; --init-from fine-tunes from a
    model.pt of the same architecture, is part of the config hash, and a wrong one is refused in one line."""
    shared = tmp_path / "shared-disk" / "vspw"
    shared.parent.mkdir()
    (project / "data/smoke/synth_vspw").rename(shared)
    args = ["--profile", "smoke", "--run", "segformer_b1", "--no-track", "--json", "--data-root", str(shared)]
    first = json.loads(mrcfa(project, "train", *args).stdout)
    model = project / "results/smoke/runs/segformer_b1/seed0/model.pt"
    first_sha = hashlib.sha256(model.read_bytes()).hexdigest()
    ev = json.loads(mrcfa(project, "evaluate", *args).stdout)
    shared.rename(project / "data/smoke/synth_vspw")  # back where the profile says: same run, same numbers
    metrics = json.loads((project / "results/smoke/runs/segformer_b1/seed0/metrics.json").read_text())
    again = json.loads(mrcfa(project, "evaluate", *args[:-2]).stdout)
    assert again == ev and metrics["config_hash"] == first["config_hash"]
    # Both files record the code that made them (the fingerprint the tables compare) and, as information, git.
    train = json.loads((project / "results/smoke/runs/segformer_b1/seed0/train.json").read_text())
    for made in (train, metrics):
        assert made[provenance.KEY] == provenance.current() and made["git_commit"] == stamp()["git_commit"]

    tuned = json.loads(mrcfa(project, "train", *args[:-2], "--seed", "1", "--init-from", str(model)).stdout)
    assert tuned["config_hash"] != first["config_hash"]
    mrcfa(project, "train", "--profile", "smoke", "--run", "mrcfa_b1", "--no-track", "--json")
    wrong = mrcfa(project, "train", *args[:-2], "--seed", "2", "--init-from",
                  "results/smoke/runs/mrcfa_b1/seed0/model.pt", check=False)
    assert wrong.returncode == 2 and len(wrong.stderr.strip().splitlines()) == 1, wrong.stderr
    assert "MRCFA" in wrong.stderr and "segformer_b1" in wrong.stderr and "Traceback" not in wrong.stderr
    assert not (project / "results/smoke/runs/segformer_b1/seed2/model.pt").exists()
    # bench --weights times that file's model (refusing a wrong one the same way) and files nothing.
    bench = ["bench", *args[:-2], "--iters", "1", "--warmup", "0", "--protocol", "cached", "--weights"]
    timed = json.loads(mrcfa(project, *bench, str(model)).stdout)
    assert timed["weights"]["sha256"] == first_sha and timed["fps_cached"] > 0
    assert not (project / "results/smoke/runs/segformer_b1/bench.json").exists()
    refused = mrcfa(project, *bench, "results/smoke/runs/mrcfa_b1/seed0/model.pt", check=False)
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1 and "segformer_b1" in refused.stderr


def test_training_refuses_a_broken_dataset_before_any_compute(project):
    frame = next((project / "data/smoke/synth_vspw/data").glob("*/origin/*.jpg"))
    frame.write_bytes(b"")
    proc = mrcfa(project, *_train_args("segformer_b1"), check=False)
    assert proc.returncode == 2
    assert "preflight failed" in proc.stderr and str(frame.name) in proc.stderr
    assert not (project / "results/resume/runs/segformer_b1/seed0/model.pt").exists()


def test_training_refuses_data_generated_with_other_settings(project, monkeypatch):
    """After a profile's generator settings change, the old synthetic data on disk is not silently reused."""
    profile = project / "experiments/profiles/resume.yaml"
    harder = {"datasets": {"vspw": {"synth": {"difficulty": 0.25}}}}
    profile.write_text(yaml.safe_dump(deep_merge(yaml.safe_load(profile.read_text()), harder)))
    proc = mrcfa(project, *_train_args("segformer_b1"), check=False)
    assert proc.returncode == 2
    assert "difficulty is" in proc.stderr and "asks for 0.25" in proc.stderr and "mrcfa synth" in proc.stderr
    assert not (project / "results/resume/runs/segformer_b1/seed0/model.pt").exists()
    mrcfa(project, "synth", "--profile", "resume", "--json")  # regenerating clears the objection
    monkeypatch.chdir(project)
    assert not data_problems(load_registry(project / "experiments/registry.yaml").resolve("resume", "segformer_b1"))


def test_bench_json(project):
    out = mrcfa(project, "bench", "--profile", "smoke", "--run", "mrcfa_b1", "--no-track", "--json",
                "--protocol", "cached", "--protocol", "clip", "--iters", "2", "--warmup", "1")
    result = json.loads(out.stdout)
    saved = json.loads((project / "results/smoke/runs/mrcfa_b1/bench.json").read_text())
    for key in ("fps_cached", "fps_clip", "memory_mb_cached", "memory_mb_clip", "flops_cached", "flops_clip"):
        assert result[key] > 0 and saved[key] == result[key]
    assert result["flops_clip"] > result["flops_cached"]  # a clip runs the backbone on every frame
    # Every timed call is kept (for FPS intervals), and the FPS is the calls' rate.
    assert len(saved["seconds_cached"]) == 2 and all(t > 0 for t in saved["seconds_cached"])
    assert saved["fps_cached"] == pytest.approx(2 / sum(saved["seconds_cached"]))
    assert saved["memory_method"] == "tensors" and saved["memory_method"] in EXACT_MEMORY_METHODS
    assert result["memory_mb_clip"] > result["memory_mb_cached"]  # a whole clip's activations at once
    assert result["parameters"]["inference"] < result["parameters"]["total"]
    # The tables' keys hold the first protocol's measurements.
    assert saved["protocol"] == "cached" and saved["fps"] == saved["fps_cached"]
    assert saved["memory_mb"] == saved["memory_mb_cached"] and saved["params_m"] == saved["parameters"]["inference"] / 1e6
    assert result["size"] == [64, 96] and result["versions"]["torch"] == torch.__version__
    assert saved[provenance.KEY] == provenance.current() and saved["git_commit"] == stamp()["git_commit"]
    # One vocabulary: MLflow is given bench.json's table keys, and the tables read them under the same names.
    assert set(BENCH_METRICS) <= set(bench_metrics(saved)) and "fps_clip" in bench_metrics(saved)
    values = load_results(project / "results", "smoke").values
    assert set(values[values["run"] == "mrcfa_b1"]["metric"]) == set(BENCH_METRICS)
    assert values.set_index("metric").loc["fps", "value"] == pytest.approx(saved["fps_cached"])


def test_interleaved_rounds_and_train_step():
    cfg = load_registry(ROOT / "experiments/registry.yaml").resolve("smoke", "mrcfa_b1")
    step = train_step(cfg, torch.device("cpu"))
    calls: list[str] = []
    times = interleaved({"a": lambda: calls.append("a"), "train": step, "b": lambda: calls.append("b")},
                        rounds=2, warmup=1, device=torch.device("cpu"))
    assert calls == ["a", "b"] * 3  # round-robin, warm-up round included
    assert {k: len(v) for k, v in times.items()} == {"a": 2, "train": 2, "b": 2}
    assert all(t > 0 for t in times["train"])


def test_rotating_rounds_start_one_row_later_each_time():
    calls: list[str] = []
    rounds = rotating({n: (lambda n=n: calls.append(n)) for n in "abc"}, rounds=4, warmup=1,
                      device=torch.device("cpu"))
    assert "".join(calls) == "abc" + "abc" + "bca" + "cab" + "abc"  # the warm-up round, then rounds 0-3
    assert ["".join(r) for r in rounds] == ["abc", "bca", "cab", "abc"]  # each round's seconds, in its order
    assert all(t > 0 for r in rounds for t in r.values())


def test_bench_table_times_a_tables_rows_together_in_fresh_processes(pipeline_dir):
    """`mrcfa bench-table` on smoke's Table 2 (3 processes x 3 rounds): every row once a round, the order
    rotating, each process a new interpreter; the file names every row's config hash, and the FPS claim is
    decided from it with one block per process."""
    out = mrcfa(pipeline_dir, "bench-table", "--profile", "smoke", "--table", "table2", "--threads", "1")
    path = pipeline_dir / "results/smoke/bench/table2.json"
    assert out.stdout.strip().endswith(str(Path("results/smoke/bench/table2.json")))
    saved = json.loads(path.read_text())
    reg = load_registry(pipeline_dir / "experiments/registry.yaml")
    runs = reg.tables["table2"].runs
    assert [r["run"] for r in saved["rows"]] == runs and [r["label"] for r in saved["rows"]][0] == "p=100%"
    assert all(r["config_hash"] == reg.resolve("smoke", r["run"]).hash() for r in saved["rows"])
    assert {r["protocol"] for r in saved["rows"]} == {"cached"} and saved["rows"][0]["size"] == [64, 96]
    assert (saved["rounds"], saved["warmup"], saved["threads"]) == (3, 1, 1)
    procs = saved["processes"]
    assert len(procs) == 3 and len({p["pid"] for p in procs} | {os.getpid()}) == 4
    for p in procs:
        assert p["order"] == [runs[r:] + runs[:r] for r in range(3)]
        assert {run: len(xs) for run, xs in p["seconds"].items()} == {run: 3 for run in runs}
        assert all(x > 0 for xs in p["seconds"].values() for x in xs)
    assert saved["machine"]["cpus"] == os.cpu_count() and saved["versions"]["torch"] == torch.__version__
    from analysis.claims import evaluate_claims
    from analysis.workspace import open_workspace

    ws = open_workspace("smoke", pipeline_dir / "results", pipeline_dir / "experiments/registry.yaml")
    fps = next(r for r in evaluate_claims(ws, ["table2"]) if r.spec.metric == "fps")
    assert fps.interval.has_interval and fps.interval.df == 2 and fps.seeds == "3 processes x 3 rounds"
    # A table that does not exist: one line, exit 2.
    proc = mrcfa(pipeline_dir, "bench-table", "--profile", "smoke", "--table", "tabel2", check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "error: --table: unknown table 'tabel2'; did you mean 'table2'?"


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the machine-without-CUDA path")
def test_gpu_check_without_cuda_says_so_in_one_line():
    proc = subprocess.run(["bash", str(ROOT / "scripts/gpu_check.sh")], env=tool_env(PY=sys.executable),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.count("\n") == 1 and "no CUDA" in proc.stdout
    assert proc.stderr == ""


def test_config_errors_are_reported_with_the_field(project):
    profile = project / "experiments/profiles/bad.yaml"
    profile.write_text((project / "experiments/profiles/smoke.yaml").read_text().replace("iters: 6", "iters: -1"))
    proc = mrcfa(project, "train", "--profile", "bad", "--run", "mrcfa_b1", check=False)
    assert proc.returncode == 2 and "train.iters: must be >= 1" in proc.stderr
    proc = mrcfa(project, "config", "--profile", "smoke", "--run", "nosuch", check=False)
    assert proc.returncode == 2 and "unknown run 'nosuch'" in proc.stderr


def test_cli_help_does_not_import_torch():
    code = "import sys; from mrcfa.cli import build_parser; build_parser(); assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ})


def test_cityscapes_evaluation_scores_the_annotated_frames(tmp_path):
    from test_data_cityscapes import SNIPPETS, write_cityscapes

    from mrcfa.config import RunConfig
    from mrcfa.engine.evaluate import evaluate
    from mrcfa.engine.paths import RunPaths
    from mrcfa.models.segmenter import build_model

    root = write_cityscapes(tmp_path / "cityscapes", "sequence", split="val")
    cfg = RunConfig.from_dict({
        "run": "cs", "profile": "test",
        "model": {"width_div": 8, "depth_cap": 1, "embed_dim": 16, "num_classes": 19, "ref_offsets": [-6, -3],
                  "num_scales": 4},
        "data": {"dataset": "cityscapes", "layout": "cityscapes", "root": str(root), "test_base": [64, 32]},
    })
    torch.manual_seed(0)
    torch.save(build_model(cfg.model).state_dict(), tmp_path / "model.pt")
    result = evaluate(cfg, tmp_path / "model.pt", RunPaths.of("test", "cs", 0, tmp_path / "r", tmp_path / "w"),
                      progress=False)
    assert result["num_frames"] == len(SNIPPETS) and result["mVC8"] is None
    assert 0.0 <= result["mIoU"] <= 100.0 and len(result["per_class_iou"]) == 19
    # Every class in the ground truth has an IoU; the others have none.
    present = {f % 19 for _, _, f in SNIPPETS}
    assert {i for i, v in enumerate(result["per_class_iou"]) if v is not None} == present


@pytest.mark.slow
def test_ddp_two_gloo_processes_equal_one_process_with_accumulation(project):
    """Two processes × 1 clip (DDP, gloo) against one process × 2 micro-batches of 1 clip: the same clips,
    the same averaged gradients, hence the same parameters. Dropout is off so both draw no random masks;
    BN running statistics differ by design (DDP keeps rank 0's), so only parameters are compared."""
    profiles = project / "experiments" / "profiles"
    base = yaml.safe_load((profiles / "smoke.yaml").read_text())
    base["model"] |= {"dropout": 0.0, "drop_path": 0.0}
    base["train"] |= {"iters": 4, "batch_size": 2, "lr": 1e-3, "checkpoint_every": 100}
    (profiles / "ddp.yaml").write_text(yaml.safe_dump(base))
    base["train"]["accum_steps"] = 2
    (profiles / "accum.yaml").write_text(yaml.safe_dump(base))

    args = ["--run-name", "mrcfa_b1", "--seed", "0", "--threads", "1", "--no-track", "--json"]
    ddp = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                          "-m", "mrcfa", "train", "--profile", "ddp", *args], cwd=project, env=tool_env(),
                         capture_output=True, text=True)
    assert ddp.returncode == 0, ddp.stderr[-3000:]
    mrcfa(project, "train", "--profile", "accum", *args)
    assert_ddp_equals_accumulation(project, _weights(project / "results/ddp/runs/mrcfa_b1/seed0/model.pt"),
                                   _weights(project / "results/accum/runs/mrcfa_b1/seed0/model.pt"))


def assert_ddp_equals_accumulation(project: Path, a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    """Profile `ddp`'s mrcfa_b1 trained by two processes (`a`) has the parameters of one process accumulating two
    micro-batches (`b`), and training moved them from the seed's initial weights; tests/test_slurm.py runs the
    same comparison through SLURM."""
    params = [k for k in a if "running_" not in k and "num_batches" not in k]
    assert params and a.keys() == b.keys()
    for k in params:
        torch.testing.assert_close(a[k], b[k], atol=2e-6, rtol=1e-5, msg=k)
    start = build_reference_init(project)
    assert any(not torch.equal(a[k], start[k]) for k in params)  # training moved the weights


def build_reference_init(project: Path) -> dict[str, torch.Tensor]:
    from mrcfa.experiments.registry import load_registry
    from mrcfa.models.segmenter import build_model

    cfg = load_registry(project / "experiments/registry.yaml").resolve("ddp", "mrcfa_b1")
    torch.manual_seed(0)
    return build_model(cfg.model).state_dict()


def test_optimizer_groups_follow_the_released_recipe():
    from mrcfa.config import TrainConfig
    from mrcfa.engine.optim import lr_factor, param_groups
    from mrcfa.models.segmenter import build_model
    from test_models import cfg

    model = build_model(cfg())
    groups = {(g["lr"], g["weight_decay"]): g["params"] for g in param_groups(model, TrainConfig(lr=1e-4))}
    ids = {k: {id(p) for p in v} for k, v in groups.items()}
    assert id(model.temporal.query["stage4"].weight) in ids[(1e-3, 0.01)]  # head: lr × 10
    assert id(model.decoder.fuse.bn.weight) in ids[(1e-3, 0.01)]  # 'head' matches first, as in mmcv
    assert id(model.backbone.stages[0].blocks[0].norm1.weight) in ids[(1e-4, 0.0)]  # norms: no decay
    assert id(model.backbone.stages[0].blocks[0].attn.q.weight) in ids[(1e-4, 0.01)]
    tc = TrainConfig(iters=100, warmup_iters=10, warmup_ratio=1e-6)
    assert lr_factor(0, tc) == pytest.approx(1e-6) and lr_factor(10, tc) == pytest.approx(0.9)
    assert lr_factor(5, tc) == pytest.approx(0.95 * (1 - 0.5 * (1 - 1e-6)))
