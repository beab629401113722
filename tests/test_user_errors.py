"""Every user mistake ends in one line, `error: …`, naming the culprit: a non-zero exit and no traceback.

Most mistakes run in-process through `mrcfa.cli.main` (fast); a few through real subprocesses, where the
console script, argparse and the interpreter's own exit are part of what is checked.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, tool_env
from mrcfa.cli import main
from mrcfa.config import ConfigError

REGISTRY = ROOT / "experiments" / "registry.yaml"


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def assert_one_line_error(code: int, err: str, *culprits: str) -> str:
    lines = err.strip().splitlines()
    assert code != 0, err
    assert lines and lines[-1].startswith("error: "), err
    assert "Traceback" not in err, err
    for culprit in culprits:
        assert culprit in lines[-1], (culprit, lines[-1])
    return lines[-1]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Broken registries and profiles, broken checkpoints, a smoke dataset with a frame missing."""
    root = tmp_path_factory.mktemp("mistakes")
    experiments = root / "experiments"
    shutil.copytree(ROOT / "experiments", experiments)
    profiles = experiments / "profiles"
    (profiles / "loop_a.yaml").write_text("extends: loop_b\n")
    (profiles / "loop_b.yaml").write_text("extends: loop_a\n")
    (profiles / "orphan.yaml").write_text("extends: papr\ntrain: {iters: 10}\n")
    (root / "not_yaml.yaml").write_text("runs: [mrcfa_b1\ntables: {}\n")
    (root / "a_list.yaml").write_text("- mrcfa_b1\n- segformer_b1\n")

    (root / "empty.pt").write_bytes(b"")
    (root / "corrupt.pt").write_text("not a checkpoint\n")
    import torch

    from mrcfa.experiments.registry import load_registry
    from mrcfa.models.segmenter import build_model

    torch.save({"weight": torch.zeros(2)}, root / "unknown_layout.pt")
    cfg = load_registry(REGISTRY).resolve("smoke", "segformer_b1")
    torch.save(build_model(cfg.model).state_dict(), root / "segformer.pt")

    assert run_cli("synth", "--profile", "smoke", "--out", str(root / "data"), "--json")[0] == 0
    shutil.copytree(root / "data", root / "broken")
    next((root / "broken" / "data" / "val_0001" / "origin").glob("*.jpg")).unlink()
    (root / "preds").mkdir()
    return root


@pytest.fixture(autouse=True)
def _in_project(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project)
    monkeypatch.delenv("MRCFA_DEBUG", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)


RUN = ("--profile", "smoke", "--run", "mrcfa_b1", "--no-track")

# (mistake, argv, what the last line names)
MISTAKES = [
    ("unknown run", ["config", "--profile", "smoke", "--run", "mrcfa_b7"], ["'mrcfa_b7'", "did you mean"]),
    ("unknown profile", ["config", "--profile", "papr", "--run", "mrcfa_b1"], ["'papr'", "did you mean 'paper'"]),
    ("override out of range", ["config", *RUN[:4], "--set", "model.keep_ratio=3"],
     ["error: config: model.keep_ratio:", "(0, 1]"]),
    ("override of an unknown field", ["config", *RUN[:4], "--set", "model.keep_rato=0.3"],
     ["model.keep_rato: unknown field", "'keep_ratio'"]),
    ("override of an unknown section", ["train", *RUN, "--set", "modle.keep_ratio=0.3"],
     ["modle.keep_ratio: unknown section", "'model'"]),
    ("override without a value", ["config", *RUN[:4], "--set", "train.iters"],
     ["--set train.iters", "SECTION.FIELD=VALUE"]),
    ("override of the wrong type", ["evaluate", *RUN, "--set", "train.iters=many"],
     ["train.iters: expected an integer", "'many'"]),
    ("override without a run", ["bench", "--set", "model.keep_ratio=0.3"], ["--set model.keep_ratio", "--run"]),
    ("registry that is not YAML", ["config", *RUN[:4], "--registry", "not_yaml.yaml"],
     ["not_yaml.yaml: not valid YAML at line"]),
    ("registry that is not a mapping", ["config", *RUN[:4], "--registry", "a_list.yaml"],
     ["a_list.yaml: expected a mapping", "list"]),
    ("profile extending an unknown parent", ["config", "--profile", "orphan", "--run", "mrcfa_b1"],
     ["orphan.yaml: extends", "'papr'", "did you mean 'paper'"]),
    ("profiles extending each other", ["train", "--profile", "loop_a", "--run", "mrcfa_b1"],
     ["loop_a -> loop_b -> loop_a is a cycle"]),
    ("evaluating an untrained run", ["evaluate", *RUN], ["mrcfa_b1/seed0/model.pt", "train it first"]),
    ("missing checkpoint", ["evaluate", *RUN, "--weights", "nosuch.pt"], ["nosuch.pt: no such checkpoint"]),
    ("empty checkpoint", ["evaluate", *RUN, "--weights", "empty.pt", "--data-root", "data"],
     ["empty.pt: the file is empty"]),
    ("corrupt checkpoint", ["weights", "check", "corrupt.pt"], ["corrupt.pt: cannot be read as a PyTorch checkpoint"]),
    ("checkpoint of an unknown layout", ["evaluate", *RUN, "--weights", "unknown_layout.pt", "--data-root", "data"],
     ["unknown_layout.pt", "unknown layout", "missing", "…", "--json"]),
    ("checkpoint of another architecture", ["evaluate", *RUN, "--weights", "segformer.pt", "--data-root", "data"],
     ["segformer.pt", "SegFormer", "mrcfa_b1"]),
    ("missing checkpoint to fine-tune from", ["train", *RUN, "--data-root", "data", "--init-from", "nosuch.pt"],
     ["nosuch.pt", "--init-from"]),
    ("benchmark size not a multiple of 32", ["bench", "--size", "100x100"], ["--size", "100x100", "multiples of 32"]),
    ("missing data root", ["train", *RUN, "--data-root", "nowhere"], ["nowhere", "dataset root does not exist"]),
    ("missing frame", ["evaluate", *RUN, "--weights", "segformer.pt", "--data-root", "broken"],
     ["broken/data/val_0001", "missing-frame"]),
    ("scoring against a missing ground truth", ["evaluate", "--data-root", "nowhere", "--pred-dir", "preds"],
     ["nowhere: no such folder", "--data-root"]),
    ("scoring an empty prediction folder", ["evaluate", "--data-root", "data", "--pred-dir", "preds",
                                            "--num-classes", "4"], ["preds: holds no predictions"]),
    ("synthetic data with too few classes", ["synth", "--out", "synth_out", "--classes", "1"],
     ["--classes", "1 classes"]),
    ("synthetic data with a difficulty above 1", ["synth", "--out", "synth_out", "--difficulty", "1.5"],
     ["--difficulty", "1.5"]),
    ("synthetic data into a foreign folder", ["synth", "--out", "experiments"], ["experiments", "not empty"]),
    ("data check on a missing root", ["data", "check", "nowhere"], ["nowhere", "missing-root"]),
    ("weights check of a missing file", ["weights", "check", "--arch", "mit_b1", "weights/mit_b1.pth"],
     ["weights/mit_b1.pth: no such file", "NVlabs/SegFormer"]),
    ("unknown command", ["evaluat", "--profile", "smoke"], ["'evaluat'", "--help"]),
]


@pytest.mark.parametrize("argv,culprits", [m[1:] for m in MISTAKES], ids=[m[0] for m in MISTAKES])
def test_mistake_is_one_line(argv: list[str], culprits: list[str]) -> None:
    code, _, err = run_cli(*argv)
    assert_one_line_error(code, err, *culprits)


def test_long_key_lists_are_summarised_with_every_key_under_json() -> None:
    code, out, err = run_cli("evaluate", *RUN, "--weights", "unknown_layout.pt", "--data-root", "data", "--json")
    line = assert_one_line_error(code, err, "missing")
    full = json.loads(out)
    assert len(full["missing"]) > 20 and full["missing"][3] not in line and full["unexpected"] == ["weight"]


def test_preflight_lists_every_problem_above_its_verdict(project: Path) -> None:
    profile = yaml.safe_load((project / "experiments/profiles/smoke.yaml").read_text())
    profile["model"]["pretrained"] = "weights/mit_{backbone}.pth"
    (project / "experiments/profiles/two_problems.yaml").write_text(yaml.safe_dump(profile))
    code, _, err = run_cli("train", "--profile", "two_problems", "--run", "mrcfa_b1", "--no-track",
                           "--data-root", "nowhere")
    assert_one_line_error(code, err, "preflight failed: 2 problems, listed above")
    assert "nowhere: missing-root" in err and "weights/mit_b1.pth: ImageNet MiT weights not found" in err


def test_debug_shows_the_traceback() -> None:
    with pytest.raises(ConfigError, match="unknown run"):
        main(["--debug", "config", "--profile", "smoke", "--run", "mrcfa_b7"])


def _subprocess(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mrcfa", *args], env=tool_env(**env), capture_output=True,
                          text=True, timeout=300)


def test_mistakes_in_real_processes(project: Path) -> None:
    proc = _subprocess("train", *RUN, "--data-root", str(project / "nowhere"))
    assert_one_line_error(proc.returncode, proc.stderr, "nowhere", "dataset root does not exist")
    proc = _subprocess("bench", "--size", "480x850")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1  # argparse's usage block is gone
    assert_one_line_error(proc.returncode, proc.stderr, "480x850", "multiples of 32")
    proc = _subprocess("evaluate", "--data-root", str(project / "nowhere"), "--pred-dir", "preds",
                       MRCFA_DEBUG="1")
    assert proc.returncode != 0 and "Traceback" in proc.stderr and "DataError" in proc.stderr
