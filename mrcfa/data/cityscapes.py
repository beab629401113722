"""Cityscapes with sequence frames: one clip per annotated frame.

References are unannotated frames of the same 30-frame snippet (the
annotated frame is its 20th); see :mod:`mrcfa.data.cityscapes_layout`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from torch.utils.data import Dataset

from mrcfa.data.cityscapes_layout import (
    IGNORE_INDEX,
    IMAGE_SUFFIX,
    LABEL_SUFFIX,
    CityscapesSample,
    cityscapes_samples,
    detect_layout,
    find_frame,
    image_dirs,
)
from mrcfa.data.clips import validate_offsets
from mrcfa.data.io import CHECK_HINT, load_label, load_rgb
from mrcfa.data.item import clip_item, sample_rng
from mrcfa.data.transforms import ClipTransform

__all__ = ["CityscapesClipDataset", "CityscapesSample", "cityscapes_samples", "detect_layout"]


class CityscapesClipDataset(Dataset):  # type: ignore[type-arg]
    """Clips (references..., target) around each annotated frame.

    With ``random_sign`` (default: split == "train") the offsets are negated
    with probability 0.5, as released. A missing reference is replaced by the
    frame at the opposite offset. Only the target has a label: references'
    labels are all ignore and ``labeled`` is False for them.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        split: str,
        offsets: Sequence[int],
        transform: ClipTransform,
        seed: int = 0,
        random_sign: bool | None = None,
        repeat: int = 1,
    ) -> None:
        self.root = Path(root)
        self.split = split
        self.offsets = validate_offsets(offsets)
        self.transform = transform
        self.seed = seed
        self.random_sign = split == "train" if random_sign is None else random_sign
        self.repeat = int(repeat)
        self.epoch = 0
        self.layout = detect_layout(self.root, split)
        self.dirs = image_dirs(self.root, split, self.layout)
        self.samples = cityscapes_samples(self.root, split)
        if not self.samples:
            raise ValueError(f"{self.root / 'gtFine' / split}: no *{LABEL_SUFFIX} files found")

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.samples) * self.repeat

    def reference_paths(self, sample: CityscapesSample, negate: bool) -> list[Path]:
        paths = []
        for o in self.offsets:
            off = -o if negate else o
            path = find_frame(self.dirs, sample.city, sample.stem(sample.frame + off))
            if path is None:
                path = find_frame(self.dirs, sample.city, sample.stem(sample.frame - off))
            if path is None:
                ahead, behind = sample.stem(sample.frame + off), sample.stem(sample.frame - off)
                raise FileNotFoundError(
                    f"{self.dirs[0] / sample.city}: neither {ahead}{IMAGE_SUFFIX} nor "
                    f"{behind}{IMAGE_SUFFIX} exists (reference of {sample.stem()}); {CHECK_HINT}"
                )
            paths.append(path)
        return paths

    def __getitem__(self, index: int) -> dict[str, Any]:
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} samples")
        rng = sample_rng(self.seed, self.epoch, index)
        sample = self.samples[index % len(self.samples)]
        negate = bool(self.random_sign and rng.random() < 0.5)
        target = find_frame(self.dirs[::-1], sample.city, sample.stem())
        if target is None:
            raise FileNotFoundError(
                f"{self.dirs[-1] / sample.city / (sample.stem() + IMAGE_SUFFIX)}: annotated frame "
                f"is missing; {CHECK_HINT}"
            )
        frames = [load_rgb(p) for p in self.reference_paths(sample, negate)] + [load_rgb(target)]
        label = load_label(sample.label_path)
        if label.shape != frames[-1].shape[:2]:
            raise ValueError(
                f"{sample.label_path}: label size {label.shape} differs from frame size "
                f"{frames[-1].shape[:2]} of {target}"
            )
        blank = np.full_like(label, IGNORE_INDEX)
        labels = [blank] * len(self.offsets) + [label]
        labeled = [False] * len(self.offsets) + [True]
        return clip_item(
            frames, labels, labeled, self.transform, rng, sample.snippet, sample.stem()
        )
