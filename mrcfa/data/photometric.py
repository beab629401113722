"""mmseg's PhotoMetricDistortion for one RGB uint8 frame, driven by a given RNG.

Each step fires with probability 0.5; contrast goes before or after the HSV
steps at random. Values are truncated to uint8 after every step, as mmseg
does, and hue lives on OpenCV's 0..179 scale.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def rgb_to_hsv(img: np.ndarray) -> np.ndarray:
    """RGB uint8 -> HSV uint8 on OpenCV's scale (H 0..179, S and V 0..255)."""
    r, g, b = (img[..., c].astype(np.float32) for c in range(3))
    v = np.maximum(np.maximum(r, g), b)
    diff = v - np.minimum(np.minimum(r, g), b)
    s = 255.0 * diff / np.maximum(v, 1.0)
    safe = np.maximum(diff, 1e-6)
    h = np.where(v == b, 240.0 + 60.0 * (r - g) / safe, 0.0)
    h = np.where(v == g, 120.0 + 60.0 * (b - r) / safe, h)
    h = np.where(v == r, 60.0 * (g - b) / safe, h)  # red wins ties, as in OpenCV
    h = np.where(diff > 0, h % 360.0, 0.0)
    out = np.empty(img.shape, np.uint8)
    out[..., 0] = np.rint(h / 2.0) % 180
    out[..., 1] = np.rint(s)
    out[..., 2] = v
    return out


def hsv_to_rgb(hsv: np.ndarray) -> np.ndarray:
    """Inverse of :func:`rgb_to_hsv`."""
    h = hsv[..., 0].astype(np.float32) * (2.0 / 60.0)  # sector units, 0..6
    s = hsv[..., 1].astype(np.float32) / 255.0
    v = hsv[..., 2].astype(np.float32)
    out = np.empty(hsv.shape, np.uint8)
    # Closed form: channel n (R=5, G=3, B=1) = v - v*s*clip(min(k, 4 - k), 0, 1), k = (n + h) mod 6.
    for channel, n in enumerate((5.0, 3.0, 1.0)):
        k = (n + h) % 6.0
        ramp = np.clip(np.minimum(k, 4.0 - k), 0.0, 1.0)
        out[..., channel] = np.clip(np.rint(v - v * s * ramp), 0, 255)
    return out


def _affine(x: np.ndarray, alpha: float = 1.0, beta: float = 0.0) -> np.ndarray:
    return np.clip(x.astype(np.float32) * alpha + beta, 0, 255).astype(np.uint8)


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
            hsv[..., 1] = _affine(hsv[..., 1], alpha=rng.uniform(*self.saturation_range))
            img = hsv_to_rgb(hsv)
        if rng.integers(2):
            hsv = rgb_to_hsv(img)
            # mmseg draws with np.random.randint(-d, d): the upper end is exclusive.
            shift = int(rng.integers(-self.hue_delta, self.hue_delta))
            hsv[..., 0] = ((hsv[..., 0].astype(np.int64) + shift) % 180).astype(np.uint8)
            img = hsv_to_rgb(hsv)
        if not contrast_first:
            img = self._contrast(img, rng)
        return img

    def _contrast(self, img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        if rng.integers(2):
            return _affine(img, alpha=rng.uniform(*self.contrast_range))
        return img
