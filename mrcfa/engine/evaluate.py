"""`mrcfa evaluate`: whole-video streaming inference over a split, scored as the official scripts do.

Every frame of every video is predicted once, in order, with each frame's features computed once
(`StreamingPredictor`); logits are resized to the network input and then to the original size, as the
released segmentor does. Memory stays bounded by the reference window: predictions are scored as they
come (confusion matrix + running video-consistency windows) and written out only if asked.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from mrcfa.config import RunConfig
from mrcfa.data.cityscapes import CityscapesClipDataset
from mrcfa.data.io import load_label
from mrcfa.data.synth import BACKGROUND, CUE_STATES, cue_path
from mrcfa.data.vspw import VSPWVideo, list_videos
from mrcfa.data.vspw_layout import IGNORE_INDEX
from mrcfa.engine.datasets import test_transform
from mrcfa.atomic import atomic_write, write_json
from mrcfa import layout, provenance
from mrcfa.engine.paths import RunPaths
from mrcfa.metric_keys import EVAL_METRICS
from mrcfa.metrics import ConfusionMatrix, StateAccuracy, VideoConsistency, cue_accuracy_scalars
from mrcfa.engine.preflight import sha256
from mrcfa.models.checkpoints import Checkpoint, model_from_file
from mrcfa.models.labels import logits_to_labels
from mrcfa.models.segmenter import Segmenter
from mrcfa.models.streaming import StreamingPredictor


def load_trained(cfg: RunConfig, weights: str | Path, device: torch.device) -> tuple[Segmenter, Checkpoint]:
    """The run's model with every tensor from `weights` (any supported layout)."""
    model, ckpt = model_from_file(cfg.model, weights)
    return model.to(device).eval(), ckpt


def checkpoint_dir(cfg: RunConfig, weights: str | Path, results_root: str | Path = layout.RESULTS_ROOT) -> Path:
    """Where the evaluation of a file other than the run's own model.pt goes (never the run's seed folder)."""
    return Path(layout.path(layout.CHECKPOINT_RUN, results=results_root, profile=cfg.profile,
                            stem=Path(weights).stem, run=cfg.run))


def to_prediction(logits: torch.Tensor, input_size: tuple[int, int], original_size: tuple[int, int]) -> np.ndarray:
    """1×K×h×w logits -> H×W uint8 labels at the original resolution (to the network input, then the frame)."""
    return logits_to_labels(logits, [input_size, original_size])[0].to(torch.uint8).cpu().numpy()


def save_png(path: Path, labels: np.ndarray) -> None:
    atomic_write(path, lambda p: Image.fromarray(labels).save(p, format="PNG"))


def sample_frames(num_frames: int) -> list[int]:
    """Frames kept for the Fig. 3 strip: three late frames of a video, three apart."""
    return sorted({max(0, num_frames - 1 - 3 * k) for k in range(3)})


def evaluate(cfg: RunConfig, weights: str | Path, paths: RunPaths, *, split: str = "val",
             device: torch.device | None = None, pred_dir: Path | None = None, sample_videos: int = 2,
             progress: bool = True) -> dict[str, Any]:
    device = device or torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model, ckpt = load_trained(cfg, weights, device)
    source = {"path": str(weights), "sha256": sha256(weights), "layout": ckpt.layout}
    if cfg.data.layout == "cityscapes":
        return evaluate_annotated(cfg, model, split, device, progress) | {"weights": source}
    predictor = StreamingPredictor(model)
    transform = test_transform(cfg)
    cm = ConfusionMatrix(cfg.model.num_classes)
    vc = VideoConsistency()
    videos = list_videos(cfg.data.root, split)
    # The synthetic benchmark records where each object's class cue was visible: score those pixels apart.
    cues = StateAccuracy(CUE_STATES) if cfg.data.source == "synth" else None
    total = 0
    bar = tqdm(videos, desc=f"eval {cfg.run}", disable=not progress, mininterval=2.0, file=sys.stderr)
    with torch.inference_mode():
        for v_index, name in enumerate(bar):
            video = VSPWVideo(cfg.data.root, name, transform)
            predictor.reset()
            vc.start_video(len(video))
            keep = set(sample_frames(len(video))) if v_index < sample_videos else set()
            for i in range(len(video)):
                x, label, stem = video.frame(i)
                logits = predictor.step(x[None].to(device))
                pred = to_prediction(logits, tuple(x.shape[-2:]), video.original_size)
                if label is None:
                    raise FileNotFoundError(f"{cfg.data.root}: video {name} frame {stem} has no mask in split {split}")
                cm.update(pred, label)
                vc.update(pred, label)
                if cues is not None:
                    objects = (label != IGNORE_INDEX) & (label != BACKGROUND - 1)  # labels are zero-reduced
                    cues.update(pred, label, load_label(cue_path(cfg.data.root, name, stem)), objects)
                if pred_dir is not None:
                    save_png(pred_dir / name / f"{stem}.png", pred)
                if i in keep:
                    save_png(paths.samples / name / f"{stem}.png", pred)
            vc.end_video()
            total += len(video)
    return {
        "run": cfg.run, "seed": None, "profile": cfg.profile, "dataset": cfg.data.dataset,
        "config_hash": cfg.hash(), "overrides": cfg.overrides, "split": split, "mIoU": cm.miou(), "WIoU": cm.wiou(),
        **vc.result(),
        "per_class_iou": [None if np.isnan(v) else v for v in cm.per_class_iou()],
        "num_frames": total, "num_videos": len(videos),
        **({"cue_accuracy": cues.result()} if cues is not None else {}), "weights": source,
    }


def evaluate_annotated(cfg: RunConfig, model: Segmenter, split: str, device: torch.device,
                       progress: bool) -> dict[str, Any]:
    """Cityscapes: only the annotated frame of each snippet is scored (its references read from the
    sequence at the configured offsets); video consistency is undefined with one label per snippet."""
    clips = CityscapesClipDataset(cfg.data.root, split, cfg.model.ref_offsets or (), test_transform(cfg))
    cm = ConfusionMatrix(cfg.model.num_classes)
    with torch.inference_mode():
        for i in tqdm(range(len(clips)), desc=f"eval {cfg.run}", disable=not progress, mininterval=2.0,
                      file=sys.stderr):
            item = clips[i]
            frames, label = item["frames"], item["labels"][-1].numpy().astype(np.uint8)
            logits = model(frames[None].to(device)).logits
            cm.update(to_prediction(logits, tuple(frames.shape[-2:]), label.shape), label)
    return {
        "run": cfg.run, "seed": None, "profile": cfg.profile, "dataset": cfg.data.dataset,
        "config_hash": cfg.hash(), "overrides": cfg.overrides, "split": split, "mIoU": cm.miou(), "WIoU": cm.wiou(),
        "mVC8": None,
        "mVC16": None, "per_class_iou": [None if np.isnan(v) else v for v in cm.per_class_iou()],
        "num_frames": len(clips), "num_videos": len(clips),
    }


def write_metrics(result: dict[str, Any], seed: int, paths: RunPaths, cfg: RunConfig, track: bool,
                  tags: dict[str, str] | None = None, external: bool = False) -> None:
    """`external`: the weights are not the run's own training result (a released checkpoint, say); MLflow
    then keeps them apart from the run's trained seeds, named after the file and tagged with its sha256."""
    result |= {"seed": seed, **provenance.stamp()}
    write_json(paths.metrics, result)
    if track:
        from mrcfa.engine.tracked import open_tracker

        weights = result["weights"]
        label = Path(weights["path"]).stem if external else None
        tags = {**(tags or {}), "weights_sha256": weights["sha256"], "weights_layout": weights["layout"],
                provenance.tag("metrics"): result[provenance.KEY]}
        tracker = open_tracker(cfg, seed, tags=tags, weights_label=label)
        scalars = {k: result[k] for k in EVAL_METRICS if result.get(k) is not None
                   and not np.isnan(result[k])}
        scalars |= cue_accuracy_scalars(result)
        tracker.log_metrics(scalars)
        tracker.log_artifact(paths.metrics)
        tracker.close()
