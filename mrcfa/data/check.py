"""Dataset checker: every problem that would break or silently bias training.

Fast mode reads only folder listings and image headers (first bytes of
PNG/JPEG, PIL for anything else); full mode decodes every image with PIL and
checks label values.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from mrcfa.data.cityscapes_layout import IMAGE_SUFFIX, LABEL_SUFFIX
from mrcfa.data.headers import read_header

MISSING_ROOT = "missing-root"
MISSING_LIST = "missing-list"
LIST_NO_NEWLINE = "list-no-newline"
MISSING_VIDEO = "missing-video"
MISSING_FRAME = "missing-frame"
EMPTY_FILE = "empty-file"
UNREADABLE = "unreadable"
SIZE_MISMATCH = "size-mismatch"
BAD_LABEL = "bad-label"
SHORT_VIDEO = "short-video"
KINDS = (
    MISSING_ROOT, MISSING_LIST, LIST_NO_NEWLINE, MISSING_VIDEO, MISSING_FRAME,
    EMPTY_FILE, UNREADABLE, SIZE_MISMATCH, BAD_LABEL, SHORT_VIDEO,
)  # fmt: skip

VSPW_NUM_CLASSES = 124  # raw VSPW labels are 0 ("others") .. 124
CITYSCAPES_NUM_CLASSES = 19  # train ids 0 .. 18
IGNORE = 255
LABEL_MODES = ("L", "P")


@dataclass(frozen=True)
class Problem:
    kind: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.kind}: {self.message}"


@dataclass(frozen=True)
class _Header:
    size: tuple[int, int]  # (w, h) as PIL reports it
    mode: str


class _Checker:
    """Collects problems; knows how to inspect one image file."""

    def __init__(self, fast: bool, max_label: int) -> None:
        self.fast = fast
        self.max_label = max_label
        self.problems: list[Problem] = []

    def add(self, kind: str, path: Path | str, message: str) -> None:
        self.problems.append(Problem(kind, str(path), message))

    def image(self, path: Path, is_label: bool = False) -> _Header | None:
        """Header of an image, or None after recording why it is unusable."""
        try:
            if os.stat(path).st_size == 0:
                self.add(EMPTY_FILE, path, "file is empty (0 bytes); re-extract or re-download it")
                return None
            parsed = read_header(path) if self.fast else None
            if parsed is not None:
                return self._mode_ok(path, _Header(*parsed), is_label)
            with Image.open(path) as img:
                header = self._mode_ok(path, _Header(img.size, img.mode), is_label)
                if not self.fast:
                    if is_label and img.mode in LABEL_MODES:
                        self._label_values(path, np.asarray(img))
                    else:
                        img.load()
                return header
        except OSError as err:  # includes PIL's UnidentifiedImageError and truncation
            self.add(UNREADABLE, path, f"cannot read image ({err}); re-extract it")
            return None

    def _mode_ok(self, path: Path, header: _Header, is_label: bool) -> _Header:
        if is_label and header.mode not in LABEL_MODES:
            message = f"mode {header.mode}; labels must be single-channel L or P PNGs"
            self.add(BAD_LABEL, path, message)
        return header

    def _label_values(self, path: Path, label: np.ndarray) -> None:
        values = np.unique(label)
        bad = values[(values > self.max_label) & (values != IGNORE)]
        if bad.size:
            shown = ", ".join(str(int(v)) for v in bad[:8])
            self.add(BAD_LABEL, path, f"values {shown} outside 0..{self.max_label} and {IGNORE}")

    def same_size(
        self, path: Path, header: _Header | None, ref_path: Path, ref: _Header | None
    ) -> None:
        if header is not None and ref is not None and header.size != ref.size:
            self.add(
                SIZE_MISMATCH, path,
                f"size {header.size[0]}x{header.size[1]} (WxH) differs from "
                f"{ref.size[0]}x{ref.size[1]} of {ref_path}",
            )  # fmt: skip


def _listing(folder: Path) -> list[str] | None:
    try:
        return os.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return None


def _stems(names: Iterable[str], ext: str) -> set[str]:
    return {n[: -len(ext)] for n in names if n.endswith(ext)}


def _check_list(c: _Checker, path: Path) -> list[str] | None:
    """Video names of a split list, recording list problems."""
    if not path.is_file():
        c.add(MISSING_LIST, path, "split list is missing; write one video name per line")
        return None
    raw = path.read_bytes()
    if raw and not raw.endswith(b"\n"):
        last = raw.decode(errors="replace").splitlines()[-1]
        c.add(
            LIST_NO_NEWLINE, path,
            f"no newline after the last line {last!r}; the released loader would read "
            f"{last[:-1]!r}; append a newline",
        )  # fmt: skip
    names = [line.strip() for line in raw.decode(errors="replace").splitlines()]
    return list(dict.fromkeys(n for n in names if n))


def _check_vspw_video(c: _Checker, root: Path, split: str, video: str, need: int) -> None:
    vdir = root / "data" / video
    origin, mask = vdir / "origin", vdir / "mask"
    images = _listing(origin)
    if images is None:
        c.add(MISSING_VIDEO, vdir, f"listed video has no folder {origin}")
        return
    jpgs = _stems(images, ".jpg")
    pngs: set[str] = set()
    if split != "test":  # VSPW's test split ships without masks
        listed = _listing(mask)
        if listed is None:
            c.add(MISSING_FRAME, mask, "mask folder is missing; every frame needs a mask")
        else:
            pngs = _stems(listed, ".png")
            for stem in sorted(pngs - jpgs):
                jpg = origin / f"{stem}.jpg"
                c.add(MISSING_FRAME, mask / f"{stem}.png", f"mask has no frame {jpg}")
            for stem in sorted(jpgs - pngs):
                png = mask / f"{stem}.png"
                c.add(MISSING_FRAME, origin / f"{stem}.jpg", f"frame has no mask {png}")
    if len(jpgs) < need:
        c.add(
            SHORT_VIDEO, vdir,
            f"{len(jpgs)} frames, fewer than the {need} that clips with these offsets need; "
            f"drop it from {split}.txt or use smaller offsets",
        )  # fmt: skip
    for stem in sorted(jpgs):
        jpg = origin / f"{stem}.jpg"
        head = c.image(jpg)
        if stem in pngs:
            png = mask / f"{stem}.png"
            c.same_size(png, c.image(png, is_label=True), jpg, head)


def _check_vspw(c: _Checker, root: Path, splits: Sequence[str], need: int) -> None:
    seen: set[str] = set()
    for split in splits:
        videos = _check_list(c, root / f"{split}.txt")
        for video in videos or []:
            if video not in seen:  # a video in two lists is checked once
                seen.add(video)
                _check_vspw_video(c, root, split, video, need)


def _check_cityscapes_split(c: _Checker, root: Path, split: str, offsets: Sequence[int]) -> None:
    label_root = root / "gtFine" / split
    if not label_root.is_dir():
        c.add(MISSING_LIST, label_root, f"no gtFine labels for split {split!r}")
        return
    seq_root, plain_root = root / "leftImg8bit_sequence" / split, root / "leftImg8bit" / split
    dirs = [d for d in (seq_root, plain_root) if d.is_dir()]
    if not dirs:
        c.add(MISSING_LIST, plain_root, f"neither {seq_root} nor {plain_root} exists")
        return
    for city in sorted(os.listdir(label_root)):
        city_dirs = [d / city for d in dirs]
        listings = [set(_listing(d) or ()) for d in city_dirs]

        def find(name: str) -> Path | None:
            for d, names in zip(city_dirs, listings):
                if name in names:
                    return d / name
            return None

        for name in sorted(_listing(label_root / city) or ()):
            if not name.endswith(LABEL_SUFFIX):
                continue
            base = name[: -len(LABEL_SUFFIX)]
            prefix, _, number = base.rpartition("_")
            label_path = label_root / city / name
            if not number.isdigit():
                message = f"name is not <city>_<seq>_<frame>{LABEL_SUFFIX}"
                c.add(MISSING_FRAME, label_path, message)
                continue
            frame = int(number)
            target = find(f"{base}{IMAGE_SUFFIX}")
            label_head = c.image(label_path, is_label=True)
            if target is None:
                missing = plain_root / city / f"{base}{IMAGE_SUFFIX}"
                c.add(MISSING_FRAME, missing, f"annotated frame of {label_path} is missing")
                continue
            target_head = c.image(target)
            c.same_size(label_path, label_head, target, target_head)
            for o in offsets:
                names = [f"{prefix}_{frame + s * o:06d}{IMAGE_SUFFIX}" for s in (1, -1)]
                refs = [p for p in map(find, names) if p is not None]
                if not refs:
                    message = f"reference {o:+d} of {base} is missing, and so is {names[1]}"
                    c.add(MISSING_FRAME, city_dirs[0] / names[0], message)
                for ref in refs:
                    c.same_size(ref, c.image(ref), target, target_head)


def check_dataset(
    root: str | os.PathLike[str],
    dataset: str = "vspw",
    offsets: Sequence[int] = (-9, -6, -3),
    splits: Sequence[str] = ("train", "val"),
    fast: bool = False,
    num_classes: int | None = None,
) -> list[Problem]:
    """All problems found under ``root``; an empty list means the tree is usable.

    ``num_classes`` bounds raw label values: VSPW 0..num_classes (0 is
    "others", default 124), Cityscapes 0..num_classes-1 (default 19); 255 is
    always allowed.
    """
    root_path = Path(root)
    if dataset == "vspw":
        max_label = VSPW_NUM_CLASSES if num_classes is None else num_classes
    elif dataset == "cityscapes":
        max_label = (CITYSCAPES_NUM_CLASSES if num_classes is None else num_classes) - 1
    else:
        raise ValueError(f"unknown dataset {dataset!r}; expected 'vspw' or 'cityscapes'")
    c = _Checker(fast, max_label)
    if not root_path.is_dir():
        message = "dataset root does not exist; pass the folder that holds the data"
        c.add(MISSING_ROOT, root_path, message)
        return c.problems
    if dataset == "vspw":
        need = max(abs(int(o)) for o in offsets) + 1 if offsets else 1
        _check_vspw(c, root_path, splits, need)
    else:
        for split in splits:
            _check_cityscapes_split(c, root_path, split, offsets)
    return c.problems
