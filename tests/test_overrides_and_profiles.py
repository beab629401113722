"""`--set` overrides (hash, variant name, results) and derived profiles (`extends:`), seen alike by the
pipeline's config and the analysis."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from pathlib import Path

import pytest
import yaml

from mrcfa.experiments.files import deep_merge
from mrcfa.experiments.profiles import load_profile
from conftest import ROOT
from mrcfa.cli import main
from mrcfa.config import ConfigError, TableBenchConfig
from mrcfa.experiments.profiles import read_profile
from mrcfa.experiments.registry import load_registry
from mrcfa.overrides import format_overrides, parse_overrides

PROFILES = ROOT / "experiments" / "profiles"
REGISTRY = load_registry(ROOT / "experiments" / "registry.yaml")


def test_values_are_yaml() -> None:
    parsed = parse_overrides(["model.keep_ratio=0.3", "model.ref_offsets=[-6, -3]", "train.amp=true",
                              "train.lr=1e-3", "model.pretrained=null", "data.root=/data/vspw",
                              "train.iters=100", "train.iters=200"])
    assert parsed == {"model.keep_ratio": 0.3, "model.ref_offsets": [-6, -3], "train.amp": True, "train.lr": 1e-3,
                      "model.pretrained": None, "data.root": "/data/vspw", "train.iters": 200}
    assert format_overrides(parsed).startswith("model.keep_ratio=0.3 model.ref_offsets=[-6, -3] train.amp=true")


def test_overrides_make_a_variant_with_its_own_hash() -> None:
    base = REGISTRY.resolve("smoke", "mrcfa_b1")
    cfg = REGISTRY.resolve("smoke", "mrcfa_b1", parse_overrides(["model.keep_ratio=0.3", "train.iters=200"]))
    assert (cfg.model.keep_ratio, cfg.train.iters) == (0.3, 200)
    assert cfg.hash() != base.hash() and cfg.run == f"mrcfa_b1+{cfg.hash()[:8]}"
    assert cfg.overrides == {"model.keep_ratio": 0.3, "train.iters": 200}
    # Setting what the run already has, or where the data lives, changes nothing: same run, same hash.
    same = REGISTRY.resolve("smoke", "mrcfa_b1", parse_overrides(["model.keep_ratio=0.5", "data.root=/elsewhere"]))
    assert same.run == "mrcfa_b1" and same.hash() == base.hash() and same.data.root == "/elsewhere"
    # The variant equals the registry run that has those settings, up to the name.
    p30 = REGISTRY.resolve("smoke", "mrcfa_b1", parse_overrides(["model.keep_ratio=0.3"]))
    assert p30.hash() == REGISTRY.resolve("smoke", "mrcfa_b1_p30").hash()


def _cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(list(argv))
    return code, out.getvalue()


def test_overrides_are_recorded_in_the_results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert _cli("synth", "--profile", "smoke", "--registry", str(ROOT / "experiments/registry.yaml"), "--json")[0] == 0
    sets = ["--set", "train.iters=2", "--set", "train.warmup_iters=1"]
    code, out = _cli("config", "--profile", "smoke", "--run", "segformer_b1", *sets)
    resolved = json.loads(out)
    assert code == 0 and resolved["train"]["iters"] == 2
    assert resolved["overrides"] == {"train.iters": 2, "train.warmup_iters": 1}
    code, out = _cli("train", "--profile", "smoke", "--run", "segformer_b1", "--no-track", "--json",
                     "--threads", "1", *sets)
    trained = json.loads(out)
    run_dir = tmp_path / "results/smoke/runs" / resolved["run"] / "seed0"
    assert code == 0 and resolved["run"] == f"segformer_b1+{resolved['hash'][:8]}"
    assert json.loads((run_dir / "train.json").read_text()) == trained
    assert trained["config_hash"] == resolved["hash"] and trained["overrides"] == resolved["overrides"]
    assert trained["iters"] == 2 and not (tmp_path / "results/smoke/runs/segformer_b1").exists()
    # The same --set on evaluate finds the variant's model; metrics.json records them too.
    code, _ = _cli("evaluate", "--profile", "smoke", "--run", "segformer_b1", "--no-track", "--json",
                   "--threads", "1", *sets)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert code == 0 and metrics["overrides"] == resolved["overrides"] and metrics["config_hash"] == resolved["hash"]


def test_a_derived_profile_is_its_parent_with_its_own_settings(tmp_path: Path) -> None:
    short, paper = read_profile(PROFILES, "paper_short"), read_profile(PROFILES, "paper")
    assert "extends" not in short and short.get("datasets") == paper.get("datasets")
    assert short["train"] == {**paper["train"], "iters": 20000, "accum_steps": 4, "checkpoint_every": 1000}
    assert short.get("resources") == deep_merge(paper.get("resources"), {"train": {"runtime": 1800}})
    cfg = REGISTRY.resolve("paper_short", "mrcfa_b1")
    assert (cfg.train.iters, cfg.train.batch_size, cfg.train.accum_steps, cfg.model.pretrained) == (
        20000, 8, 4, "weights/mit_b1.pth")
    # The analysis reads the same merged profile (seeds, datasets, resources).
    seen = load_profile(PROFILES, "paper_short")
    assert seen.name == "paper_short" and list(seen.seeds) == paper["seeds"]
    assert {n: (d.root, d.source, d.num_classes) for n, d in seen.datasets.items()} == {
        "vspw": ("data/vspw/VSPW_480p", "disk", 124), "cityscapes": ("data/cityscapes", "disk", 19)}
    assert (seen.step("train").runtime, seen.step("train").gpu, seen.step("evaluate").runtime) == (1800, 1, 240)
    # Two levels: mappings merge key by key, lists are replaced whole.
    (tmp_path / "base.yaml").write_text("seeds: [0, 1, 2]\ntrain: {iters: 10, lr: 0.1}\n")
    (tmp_path / "mid.yaml").write_text("extends: base\nseeds: [5]\ntrain: {iters: 20}\n")
    (tmp_path / "leaf.yaml").write_text("extends: mid\ntrain: {lr: 0.5}\n")
    assert read_profile(tmp_path, "leaf") == {"seeds": [5], "train": {"iters": 20, "lr": 0.5}}
    assert load_profile(tmp_path, "leaf").seeds == (5,)


def test_table_bench_settings_change_no_runs_config_hash(tmp_path: Path) -> None:
    """`table_bench:` says how a table's rows are timed together; it is no part of any run's config."""
    shutil.copytree(ROOT / "experiments", tmp_path / "experiments")
    (tmp_path / "experiments/profiles/timing.yaml").write_text(
        "extends: demo\ntable_bench: {processes: 7, rounds: 3, warmup: 0}\n")
    reg = load_registry(tmp_path / "experiments/registry.yaml")
    assert reg.load_profile("timing").table_bench == TableBenchConfig(processes=7, rounds=3, warmup=0)
    assert reg.load_profile("demo").table_bench != reg.load_profile("timing").table_bench
    assert {run: reg.resolve("timing", run).hash() for run in reg.runs} == {
        run: reg.resolve("demo", run).hash() for run in reg.runs}
    # A derived profile states one setting; the others come from its parent (smoke: 3 processes, 1 warm-up).
    (tmp_path / "experiments/profiles/timing.yaml").write_text("extends: smoke\ntable_bench: {rounds: 9}\n")
    assert load_profile(tmp_path / "experiments/profiles", "timing").table_bench == TableBenchConfig(
        processes=3, rounds=9, warmup=1)


# A profile (`extends: demo` plus the YAML given) or a registry (one change to the real one) that breaks its schema
# (experiments/schemas/): one line naming the file and the field.
PROFILE_MISTAKES = [
    ("train: {lr: abc}", "profile broken: train.lr: expected a number, got 'abc'"),
    ("train: {lrr: 0.1}", "profile broken: train.lrr: unknown field; did you mean 'lr'?"),
    ("seeds: [0, x]", "profile broken: seeds[1]: expected an integer, got 'x'"),
    ("data: {crop: [64]}", "profile broken: data.crop: expected 2 values, got [64]"),
    ("model: {pretrained: 3}", "profile broken: model.pretrained: expected a string or null, got 3"),
    ("datasets: {vspw: {source: cloud}}", "profile broken: datasets.vspw.source: must be one of disk, synth"),
    ("datasets: {vspw: {synth: {frames: many}}}",
     "profile broken: datasets.vspw.synth.frames: expected an integer, got 'many'"),
    ("datasets: {vspw: {synth: {knobs: {nois: 1.0}}}}",
     "profile broken: datasets.vspw.synth.knobs.nois: unknown field; did you mean 'noise'?"),
    ("resources: {train: {threads: two}}", "profile broken: resources.train.threads: expected an integer"),
    ("table_bench: {round: 5}", "profile broken: table_bench.round: unknown field; did you mean 'rounds'?"),
    ("table_bench: {processes: 2}", "profile broken: table_bench.processes: must be >= 3"),
]


@pytest.mark.parametrize("text,message", PROFILE_MISTAKES, ids=[m[1].split(": ")[1] for m in PROFILE_MISTAKES])
def test_a_profile_that_breaks_its_schema_is_named_by_field(tmp_path: Path, text: str, message: str) -> None:
    shutil.copytree(ROOT / "experiments", tmp_path / "experiments")
    (tmp_path / "experiments/profiles/broken.yaml").write_text(f"extends: demo\n{text}\n")
    with pytest.raises(ConfigError) as e:
        read_profile(tmp_path / "experiments/profiles", "broken")
    assert message in str(e.value) and "\n" not in str(e.value)
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["config", "--profile", "broken", "--run", "mrcfa_b1",
                     "--registry", str(tmp_path / "experiments/registry.yaml")])
    assert code == 2 and err.getvalue().strip().splitlines()[-1] == f"error: config: {e.value}"


def _set(data: dict, dotted: str, value: object) -> None:
    *parents, last = dotted.split(".")
    for key in parents:
        data = data[int(key)] if isinstance(data, list) else data[key]
    if value is None:
        del data[last]
    else:
        data[last] = value


REGISTRY_MISTAKES = [
    ("runs.mrcfa_b1.model.keep_ratio", "high", "runs.mrcfa_b1.model.keep_ratio: expected a number, got 'high'"),
    ("runs.mrcfa_b1.modle", {"arch": "mrcfa"}, "runs.mrcfa_b1.modle: unknown field; did you mean 'model'?"),
    ("runs.mrcfa_b1.dataset", "kitti", "runs.mrcfa_b1.dataset: must be one of vspw, cityscapes, got 'kitti'"),
    ("tables.table2.metrics", ["fps", "speed"], "tables.table2.metrics[1]: must be one of mIoU"),
    ("tables.table2.rows.0.label", None, "tables.table2.rows[0].label: missing"),
    ("tables.table2.rows.0.run", "mrcfa_b9", "tables.table2.rows[0].run: unknown run 'mrcfa_b9'"),
    ("tables.figure3.rows.0.run", "mrcfa_b9", "tables.figure3.rows[0].run: unknown run 'mrcfa_b9'"),
    ("released.mrcfa_b9", "weights/x.pth", "released.mrcfa_b9: unknown run 'mrcfa_b9'"),
    ("released.mrcfa_b1", 3, "released.mrcfa_b1: expected a string, got 3"),
    ("runs", None, "runs: missing"),
]


@pytest.mark.parametrize("where,value,message", REGISTRY_MISTAKES, ids=[m[0] for m in REGISTRY_MISTAKES])
def test_a_registry_that_breaks_its_schema_is_named_by_field(tmp_path: Path, where: str, value: object,
                                                            message: str) -> None:
    data = yaml.safe_load((ROOT / "experiments/registry.yaml").read_text())
    _set(data, where, value)
    (tmp_path / "registry.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(ConfigError) as e:
        load_registry(tmp_path / "registry.yaml")
    assert message in str(e.value) and str(e.value).startswith(str(tmp_path / "registry.yaml"))
