"""What made a result: a fingerprint of the code that decides its numbers, and the git state as information.

The fingerprint covers `CODE` (paths from the repository root): the model, the data (readers, transforms and the
synthetic generator with its default knobs), the engine (training, evaluation, benchmarking), the metrics, and
the config module, which turns the registry and a profile into the values the engine reads. The config hash
covers those values; the fingerprint covers what the code does with them. One fingerprint serves every kind
of result: training and evaluation numbers depend on all of it (the weights come through the data, loss and
engine), and only the benchmark could do with less (models and engine), where a needless rerun is cheap.

Each file counts by its syntax tree, docstrings left out, printed back as canonical source (`ast.unparse`, not
`ast.dump`, whose node fields change between Python versions): comments, docstrings and formatting do not change
the fingerprint, any code edit does. Files are read in sorted path order, each under its path, so moving or
adding a file counts too. No torch: the analysis reads this.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import os
import subprocess
from pathlib import Path
from typing import Any

CODE = ("mrcfa/config.py", "mrcfa/data", "mrcfa/engine", "mrcfa/metrics.py", "mrcfa/models")
KEY = "code_fingerprint"  # its key in train.json, metrics.json and bench.json
KINDS = ("train", "metrics", "bench")  # the results files, as `analysis.results` names their provenance
REPO_ROOT = Path(__file__).resolve().parent.parent


def tag(kind: str) -> str:
    """The MLflow tag of one kind of result's fingerprint: train, evaluate and bench jobs share the MLflow run of
    (run, seed), so each kind keeps its own tag, e.g. `mrcfa.code_fingerprint.metrics`."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind of result {kind!r}; one of {', '.join(KINDS)}")
    return f"mrcfa.{KEY}.{kind}"


def _without_docstrings(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                node.body = body[1:] or [ast.Pass()]
    return tree


def _sources(root: Path) -> list[Path]:
    files: list[Path] = []
    for rel in CODE:
        p = root / rel
        files += sorted(p.rglob("*.py")) if p.is_dir() else [p]
    return sorted(files, key=lambda f: f.relative_to(root).as_posix())


def code_fingerprint(root: str | os.PathLike[str] = REPO_ROOT) -> str:
    """12 hex digits over `CODE` under `root` (a checkout holding the `mrcfa` package)."""
    root = Path(root)
    digest = hashlib.sha256()
    for path in _sources(root):
        canonical = ast.unparse(_without_docstrings(ast.parse(path.read_bytes(), filename=str(path))))
        digest.update(f"{path.relative_to(root).as_posix()}\n{canonical}\n".encode())
    return digest.hexdigest()[:12]


def git_state(cwd: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """``{"commit": sha or None, "dirty": bool or None}``; None where git or a repo is missing. Dirty means a
    tracked file differs from the commit: untracked files (results, a virtual environment) do not count."""

    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(
                ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10, check=True
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout

    head = git("rev-parse", "--verify", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    return {
        "commit": (head.strip() or None) if head else None,
        "dirty": bool(status.strip()) if status is not None else None,
    }


@functools.cache
def current() -> str:
    """This process's code fingerprint, computed once."""
    return code_fingerprint()


@functools.cache
def _stamp() -> tuple[tuple[str, Any], ...]:
    # Only the package's own checkout: an installed copy may sit inside some other repository.
    git = git_state(REPO_ROOT) if (REPO_ROOT / ".git").exists() else {"commit": None, "dirty": None}
    return (KEY, current()), ("git_commit", git["commit"]), ("git_dirty", git["dirty"])


def stamp() -> dict[str, Any]:
    """What a results file records about the code that made it: the fingerprint (compared by the tables), and
    the checkout's git commit and dirty flag (information only, None outside a git checkout). Computed once."""
    return dict(_stamp())
