"""What MLflow accepts: flattened string params, clean keys, quotable names."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

_BAD_KEY_CHARS = re.compile(r"[^\w./\- ]")


def _param_str(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, (bool, int, float, list, tuple)):
        return json.dumps(value, default=str)
    return str(value)


def flatten(d: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested mapping -> ``{"a.b.c": str}``; lists and scalars are JSON-encoded (except strings)."""
    out: dict[str, str] = {}
    for key, value in d.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            out.update(flatten(value, name) if value else {name: "{}"})
        else:
            out[name] = _param_str(value)
    return out


def clean_key(name: str) -> str:
    # MLflow rejects other characters in param/metric keys; a mirror should not fail on them.
    return _BAD_KEY_CHARS.sub("_", str(name))[:250]


def quoted(value: str, what: str) -> str:
    """`value`, checked to be safe inside the quotes of a search filter."""
    if not value or "'" in value or '"' in value or "`" in value:
        raise ValueError(f"invalid {what} for tracking: {value!r}")
    return value
