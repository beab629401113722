"""What MLflow accepts: flattened string params, clean keys, quotable names; and the git state a run records."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Mapping
from typing import Any

_BAD_KEY_CHARS = re.compile(r"[^\w./\- ]")


def git_state(cwd: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """``{"commit": sha or None, "dirty": bool or None}``; None where git or a repo is missing."""

    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(
                ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10, check=True
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout

    head = git("rev-parse", "--verify", "HEAD")
    status = git("status", "--porcelain")
    return {
        "commit": (head.strip() or None) if head else None,
        "dirty": bool(status.strip()) if status is not None else None,
    }


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
