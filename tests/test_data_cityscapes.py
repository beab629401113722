"""Cityscapes sequence clips on fixtures in both layouts (dataset's own and released merged)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from mrcfa.data.cityscapes import CityscapesClipDataset, cityscapes_samples, detect_layout
from mrcfa.data.transforms import MEAN_RGB, STD_RGB, ClipTestTransform, ClipTrainTransform

H, W = 16, 24
# (city, sequence, annotated frame); the annotated frame is the 20th of frames f-19..f+10.
SNIPPETS = [("bochum", "000010", 119), ("aachen", "000001", 19), ("aachen", "000000", 19)]
IDENTITY = ClipTestTransform(base=(W, H), align=1)  # no resize: pixels stay readable


def label_for(frame: int) -> np.ndarray:
    lab = np.full((H, W), frame % 19, np.uint8)
    lab[0, :] = 255
    return lab


def write_cityscapes(root: Path, layout: str, split: str = "train") -> Path:
    """Red channel = 8 x position in the snippet, so a loaded frame tells its number."""
    for city, seq, f in SNIPPETS:
        gt = root / "gtFine" / split / city
        gt.mkdir(parents=True, exist_ok=True)
        Image.fromarray(label_for(f)).save(gt / f"{city}_{seq}_{f:06d}_gtFine_labelTrainIds.png")
        plain = root / "leftImg8bit" / split / city
        seq_dir = root / ("leftImg8bit_sequence" if layout == "sequence" else "leftImg8bit") / split / city
        plain.mkdir(parents=True, exist_ok=True)
        seq_dir.mkdir(parents=True, exist_ok=True)
        for n in range(f - 19, f + 11):
            img = np.zeros((H, W, 3), np.uint8)
            img[..., 0] = 8 * (n - f + 19)
            name = f"{city}_{seq}_{n:06d}_leftImg8bit.png"
            Image.fromarray(img).save(seq_dir / name)
            if n == f:
                Image.fromarray(img).save(plain / name)
    return root


def frame_numbers(item: dict, annotated: int) -> list[int]:
    red = item["frames"][:, 0].numpy() * STD_RGB[0] + MEAN_RGB[0]
    return [int(round(v / 8)) + annotated - 19 for v in red[:, 0, 0]]


def test_samples_are_parsed_and_sorted(tmp_path: Path) -> None:
    root = write_cityscapes(tmp_path, "sequence")
    samples = cityscapes_samples(root, "train")
    assert [(s.city, s.seq, s.frame) for s in samples] == [
        ("aachen", "000000", 19), ("aachen", "000001", 19), ("bochum", "000010", 119)
    ]  # fmt: skip
    assert samples[2].stem() == "bochum_000010_000119" and samples[2].stem(110) == "bochum_000010_000110"


@pytest.mark.parametrize("layout", ["sequence", "merged"])
def test_test_clips_use_configured_offsets(tmp_path: Path, layout: str) -> None:
    root = write_cityscapes(tmp_path, layout, split="val")
    assert detect_layout(root, "val") == layout
    ds = CityscapesClipDataset(root, "val", (-9, -6, -3), IDENTITY)
    assert len(ds) == 3
    for epoch in range(5):
        ds.set_epoch(epoch)
        item = ds[2]
        assert frame_numbers(item, 119) == [110, 113, 116, 119]
    assert item["video"] == "bochum_000010" and item["target"] == "bochum_000010_000119"
    assert item["labeled"].tolist() == [False, False, False, True]
    assert torch.all(item["labels"][:3] == 255)
    assert np.array_equal(item["labels"][3].numpy(), label_for(119))


@pytest.mark.parametrize("layout", ["sequence", "merged"])
def test_train_clips_take_both_signs(tmp_path: Path, layout: str) -> None:
    root = write_cityscapes(tmp_path, layout)
    ds = CityscapesClipDataset(root, "train", (-9, -6, -3), IDENTITY)
    seen = set()
    for epoch in range(24):
        ds.set_epoch(epoch)
        seen.add(tuple(frame_numbers(ds[0], 19)))
    assert seen == {(10, 13, 16, 19), (28, 25, 22, 19)}


def test_missing_reference_takes_the_opposite_sign(tmp_path: Path) -> None:
    root = write_cityscapes(tmp_path, "sequence", split="val")
    seq = root / "leftImg8bit_sequence" / "val" / "aachen"
    (seq / "aachen_000000_000010_leftImg8bit.png").unlink()
    ds = CityscapesClipDataset(root, "val", (-9, -6, -3), IDENTITY)
    assert frame_numbers(ds[0], 19) == [28, 13, 16, 19]
    (seq / "aachen_000000_000028_leftImg8bit.png").unlink()
    with pytest.raises(FileNotFoundError, match="aachen_000000_000010_leftImg8bit.png nor "
                       "aachen_000000_000028_leftImg8bit.png"):  # fmt: skip
        ds[0]


def test_train_transform_keeps_reference_labels_ignored(tmp_path: Path) -> None:
    root = write_cityscapes(tmp_path, "merged")
    ds = CityscapesClipDataset(root, "train", (-6, -3), ClipTrainTransform(crop=(12, 12), scale_base=(W, H)))
    item = ds[1]
    assert item["frames"].shape == (3, 3, 12, 12) and item["labels"].shape == (3, 12, 12)
    assert torch.all(item["labels"][:2] == 255)
    assert set(item["labels"][2].unique().tolist()) <= {19 % 19, 255}


def test_layout_errors_name_the_folders(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="leftImg8bit_sequence/train nor leftImg8bit/train"):
        detect_layout(tmp_path, "train")
    with pytest.raises(FileNotFoundError, match="gtFine/train"):
        cityscapes_samples(tmp_path, "train")
