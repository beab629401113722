"""Where the report was made: Python, package versions and git commit, without importing them."""

from __future__ import annotations

import platform
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

# Versions come from package metadata: importing torch or mlflow just to print a version would
# cost seconds (and torch is kept out of the analysis on purpose).
PACKAGES = ("pandas", "numpy", "matplotlib", "tabulate", "PyYAML", "pillow", "mlflow", "torch")


@dataclass(frozen=True)
class Environment:
    python: str
    platform: str
    packages: dict[str, str]  # name -> version, or "not installed"
    git_commit: str
    git_dirty: bool | None


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str]:
    out = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def collect(repo: Path) -> Environment:
    commit = _git(["rev-parse", "HEAD"], repo)
    status = _git(["status", "--porcelain", "--untracked-files=no"], repo) if commit else None
    return Environment(
        python=sys.version.split()[0],
        platform=platform.platform(),
        packages=package_versions(),
        git_commit=commit or "unknown (no git repository or no commit yet)",
        git_dirty=None if status is None else bool(status),
    )
