"""VSPW training clips and evaluation videos (layout in :mod:`mrcfa.data.vspw_layout`)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from mrcfa.data.clips import max_offset, train_clip_positions, validate_offsets
from mrcfa.data.io import load_label, load_rgb
from mrcfa.data.item import clip_item, sample_rng
from mrcfa.data.transforms import ClipTestTransform, ClipTransform
from mrcfa.data.vspw_layout import (
    IMAGE_EXT,
    frame_path,
    list_videos,
    mask_path,
    reduce_zero_label,
    video_dir,
    video_frames,
)

__all__ = ["VSPWClipDataset", "VSPWVideo", "list_videos", "video_frames", "reduce_zero_label"]


class VSPWClipDataset(Dataset):  # type: ignore[type-arg]
    """One random training clip per video per pass (``repeat`` passes per epoch).

    Items: frames (T x 3 x H x W float32), labels (T x H x W int64),
    labeled (T bool, all True: every VSPW frame has a mask), video, target
    (the target frame's stem). The target is the last frame of the clip.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        split: str,
        offsets: Sequence[int],
        transform: ClipTransform,
        reduce_zero_label: bool = True,
        seed: int = 0,
        repeat: int = 1,
        reverse_prob: float = 0.5,
    ) -> None:
        self.root = Path(root)
        self.offsets = validate_offsets(offsets)
        self.transform = transform
        self.reduce_zero_label = reduce_zero_label
        self.seed = seed
        self.repeat = int(repeat)
        self.reverse_prob = reverse_prob
        self.epoch = 0
        self.videos = list_videos(self.root, split)
        if not self.videos:
            raise ValueError(f"{self.root / f'{split}.txt'}: lists no videos")
        self.frames = {v: video_frames(self.root, v) for v in self.videos}
        need = max_offset(self.offsets) + 1
        short = [f"{v} ({len(self.frames[v])})" for v in self.videos if len(self.frames[v]) < need]
        if short:
            raise ValueError(
                f"{self.root}: {len(short)} video(s) of split {split!r} have fewer than {need} "
                f"frames, too few for offsets {self.offsets}: {', '.join(short)}; drop them from "
                f"{split}.txt or use smaller offsets"
            )

    def set_epoch(self, epoch: int) -> None:
        """Change the randomness per pass; call before each epoch (any worker count)."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.videos) * self.repeat

    def __getitem__(self, index: int) -> dict[str, Any]:
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} samples")
        rng = sample_rng(self.seed, self.epoch, index)
        video = self.videos[index % len(self.videos)]
        stems = self.frames[video]
        positions = train_clip_positions(len(stems), self.offsets, rng, self.reverse_prob)
        chosen = [stems[p] for p in positions]
        frames = [load_rgb(frame_path(self.root, video, s)) for s in chosen]
        labels = [self._label(video, s) for s in chosen]
        labeled = [True] * len(chosen)
        return clip_item(frames, labels, labeled, self.transform, rng, video, chosen[-1])

    def _label(self, video: str, stem: str) -> np.ndarray:
        label = load_label(mask_path(self.root, video, stem))
        return reduce_zero_label(label) if self.reduce_zero_label else label


class VSPWVideo:
    """All frames of one video for evaluation, at test size, in order.

    ``frame(i)`` gives the normalised frame at test size, its label at the
    original size (reduced; None where the split has no masks) and its stem.
    Reference choice near the start is :func:`mrcfa.data.clips.test_reference_positions`.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        video: str,
        transform: ClipTestTransform,
        reduce_zero_label: bool = True,
    ) -> None:
        self.root = Path(root)
        self.video = video
        self.transform = transform
        self.reduce_zero_label = reduce_zero_label
        self.stems = video_frames(self.root, video)
        if not self.stems:
            raise ValueError(f"{video_dir(self.root, video) / 'origin'}: no {IMAGE_EXT} frames")
        self._original_size: tuple[int, int] | None = None

    def __len__(self) -> int:
        return len(self.stems)

    @property
    def original_size(self) -> tuple[int, int]:
        """(h, w) of the video's frames as stored."""
        if self._original_size is None:
            with Image.open(frame_path(self.root, self.video, self.stems[0])) as img:
                self._original_size = (img.height, img.width)
        return self._original_size

    def frame(self, i: int) -> tuple[torch.Tensor, np.ndarray | None, str]:
        stem = self.stems[i]
        img = load_rgb(frame_path(self.root, self.video, stem))
        tensor = torch.from_numpy(self.transform.image(img))
        path = mask_path(self.root, self.video, stem)
        label: np.ndarray | None = None
        if path.exists():
            label = load_label(path)
            if self.reduce_zero_label:
                label = reduce_zero_label(label)
            if label.shape != img.shape[:2]:
                raise ValueError(
                    f"{path}: label size {label.shape} differs from frame size {img.shape[:2]}"
                )
        return tensor, label, stem
