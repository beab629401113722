"""Data: VSPW and Cityscapes clip loaders, clip transforms, synthetic benchmark, checker.

Importing this package costs nothing: every name loads its module on first use, so that `mrcfa.config` can
read the generator's settings (`mrcfa.data.synth_settings`) without numpy, OpenCV or torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "Knobs": "mrcfa.data.synth_settings",
    "SynthSettings": "mrcfa.data.synth_settings",
    "Problem": "mrcfa.data.check",
    "check_dataset": "mrcfa.data.check",
    "test_reference_positions": "mrcfa.data.clips",
    "train_clip_positions": "mrcfa.data.clips",
    "write_synthetic": "mrcfa.data.synth",
    "list_videos": "mrcfa.data.vspw_layout",
    "video_frames": "mrcfa.data.vspw_layout",
    "VSPWClipDataset": "mrcfa.data.vspw",
    "VSPWVideo": "mrcfa.data.vspw",
    "CityscapesClipDataset": "mrcfa.data.cityscapes",
    "cityscapes_samples": "mrcfa.data.cityscapes_layout",
    "ClipTrainTransform": "mrcfa.data.transforms",
    "ClipTestTransform": "mrcfa.data.transforms",
    "normalize": "mrcfa.data.transforms",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'mrcfa.data' has no attribute {name!r}")
