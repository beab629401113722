"""Clip transforms: every frame of a clip shares one geometry.

As in the released pipeline (Resize -> RandomCrop -> RandomFlip ->
PhotoMetricDistortion -> Normalize -> Pad), except that scale, crop box and
flip are drawn once per clip so frames and labels stay aligned across time,
while the photometric distortion is drawn per frame.

Both transforms share one call signature,
``(frames, labels, rng) -> (float32 T x 3 x H x W, int64 T x H x W)``,
so datasets can take either. The test transform leaves labels at their
original size (predictions are resized back before scoring).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from mrcfa.data.photometric import PhotoMetricDistortion
from mrcfa.data.resize import rescale_size, resize_bilinear, resize_nearest

MEAN_RGB = np.array([123.675, 116.28, 103.53], dtype=np.float32)
STD_RGB = np.array([58.395, 57.12, 57.375], dtype=np.float32)

VSPW_SCALE = (853, 480)
CITYSCAPES_SCALE = (1024, 512)


class ClipTransform(Protocol):
    def __call__(
        self, frames: list[np.ndarray], labels: list[np.ndarray], rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]: ...


def normalize(img: np.ndarray) -> np.ndarray:
    """HxWx3 RGB uint8 -> 3xHxW float32 with ImageNet mean/std."""
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"expected an HxWx3 RGB image, got shape {img.shape}")
    out = (img.astype(np.float32) - MEAN_RGB) / STD_RGB
    return np.ascontiguousarray(out.transpose(2, 0, 1))


def _check_clip(frames: Sequence[np.ndarray], labels: Sequence[np.ndarray]) -> tuple[int, int]:
    if not frames:
        raise ValueError("empty clip: no frames given")
    if len(frames) != len(labels):
        raise ValueError(f"clip has {len(frames)} frames but {len(labels)} labels")
    size = frames[0].shape[:2]
    for k, (f, lab) in enumerate(zip(frames, labels)):
        if f.shape[:2] != size or lab.shape[:2] != size:
            raise ValueError(
                f"clip element {k}: frame {f.shape[:2]} / label {lab.shape[:2]} differ from "
                f"frame 0 {size}; all frames and labels of a clip must share one size"
            )
    return size


class ClipTrainTransform:
    """Random scale, cat-max-ratio crop, flip, photometric distortion, normalise, pad."""

    def __init__(
        self,
        crop: tuple[int, int] = (480, 480),
        scale_base: tuple[int, int] = VSPW_SCALE,
        scale_ratio: tuple[float, float] = (0.5, 2.0),
        cat_max_ratio: float = 0.75,
        flip_prob: float = 0.5,
        photometric: bool = True,
        ignore_index: int = 255,
    ) -> None:
        self.crop = (int(crop[0]), int(crop[1]))
        self.scale_base = (int(scale_base[0]), int(scale_base[1]))
        self.scale_ratio = (float(scale_ratio[0]), float(scale_ratio[1]))
        self.cat_max_ratio = cat_max_ratio
        self.flip_prob = flip_prob
        self.distort = PhotoMetricDistortion() if photometric else None
        self.ignore_index = ignore_index

    def __call__(
        self, frames: list[np.ndarray], labels: list[np.ndarray], rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        size = _check_clip(frames, labels)
        new_size = self._draw_size(size, rng)
        labs = [resize_nearest(lab, new_size) for lab in labels]
        top, left = self._draw_crop(labs[-1], rng)  # the target is last
        ch, cw = self.crop
        labs = [lab[top : top + ch, left : left + cw] for lab in labs]
        imgs = [resize_bilinear(f, new_size)[top : top + ch, left : left + cw] for f in frames]
        if rng.random() < self.flip_prob:
            imgs = [f[:, ::-1] for f in imgs]
            labs = [lab[:, ::-1] for lab in labs]
        if self.distort is not None:
            imgs = [self.distort(np.ascontiguousarray(f), rng) for f in imgs]
        return self._normalize_and_pad(imgs, labs)

    def _draw_size(self, size: tuple[int, int], rng: np.random.Generator) -> tuple[int, int]:
        # mmseg Resize(ratio_range): scale = int(base * ratio), then keep-ratio rescale.
        r0, r1 = self.scale_ratio
        ratio = rng.random() * (r1 - r0) + r0
        scale = (int(self.scale_base[0] * ratio), int(self.scale_base[1] * ratio))
        return rescale_size(size, scale)

    def _random_box(self, shape: tuple[int, ...], rng: np.random.Generator) -> tuple[int, int]:
        top = int(rng.integers(0, max(shape[0] - self.crop[0], 0) + 1))
        left = int(rng.integers(0, max(shape[1] - self.crop[1], 0) + 1))
        return top, left

    def _draw_crop(self, target: np.ndarray, rng: np.random.Generator) -> tuple[int, int]:
        """mmseg RandomCrop: up to 10 checks; accept a box only if it shows more
        than one class and none covers cat_max_ratio of the valid pixels."""
        box = self._random_box(target.shape, rng)
        if self.cat_max_ratio >= 1.0:
            return box
        ch, cw = self.crop
        for _ in range(10):
            patch = target[box[0] : box[0] + ch, box[1] : box[1] + cw]
            counts = np.bincount(patch.ravel(), minlength=self.ignore_index + 1)  # labels are uint8: no sort
            counts[self.ignore_index] = 0
            counts = counts[counts > 0]
            if len(counts) > 1 and counts.max() / counts.sum() < self.cat_max_ratio:
                break
            box = self._random_box(target.shape, rng)
        return box

    def _normalize_and_pad(self, imgs: list[np.ndarray], labs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        # Pad after normalising, so padded pixels are 0 in normalised space (mmseg Pad). Each colour plane is
        # normalised straight into its slot of the clip array: the same arithmetic as `normalize`, no copies.
        ch, cw = self.crop
        h, w = imgs[0].shape[:2]
        out_h, out_w = max(h, ch), max(w, cw)
        frames = np.zeros((len(imgs), 3, out_h, out_w), dtype=np.float32)
        labels = np.full((len(labs), out_h, out_w), self.ignore_index, dtype=np.int64)
        for k, (f, lab) in enumerate(zip(imgs, labs)):
            for c in range(3):
                plane = frames[k, c, :h, :w]
                np.subtract(f[..., c], MEAN_RGB[c], out=plane, dtype=np.float32)
                np.divide(plane, STD_RGB[c], out=plane)
            labels[k, :h, :w] = lab
        return frames, labels


class ClipTestTransform:
    """mmseg AlignedResize: keep-ratio rescale to fit ``base`` (w, h), then round
    each side up to a multiple of ``align``; normalise. Labels are untouched."""

    def __init__(self, base: tuple[int, int] = VSPW_SCALE, align: int = 32) -> None:
        self.base = (int(base[0]), int(base[1]))
        self.align = int(align)

    def sizes(self, size_hw: tuple[int, int]) -> tuple[tuple[int, int], tuple[int, int]]:
        """(rescaled, aligned) sizes, both (h, w), for an input of ``size_hw``."""
        h, w = rescale_size(size_hw, self.base)
        a = self.align
        return (h, w), (int(math.ceil(h / a)) * a, int(math.ceil(w / a)) * a)

    def output_size(self, size_hw: tuple[int, int]) -> tuple[int, int]:
        return self.sizes(size_hw)[1]

    def image(self, frame: np.ndarray) -> np.ndarray:
        """One HxWx3 uint8 frame -> 3 x H' x W' float32 at test size."""
        rescaled, aligned = self.sizes(frame.shape[:2])
        # Two resizes as in the released AlignedResize (rescale, then align).
        return normalize(resize_bilinear(resize_bilinear(frame, rescaled), aligned))

    def __call__(
        self,
        frames: list[np.ndarray],
        labels: list[np.ndarray],
        rng: np.random.Generator | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        _check_clip(frames, labels)
        imgs = np.stack([self.image(f) for f in frames])
        return imgs, np.stack([lab.astype(np.int64) for lab in labels])
