"""The pins agree everywhere: requirements.txt, constraints.txt, environment.yml and pyproject.toml."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _pins(lines: list[str]) -> dict[str, str]:
    pins = {}
    for line in lines:
        m = re.match(r"^\s*([A-Za-z0-9_.\-]+)==([^\s;#]+)", line)
        if m:
            pins[m.group(1).lower().replace("_", "-")] = m.group(2)
    return pins


def test_requirements_environment_and_constraints_agree():
    req = _pins((ROOT / "requirements.txt").read_text().splitlines())
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert _pins(pip_section) == req
    constraints = _pins((ROOT / "constraints.txt").read_text().splitlines())
    assert {k: constraints.get(k) for k in req} == req
    assert req["torch"] == "2.14.1" and req["torchvision"] == "0.29.1" and req["mlflow"] == "3.17.2"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    # `analysis` imports scipy (the claims' t quantiles): declared and pinned, not only installed with mlflow.
    assert f"scipy=={req['scipy']}" in project["dependencies"]
    for dep in project["dependencies"]:
        name, _, version = dep.partition("==")
        if version:
            assert req[name.lower()] == version, dep


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme.split("\n## ", 1)[0]
    assert "make test" in (ROOT / ".ci" / "run").read_text()
