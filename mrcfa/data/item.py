"""Turning a loaded clip into a dataset item, with reproducible randomness."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from mrcfa.data.transforms import ClipTransform


def sample_rng(seed: int, epoch: int, index: int) -> np.random.Generator:
    """The RNG of one sample: a pure function of (seed, epoch, index).

    It does not depend on the DataLoader worker or on what was drawn before,
    so a run resumed mid-epoch sees the same clips and augmentations.
    """
    return np.random.default_rng([int(seed), int(epoch), int(index)])


def clip_item(
    frames: list[np.ndarray],
    labels: list[np.ndarray],
    labeled: list[bool],
    transform: ClipTransform,
    rng: np.random.Generator,
    video: str,
    target: str,
) -> dict[str, Any]:
    """Apply the clip transform and package tensors (target frame last)."""
    imgs, labs = transform(frames, labels, rng)
    return {
        "frames": torch.from_numpy(np.ascontiguousarray(imgs, dtype=np.float32)),
        "labels": torch.from_numpy(np.ascontiguousarray(labs, dtype=np.int64)),
        "labeled": torch.tensor(labeled, dtype=torch.bool),
        "video": video,
        "target": target,
    }
