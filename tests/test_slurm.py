"""The SLURM profile (workflow/profiles/slurm) against a real one-node SLURM cluster on localhost
(tests/slurm_cluster.py; Debian's SLURM and munge packages are installed when absent): smoke Table 3 with no option
beyond the profile, a rerun with nothing to do, a cancelled training job resumed from its checkpoint, and a
two-process training job equal to one process with gradient accumulation. Under CI=true a cluster that cannot
start fails these tests; elsewhere they are skipped, saying why. The dry runs need no cluster."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
import yaml

from conftest import BIN, copy_pipeline, tool_env
from slurm_cluster import Cluster, ClusterError, install
from test_engine import assert_ddp_equals_accumulation
from test_pipeline import job_blocks, planned_blocks, snakemake

SLURM = ("--profile", "workflow/profiles/slurm")
TIMEOUT_S = 420
TRAIN_JOB = "rule_train_wildcards_{profile}_mrcfa_b1_0"  # the executor plugin's job comment
# Long enough to be cancelled between its first checkpoint and its end on a fast machine.
RESUME = {"extends": "smoke", "train": {"iters": 120, "checkpoint_every": 5, "log_every": 5}}
# As tests/test_engine.py's DDP test: dropout off, 2 clips per step, 1 per process or micro-batch.
EXACT = {"model": {"dropout": 0.0, "drop_path": 0.0},
         "train": {"iters": 4, "batch_size": 2, "lr": 1e-3, "checkpoint_every": 100}}
DDP = {"extends": "smoke", **EXACT, "resources": {"train": {"procs": 2}}}
ACCUM = {"extends": "smoke", **EXACT, "train": {**EXACT["train"], "accum_steps": 2}}


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"the local SLURM cluster did not start: {reason}", pytrace=False)
    pytest.skip(f"no local SLURM cluster (tests/slurm_cluster.py): {reason}")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    running = Cluster(tmp_path_factory.mktemp("slurm"))
    try:
        install()
        running.start()
    except (ClusterError, OSError, subprocess.SubprocessError) as exc:
        running.stop()
        _unavailable(str(exc))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One pipeline copy for every cluster test (the smoke data is made once), with their profiles."""
    root = copy_pipeline(tmp_path_factory.mktemp("pipeline"))
    for name, spec in (("resume", RESUME), ("ddp", DDP), ("accum", ACCUM)):
        (root / "experiments" / "profiles" / f"{name}.yaml").write_text(yaml.safe_dump(spec))
    return root


def run_slurm(cluster: Cluster, project: Path, *args: str) -> str:
    proc = subprocess.run([str(BIN / "snakemake"), *args, *SLURM], cwd=project,
                          env=cluster.environ(tool_env()), capture_output=True, text=True, timeout=TIMEOUT_S)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"snakemake {' '.join(args)} failed:\n{out[-4000:]}"
    return out


def submitted(output: str) -> list[str]:
    return re.findall(r"has been submitted with SLURM jobid (\d+)", output)


def rule_of(job: dict[str, str]) -> str:
    return re.match(r"rule_(\w+?)(?:_wildcards_|$)", job["comment"]).group(1)


def test_the_profile_asks_for_no_partition_and_gpus_only_for_gpu_rules(pipeline_dir):
    """The paper profile's jobs under the SLURM profile: no partition, no CPU count but the threads, GPUs for
    train, evaluate and benchmark only; the documented options send training to a partition of its own and
    give every job an account."""
    out = snakemake(pipeline_dir, "all", "-n", *SLURM, "--config", "profile=paper").stdout
    blocks = planned_blocks(out)
    assert len(blocks) > 90 and not any("slurm_partition" in b or "cpus_per_task" in b for b in blocks)
    gpu_rules = {"train", "evaluate", "benchmark", "bench_table"}
    for block in blocks:
        rule = block.split()[1].rstrip(":")
        assert ("gpu=1" in block) == (rule in gpu_rules), block
    out = snakemake(pipeline_dir, "all", "-n", *SLURM, "--config", "profile=paper",
                    "--set-resources", "train:slurm_partition=gpu").stdout
    assert all("slurm_partition=gpu" in b for b in job_blocks(out, "train"))
    assert not any("slurm_partition" in b for b in planned_blocks(out) if not b.startswith("rule train:"))
    out = snakemake(pipeline_dir, "results/paper/runs/mrcfa_b1/seed0/model.pt", "-n", *SLURM, "--default-resources",
                    "slurm_account=myproject", "runtime=60", "mem_mb=4000").stdout  # docs/clusters.md's account line
    blocks = planned_blocks(out)
    assert len(blocks) == 3 and all("slurm_account=myproject" in b for b in blocks)


def test_train_procs_make_one_job_of_several_processes(pipeline_dir):
    """`resources.train.procs: 4`: one job with 4 × the threads, GPUs and memory, started by torchrun, each process
    with the profile's threads (a dry run caps a job's threads at its cores: 64 here, as a node might have)."""
    profiles = pipeline_dir / "experiments" / "profiles"
    (profiles / "paper4.yaml").write_text(yaml.safe_dump({"extends": "paper",
                                                          "resources": {"train": {"procs": 4}}}))
    out = snakemake(pipeline_dir, "results/paper4/runs/mrcfa_b1/seed0/model.pt", "-n", "-p", "--cores", "64",
                    *SLURM).stdout
    (train,) = job_blocks(out, "train")
    assert "threads: 16" in train and "gpu=4" in train and "mem_mb=128000" in train
    assert "-m torch.distributed.run --standalone --nproc_per_node 4 -m mrcfa -- train --profile paper4" in out
    assert "--threads 4 " in out and "OMP_NUM_THREADS=4 " in out


@pytest.mark.slow
def test_smoke_table3_through_slurm_then_nothing_to_do(cluster, project):
    out = run_slurm(cluster, project, "table3", "--config", "profile=smoke")  # the profile, nothing else
    rows = list(csv.DictReader((project / "results/smoke/tables/table3.csv").open()))
    assert [r["label"] for r in rows] == ["L=1", "L=2", "L=3"]
    assert all(0.0 <= float(r["mIoU_mean"]) <= 100.0 and float(r["fps_mean"]) > 0 for r in rows)

    ids = submitted(out)
    jobs = {j["id"]: j for j in cluster.jobs()}
    assert ids and set(ids) <= set(jobs)
    ran = [jobs[i] for i in ids]
    assert all(j["state"] == "COMPLETED" and j["partition"] == "main" for j in ran)  # the default partition
    assert sorted(rule_of(j) for j in ran) == sorted(
        ["synth", "train", "train", "train", "evaluate", "evaluate", "evaluate", "benchmark", "benchmark",
         "benchmark", "table", "table_plot"])
    assert {j["cpus"] for j in ran} == {"1"}  # the smoke profile's threads, benchmarks included

    again = run_slurm(cluster, project, "table3", "--config", "profile=smoke")
    assert "Nothing to be done" in again and not submitted(again)


@pytest.mark.slow
def test_a_cancelled_training_job_resumes_from_its_checkpoint(cluster, project):
    """scancel a training job once it has saved a checkpoint: the profile's retry resubmits it, and the new job
    continues from that checkpoint to the end."""
    checkpoint = project / "work/resume/mrcfa_b1/seed0/last.pt"
    target = "results/resume/runs/mrcfa_b1/seed0/model.pt"
    proc = subprocess.Popen([str(BIN / "snakemake"), target, *SLURM], cwd=project,
                            env=cluster.environ(tool_env()), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        deadline = time.monotonic() + TIMEOUT_S
        while not checkpoint.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert checkpoint.exists(), "no checkpoint was written"
        comment = TRAIN_JOB.format(profile="resume")
        (job,) = [j for j in cluster.jobs() if j["comment"] == comment and j["state"] == "RUNNING"]
        assert cluster.client("scancel", job["id"]).returncode == 0
        out, _ = proc.communicate(timeout=TIMEOUT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out[-4000:]
    states = [j["state"] for j in sorted(cluster.jobs(), key=lambda j: int(j["id"])) if j["comment"] == comment]
    assert states == ["CANCELLED", "COMPLETED"], states
    log = (project / "results/resume/logs/train/mrcfa_b1-seed0.log").read_text()
    start = re.search(r"resuming mrcfa_b1 seed 0 from iteration (\d+)/120", log)
    assert start and 0 < int(start.group(1)) < 120, log[-2000:]
    history = (project / "results/resume/runs/mrcfa_b1/seed0/history.csv").read_text().splitlines()
    assert history[-1].startswith("120,") and len(history) == 1 + 120 // 5  # every logged step, once
    assert not checkpoint.exists()  # removed once the run finished


@pytest.mark.slow
def test_two_processes_in_one_slurm_job_equal_one_with_accumulation(cluster, project):
    """`resources.train.procs: 2`: one job of two CPUs runs two gloo processes; sent, as docs/clusters.md says, to a
    partition of its own (the test cluster's second partition)."""
    out = run_slurm(cluster, project, "results/ddp/runs/mrcfa_b1/seed0/model.pt",
                    "results/accum/runs/mrcfa_b1/seed0/model.pt", "--set-resources", "train:slurm_partition=gpu")
    jobs = {j["id"]: j for j in cluster.jobs()}
    trained = {jobs[i]["comment"]: (jobs[i]["cpus"], jobs[i]["partition"], jobs[i]["state"])
               for i in submitted(out) if rule_of(jobs[i]) == "train"}
    assert trained == {TRAIN_JOB.format(profile="ddp"): ("2", "gpu", "COMPLETED"),
                       TRAIN_JOB.format(profile="accum"): ("1", "gpu", "COMPLETED")}
    assert_ddp_equals_accumulation(project, torch.load(project / "results/ddp/runs/mrcfa_b1/seed0/model.pt"),
                                   torch.load(project / "results/accum/runs/mrcfa_b1/seed0/model.pt"))
