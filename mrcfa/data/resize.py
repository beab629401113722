"""Image and label resizing as the released pipeline does it: OpenCV itself.

mmcv's `imresize` is `cv2.resize`: bilinear with half-pixel centres and OpenCV's fixed-point weights for
images (a float re-implementation differs by a grey level here and there, enough to move released
checkpoints' predictions), nearest (`floor(x * scale)`) for labels. PIL antialiases when shrinking, so it
is not used here.
"""

from __future__ import annotations

import cv2
import numpy as np


def rescale_size(size_hw: tuple[int, int], scale_wh: tuple[float, float]) -> tuple[int, int]:
    """Keep-ratio size that fits inside (long, short) edges, as mmcv.imrescale.

    ``scale_wh`` is an mmseg scale (w, h); only its long and short edges count.
    """
    h, w = size_hw
    long_edge, short_edge = max(scale_wh), min(scale_wh)
    factor = min(long_edge / max(h, w), short_edge / min(h, w))
    return int(h * factor + 0.5), int(w * factor + 0.5)


def resize_bilinear(img: np.ndarray, size_hw: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of an HxW or HxWxC uint8 image to ``size_hw`` (mmcv.imresize, 'bilinear')."""
    h, w = size_hw
    if img.shape[:2] == (h, w):
        return img
    return cv2.resize(img, (w, h), interpolation=cv2.INTER_LINEAR)


def resize_nearest(label: np.ndarray, size_hw: tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resize of an HxW label map (mmcv.imresize, 'nearest')."""
    h, w = size_hw
    if label.shape[:2] == (h, w):
        return label
    return cv2.resize(label, (w, h), interpolation=cv2.INTER_NEAREST)
