"""The plan of jobs (mrcfa/experiments/jobs.py) on the registry's profiles: what each job reads, makes and runs.
That Snakemake and DVC run exactly these jobs is tests/test_pipeline.py's `test_both_engines_run_the_planned_jobs`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import ROOT
from mrcfa.config import ConfigError
from mrcfa.experiments.jobs import Plan
from mrcfa.experiments.registry import load_registry

REGISTRY = load_registry(ROOT / "experiments/registry.yaml")


@pytest.mark.parametrize("profile", ["smoke", "demo", "paper", "paper_short"])
def test_every_input_is_made_by_a_job_and_every_job_has_its_own_name(profile):
    jobs = Plan(REGISTRY, profile).jobs()
    made = [o for j in jobs for o in j.outputs]
    assert len(made) == len(set(made))  # one owner per file
    assert {i for j in jobs for i in j.inputs} <= set(made)
    assert len({j.name for j in jobs}) == len(jobs)


def test_real_data_is_checked_and_weights_are_the_users_files():
    plan = Plan(REGISTRY, "paper")
    check = plan.job("data_check", dataset="vspw")
    assert check.stdout == check.outputs[0] == "results/paper/data/vspw.check.json"
    assert "data/vspw/VSPW_480p" in check.command
    weights = plan.job("weights_check", backbone="b1")
    assert weights.sources == ("weights/mit_b1.pth",) and weights.inputs == ()
    train = plan.job("train", run="mrcfa_b1", seed="0")
    assert set(train.inputs) == {"results/paper/data/vspw.check.json", "results/paper/weights/mit_b1.check.json"}
    assert train.resources.gpu == 1 and train.resources.runtime == 4320


def test_a_training_job_of_several_processes_runs_under_torchrun(tmp_path: Path):
    shutil.copytree(ROOT / "experiments", tmp_path / "experiments")
    (tmp_path / "experiments/profiles/ddp.yaml").write_text(
        "extends: paper\nresources:\n  train: {threads: 4, mem_mb: 1000, gpu: 1, procs: 2}\n")
    plan = Plan(load_registry(tmp_path / "experiments/registry.yaml"), "ddp", seeds=[3])
    job = plan.job("train", run="mrcfa_b1", seed=3)
    assert (job.threads, job.resources.gpu, job.resources.mem_mb, job.resources.procs) == (8, 2, 2000, 2)
    assert job.shell("PY").startswith("PY -m torch.distributed.run --standalone --nproc_per_node 2 -m mrcfa -- train")
    assert job.shell("PY").endswith("--seed 3 --threads 4 --json")
    assert "--threads 1 " in job.shell("PY", threads=3)  # Snakemake gave fewer cores: shared, at least one each
    assert {j.name for j in plan.jobs() if j.kind == "train"} == {f"train-{r}-seed3" for r in plan.used_runs()}


def test_analysis_jobs_read_exactly_the_plans_seeds():
    plan = Plan(REGISTRY, "demo", seeds=[0, 5])
    table = plan.job("table", table="table2")
    assert table.command[-2:] == ("--seeds", "0,5")
    assert {i.split("/")[-2] for i in table.inputs if i.endswith("metrics.json")} == {"seed0", "seed5"}


@pytest.mark.parametrize("kind, names, message", [
    ("nope", {}, "no job of kind 'nope'"),
    ("bench_table", {"table": "table1"}, "no claim of table1 compares FPS"),
    ("table_plot", {"table": "table4"}, "table4 has no plot"),
    ("weights_check", {"backbone": "b1"}, "no run of profile 'demo' starts from ImageNet weights"),
])
def test_a_job_that_cannot_be_planned_is_one_clear_error(kind, names, message):
    plan = Plan(REGISTRY, "demo")
    with pytest.raises(ConfigError, match=message):
        plan.job(kind, **names)
