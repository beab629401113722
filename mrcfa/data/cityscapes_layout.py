"""Cityscapes file layout: annotated frames and where their sequence frames live.

Annotated frames come from ``gtFine/<split>/<city>/*_gtFine_labelTrainIds.png``
(19 classes, 255 ignore). Sequence frames are found in either layout:

* dataset layout: ``leftImg8bit_sequence/<split>/<city>/`` beside ``leftImg8bit/``;
* released-code layout: sequence frames merged into ``leftImg8bit/<split>/<city>/``.

Torch-free, so the checker can use it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

LABEL_SUFFIX = "_gtFine_labelTrainIds.png"
IMAGE_SUFFIX = "_leftImg8bit.png"
NUM_CLASSES = 19
IGNORE_INDEX = 255

Layout = Literal["sequence", "merged"]


@dataclass(frozen=True)
class CityscapesSample:
    city: str
    seq: str
    frame: int
    label_path: Path

    @property
    def snippet(self) -> str:
        return f"{self.city}_{self.seq}"

    def stem(self, frame: int | None = None) -> str:
        return f"{self.city}_{self.seq}_{self.frame if frame is None else frame:06d}"


def cityscapes_samples(root: str | os.PathLike[str], split: str) -> list[CityscapesSample]:
    """Annotated frames of a split, sorted by city then name."""
    label_root = Path(root) / "gtFine" / split
    if not label_root.is_dir():
        raise FileNotFoundError(
            f"{label_root}: no gtFine labels for split {split!r}; expected "
            f"gtFine/{split}/<city>/*{LABEL_SUFFIX} (create labelTrainIds with cityscapesscripts)"
        )
    samples = []
    for city in sorted(os.listdir(label_root)):
        city_dir = label_root / city
        if not city_dir.is_dir():
            continue
        for name in sorted(os.listdir(city_dir)):
            if not name.endswith(LABEL_SUFFIX):
                continue
            parts = name[: -len(LABEL_SUFFIX)].rsplit("_", 2)
            if len(parts) != 3 or not parts[2].isdigit():
                raise ValueError(f"{city_dir / name}: expected <city>_<seq>_<frame>{LABEL_SUFFIX}")
            samples.append(CityscapesSample(parts[0], parts[1], int(parts[2]), city_dir / name))
    return samples


def detect_layout(root: str | os.PathLike[str], split: str) -> Layout:
    """'sequence' when leftImg8bit_sequence/<split> exists, else 'merged'."""
    root = Path(root)
    if (root / "leftImg8bit_sequence" / split).is_dir():
        return "sequence"
    if (root / "leftImg8bit" / split).is_dir():
        return "merged"
    raise FileNotFoundError(
        f"{root}: neither leftImg8bit_sequence/{split} nor leftImg8bit/{split} exists; "
        f"unpack leftImg8bit_sequence_trainvaltest.zip (or the released merged layout) there"
    )


def image_dirs(root: str | os.PathLike[str], split: str, layout: Layout) -> list[Path]:
    """Folders searched for a frame, in order."""
    root = Path(root)
    plain = root / "leftImg8bit" / split
    return [root / "leftImg8bit_sequence" / split, plain] if layout == "sequence" else [plain]


def find_frame(dirs: Sequence[Path], city: str, stem: str) -> Path | None:
    for d in dirs:
        path = d / city / f"{stem}{IMAGE_SUFFIX}"
        if path.is_file():
            return path
    return None
