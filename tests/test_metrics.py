"""Hand-computed checks of the VSPW/MRCFA metrics (mIoU, WIoU, mVC8/16)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mrcfa.metrics import (
    ConfusionMatrix,
    StateAccuracy,
    VideoConsistency,
    score_prediction_dir,
)


def arr(values: list[int]) -> np.ndarray:
    return np.array([values], dtype=np.uint8)  # one-row "image"


# ---------------------------------------------------------------- mIoU / WIoU


def test_confusion_matrix_known_ious() -> None:
    cm = ConfusionMatrix(3)
    cm.update(arr([0, 0, 1, 1, 2, 2]), arr([0, 0, 0, 1, 1, 2]))
    assert cm.matrix.tolist() == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    # IoU0 = 2/(3+2-2), IoU1 = 1/(2+2-1), IoU2 = 1/(1+2-1)
    assert cm.per_class_iou() == pytest.approx([200 / 3, 100 / 3, 50])
    assert cm.miou() == pytest.approx(50.0)
    # freq = 3/6, 2/6, 1/6 -> 1/3 + 1/9 + 1/12 = 19/36
    assert cm.wiou() == pytest.approx(100 * 19 / 36)


def test_class_absent_from_gt_is_excluded_but_its_fp_counts() -> None:
    cm = ConfusionMatrix(3)
    cm.update(arr([0, 0, 0, 2]), arr([0, 0, 0, 0]))
    iou = cm.per_class_iou()
    assert iou[0] == pytest.approx(75.0)  # 3 / (4 + 3 - 3)
    assert math.isnan(iou[1]) and math.isnan(iou[2])
    assert cm.miou() == pytest.approx(75.0)  # not (75 + 0) / 2
    assert cm.wiou() == pytest.approx(75.0)


def test_ignore_pixels_are_excluded() -> None:
    cm = ConfusionMatrix(3)
    cm.update(arr([0, 1, 1, 2]), arr([0, 255, 1, 255]))
    assert cm.matrix.sum() == 2
    assert cm.miou() == pytest.approx(100.0)


def test_wiou_differs_from_miou_with_unbalanced_classes() -> None:
    cm = ConfusionMatrix(2)
    # class 0: 8 GT pixels, 7 right; class 1: 2 GT pixels, 1 right.
    cm.update(arr([0] * 7 + [1] + [1, 0]), arr([0] * 8 + [1, 1]))
    iou0, iou1 = 7 / 9, 1 / 3  # 7/(8+8-7), 1/(2+2-1)
    assert cm.miou() == pytest.approx(100 * (iou0 + iou1) / 2)
    assert cm.wiou() == pytest.approx(100 * (0.8 * iou0 + 0.2 * iou1))


def test_invalid_inputs_raise() -> None:
    cm = ConfusionMatrix(3)
    with pytest.raises(ValueError, match="3"):
        cm.update(arr([0, 3]), arr([0, 1]))
    with pytest.raises(ValueError, match=r"\(1, 2\).*\(1, 3\)"):
        cm.update(arr([0, 1]), arr([0, 1, 2]))
    with pytest.raises(ValueError, match="integer"):
        cm.update(np.zeros((1, 2)), arr([0, 1]))
    assert cm.matrix.sum() == 0


def test_state_accuracy_groups_masked_pixels_by_state() -> None:
    acc = StateAccuracy(("shown", "hidden", "corrupted"))
    pred = arr([1, 1, 2, 2, 3, 0, 3])
    gt = arr([1, 2, 2, 2, 3, 0, 1])
    state = arr([0, 1, 1, 1, 0, 0, 0])
    mask = arr([1, 1, 1, 1, 1, 0, 1]).astype(bool)  # pixel 5 (background) not counted
    acc.update(pred, gt, state, mask)
    acc.update(arr([2]), arr([2]), arr([1]), arr([1]).astype(bool))
    r = acc.result()
    # shown: pixels 0, 4, 6 -> 2 of 3 right; hidden: 1, 2, 3 and the second call -> 3 of 4; corrupted: none
    assert r["shown"] == {"accuracy": pytest.approx(200 / 3), "pixels": 3}
    assert r["hidden"] == {"accuracy": 75.0, "pixels": 4}
    assert r["corrupted"] == {"accuracy": None, "pixels": 0}
    with pytest.raises(ValueError, match="state value 3"):
        acc.update(arr([0]), arr([0]), arr([3]), arr([1]).astype(bool))


def test_confusion_matrix_merge_and_roundtrip() -> None:
    rng = np.random.default_rng(0)
    preds = rng.integers(0, 5, size=(4, 6, 7))
    gts = rng.choice(np.array([0, 1, 2, 3, 4, 255]), size=(4, 6, 7))
    whole, a, b = ConfusionMatrix(5), ConfusionMatrix(5), ConfusionMatrix(5)
    for k in range(4):
        whole.update(preds[k], gts[k])
        (a if k < 2 else b).update(preds[k], gts[k])
    a.merge(b)
    assert np.array_equal(a.matrix, whole.matrix)
    assert a.matrix.sum() == np.count_nonzero(gts != 255)
    restored = ConfusionMatrix.from_dict(json.loads(json.dumps(whole.to_dict())))
    assert np.array_equal(restored.matrix, whole.matrix)
    with pytest.raises(ValueError):
        a.merge(ConfusionMatrix(4))


# ---------------------------------------------------------------- mVC


def feed(vc: VideoConsistency, preds: list[list[int]], gts: list[list[int]]) -> None:
    vc.start_video(len(gts))
    for p, g in zip(preds, gts):
        vc.update(arr(p), arr(g))
    vc.end_video()


def video_a() -> tuple[list[list[int]], list[list[int]]]:
    """17 frames, 3 pixels.

    pixel0: GT and prediction both switch 0 -> 1 at frame 4;
    pixel1: GT and prediction constant;
    pixel2: GT constant, prediction flickers at frame 12 only.
    VC8 (starts 0..8): starts 0-3 -> 2/2, start 4 -> 3/3, starts 5-8 -> 2/3,
      so mVC8 = (5 + 4 * 2/3) / 9 = 23/27.
    VC16 (start 0 only): pixel0 not GT-common, pixel2 flickers -> 1/2.
    """
    gts = [[0 if t < 4 else 1, 5, 7] for t in range(17)]
    preds = [[0 if t < 4 else 1, 5, 9 if t == 12 else 7] for t in range(17)]
    return preds, gts


def test_vc_hand_computed_video() -> None:
    vc = VideoConsistency()
    feed(vc, *video_a())
    assert vc.num_windows == {8: 9, 16: 1}  # range(N - n): 17-8, 17-16
    res = vc.result()
    assert res["mVC8"] == pytest.approx(100 * 23 / 27)
    assert res["mVC16"] == pytest.approx(50.0)


def test_vc_ignore_counts_wrong_constant_prediction_scores_and_last_window_dropped() -> None:
    # 18 frames, 2 pixels. pixel0: GT 255 throughout, prediction 5 then 6 from
    # frame 10; pixel1: GT 3, prediction constantly (wrongly) 0.
    gts = [[255, 3]] * 18
    preds = [[5 if t < 10 else 6, 0] for t in range(18)]
    vc = VideoConsistency()
    feed(vc, preds, gts)
    assert vc.num_windows == {8: 10, 16: 2}
    # VC8 starts 0..9: windows 3..9 contain the 9->10 change (acc 1/2), 0..2 do not.
    # The dropped start 10 (frames 10..17) would have raised it to 7.5/11.
    res = vc.result()
    assert res["mVC8"] == pytest.approx(100 * (3 + 7 * 0.5) / 10)
    assert res["mVC16"] == pytest.approx(50.0)  # starts 0, 1 both straddle frame 10


def test_vc_constant_wrong_prediction_is_perfect() -> None:
    vc = VideoConsistency()
    feed(vc, [[2, 2]] * 20, [[0, 1]] * 20)
    assert vc.result() == {"mVC8": 100.0, "mVC16": 100.0}
    assert vc.num_windows == {8: 12, 16: 4}


def test_vc_short_videos_skipped_for_both_lengths() -> None:
    vc = VideoConsistency()
    feed(vc, [[0]] * 16, [[0]] * 16)  # 16 > 8, still skipped for VC8
    assert vc.num_windows == {8: 0, 16: 0} and vc.num_videos == 0
    assert all(math.isnan(v) for v in vc.result().values())
    feed(vc, [[0]] * 17, [[0]] * 17)
    assert vc.num_windows == {8: 9, 16: 1} and vc.num_videos == 1


def test_vc_pools_windows_instead_of_averaging_videos() -> None:
    vc = VideoConsistency()
    feed(vc, *video_a())  # VC16: 1 window at 1/2; VC8: 9 windows summing 23/3
    feed(vc, [[1, 2, 3]] * 20, [[4, 5, 6]] * 20)  # 4 and 12 windows at 1
    res = vc.result()
    assert res["mVC16"] == pytest.approx(100 * (0.5 + 4) / 5)  # per-video mean would be 75
    assert res["mVC8"] == pytest.approx(100 * (23 / 3 + 12) / 21)


def test_vc_empty_gt_common_windows_are_nan_and_dropped() -> None:
    vc = VideoConsistency()
    feed(vc, [[0]] * 17, [[t % 2] for t in range(17)])  # GT never constant
    assert vc.num_windows == {8: 9, 16: 1} and vc.acc_count == {8: 0, 16: 0}
    feed(vc, [[0]] * 17, [[0]] * 17)
    assert vc.result() == {"mVC8": 100.0, "mVC16": 100.0}


def brute_force_vc(preds: np.ndarray, gts: np.ndarray, n: int) -> list[float]:
    """Direct transcription of the windowed definition, for cross-checking."""
    accs = []
    for i in range(len(gts) - n):
        g_common = np.all(gts[i + 1 : i + n] == gts[i], axis=0)
        p_common = np.all(preds[i + 1 : i + n] == preds[i], axis=0)
        accs.append((g_common & p_common).sum() / g_common.sum() if g_common.sum() else np.nan)
    return accs


def test_vc_streaming_matches_brute_force_and_merge() -> None:
    rng = np.random.default_rng(1)
    videos = []
    for num in (17, 23, 30, 12):
        # Mostly-constant labels with sparse changes so windows are non-trivial.
        gts = np.repeat(rng.integers(0, 3, size=(1, 4, 5)), num, axis=0)
        preds = gts.copy()
        gts[rng.random(gts.shape) < 0.03] = 255
        preds[rng.random(preds.shape) < 0.05] = 1
        videos.append((preds.astype(np.uint8), gts.astype(np.uint8)))
    whole, first, second = VideoConsistency(), VideoConsistency(), VideoConsistency()
    for k, (preds, gts) in enumerate(videos):
        for acc in (whole, first if k < 2 else second):
            acc.start_video(len(gts))
            for p, g in zip(preds, gts):
                acc.update(p, g)
                # memory bounded by the window: a start closes on its last frame
                assert len(acc._open) <= 15
            acc.end_video()
    for n in (8, 16):
        pooled = [a for p, g in videos if len(g) > 16 for a in brute_force_vc(p, g, n)]
        assert whole.result()[f"mVC{n}"] == pytest.approx(100 * np.nanmean(pooled))
    first.merge(second)
    assert first.result() == pytest.approx(whole.result())
    assert first.num_videos == whole.num_videos == 3


def test_vc_protocol_errors() -> None:
    vc = VideoConsistency()
    with pytest.raises(RuntimeError):
        vc.update(arr([0]), arr([0]))
    vc.start_video(17)
    vc.update(arr([0]), arr([0]))
    with pytest.raises(ValueError, match="17"):
        vc.end_video()
    vc.start_video(17)
    vc.update(arr([0]), arr([0]))
    with pytest.raises(ValueError):
        vc.update(arr([0, 1]), arr([0, 1]))  # frame size changed mid-video


# ---------------------------------------------------------------- saved predictions


def save_png(path: Path, values: list[int], palette: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    img = Image.fromarray(arr(values), mode="L")
    if palette:  # VSPW masks are palette PNGs; indices must be read, not colours
        img.putpalette([(7 * i) % 256 for i in range(768)])
    img.save(path)


def make_tree(tmp_path: Path) -> tuple[Path, Path]:
    """vidA: 17 frames, raw GT [1, 2, 0, 255] -> reduced [0, 1, 255, 255];
    prediction [0, 0, 2, x] with x = 1 for frames 0..7 and 2 afterwards.
    vidB: 3 frames (too short for mVC), raw GT [3, 3, 1, 2], prediction [2, 1, 0, 1].
    """
    root, preds = tmp_path / "VSPW", tmp_path / "preds"
    root.mkdir()
    (root / "val.txt").write_text("vidA\n\nvidB")  # blank line, no final newline
    for t in range(17):
        name = f"{t:08d}.png"
        save_png(root / "data" / "vidA" / "mask" / name, [1, 2, 0, 255], palette=True)
        save_png(preds / "vidA" / name, [0, 0, 2, 1 if t < 8 else 2])
    for t in range(3):
        name = f"{t:08d}.png"
        save_png(root / "data" / "vidB" / "mask" / name, [3, 3, 1, 2], palette=True)
        save_png(preds / "vidB" / name, [2, 1, 0, 1])
    return root, preds


def test_score_prediction_dir(tmp_path: Path) -> None:
    root, preds = make_tree(tmp_path)
    res = score_prediction_dir(root, preds, num_classes=3, progress=True)
    # M = [[17+3, 0, 0], [17, 3, 0], [0, 3, 3]]: rows 20, 20, 6; cols 37, 6, 3
    ious = [20 / 37, 3 / 23, 3 / 6]
    assert res["per_class_iou"] == pytest.approx([100 * v for v in ious])
    assert res["mIoU"] == pytest.approx(100 * sum(ious) / 3)
    assert res["WIoU"] == pytest.approx(100 * (20 * ious[0] + 20 * ious[1] + 6 * ious[2]) / 46)
    # vidA only: all 4 pixels GT-common (two are 255); the ignored pixel's prediction
    # changes between frames 7 and 8. VC8 starts 0..8: 0 and 8 -> 1, 1..7 -> 3/4.
    assert res["mVC8"] == pytest.approx(100 * (2 + 7 * 0.75) / 9)
    assert res["mVC16"] == pytest.approx(75.0)
    assert res["num_frames"] == 20 and res["num_videos"] == 2

    wider = score_prediction_dir(root, preds, num_classes=4)
    assert wider["per_class_iou"][3] is None  # JSON-safe NaN
    assert wider["mIoU"] == pytest.approx(res["mIoU"])
    json.dumps(wider, allow_nan=False)


def test_score_prediction_dir_errors(tmp_path: Path) -> None:
    root, preds = make_tree(tmp_path)
    bad = preds / "vidB" / "00000001.png"
    save_png(bad, [2, 1, 0])
    with pytest.raises(ValueError, match=r"00000001\.png.*\(1, 3\).*\(1, 4\)"):
        score_prediction_dir(root, preds, num_classes=3)
    bad.unlink()
    with pytest.raises(FileNotFoundError, match=r"vidB.*00000001\.png"):
        score_prediction_dir(root, preds, num_classes=3)
