"""VSPW / MRCFA evaluation metrics: mIoU, weighted IoU, mVC8 and mVC16.

The numbers follow the released MRCFA evaluation code (its ``Evaluator`` class
and ``get_common`` in ``VC_perclip.py``), including its quirks, so that scores
produced here are comparable with the paper's tables:

* mIoU averages only over classes that occur in the ground truth;
* mVC skips videos with <= 16 frames for *both* window lengths, evaluates
  only ``N - n`` windows per video (the last possible window is dropped),
  ignores classes and the ignore label, and pools all windows of all videos
  before averaging.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mrcfa.data.io import load_label
from mrcfa.data.vspw_layout import IGNORE_INDEX, read_list, reduce_zero_label
from mrcfa.errors import DataError

__all__ = [
    "IGNORE_INDEX",
    "ConfusionMatrix",
    "VideoConsistency",
    "score_prediction_dir",
]


def _check_pair(pred: np.ndarray, gt: np.ndarray) -> None:
    if pred.shape != gt.shape:
        raise ValueError(
            f"prediction shape {pred.shape} differs from ground-truth shape {gt.shape}"
        )
    for name, arr in (("prediction", pred), ("ground truth", gt)):
        if not np.issubdtype(arr.dtype, np.integer):
            raise ValueError(f"{name} must be an integer array, got dtype {arr.dtype}")


class ConfusionMatrix:
    """C x C pixel confusion matrix; rows = ground truth, columns = prediction."""

    def __init__(self, num_classes: int) -> None:
        if num_classes < 1:
            raise ValueError(f"num_classes must be >= 1, got {num_classes}")
        self.num_classes = num_classes
        # int64: a VSPW val pass is ~10^10 pixels, beyond int32.
        self.matrix = np.zeros((num_classes, num_classes), dtype=np.int64)

    def update(self, pred: np.ndarray, gt: np.ndarray) -> None:
        """Add one frame (or a batch of frames) of labels of identical shape."""
        _check_pair(pred, gt)
        c = self.num_classes
        if pred.size and (pred.min() < 0 or pred.max() >= c):
            raise ValueError(
                f"prediction values must lie in [0, {c}), got range "
                f"[{pred.min()}, {pred.max()}]"
            )
        valid = (gt >= 0) & (gt < c)
        index = gt[valid].astype(np.intp) * c + pred[valid].astype(np.intp)
        self.matrix += np.bincount(index, minlength=c * c).reshape(c, c)

    def merge(self, other: ConfusionMatrix) -> None:
        if other.num_classes != self.num_classes:
            raise ValueError(
                f"cannot merge {other.num_classes}-class matrix into {self.num_classes}-class one"
            )
        self.matrix += other.matrix

    def _iou(self) -> tuple[np.ndarray, np.ndarray]:
        m = self.matrix.astype(np.float64)
        gt_count = m.sum(axis=1)
        union = gt_count + m.sum(axis=0) - np.diag(m)
        with np.errstate(divide="ignore", invalid="ignore"):
            iou = np.diag(m) / union
        return iou, gt_count

    def per_class_iou(self) -> list[float]:
        """IoU per class in percent; NaN for classes without ground-truth pixels."""
        iou, gt_count = self._iou()
        return [float(100.0 * v) if n > 0 else math.nan for v, n in zip(iou, gt_count)]

    def miou(self) -> float:
        """Mean IoU (percent) over classes present in the ground truth."""
        iou, gt_count = self._iou()
        present = gt_count > 0
        if not present.any():
            return math.nan
        return float(100.0 * iou[present].mean())

    def wiou(self) -> float:
        """Frequency-weighted IoU (percent), weights = share of GT pixels."""
        iou, gt_count = self._iou()
        total = gt_count.sum()
        if total == 0:
            return math.nan
        present = gt_count > 0
        return float(100.0 * np.sum(gt_count[present] / total * iou[present]))

    def to_dict(self) -> dict[str, Any]:
        return {"num_classes": self.num_classes, "matrix": self.matrix.tolist()}

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> ConfusionMatrix:
        cm = cls(int(state["num_classes"]))
        matrix = np.asarray(state["matrix"], dtype=np.int64)
        if matrix.shape != cm.matrix.shape:
            raise ValueError(f"matrix shape {matrix.shape} does not match {cm.matrix.shape}")
        cm.matrix = matrix
        return cm


class StateAccuracy:
    """Pixel accuracy split by a per-pixel state map, e.g. the synthetic benchmark's cue states: it shows
    whether a model is right where a single frame cannot tell (a hidden cue) and where it can (a shown one)."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = tuple(names)
        self.correct = np.zeros(len(self.names), np.int64)
        self.total = np.zeros(len(self.names), np.int64)

    def update(self, pred: np.ndarray, gt: np.ndarray, state: np.ndarray, mask: np.ndarray) -> None:
        """Count the pixels `mask` selects, grouped by `state` (0 … len(names) − 1)."""
        _check_pair(pred, gt)
        if state.shape != gt.shape or mask.shape != gt.shape:
            raise ValueError(f"state {state.shape} / mask {mask.shape} differ from the label's {gt.shape}")
        n = len(self.names)
        states = state[mask].astype(np.int64)
        if states.size and states.max() >= n:
            raise ValueError(f"state value {states.max()} outside 0..{n - 1} ({', '.join(self.names)})")
        self.total += np.bincount(states, minlength=n)
        self.correct += np.bincount(states, weights=(pred[mask] == gt[mask]), minlength=n).astype(np.int64)

    def result(self) -> dict[str, dict[str, float | int | None]]:
        """Per state: accuracy in percent (None where no pixel had that state) and the pixel count."""
        return {name: {"accuracy": float(100.0 * c / t) if t else None, "pixels": int(t)}
                for name, c, t in zip(self.names, self.correct, self.total)}


def cue_accuracy_scalars(result: Mapping[str, Any]) -> dict[str, float]:
    """An evaluation's per-cue-state accuracies as flat metric names (`cue_accuracy_hidden`, …) for MLflow."""
    return {f"cue_accuracy_{state}": float(e["accuracy"])
            for state, e in (result.get("cue_accuracy") or {}).items() if e.get("accuracy") is not None}


@dataclass
class _Window:
    """Running state for all windows that start at frame ``start``."""

    start: int
    gt: np.ndarray
    pred: np.ndarray
    gt_common: np.ndarray  # pixels whose GT equals frame `start` in every frame so far
    pred_common: np.ndarray
    last: int  # last frame index any applicable window length still needs


class VideoConsistency:
    """Streaming mean video consistency (mVC_n) with windows pooled over videos.

    Windows of different lengths starting at the same frame share a prefix, so
    one running pair of masks per start serves every length (VC8 is read off on
    the way to VC16). At most ``max(windows)`` starts are alive at once.
    """

    def __init__(self, windows: Sequence[int] = (8, 16), min_frames: int = 16) -> None:
        ws = tuple(sorted(set(int(n) for n in windows)))
        if not ws or ws[0] < 1:
            raise ValueError(f"window lengths must be positive, got {tuple(windows)}")
        self.windows = ws
        self.min_frames = min_frames
        self.acc_sum = {n: 0.0 for n in ws}
        self.acc_count = {n: 0 for n in ws}  # windows with a non-empty GT-common region
        self.num_windows = {n: 0 for n in ws}  # all windows, NaN ones included
        self.num_videos = 0  # videos that contributed (not skipped)
        self._num_frames: int | None = None
        self._seen = 0
        self._skip = False
        self._shape: tuple[int, ...] | None = None
        self._open: list[_Window] = []

    def start_video(self, num_frames: int) -> None:
        if self._num_frames is not None:
            raise RuntimeError("start_video called before end_video of the previous video")
        self._num_frames = num_frames
        self._seen = 0
        self._shape = None
        self._open = []
        # Official rule: short videos are dropped for every window length.
        self._skip = num_frames <= self.min_frames

    def update(self, pred: np.ndarray, gt: np.ndarray) -> None:
        """Feed the next frame of the current video (frames in sorted order)."""
        if self._num_frames is None:
            raise RuntimeError("update called outside start_video/end_video")
        _check_pair(pred, gt)
        if self._shape is None:
            self._shape = gt.shape
        elif gt.shape != self._shape:
            raise ValueError(f"frame shape {gt.shape} differs from earlier frames {self._shape}")
        t = self._seen
        self._seen += 1
        if self._skip:
            return
        n_total = self._num_frames
        # Only starts i < N - n count for length n (the official range(N - n)).
        lengths = [n for n in self.windows if t < n_total - n]
        if lengths:
            ones = np.ones(gt.shape, dtype=bool)
            self._open.append(
                _Window(t, gt.copy(), pred.copy(), ones, ones.copy(), t + lengths[-1] - 1)
            )
        for w in self._open:
            if w.start < t:
                w.gt_common &= w.gt == gt
                w.pred_common &= w.pred == pred
            # Lengths are recorded only while the start is open, i.e. n <= its
            # longest admissible length, so every n reached here is admissible.
            n = t - w.start + 1
            if n in self.acc_sum:
                self._record(n, w)
        self._open = [w for w in self._open if w.last > t]

    def _record(self, n: int, w: _Window) -> None:
        self.num_windows[n] += 1
        denom = int(np.count_nonzero(w.gt_common))
        if denom == 0:  # official value is NaN, dropped by nanmean
            return
        inter = int(np.count_nonzero(w.gt_common & w.pred_common))
        self.acc_sum[n] += inter / denom
        self.acc_count[n] += 1

    def end_video(self) -> None:
        if self._num_frames is None:
            raise RuntimeError("end_video called without start_video")
        expected, seen = self._num_frames, self._seen
        self._num_frames = None
        self._open = []
        if seen != expected:
            raise ValueError(f"video declared {expected} frames but {seen} were fed")
        if not self._skip:
            self.num_videos += 1

    def merge(self, other: VideoConsistency) -> None:
        if other.windows != self.windows or other.min_frames != self.min_frames:
            raise ValueError("cannot merge VideoConsistency with different windows/min_frames")
        for n in self.windows:
            self.acc_sum[n] += other.acc_sum[n]
            self.acc_count[n] += other.acc_count[n]
            self.num_windows[n] += other.num_windows[n]
        self.num_videos += other.num_videos

    def result(self) -> dict[str, float]:
        """{"mVC8": ..., "mVC16": ...} in percent; NaN when no window counted."""
        return {
            f"mVC{n}": 100.0 * self.acc_sum[n] / self.acc_count[n]
            if self.acc_count[n]
            else math.nan
            for n in self.windows
        }


def _nan_to_none(values: Iterable[float]) -> list[float | None]:
    return [None if math.isnan(v) else v for v in values]


def score_prediction_dir(
    data_root: str | os.PathLike[str],
    pred_dir: str | os.PathLike[str],
    split: str = "val",
    num_classes: int = 124,
    progress: bool = False,
) -> dict[str, Any]:
    """Score saved predictions ``pred_dir/<video>/<frame>.png`` against VSPW ground truth.

    Frames of a video are the sorted GT mask names in ``data_root/data/<video>/mask``.
    """
    root, preds = Path(data_root), Path(pred_dir)
    if not root.is_dir():
        raise DataError(f"{root}: no such folder; --data-root is the ground truth in VSPW layout (VSPW_480p)")
    if not preds.is_dir() or not any(preds.glob("*/*.png")):
        raise DataError(f"{preds}: {'holds no predictions' if preds.is_dir() else 'no such folder'}; expected "
                        "<video>/<frame>.png, as `mrcfa evaluate --save-preds DIR` writes them")
    videos = read_list(root / f"{split}.txt")
    cm = ConfusionMatrix(num_classes)
    vc = VideoConsistency()
    num_frames = 0
    iterator: Iterable[str] = videos
    if progress:
        from tqdm import tqdm

        iterator = tqdm(videos, desc=f"scoring {split}", unit="video")
    for video in iterator:
        mask_dir = root / "data" / video / "mask"
        # Hidden files (e.g. macOS "._x.png") are not frames.
        frames = sorted(
            p.name for p in mask_dir.iterdir() if p.suffix == ".png" and not p.name.startswith(".")
        )
        vc.start_video(len(frames))
        for name in frames:
            pred_path = preds / video / name
            if not pred_path.is_file():
                raise FileNotFoundError(f"{pred_path}: missing prediction for ground truth {mask_dir / name}")
            gt = reduce_zero_label(load_label(mask_dir / name))
            pred = load_label(pred_path)
            if pred.shape != gt.shape:
                raise DataError(
                    f"{pred_path}: prediction size {pred.shape} differs from "
                    f"ground-truth size {gt.shape} ({mask_dir / name})"
                )
            cm.update(pred, gt)
            vc.update(pred, gt)
        vc.end_video()
        num_frames += len(frames)
    return {
        "mIoU": cm.miou(),
        "WIoU": cm.wiou(),
        **vc.result(),
        "per_class_iou": _nan_to_none(cm.per_class_iou()),
        "num_frames": num_frames,
        "num_videos": len(videos),
    }
