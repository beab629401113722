"""VSPW file layout and label convention (torch-free, shared with the checker).

Layout::

    ROOT/{train,val,test}.txt            one video name per line
    ROOT/data/<video>/origin/<frame>.jpg
    ROOT/data/<video>/mask/<frame>.png   raw labels 0..124, 0 = "others", 255 = ignore
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from mrcfa.data.io import CHECK_HINT

IMAGE_EXT = ".jpg"
MASK_EXT = ".png"
IGNORE_INDEX = 255

# reduce_zero_label: 0 ("others") -> ignore, k -> k - 1, 255 stays ignore.
_REDUCE_LUT = np.concatenate([[IGNORE_INDEX], np.arange(255)]).astype(np.uint8)
_REDUCE_LUT[IGNORE_INDEX] = IGNORE_INDEX


def reduce_zero_label(label: np.ndarray) -> np.ndarray:
    return _REDUCE_LUT[label]


def read_list(path: Path) -> list[str]:
    """Names in a split list, one per line; blank lines and stray spaces ignored.

    The released code drops the last character of every line, which eats a
    letter when the file lacks a final newline; we read robustly and leave
    the warning to the checker.
    """
    if not path.is_file():
        raise FileNotFoundError(f"{path}: split list is missing; {CHECK_HINT}")
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


def list_videos(root: str | os.PathLike[str], split: str) -> list[str]:
    return read_list(Path(root) / f"{split}.txt")


def video_dir(root: str | os.PathLike[str], video: str) -> Path:
    return Path(root) / "data" / video


def video_frames(root: str | os.PathLike[str], video: str) -> list[str]:
    """Sorted frame stems of a video (positions index this list)."""
    origin = video_dir(root, video) / "origin"
    try:
        names = os.listdir(origin)
    except FileNotFoundError:
        raise FileNotFoundError(f"{origin}: video frames are missing; {CHECK_HINT}") from None
    return sorted(n[: -len(IMAGE_EXT)] for n in names if n.endswith(IMAGE_EXT))


def frame_path(root: str | os.PathLike[str], video: str, stem: str) -> Path:
    return video_dir(root, video) / "origin" / f"{stem}{IMAGE_EXT}"


def mask_path(root: str | os.PathLike[str], video: str, stem: str) -> Path:
    return video_dir(root, video) / "mask" / f"{stem}{MASK_EXT}"
