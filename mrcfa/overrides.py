"""`--set SECTION.FIELD=VALUE`: config fields changed on the command line.

Values are YAML, as in the profiles (`0.3`, `true`, `[-6, -3]`, `null`); the config built with them is checked
by the validator that checks the profiles and the registry (`mrcfa.config.check_schema`, then each section's
range checks), so a wrong name or value is a one-line error naming the field.
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from mrcfa.config import ConfigError
from mrcfa.errors import hint

SECTIONS = ("model", "data", "train", "bench")
# YAML 1.1 reads `1e-3` (no dot) as a string; a learning rate written so is meant as a number.
_EXPONENT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """['model.keep_ratio=0.3', …] -> {'model.keep_ratio': 0.3, …}; a later item for the same key wins."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"--set {item}: expected SECTION.FIELD=VALUE, e.g. model.keep_ratio=0.3")
        section, _, name = key.partition(".")
        if section not in SECTIONS:
            raise ConfigError(f"{key}: unknown section {section!r}; {hint(section, SECTIONS)} "
                              f"(--set SECTION.FIELD=VALUE, SECTION one of {', '.join(SECTIONS)})")
        if not name:
            raise ConfigError(f"{key}: name a field of {section}, e.g. --set {section}.FIELD=VALUE")
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError:
            raise ConfigError(f"{key}: {text!r} is not a YAML value (quote strings, write lists as [a, b])") from None
        out[key] = float(value) if isinstance(value, str) and _EXPONENT.fullmatch(value) else value
    return out


def format_overrides(overrides: dict[str, Any]) -> str:
    """{'model.keep_ratio': 0.3, 'train.iters': 200} -> 'model.keep_ratio=0.3 train.iters=200'."""
    return " ".join(f"{k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in overrides.items())
