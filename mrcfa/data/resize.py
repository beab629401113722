"""Image and label resizing with the conventions of mmcv/OpenCV, in numpy.

The released pipeline resizes with ``cv2.resize``: bilinear with half-pixel
centres and no antialiasing for images, and nearest = ``floor(x * scale)``
for labels. PIL antialiases when shrinking, so we do not use it here.
"""

from __future__ import annotations

import numpy as np


def rescale_size(size_hw: tuple[int, int], scale_wh: tuple[float, float]) -> tuple[int, int]:
    """Keep-ratio size that fits inside (long, short) edges, as mmcv.imrescale.

    ``scale_wh`` is an mmseg scale (w, h); only its long and short edges count.
    """
    h, w = size_hw
    long_edge, short_edge = max(scale_wh), min(scale_wh)
    factor = min(long_edge / max(h, w), short_edge / min(h, w))
    return int(h * factor + 0.5), int(w * factor + 0.5)


def _linear_taps(n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Source indices (left, right) and right weight per output coordinate."""
    f = (np.arange(n_out, dtype=np.float64) + 0.5) * (n_in / n_out) - 0.5
    left = np.floor(f).astype(np.int64)
    frac = f - left
    # OpenCV clamps to the border pixel and drops the fraction there.
    low = left < 0
    left[low], frac[low] = 0, 0.0
    high = left >= n_in - 1
    left[high], frac[high] = n_in - 1, 0.0
    right = np.minimum(left + 1, n_in - 1)
    return left, right, frac.astype(np.float32)


def resize_bilinear(
    img: np.ndarray,
    size_hw: tuple[int, int],
    window: tuple[int, int, int, int] | None = None,
) -> np.ndarray:
    """Bilinear resize of an HxW or HxWxC uint8 image to ``size_hw``.

    ``window`` = (top, left, height, width) computes only that part of the
    output, e.g. a crop, with the same pixels as resizing then cropping.
    """
    h_out, w_out = size_hw
    top, left, win_h, win_w = window if window is not None else (0, 0, h_out, w_out)
    if img.shape[:2] == (h_out, w_out):
        return img[top : top + win_h, left : left + win_w].copy()
    rows = slice(top, min(top + win_h, h_out))
    cols = slice(left, min(left + win_w, w_out))
    up, down, fy = (a[rows] for a in _linear_taps(img.shape[0], h_out))
    lo, hi, fx = (a[cols] for a in _linear_taps(img.shape[1], w_out))
    # Interpolate rows first, only over the source columns the window needs.
    c0, c1 = int(lo.min()), int(hi.max()) + 1
    data = img[:, c0:c1].astype(np.float32)
    fy = fy.reshape((-1,) + (1,) * (data.ndim - 1))
    data = data[up] * (1.0 - fy) + data[down] * fy
    fx = fx.reshape((1, -1) + (1,) * (data.ndim - 2))
    data = data[:, lo - c0] * (1.0 - fx) + data[:, hi - c0] * fx
    return np.clip(np.rint(data), 0, 255).astype(np.uint8)


def resize_nearest(label: np.ndarray, size_hw: tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resize of an HxW label map (OpenCV's floor rule)."""
    h_out, w_out = size_hw
    h_in, w_in = label.shape[:2]
    rows = np.minimum(np.floor(np.arange(h_out) * (h_in / h_out)).astype(np.int64), h_in - 1)
    cols = np.minimum(np.floor(np.arange(w_out) * (w_in / w_out)).astype(np.int64), w_in - 1)
    return label[rows[:, None], cols[None, :]]
