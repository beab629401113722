"""Reading checkpoints and comparing them with a module, key by key and shape by shape.

A partial load is never silent: `load_strict` loads every tensor or none, and its error is one line of
counts (the key lists travel with the exception, for `--json` output). torch is imported only to read a
file, so the command line can catch `CheckpointMismatch` without loading torch for every command.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

from mrcfa.errors import UserError

SHOWN_KEYS = 3  # keys named in a one-line message; the full lists go to --json


class CheckpointMismatch(UserError, RuntimeError):
    """A checkpoint cannot be read, or does not fit the model exactly."""

    def __init__(self, message: str, report: "WeightReport | None" = None) -> None:
        super().__init__(message)
        self.report = report


@dataclass
class WeightReport:
    loaded: int = 0
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    mismatched: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.unexpected or self.mismatched)

    def summary(self) -> str:
        """'3 missing (a, b, c), 1 unexpected (d)' — counts and the first few keys."""
        parts = []
        for title, keys in (("missing", self.missing), ("unexpected", self.unexpected),
                            ("of the wrong shape", self.mismatched)):
            if keys:
                shown = ", ".join(keys[:SHOWN_KEYS]) + (", …" if len(keys) > SHOWN_KEYS else "")
                parts.append(f"{len(keys)} {title} ({shown})")
        return "; ".join(parts) or f"all {self.loaded} tensors match"

    def to_dict(self) -> dict[str, Any]:
        return {"loaded": self.loaded, "missing": self.missing, "unexpected": self.unexpected,
                "mismatched": self.mismatched}


def compare(module: torch.nn.Module, state: dict[str, torch.Tensor], extra: list[str] | None = None) -> WeightReport:
    """How `state` fits `module`; `extra` are source keys that have no counterpart at all."""
    own = module.state_dict()
    common = set(own) & set(state)
    report = WeightReport(
        missing=sorted(set(own) - set(state)),
        unexpected=sorted((set(state) - set(own)) | set(extra or ())),
        mismatched=sorted(f"{k}: {tuple(state[k].shape)} != {tuple(own[k].shape)}"
                          for k in common if state[k].shape != own[k].shape),
    )
    report.loaded = len(common) - len(report.mismatched)
    return report


def load_strict(module: torch.nn.Module, state: dict[str, torch.Tensor], what: str,
                extra: list[str] | None = None) -> WeightReport:
    """Load every tensor or nothing; `what` names the source in the one-line error."""
    report = compare(module, state, extra)
    if not report.ok:
        raise CheckpointMismatch(f"{what} does not fit the model: {report.summary()}", report)
    module.load_state_dict(state, strict=True)
    return report


def _load_failure(e: Exception) -> str:
    """torch.load's reason in one short line: its weights-only refusal names the cause after a long preamble."""
    text = " ".join(str(e).split()) or type(e).__name__
    unpickler = text.find("WeightsUnpickler error:")
    if unpickler >= 0:
        text = text[unpickler:].split(" Check the documentation", 1)[0]
    return text if len(text) <= 160 else text[:157] + "…"


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """A checkpoint's tensors, read safely (`weights_only`) and unwrapped from mmcv/timm containers."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: checkpoint not found")
    if path.stat().st_size == 0:
        raise CheckpointMismatch(f"{path}: the file is empty (an interrupted download or copy?)")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # corrupt file, pickle with arbitrary objects, truncated download
        raise CheckpointMismatch(f"{path}: cannot be read as a PyTorch checkpoint ({_load_failure(e)}); "
                                 "copy or download it again") from e
    for key in ("state_dict", "model"):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
    if not isinstance(obj, dict) or not obj or not all(torch.is_tensor(v) for v in obj.values()):
        raise CheckpointMismatch(f"{path}: holds no state dict of tensors")
    return obj
