"""Data: VSPW and Cityscapes clip loaders, clip transforms, synthetic benchmark, checker.

Importing this package is cheap: modules that need torch (the datasets and
their items) load on first use of their names.
"""

from __future__ import annotations

import importlib
from typing import Any

from mrcfa.data.check import Problem, check_dataset
from mrcfa.data.clips import test_reference_positions, train_clip_positions
from mrcfa.data.synth import Knobs, write_synthetic
from mrcfa.data.vspw_layout import list_videos, video_frames

_LAZY = {
    "VSPWClipDataset": "mrcfa.data.vspw",
    "VSPWVideo": "mrcfa.data.vspw",
    "CityscapesClipDataset": "mrcfa.data.cityscapes",
    "cityscapes_samples": "mrcfa.data.cityscapes_layout",
    "ClipTrainTransform": "mrcfa.data.transforms",
    "ClipTestTransform": "mrcfa.data.transforms",
    "normalize": "mrcfa.data.transforms",
}

__all__ = [
    "Knobs",
    "Problem",
    "check_dataset",
    "list_videos",
    "test_reference_positions",
    "train_clip_positions",
    "video_frames",
    "write_synthetic",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'mrcfa.data' has no attribute {name!r}")
