"""VSPW loaders on fixtures in the real layout (gaps in frame numbers, short videos)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

from mrcfa.data.transforms import ClipTestTransform, ClipTrainTransform
from mrcfa.data.vspw import VSPWClipDataset, VSPWVideo, list_videos, reduce_zero_label, video_frames

H, W = 24, 32
# Frame numbers with gaps, as in VSPW_480p; positions, not numbers, count.
GAPPY = [0, 1, 3, 4, 5, 8, 9, 10, 12, 13, 14, 17, 18, 21]
PLAIN = list(range(10))


def write_video(root: Path, name: str, numbers: list[int], size: tuple[int, int] = (H, W)) -> None:
    """Frames of one video; the raw mask of position p is p + 1 everywhere (so reduced = p)."""
    origin, mask = root / "data" / name / "origin", root / "data" / name / "mask"
    origin.mkdir(parents=True)
    mask.mkdir(parents=True)
    for pos, n in enumerate(numbers):
        Image.fromarray(np.full(size + (3,), 10 * pos, np.uint8)).save(origin / f"{n:08d}.jpg")
        Image.fromarray(np.full(size, pos + 1, np.uint8)).save(mask / f"{n:08d}.png")


def write_tree(root: Path) -> Path:
    write_video(root, "gappy", GAPPY)
    write_video(root, "plain", PLAIN)
    (root / "train.txt").write_text("gappy\nplain\n")
    (root / "val.txt").write_text("plain")  # no trailing newline, as some real lists
    return root


def positions(item: dict) -> list[int]:
    labels = item["labels"]
    assert all(torch.all(labels[k] == labels[k, 0, 0]) for k in range(len(labels)))
    return [int(v) for v in labels[:, 0, 0]]


def test_lists_and_frames(tmp_path: Path) -> None:
    root = write_tree(tmp_path)
    assert list_videos(root, "train") == ["gappy", "plain"]
    assert list_videos(root, "val") == ["plain"]  # last letter kept despite no newline
    assert video_frames(root, "gappy") == [f"{n:08d}" for n in GAPPY]
    with pytest.raises(FileNotFoundError, match="test.txt"):
        list_videos(root, "test")


def test_clips_follow_offsets_in_list_positions(tmp_path: Path) -> None:
    root = write_tree(tmp_path)
    ds = VSPWClipDataset(root, "train", (-9, -6, -3), ClipTestTransform(base=(W, H), align=8))
    assert len(ds) == 2
    directions = set()
    for epoch in range(30):
        ds.set_epoch(epoch)
        for index in range(len(ds)):
            item = ds[index]
            assert item["frames"].shape == (4, 3, H, W) and item["frames"].dtype == torch.float32
            assert item["labels"].dtype == torch.int64 and item["labeled"].tolist() == [True] * 4
            pos = positions(item)
            t = pos[-1]
            sign = 1 if pos[0] < t else -1
            assert pos == [t - 9 * sign, t - 6 * sign, t - 3 * sign, t]
            directions.add(sign)
            numbers = GAPPY if item["video"] == "gappy" else PLAIN
            assert item["video"] == ["gappy", "plain"][index]
            assert item["target"] == f"{numbers[t]:08d}"
    assert directions == {1, -1}


def test_same_seed_epoch_index_same_clip(tmp_path: Path) -> None:
    root = write_tree(tmp_path)
    transform = ClipTrainTransform(crop=(16, 16), scale_base=(W, H))

    def item(seed: int, epoch: int, index: int) -> dict:
        ds = VSPWClipDataset(root, "train", (-9, -6, -3), transform, seed=seed, repeat=4)
        ds.set_epoch(epoch)
        return ds[index]

    a, b = item(0, 2, 5), item(0, 2, 5)  # a fresh dataset, as after resuming
    assert torch.equal(a["frames"], b["frames"]) and torch.equal(a["labels"], b["labels"])
    others = [item(s, e, 5) for s, e in ((1, 2), (0, 3))]
    assert all(not torch.equal(a["frames"], o["frames"]) for o in others)


def test_repeat_and_dataloader_batches(tmp_path: Path) -> None:
    root = write_tree(tmp_path)
    ds = VSPWClipDataset(root, "train", (-9, -6, -3), ClipTrainTransform(crop=(16, 16), scale_base=(W, H)),
                         repeat=3)  # fmt: skip
    assert len(ds) == 6
    assert [ds[i]["video"] for i in range(6)] == ["gappy", "plain"] * 3
    batch = next(iter(DataLoader(ds, batch_size=2)))
    assert batch["frames"].shape == (2, 4, 3, 16, 16) and batch["labels"].shape == (2, 4, 16, 16)
    with pytest.raises(IndexError):
        ds[6]


def test_short_video_is_named_at_build_time(tmp_path: Path) -> None:
    root = write_tree(tmp_path)
    write_video(root, "tiny", [0, 1, 2, 3, 4])
    (root / "train.txt").write_text("gappy\ntiny\nplain\n")
    with pytest.raises(ValueError, match=r"tiny \(5\)") as err:
        VSPWClipDataset(root, "train", (-9, -6, -3), ClipTestTransform(base=(W, H)))
    assert "plain" not in str(err.value)
    VSPWClipDataset(root, "train", (-3,), ClipTestTransform(base=(W, H)))  # fine for short offsets


def test_reduce_zero_label() -> None:
    raw = np.array([[0, 1, 2, 124, 255]], np.uint8)
    assert reduce_zero_label(raw).tolist() == [[255, 0, 1, 123, 255]]


def test_missing_mask_error_names_the_file(tmp_path: Path) -> None:
    root = write_tree(tmp_path)
    for p in (root / "data" / "plain" / "mask").iterdir():
        p.unlink()
    ds = VSPWClipDataset(root, "val", (-3,), ClipTestTransform(base=(W, H)))
    with pytest.raises(FileNotFoundError, match=r"plain/mask/000000\d\d\.png: label map is missing"):
        ds[0]


def test_video_for_evaluation(tmp_path: Path) -> None:
    write_video(tmp_path, "big", [2, 5, 6], size=(60, 100))
    mask = tmp_path / "data" / "big" / "mask" / "00000005.png"
    Image.fromarray(np.array([[0, 3, 255] * 33 + [1]] * 60, np.uint8)).save(mask)
    video = VSPWVideo(tmp_path, "big", ClipTestTransform(base=(853, 480), align=32))
    assert len(video) == 3 and video.original_size == (60, 100)
    img, label, stem = video.frame(1)
    # 60x100 fits (853, 480) at factor 8 -> 480x800, already a multiple of 32.
    assert img.shape == (3, 480, 800) and stem == "00000005"
    assert label is not None and label.shape == (60, 100)
    assert label[0, :4].tolist() == [255, 2, 255, 255]
    (tmp_path / "data" / "big" / "mask" / "00000006.png").unlink()
    assert video.frame(2)[1] is None  # e.g. the test split has no masks
