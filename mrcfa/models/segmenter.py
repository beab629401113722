"""The one model every job trains and evaluates: MiT encoder + SegFormer decoder (+ the temporal head).

`arch="segformer"` is the single-frame baseline; `arch="mrcfa"` adds STM, SAR and MAA; `arch="feature_pyramid"`
is Table 4's baseline. A clip is B×T×3×H×W with the target LAST and the references in offset order.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from mrcfa.config import ModelConfig
from mrcfa.models.mit import MiT, load_imagenet_weights
from mrcfa.models.segformer_head import FrameDecoding, SegFormerDecoder
from mrcfa.models.temporal_head import ReferenceState, TemporalHead


@dataclass
class ClipOutput:
    logits: torch.Tensor  # B×K×H/4×W/4: the target's prediction
    frame_logits: torch.Tensor  # B×T×K×H/4×W/4: the SegFormer branch on every frame
    aux_logits: torch.Tensor | None  # B×R×K×H/4×W/4: per-reference auxiliary heads (training only)


class Segmenter(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.backbone = MiT(cfg)
        self.decoder = SegFormerDecoder(self.backbone.out_channels, cfg.embed_dim, cfg.num_classes, cfg.dropout)
        self.temporal = TemporalHead(cfg, self.backbone.out_channels) if cfg.temporal else None
        if cfg.pretrained:
            load_imagenet_weights(self.backbone, cfg.pretrained)

    def encode(self, frames: torch.Tensor) -> tuple[list[torch.Tensor], FrameDecoding]:
        """N×3×H×W -> the four stage maps and the per-frame SegFormer decoding."""
        h, w = frames.shape[-2:]
        if h % 32 or w % 32:
            raise ValueError(f"input sides must be multiples of 32 (the deepest grid), got {h}×{w}")
        stages = self.backbone(frames)
        return stages, self.decoder(stages)

    def reference_state(self, stages: list[torch.Tensor], decoding: FrameDecoding) -> ReferenceState:
        assert self.temporal is not None
        return self.temporal.reference_state(stages, decoding.fused)

    def forward(self, clip: torch.Tensor) -> ClipOutput:
        b, t = clip.shape[:2]
        stages, dec = self.encode(clip.flatten(0, 1))
        frame_logits = dec.logits.unflatten(0, (b, t))
        if self.temporal is None or t == 1:  # single frame: the SegFormer branch (released test policy)
            return ClipOutput(logits=frame_logits[:, -1], frame_logits=frame_logits, aux_logits=None)
        if t != self.cfg.num_frames:
            raise ValueError(f"clip has {t} frames, the model expects {self.cfg.num_frames} (or 1)")
        per_clip = [s.unflatten(0, (b, t)) for s in stages]
        fused = dec.fused.unflatten(0, (b, t))
        refs = self.temporal.reference_state([s[:, :-1].flatten(0, 1) for s in per_clip], fused[:, :-1].flatten(0, 1))
        logits, aux = self.temporal.attend([s[:, -1] for s in per_clip], fused[:, -1], refs.view(b, t - 1),
                                           with_aux=self.training)
        return ClipOutput(logits=logits, frame_logits=frame_logits, aux_logits=aux)


def build_model(cfg: ModelConfig) -> Segmenter:
    return Segmenter(cfg)


def count_parameters(model: Segmenter) -> dict[str, int]:
    """Trainable parameters; `inference` leaves out the training-only auxiliary classifiers (as the paper)."""
    total = sum(p.numel() for p in model.parameters() if p.requires_grad)
    aux = 0
    if model.temporal is not None:
        aux = sum(p.numel() for p in model.temporal.aux_classifiers.parameters())
    return {"total": total, "inference": total - aux}
