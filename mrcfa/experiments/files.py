"""Reading the experiments files: YAML into plain data, merged layers, dotted keys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from mrcfa.config import ConfigError

REPO_ROOT = Path(__file__).resolve().parents[2]
EXPERIMENTS = REPO_ROOT / "experiments"


def load_yaml(path: Path) -> dict[str, Any]:
    """A YAML file holding a mapping; anything else is a one-line `ConfigError` naming the file."""
    if not path.is_file():
        raise ConfigError(f"{path}: file not found")
    try:
        with open(path) as f:  # libyaml's loader when present: the registry is read at every Snakemake start
            data = yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
    except yaml.YAMLError as e:
        where = getattr(e, "problem_mark", None)
        at = f" at line {where.line + 1}, column {where.column + 1}" if where else ""
        raise ConfigError(f"{path}: not valid YAML{at}: {getattr(e, 'problem', None) or e}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a text file") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got a {type(data).__name__}")
    return data


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """`over` on top of `base`: mappings merge key by key, anything else (lists too) is replaced."""
    out = dict(base)
    for k, v in over.items():
        out[k] = deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def nest(dotted: dict[str, Any]) -> dict[str, Any]:
    """{"model.keep_ratio": 0.3} -> {"model": {"keep_ratio": 0.3}}, later keys on top of earlier ones."""
    out: dict[str, Any] = {}
    for key, value in dotted.items():
        for part in reversed(key.split(".")):
            value = {part: value}
        out = deep_merge(out, value)
    return out
