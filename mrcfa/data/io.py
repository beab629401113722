"""Reading frames and label maps as the released pipeline does, with errors that name the file.

Frames are decoded by OpenCV (mmcv's `imfrombytes`, BGR) and handed on as RGB; label maps by PIL (mmseg's
`LoadAnnotations` uses the pillow backend), so palette PNGs give their indices, not colours.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image

CHECK_HINT = "run `mrcfa data check ROOT` to list every problem in the dataset"


def load_rgb(path: Path) -> np.ndarray:
    """An image file as HxWx3 uint8 RGB."""
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: frame is missing; {CHECK_HINT}") from None
    bgr = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if bgr is None:
        raise OSError(f"{path}: cannot decode image (empty, truncated or not an image); {CHECK_HINT}")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def load_label(path: Path) -> np.ndarray:
    """A single-channel (L or P mode) PNG label map as HxW uint8 class indices."""
    try:
        with Image.open(path) as img:
            if img.mode not in ("L", "P"):
                raise ValueError(
                    f"{path}: label map has mode {img.mode}; expected a single-channel "
                    f"L or P PNG of class indices"
                )
            return np.array(img)
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: label map is missing; {CHECK_HINT}") from None
    except OSError as err:
        raise OSError(f"{path}: cannot decode label map ({err}); {CHECK_HINT}") from err
