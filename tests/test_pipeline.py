"""The pipelines for real: Snakemake on the smoke profile, the paper profile's job list, DVC, MLflow."""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml

from conftest import BIN, ROOT, tool_env
from mrcfa.experiments.jobs import Plan
from mrcfa.experiments.registry import load_registry
from mrcfa.provenance import CODE, KINDS, current, tag

SNAKEMAKE = [str(BIN / "snakemake")]


def snakemake(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(SNAKEMAKE + list(args), cwd=cwd, env=tool_env(), capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


def job_counts(output: str) -> Counter:
    """The 'Job stats' table of a dry run."""
    counts: Counter = Counter()
    block = output.split("Job stats:", 1)[1]
    for line in block.splitlines()[3:]:
        m = re.match(r"^(\w+)\s+(\d+)$", line.strip())
        if not m:
            break
        counts[m.group(1)] = int(m.group(2))
    return counts


def job_blocks(output: str, rule: str) -> list[str]:
    """The dry run's per-job paragraphs of one rule."""
    return [b for b in re.split(r"\n\[[^\]]+\]\n", output) if b.startswith(f"rule {rule}:")]


def test_paper_profile_lists_every_job_with_gpus(pipeline_dir):
    out = snakemake(pipeline_dir, "all", "-n", "--config", "profile=paper", "--cores", "4").stdout
    counts = job_counts(out)
    # 28 distinct runs × 1 seed; benchmarks for every run of a table with FPS, memory or params columns.
    assert counts["train"] == 28 and counts["evaluate"] == 28 and counts["benchmark"] == 22
    assert counts["bench_table"] == 1  # Table 2's rows timed together: its FPS claim
    assert counts["table"] == 6 and counts["data_check"] == 2 and counts["report"] == 1
    train_jobs = job_blocks(out, "train")
    assert len(train_jobs) == 28
    assert all("gpu=1" in b for b in train_jobs)
    assert "runtime=4320" in train_jobs[0]


def test_a_derived_profile_lists_the_same_jobs_with_its_own_schedule(pipeline_dir):
    """paper_short `extends: paper`: the same jobs, its own training budget."""
    out = snakemake(pipeline_dir, "all", "-n", "--config", "profile=paper_short", "--cores", "4").stdout
    counts = job_counts(out)
    assert counts["train"] == 28 and counts["evaluate"] == 28 and counts["weights_check"] == 4
    train_jobs = job_blocks(out, "train")
    assert all("gpu=1" in b and "runtime=1800" in b and "profile=paper_short" in b for b in train_jobs)


def test_a_row_shared_by_tables_is_trained_once(pipeline_dir):
    out = snakemake(pipeline_dir, "table1", "table2", "table3", "table4", "-n", "--config", "profile=demo",
                    "--cores", "4").stdout
    keys = [re.search(r"run=(\w+), seed=(\d+)", b).groups() for b in job_blocks(out, "train")]
    assert len(keys) == len(set(keys))  # no (run, seed) trained twice
    assert keys.count(("mrcfa_b1", "0")) == 1 and keys.count(("mrcfa_b1", "1")) == 1
    # Tables 1-4 need 18 distinct runs at each of the profile's seeds.
    assert len(keys) == 18 * len(load_registry(ROOT / "experiments/registry.yaml").seeds("demo"))


def test_bad_profile_is_a_clear_error(pipeline_dir):
    proc = snakemake(pipeline_dir, "table2", "-n", "--config", "profile=nosuch", check=False)
    assert proc.returncode != 0 and "unknown profile 'nosuch'" in proc.stdout + proc.stderr


def planned_blocks(output: str) -> list[str]:
    """Every job paragraph of a dry run."""
    return [b for b in re.split(r"\n\[[^\]]+\]\n", output) if b.startswith(("rule ", "localrule "))]


def test_another_profiles_file_plans_only_that_profiles_jobs(pipeline_dir):
    """The {profile} in a file's path decides every job it needs, whatever --config profile says."""
    out = snakemake(pipeline_dir, "results/smoke/tables/table2.md", "-n", "--config", "profile=demo",
                    "--cores", "2").stdout
    # Table 2's six runs at smoke's one seed, smoke's synthetic data, the rows timed together and the table.
    assert job_counts(out) == Counter(train=6, evaluate=6, benchmark=6, bench_table=1, synth=1, table=1, total=21)
    blocks = planned_blocks(out)
    assert len(blocks) == 21 and all("profile=smoke" in b for b in blocks)
    assert "demo" not in out.split("Building DAG of jobs...", 1)[1]
    assert all("mem_mb=1000" in b for b in blocks if b.startswith(("rule train", "rule evaluate")))


def test_threads_and_resources_come_from_the_files_profile(pipeline_dir):
    out = snakemake(pipeline_dir, "results/paper/runs/mrcfa_b1/seed0/metrics.json", "-n", "--config",
                    "profile=smoke", "--cores", "8").stdout
    (train,) = job_blocks(out, "train")
    (evaluate,) = job_blocks(out, "evaluate")
    for block, runtime in ((train, 4320), (evaluate, 240)):  # the paper profile's, not smoke's 10 minutes
        assert "profile=paper" in block and "threads: 4" in block
        assert "gpu=1" in block and f"runtime={runtime}," in block
    assert job_counts(out)["data_check"] == 1 and "synth" not in job_counts(out)  # paper reads VSPW from disk


@pytest.mark.parametrize("override, field", [
    ("exclusive_bench=maybe", "exclusive_bench"),
    ("profile=a/b", "profile"),
    ("registry=experiments/registry.txt", "registry"),
    ("profil=demo", "profil"),
    ("seeds=[]", "seeds"),
    ("seeds=[a]", "seeds"),
    ("seeds=[-1]", "seeds"),
    ("seeds=[1,1]", "seeds"),
])
def test_invalid_config_is_an_error_naming_the_field(pipeline_dir, override, field):
    proc = snakemake(pipeline_dir, "table2", "-n", "--config", override, check=False)
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "Error validating config file" in text
    assert f"['{field}']" in text or f"'{field}' was unexpected" in text


def test_a_bad_value_in_the_config_file_is_named_too(pipeline_dir):
    config = pipeline_dir / "workflow" / "config.yaml"
    config.write_text(config.read_text().replace("exclusive_bench: true", "exclusive_bench: 2"))
    proc = snakemake(pipeline_dir, "table2", "-n", check=False)
    assert proc.returncode != 0 and "instance['exclusive_bench']" in proc.stdout + proc.stderr


def test_the_seeds_config_plans_its_seeds_and_every_analysis_step_reads_exactly_them(pipeline_dir):
    out = snakemake(pipeline_dir, "all", "-n", "-p", "--cores", "2", "--config", "profile=smoke",
                    "seeds=[0,2]").stdout
    counts = job_counts(out)
    analysis = re.findall(r"-m analysis \w+ --profile smoke .*", out)
    steps = ("table", "table_plot", "training_curves", "figure", "claims", "report")
    assert len(analysis) == sum(counts[s] for s in steps) == 6 + 3 + 4
    assert all("--seeds 0,2 " in line for line in analysis), analysis
    table2 = snakemake(pipeline_dir, "table2", "-n", "--cores", "2", "--config", "profile=smoke", "seeds=[0,2]").stdout
    runs = load_registry(pipeline_dir / "experiments" / "registry.yaml").table_runs("table2")
    for rule in ("train", "evaluate"):
        keys = sorted(re.search(r"run=(\w+), seed=(\d+)", b).groups() for b in job_blocks(table2, rule))
        assert keys == sorted((r, s) for r in runs for s in ("0", "2"))
    default = snakemake(pipeline_dir, "table2", "-n", "-p", "--cores", "2", "--config", "profile=smoke").stdout
    assert "--seeds 0 " in default and "seed=2" not in default  # smoke's own seeds: [0]


def undeclared_files(pipeline_dir: Path, profile: str, target: str) -> list[str]:
    """Files under results/<profile> that no job of `target` declares (as output, log, or inside a declared
    directory). `--list-untracked` names files only, so directories come from `--summary`."""
    args = (target, "--cores", "1", "--config", f"profile={profile}", "exclusive_bench=false")
    untracked = snakemake(pipeline_dir, *args, "--list-untracked").stdout.splitlines()
    summary = snakemake(pipeline_dir, *args, "--summary").stdout.splitlines()
    outputs = [line.split("\t", 1)[0] for line in summary if "\t" in line]
    dirs = [f"{o}/" for o in outputs if (pipeline_dir / o).is_dir()]
    return [f for f in untracked if f.startswith(f"results/{profile}/") and not f.startswith(tuple(dirs))]


@pytest.fixture
def smoke_results(pipeline_dir):
    """The smoke profile's training, evaluation and benchmark outputs written without training (the results
    files of analysis.synthetic), so that `snakemake all` runs only the tables, figures, claims and report."""
    from analysis.synthetic import write_results, write_table_benches

    reg = load_registry(pipeline_dir / "experiments" / "registry.yaml")
    root = pipeline_dir / reg.load_profile("smoke").dataset("vspw").root
    root.mkdir(parents=True)
    (root / "synth.json").write_text("{}")  # older than everything below, as after a real run
    runs = list(dict.fromkeys(r for t in reg.tables for r in reg.table_runs(t)))
    benched = {r for t in reg.tables if reg.needs_bench(t) for r in reg.table_runs(t)}
    for run in runs:  # each output newer than its job's inputs
        seed_dir = pipeline_dir / "results" / "smoke" / "runs" / run / "seed0"
        seed_dir.mkdir(parents=True)
        (seed_dir / "model.pt").write_bytes(b"")
        (seed_dir / "samples").mkdir()
    for with_bench in (True, False):
        write_results(pipeline_dir / "results", "smoke", reg, seeds=(0,), bench=with_bench,
                      runs=[r for r in runs if (r in benched) == with_bench],
                      samples_for=reg.figures["figure3"].runs, data_root=root, num_classes=4)
    write_table_benches(pipeline_dir / "results", "smoke", reg)
    return pipeline_dir


@pytest.mark.slow
def test_every_file_has_one_declared_owner(smoke_results):
    """Tables, plots, Fig. 3, claims and the report on the smoke profile: every file they write is declared,
    and the report rewrites none of the files the other rules own."""
    pipeline_dir = smoke_results
    out = snakemake(pipeline_dir, "all", "--cores", "2", "--config", "profile=smoke", "exclusive_bench=false")
    assert job_counts(out.stdout + out.stderr)["report"] == 1
    assert undeclared_files(pipeline_dir, "smoke", "all") == []

    results = pipeline_dir / "results" / "smoke"
    before = {p: p.stat().st_mtime_ns for p in results.rglob("*") if p.is_file()}
    snakemake(pipeline_dir, "results/smoke/report.html", "--forcerun", "report", "--cores", "1",
              "--config", "profile=smoke", "exclusive_bench=false")
    after = {p: p.stat().st_mtime_ns for p in results.rglob("*") if p.is_file()}
    changed = sorted(str(p.relative_to(results)) for p in after if after[p] != before.get(p))
    assert changed == ["logs/report.log", "report.html", "report.md"]
    html = (results / "report.html").read_text()
    assert html.count("src='data:image/png;base64,") == 5  # Tables 1-3's plots, the training curves, Fig. 3


@pytest.mark.slow
def test_smoke_table2_end_to_end_with_mlflow_then_one_more_seed(pipeline_dir):
    """Real jobs, as a user types them (Snakemake's own rerun triggers; benchmarks beside other jobs, since no
    timing is checked here): Table 2 at the profile's seed, a no-op rerun, MLflow; then `seeds=[0,1]` makes only
    seed 1's jobs and the table reads both seeds; a dry run of `seeds=[0,1,2,3]` plans seeds 2 and 3's only."""
    args = ("table2", "--cores", "2", "--config", "profile=smoke", "exclusive_bench=false")
    snakemake(pipeline_dir, *args)
    check_smoke_table2(pipeline_dir / "results" / "smoke" / "tables")
    assert undeclared_files(pipeline_dir, "smoke", "table2") == []  # train, evaluate, bench declare all they write

    # A second run has nothing to do.
    again = snakemake(pipeline_dir, *args)
    assert "Nothing to be done" in again.stdout + again.stderr

    check_smoke_mlflow_runs(pipeline_dir)
    check_one_more_seed(pipeline_dir, args)


def check_smoke_table2(tables: Path) -> None:
    """Table 2's rows, its LaTeX, its versus-the-paper twin and its claims, as the smoke profile makes them."""
    rows = list(csv.DictReader((tables / "table2.csv").open()))
    assert [r["label"] for r in rows] == ["p=100%", "p=90%", "p=70%", "p=50%", "p=30%", "p=10%"]
    for row in rows:
        assert 0.0 <= float(row["mIoU_mean"]) <= 100.0 and float(row["fps_mean"]) > 0
        assert row["stale"] == "False"  # made by today's code, with today's configs
    tex = (tables / "table2.tex").read_text()
    assert tex.count(r"\toprule") == 1 and "tab:table2" in tex
    vs = list(csv.DictReader((tables / "table2_vs_paper.csv").open()))
    assert any(r.get("paper_effect") for r in vs) and "diff" not in vs[0]  # synthetic data: effects only
    claims = list(csv.DictReader((tables / "table2_claims.csv").open()))
    assert [c["claim"] for c in claims] == ["t2_p50_costs_little_miou", "t2_p50_gains_fps", "t2_p50_saves_memory",
                                            "t2_p10_loses_clearly"]
    assert all(c["verdict"] in ("holds", "contradicted", "inconclusive") for c in claims)


def check_smoke_mlflow_runs(pipeline_dir: Path) -> None:
    """Every job logged into one MLflow run per (run, seed), with the evaluation and benchmark metrics."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{pipeline_dir / 'mlflow.db'}")
    exp = client.get_experiment_by_name("mrcfa-vspw-smoke")
    runs = client.search_runs([exp.experiment_id])
    names = sorted(r.info.run_name for r in runs)
    assert names == sorted(f"{r}-seed0" for r in ("mrcfa_b1", "mrcfa_b1_p100", "mrcfa_b1_p90", "mrcfa_b1_p70",
                                                  "mrcfa_b1_p30", "mrcfa_b1_p10"))
    run = next(r for r in runs if r.info.run_name == "mrcfa_b1-seed0")
    metrics = run.data.metrics
    saved = json.loads((pipeline_dir / "results/smoke/runs/mrcfa_b1/seed0/metrics.json").read_text())
    assert metrics["mIoU"] == pytest.approx(saved["mIoU"]) and "fps_cached" in metrics
    assert len(client.get_metric_history(run.info.run_id, "train_loss")) >= 2
    assert run.data.tags["mrcfa.tables"] == "table1,table2,table3,table4,table5,figure3"
    assert run.data.params["model.keep_ratio"] == "0.5"
    # Each job tagged the code that made its results: train, evaluate and bench share the run, each its own tag.
    assert {k: run.data.tags.get(tag(k)) for k in KINDS} == {k: current() for k in KINDS}


def check_one_more_seed(pipeline_dir: Path, args: tuple[str, ...]) -> None:
    """More seeds on demand: only the new seed's jobs, seed 0's files and the benchmarks untouched; a dry run of
    two more plans only theirs."""
    assert table_seeds(pipeline_dir, "table2") == ({"1"}, "0")
    run_dir = pipeline_dir / "results" / "smoke" / "runs"
    first = {p: p.stat().st_mtime_ns for p in run_dir.rglob("*") if p.is_file()}
    more = snakemake(pipeline_dir, *args, "seeds=[0,1]")
    table2_runs = load_registry(pipeline_dir / "experiments" / "registry.yaml").table_runs("table2")
    assert job_counts(more.stdout + more.stderr) == Counter(train=6, evaluate=6, table=1, table_plot=1, table2=1,
                                                            total=15)
    assert {p: p.stat().st_mtime_ns for p in first} == first
    assert sorted(p.relative_to(run_dir).parts[:2] for p in run_dir.glob("*/seed1/metrics.json")) == sorted(
        (r, "seed1") for r in table2_runs)
    assert table_seeds(pipeline_dir, "table2") == ({"2"}, "0 1")
    # Each job's time, which `analysis claims --plan` costs new seeds with.
    seconds = [json.loads(p.read_text())["seconds"] for name in ("train.json", "metrics.json")
               for p in run_dir.glob(f"*/seed1/{name}")]
    assert len(seconds) == 2 * len(table2_runs) and min(seconds) > 0

    plan = snakemake(pipeline_dir, *args, "seeds=[0,1,2,3]", "-n").stdout
    assert job_counts(plan) == Counter(train=12, evaluate=12, table=1, table_plot=1, table2=1, total=27)
    for rule in ("train", "evaluate"):
        keys = sorted(re.search(r"run=(\w+), seed=(\d+)", b).groups() for b in job_blocks(plan, rule))
        assert keys == sorted((r, s) for r in table2_runs for s in ("2", "3"))


def table_seeds(pipeline_dir: Path, table: str) -> tuple[set[str], str]:
    """A table's seed counts (every row's mIoU) and the seeds its first claim is decided on."""
    tables = pipeline_dir / "results" / "smoke" / "tables"
    rows = list(csv.DictReader((tables / f"{table}.csv").open()))
    claims = list(csv.DictReader((tables / f"{table}_claims.csv").open()))
    return {r["mIoU_n_seeds"] for r in rows}, claims[0]["seeds"]


def dvc(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(BIN / "dvc"), *args], cwd=cwd, env=tool_env(), capture_output=True, text=True)
    assert proc.returncode == 0, f"dvc {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def generate_dvc(out: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "workflow/scripts/generate_dvc.py"), "--out", str(out), *args],
                          capture_output=True, text=True)


def test_dvc_files_match_the_registry():
    proc = subprocess.run([sys.executable, "workflow/scripts/generate_dvc.py", "--check"], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def planned_files(output: str) -> dict[frozenset, frozenset]:
    """A dry run's jobs with files: their outputs -> their inputs."""
    jobs = {}
    for block in re.split(r"\n\[[^\]]+\]\n", output):
        fields = dict(re.findall(r"^    (input|output): (.*)$", block, re.M))
        if "output" in fields:
            jobs[frozenset(fields["output"].split(", "))] = frozenset(filter(None, fields.get("input", "").split(", ")))
    return jobs


def test_both_engines_run_the_planned_jobs(pipeline_dir):
    """The demo's plan, what Snakemake schedules from it, and the committed dvc.yaml as DVC reads it: the same
    jobs with the same inputs and outputs (DVC also depends on the code each job runs and the weights it reads)."""
    plan = Plan(load_registry(ROOT / "experiments/registry.yaml"), "demo")
    jobs = plan.jobs()
    assert {o for j in jobs for o in j.outputs} >= {i for j in jobs for i in j.inputs}  # nothing is left unmade
    planned = {frozenset(j.outputs): frozenset(j.inputs) for j in jobs}
    out = snakemake(pipeline_dir, "all", "-n", "--config", "profile=demo").stdout
    assert planned_files(out) == planned
    assert yaml.safe_load((ROOT / "params.yaml").read_text())["profile"] == "demo"
    shutil.copy(ROOT / "dvc.yaml", pipeline_dir / "dvc.yaml")
    dvc(pipeline_dir, "init", "--no-scm", "-q")
    assert set(dvc(pipeline_dir, "stage", "list", "--name-only").stdout.split()) == {j.name for j in jobs}
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    for job in jobs:
        stage = stages[job.name]
        outs = [next(iter(o)) if isinstance(o, dict) else o
                for key in ("outs", "metrics", "plots") for o in stage.get(key, [])]
        assert sorted(outs) == sorted(job.outputs) and stage["deps"] == [*job.inputs, *job.sources, *job.code]
        assert job.shell() in stage["cmd"] and (job.kind not in ("train", "evaluate", "benchmark", "bench_table") or CODE == job.code)


def test_dvc_drift_is_detected(tmp_path):
    for name in ("dvc.yaml", "params.yaml"):
        (tmp_path / name).write_text((ROOT / name).read_text())
    hashed = re.sub(r"(\n  \w+: )([0-9a-f]{12}\n)", r"\1x\2", (ROOT / "params.yaml").read_text(), count=1)
    (tmp_path / "params.yaml").write_text(hashed)  # a run's config hash
    proc = generate_dvc(tmp_path, "--check")
    assert proc.returncode == 1 and "params.yaml" in proc.stderr and "dvc.yaml" not in proc.stderr
    (tmp_path / "params.yaml").write_text((ROOT / "params.yaml").read_text())
    text = (ROOT / "dvc.yaml").read_text()
    (tmp_path / "dvc.yaml").write_text(text.replace("/seed0/metrics.json\n", "/seed9/metrics.json\n", 1))
    proc = generate_dvc(tmp_path, "--check")
    assert proc.returncode == 1 and "dvc.yaml" in proc.stderr
    assert generate_dvc(tmp_path).returncode == 0 and (tmp_path / "dvc.yaml").read_text() == text
    proc = generate_dvc(tmp_path, "--profile", "nope")
    assert proc.returncode == 2 and proc.stderr.startswith("error: ") and "unknown profile 'nope'" in proc.stderr


@pytest.mark.slow
def test_dvc_repro_on_the_smoke_profile(pipeline_dir):
    for name in ("dvc.yaml", "params.yaml"):
        shutil.copy(ROOT / name, pipeline_dir / name)
    # The stages depend on the code they run: a copy of it here (which the jobs then import).
    for package in ("mrcfa", "analysis"):
        shutil.copytree(ROOT / package, pipeline_dir / package, ignore=shutil.ignore_patterns("__pycache__"))
    for cmd in (["git", "init", "-q"], [str(BIN / "dvc"), "init", "-q"]):
        proc = subprocess.run(cmd, cwd=pipeline_dir, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
    shutil.copy(ROOT / ".dvcignore", pipeline_dir / ".dvcignore")
    proc = generate_dvc(pipeline_dir, "--profile", "smoke")
    assert proc.returncode == 0, proc.stderr
    assert "train-mrcfa_b1_l1-seed0" in dvc(pipeline_dir, "dag", "table3").stdout
    dvc(pipeline_dir, "repro", "table3")
    assert (pipeline_dir / "results/smoke/tables/table3.md").is_file()
    text = dvc(pipeline_dir, "metrics", "show", "--json").stdout
    assert "mrcfa_b1_l1/seed0/metrics.json" in text and "mIoU" in text and "fps_cached" in text
    again = dvc(pipeline_dir, "repro", "table3")
    assert "didn't change" in again.stdout + again.stderr
    # Editing a model file makes every train, evaluate and bench stage out of date (and nothing else changed).
    loss = pipeline_dir / "mrcfa" / "models" / "loss.py"
    loss.write_text(loss.read_text() + "\nUNUSED = 1\n")
    status = json.loads(dvc(pipeline_dir, "status", "--json", "--with-deps", "table3").stdout)
    registry = load_registry(ROOT / "experiments/registry.yaml")
    runs, seeds = registry.table_runs("table3"), registry.seeds("smoke")
    expected = ({f"{kind}-{r}-seed{s}" for kind in ("train", "evaluate") for r in runs for s in seeds}
                | {f"benchmark-{r}" for r in runs if registry.needs_bench("table3")})
    assert set(status) == expected, status
    assert all({"changed deps": {"mrcfa/models": "modified"}} in status[s] for s in status), status
