"""Shared fixtures: a scratch copy of the pipeline (Snakefile, workflow, experiments) to run real jobs in."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from mrcfa.offline import OFFLINE_ENV

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def tool_env(**extra: str) -> dict[str, str]:
    """Environment for subprocesses: this interpreter's tools first on PATH, no tracking server, no network."""
    env = dict(os.environ)
    env.pop("MLFLOW_TRACKING_URI", None)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update(OFFLINE_ENV)
    env.update(extra)
    return env


def copy_pipeline(dest: Path) -> Path:
    """Copies of the pipeline files (Snakefile, workflow, experiments) in `dest`."""
    for name in ("Snakefile", "workflow", "experiments"):
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(src, dest / name)
    return dest


@pytest.fixture
def pipeline_dir(tmp_path: Path) -> Path:
    """A project folder holding copies of the pipeline files; jobs write results/, work/, data/ there."""
    return copy_pipeline(tmp_path)
