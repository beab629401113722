"""The released training loss (mmseg's CrossEntropyLoss as the MRCFA head calls it).

loss = 0.5 · CE(SegFormer logits of the labelled frames, each frame's own label)
     + CE(auxiliary outputs of every reference and the target output, all against the TARGET label)

Logits are resized to the label size first. mmseg averages over ALL pixels, ignored ones included (they
contribute 0): the denominator is the number of pixels, not of valid pixels — unlike PyTorch's default.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from mrcfa.models.segmenter import ClipOutput

IGNORE_INDEX = 255


def _ce_all_pixels(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """logits N×K×h×w, labels N×H×W."""
    if logits.shape[-2:] != labels.shape[-2:]:
        logits = F.interpolate(logits, labels.shape[-2:], mode="bilinear", align_corners=False)
    return F.cross_entropy(logits.float(), labels, ignore_index=IGNORE_INDEX, reduction="none").mean()


def clip_loss(out: ClipOutput, labels: torch.Tensor, labeled: torch.Tensor) -> dict[str, torch.Tensor]:
    """labels: B×T×H×W (target last); labeled: B×T bool (Cityscapes labels only the target)."""
    b, t = labels.shape[:2]
    if out.aux_logits is None:  # single-frame model: SegFormer's plain CE on the target
        seg = _ce_all_pixels(out.logits, labels[:, -1])
        return {"loss": seg, "loss_segformer": seg}
    # Frames with labels are the same in every clip of a batch (all of them for VSPW, the target for Cityscapes).
    frames = labeled[0].nonzero().flatten()
    seg = _ce_all_pixels(out.frame_logits[:, frames].flatten(0, 1), labels[:, frames].flatten(0, 1))
    heads = torch.cat([out.aux_logits, out.logits[:, None]], dim=1)  # B×T×K×h×w
    target = labels[:, -1:].expand(-1, heads.shape[1], -1, -1)
    temporal = _ce_all_pixels(heads.flatten(0, 1), target.flatten(0, 1))
    return {"loss": 0.5 * seg + temporal, "loss_segformer": seg, "loss_temporal": temporal}
