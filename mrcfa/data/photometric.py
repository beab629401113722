"""mmseg's PhotoMetricDistortion for one RGB uint8 frame, driven by a given RNG.

Each step fires with probability 0.5; contrast goes before or after the HSV
steps at random. Values are truncated to uint8 after every step, as mmseg
does, and hue lives on OpenCV's 0..179 scale. The colour conversions are OpenCV's, as mmcv's are; the
frame is RGB here and BGR in mmseg, which only swaps the names of the channels the conversion reads.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


def rgb_to_hsv(img: np.ndarray) -> np.ndarray:
    """RGB uint8 -> HSV uint8 on OpenCV's scale (H 0..179, S and V 0..255), as mmcv.bgr2hsv on BGR."""
    return cv2.cvtColor(img, cv2.COLOR_RGB2HSV)


def hsv_to_rgb(hsv: np.ndarray) -> np.ndarray:
    """Inverse of :func:`rgb_to_hsv` (OpenCV's, as mmcv.hsv2bgr)."""
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)


_LEVELS = np.arange(256)


def _affine_table(alpha: float = 1.0, beta: float = 0.0) -> np.ndarray:
    # mmseg's float32 arithmetic depends on the pixel value alone: compute it once per level, then look it up.
    return np.clip(_LEVELS.astype(np.float32) * alpha + beta, 0, 255).astype(np.uint8)


def _affine(x: np.ndarray, alpha: float = 1.0, beta: float = 0.0) -> np.ndarray:
    return cv2.LUT(x, _affine_table(alpha, beta))


def _one_channel(img: np.ndarray, channel: int, table: np.ndarray) -> np.ndarray:
    """Apply `table` to one channel of an HxWx3 uint8 image (the others pass unchanged), in one LUT pass."""
    tables = np.repeat(_LEVELS.astype(np.uint8)[:, None], 3, axis=1)
    tables[:, channel] = table
    return cv2.LUT(img, tables.reshape(256, 1, 3))


@dataclass(frozen=True)
class PhotoMetricDistortion:
    brightness_delta: int = 32
    contrast_range: tuple[float, float] = (0.5, 1.5)
    saturation_range: tuple[float, float] = (0.5, 1.5)
    hue_delta: int = 18

    def __call__(self, img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        if rng.integers(2):
            img = _affine(img, beta=rng.uniform(-self.brightness_delta, self.brightness_delta))
        contrast_first = bool(rng.integers(2))
        if contrast_first:
            img = self._contrast(img, rng)
        if rng.integers(2):
            hsv = rgb_to_hsv(img)
            img = hsv_to_rgb(_one_channel(hsv, 1, _affine_table(alpha=rng.uniform(*self.saturation_range))))
        if rng.integers(2):
            hsv = rgb_to_hsv(img)
            # mmseg draws with np.random.randint(-d, d): the upper end is exclusive.
            shift = int(rng.integers(-self.hue_delta, self.hue_delta))
            img = hsv_to_rgb(_one_channel(hsv, 0, ((_LEVELS + shift) % 180).astype(np.uint8)))
        if not contrast_first:
            img = self._contrast(img, rng)
        return img

    def _contrast(self, img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        if rng.integers(2):
            return _affine(img, alpha=rng.uniform(*self.contrast_range))
        return img
