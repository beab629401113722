"""Dataset checker: a clean tree reports nothing; every problem kind is found with its path."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mrcfa.data.check import KINDS, Problem, check_dataset
from mrcfa.data.headers import read_header
from mrcfa.data.synth import write_synthetic
from mrcfa.data.synth_settings import SynthSettings

K = 5


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("vspw")
    write_synthetic(root, SynthSettings(train_videos=2, val_videos=1, frames=12, height=32, width=48, num_classes=K,
                                       difficulty=0.5, seed=0))
    return root


@pytest.fixture
def tree(pristine: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(pristine, tmp_path / "vspw"))


def found(problems: list[Problem]) -> set[tuple[str, str]]:
    return {(p.kind, p.path) for p in problems}


def check(root: Path, **kw: object) -> list[Problem]:
    return check_dataset(root, num_classes=K, **kw)  # type: ignore[arg-type]


def frame(root: Path, video: str, t: int, kind: str = "origin") -> Path:
    return root / "data" / video / kind / f"{t:08d}.{'jpg' if kind == 'origin' else 'png'}"


def test_demo_set_is_clean_and_fast_check_is_quick(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    write_synthetic(root, SynthSettings(train_videos=24, val_videos=6, frames=20, height=64, width=96, num_classes=6,
                                       difficulty=0.5, seed=0))
    start = time.perf_counter()
    assert check_dataset(root, fast=True, num_classes=6) == []
    elapsed = time.perf_counter() - start
    assert elapsed < 1.0, f"fast check took {elapsed:.2f} s"
    assert check_dataset(root, num_classes=6) == []


@pytest.mark.parametrize(
    ("suffix", "mode", "options"),
    [
        (".png", "L", {}), (".png", "P", {}), (".png", "RGB", {}), (".png", "RGBA", {}),
        (".png", "I;16", {}), (".png", "1", {}), (".jpg", "RGB", {}), (".jpg", "L", {}),
        (".jpg", "RGB", {"progressive": True}), (".jpg", "RGB", {"exif": b"Exif\0\0" + bytes(3000)}),
    ],
)  # fmt: skip
def test_header_reader_agrees_with_pil(tmp_path: Path, suffix: str, mode: str, options: dict) -> None:
    path = tmp_path / f"img{suffix}"
    Image.new(mode, (37, 21)).save(path, **options)
    with Image.open(path) as img:
        assert read_header(path) == (img.size, img.mode) == ((37, 21), mode)
    (tmp_path / "x.gif").write_bytes(b"GIF89a")
    assert read_header(tmp_path / "x.gif") is None  # left to PIL


def test_problem_prints_path_kind_message() -> None:
    assert str(Problem("empty-file", "/d/x.jpg", "file is empty")) == "/d/x.jpg: empty-file: file is empty"


def test_missing_root_and_lists(tmp_path: Path, tree: Path) -> None:
    assert found(check(tmp_path / "nowhere")) == {("missing-root", str(tmp_path / "nowhere"))}
    (tree / "val.txt").unlink()
    assert found(check(tree)) == {("missing-list", str(tree / "val.txt"))}


def test_list_without_newline_and_absent_video(tree: Path) -> None:
    (tree / "train.txt").write_text("train_0000\ntrain_0001\nghost")
    problems = check(tree)
    assert found(problems) == {
        ("list-no-newline", str(tree / "train.txt")),
        ("missing-video", str(tree / "data" / "ghost")),
    }
    assert "'ghos'" in next(p.message for p in problems if p.kind == "list-no-newline")


def test_missing_frames_both_ways(tree: Path) -> None:
    frame(tree, "train_0000", 3).unlink()
    frame(tree, "val_0000", 5, "mask").unlink()
    assert found(check(tree, fast=True)) == {
        ("missing-frame", str(frame(tree, "train_0000", 3, "mask"))),
        ("missing-frame", str(frame(tree, "val_0000", 5))),
    }


def test_empty_and_unreadable_files(tree: Path) -> None:
    frame(tree, "train_0000", 0).write_bytes(b"")
    frame(tree, "train_0001", 1, "mask").write_bytes(b"not an image at all")
    data = frame(tree, "val_0000", 2).read_bytes()
    frame(tree, "val_0000", 2).write_bytes(data[: len(data) // 2])  # header fine, data cut
    header_level = {
        ("empty-file", str(frame(tree, "train_0000", 0))),
        ("unreadable", str(frame(tree, "train_0001", 1, "mask"))),
    }
    assert found(check(tree, fast=True)) == header_level
    assert found(check(tree)) == header_level | {("unreadable", str(frame(tree, "val_0000", 2)))}


def test_size_mismatch(tree: Path) -> None:
    Image.fromarray(np.ones((30, 48), np.uint8)).save(frame(tree, "train_0001", 7, "mask"))
    problems = check(tree, fast=True)
    assert found(problems) == {("size-mismatch", str(frame(tree, "train_0001", 7, "mask")))}
    assert "48x30" in problems[0].message and "48x32" in problems[0].message


def test_bad_label_values_and_modes(tree: Path) -> None:
    lab = np.ones((32, 48), np.uint8)
    lab[0, 0] = 200
    Image.fromarray(lab).save(frame(tree, "train_0000", 4, "mask"))
    Image.fromarray(np.ones((32, 48, 3), np.uint8)).save(frame(tree, "train_0001", 4, "mask"))
    rgb = ("bad-label", str(frame(tree, "train_0001", 4, "mask")))
    assert found(check(tree, fast=True)) == {rgb}  # values need decoding: full mode only
    problems = check(tree)
    assert found(problems) == {rgb, ("bad-label", str(frame(tree, "train_0000", 4, "mask")))}
    # Objects use raw labels 2..5, so a bound of 1 (background only) flags them.
    assert any(p.kind == "bad-label" for p in check_dataset(tree, num_classes=1, splits=("val",)))


def test_short_video(tree: Path) -> None:
    for t in range(5, 12):
        frame(tree, "val_0000", t).unlink()
        frame(tree, "val_0000", t, "mask").unlink()
    assert found(check(tree)) == {("short-video", str(tree / "data" / "val_0000"))}
    assert check(tree, offsets=(-3,)) == []


# ---- Cityscapes -------------------------------------------------------------------------

H, W = 8, 12


def write_cityscapes(root: Path, layout: str) -> Path:
    city, seq, f = "ulm", "000004", 19
    gt = root / "gtFine" / "val" / city
    gt.mkdir(parents=True)
    Image.fromarray(np.full((H, W), 18, np.uint8)).save(gt / f"{city}_{seq}_{f:06d}_gtFine_labelTrainIds.png")
    plain = root / "leftImg8bit" / "val" / city
    seq_dir = root / ("leftImg8bit_sequence" if layout == "sequence" else "leftImg8bit") / "val" / city
    plain.mkdir(parents=True, exist_ok=True)
    seq_dir.mkdir(parents=True, exist_ok=True)
    for n in range(f - 19, f + 11):
        img = Image.fromarray(np.full((H, W, 3), n, np.uint8))
        img.save(seq_dir / f"{city}_{seq}_{n:06d}_leftImg8bit.png")
        if n == f:
            img.save(plain / f"{city}_{seq}_{n:06d}_leftImg8bit.png")
    return root


@pytest.mark.parametrize("layout", ["sequence", "merged"])
def test_cityscapes_clean_and_broken(tmp_path: Path, layout: str) -> None:
    root = write_cityscapes(tmp_path, layout)
    assert check_dataset(root, "cityscapes", splits=("val",)) == []
    seq = root / ("leftImg8bit_sequence" if layout == "sequence" else "leftImg8bit") / "val" / "ulm"
    (seq / "ulm_000004_000010_leftImg8bit.png").unlink()  # -9 missing, +9 still there: fine
    assert check_dataset(root, "cityscapes", splits=("val",)) == []
    (seq / "ulm_000004_000028_leftImg8bit.png").unlink()
    Image.fromarray(np.zeros((H + 1, W, 3), np.uint8)).save(seq / "ulm_000004_000013_leftImg8bit.png")
    label = root / "gtFine" / "val" / "ulm" / "ulm_000004_000019_gtFine_labelTrainIds.png"
    Image.fromarray(np.full((H, W), 19, np.uint8)).save(label)
    problems = check_dataset(root, "cityscapes", splits=("val", "train"))
    assert found(problems) == {
        ("missing-frame", str(seq / "ulm_000004_000010_leftImg8bit.png")),
        ("size-mismatch", str(seq / "ulm_000004_000013_leftImg8bit.png")),
        ("bad-label", str(label)),
        ("missing-list", str(root / "gtFine" / "train")),
    }


def test_every_kind_is_exercised() -> None:
    # Guard: a new kind must get a test above (this list is maintained by hand).
    tested = {"missing-root", "missing-list", "list-no-newline", "missing-video", "missing-frame",
              "empty-file", "unreadable", "size-mismatch", "bad-label", "short-video"}  # fmt: skip
    assert set(KINDS) == tested
