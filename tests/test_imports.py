"""Imports run downward only: the run config below the experiments files, `analysis` beside the engine, never
on it (so that tables and plots rebuild without torch)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from conftest import ROOT, tool_env


def imported(path: Path) -> set[str]:
    """Every module `path` imports, at module level or inside a function."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def under(names: set[str], package: str) -> set[str]:
    return {n for n in names if n == package or n.startswith(package + ".")}


def test_config_imports_nothing_above_it():
    names = imported(ROOT / "mrcfa/config.py")
    for upper in ("mrcfa.experiments", "mrcfa.engine", "mrcfa.tracking", "mrcfa.cli", "torch"):
        assert not under(names, upper), f"mrcfa/config.py imports {sorted(under(names, upper))}"


def test_analysis_imports_nothing_of_the_engine():
    offending = {path.name: sorted(under(imported(path), "mrcfa.engine"))
                 for path in sorted((ROOT / "analysis").glob("*.py"))}
    assert not {name: found for name, found in offending.items() if found}


def test_analysis_loads_neither_torch_nor_the_engine():
    code = ("import importlib, pkgutil, sys, analysis\n"
            "for m in pkgutil.iter_modules(analysis.__path__):\n"
            "    if m.name != '__main__': importlib.import_module('analysis.' + m.name)\n"
            "print(sorted(k for k in sys.modules if k.split('.')[0] == 'torch' or k.startswith('mrcfa.engine')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=tool_env(), capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
