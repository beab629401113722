"""Checks before any compute is spent: data layout (fast check), weights and their checksum, device, disk."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import torch

from mrcfa.config import RunConfig
from mrcfa.data.check import check_dataset
from mrcfa.data.synth import settings_mismatch
from mrcfa.errors import UserError


class PreflightError(UserError, RuntimeError):
    """Everything wrong before a job starts: one problem in the message, several as details above it."""

    def __init__(self, problems: list[str]) -> None:
        if len(problems) == 1:
            super().__init__(f"preflight failed: {problems[0]}")
        else:
            super().__init__(f"preflight failed: {len(problems)} problems, listed above",
                             [f"  {p}" for p in problems])


def sha256(path: str | Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def data_problems(cfg: RunConfig, splits: tuple[str, ...] = ("train", "val")) -> list[str]:
    num_classes = cfg.model.num_classes if cfg.data.layout == "cityscapes" else None
    problems = check_dataset(cfg.data.root, cfg.data.layout, cfg.model.ref_offsets or (), splits,
                             fast=True, num_classes=num_classes)
    found = [str(p) for p in problems]
    if cfg.synth_settings is not None and not found:
        stale = settings_mismatch(cfg.data.root, cfg.synth_settings)
        if stale:
            found += stale + [f"{cfg.data.root} was generated with other settings: regenerate it with "
                              f"`mrcfa synth --profile {cfg.profile}` (or delete it and rerun Snakemake)"]
    return found


def preflight(cfg: RunConfig, device: torch.device, work: Path, splits: tuple[str, ...] = ("train", "val"),
              min_free_gb: float = 1.0) -> dict[str, str]:
    """Raise PreflightError listing everything wrong; return facts worth recording (weights checksum…)."""
    errors = data_problems(cfg, splits)
    if len(errors) > 20:
        errors = errors[:20] + [f"… and {len(errors) - 20} more (run `mrcfa data check {cfg.data.root}`)"]
    facts = {"device": str(device)}
    if cfg.model.pretrained and not cfg.train.init_from:  # a fine-tuned run's file replaces them
        path = Path(cfg.model.pretrained)
        if not path.is_file():
            errors.append(f"{path}: ImageNet MiT weights not found; download SegFormer's {path.name} "
                          f"(NVlabs/SegFormer release) and put it there, then `mrcfa weights check "
                          f"--arch mit_{cfg.model.backbone} {path}`")
        else:
            facts["pretrained_sha256"] = sha256(path)
    if cfg.train.init_from:
        path = Path(cfg.train.init_from)
        if not path.is_file():
            errors.append(f"{path}: the model to fine-tune from (train.init_from / --init-from) is not there")
        else:
            facts["init_from_sha256"] = sha256(path)
    if device.type == "cuda" and not torch.cuda.is_available():
        errors.append("CUDA was requested but torch sees no GPU")
    work.mkdir(parents=True, exist_ok=True)
    free_gb = shutil.disk_usage(work).free / 2**30
    if free_gb < min_free_gb:
        errors.append(f"{work}: only {free_gb:.1f} GiB free, need {min_free_gb} GiB for checkpoints")
    if errors:
        raise PreflightError(errors)
    return facts
