"""Reading frames and label maps, with errors that name the file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

CHECK_HINT = "run `mrcfa data check ROOT` to list every problem in the dataset"


def load_rgb(path: Path) -> np.ndarray:
    """An image file as HxWx3 uint8 RGB."""
    try:
        with Image.open(path) as img:
            return np.asarray(img.convert("RGB"))
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: frame is missing; {CHECK_HINT}") from None
    except OSError as err:
        raise OSError(f"{path}: cannot decode image ({err}); {CHECK_HINT}") from err


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
