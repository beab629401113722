"""Logits to labels as the released segmentor does (bilinear resize to each size in turn, then argmax over
classes), a few classes at a time.

Resizing is per class, so the classes can be resized in groups and the argmax carried along: the result is the
same, ties included (the first class wins, as `argmax` picks it), while the full-size float logits (124 classes
at 480×864 are 205 MB) never exist at once. That full-size copy, not the model, set a streamed frame's peak
memory.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

CLASS_CHUNK = 16


def logits_to_labels(logits: torch.Tensor, sizes: list[tuple[int, int]], chunk: int = CLASS_CHUNK) -> torch.Tensor:
    """B×K×h×w logits -> B×H×W int64 labels, resized bilinearly (align_corners=False) through `sizes` in order."""
    best_value: torch.Tensor | None = None
    best = torch.zeros(0)
    for c0 in range(0, logits.shape[1], chunk):
        x = logits[:, c0:c0 + chunk]
        for size in sizes:
            if tuple(x.shape[-2:]) != tuple(size):
                x = F.interpolate(x, size, mode="bilinear", align_corners=False)
        value, index = x.max(1)
        if best_value is None:
            best_value, best = value, index
        else:
            better = value > best_value  # strict: on a tie the earlier class stays
            best_value = torch.where(better, value, best_value)
            best = torch.where(better, index + c0, best)
    return best
