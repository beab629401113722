"""SegFormer's all-MLP decoder, run on every frame: the single-frame baseline and MRCFA's value features."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


class ConvBNReLU(nn.Sequential):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 1, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.act = nn.ReLU(inplace=True)
        # mmcv ConvModule's init, as in the released head.
        nn.init.kaiming_normal_(self.conv.weight, mode="fan_out", nonlinearity="relu")


class Classifier(nn.Sequential):
    """Dropout2d (0.1 as released) then a 1×1 conv to class logits."""

    def __init__(self, cin: int, num_classes: int, dropout: float = 0.1) -> None:
        super().__init__(nn.Dropout2d(dropout), nn.Conv2d(cin, num_classes, 1))


@dataclass
class FrameDecoding:
    fused: torch.Tensor  # N×E×H/4×W/4, after the fuse conv (BN + ReLU), before dropout
    logits: torch.Tensor  # N×K×H/4×W/4, the per-frame SegFormer prediction


class SegFormerDecoder(nn.Module):
    """Project each stage to E channels, upsample to 1/4, concatenate deepest first, fuse, classify."""

    def __init__(self, in_channels: tuple[int, ...], embed_dim: int, num_classes: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.embed = nn.ModuleList(nn.Linear(c, embed_dim) for c in in_channels)
        self.fuse = ConvBNReLU(len(in_channels) * embed_dim, embed_dim)
        self.classifier = Classifier(embed_dim, num_classes, dropout)

    def forward(self, stages: list[torch.Tensor]) -> FrameDecoding:
        size = stages[0].shape[-2:]
        maps = []
        for feat, proj in zip(stages, self.embed):
            x = proj(feat.flatten(2).transpose(1, 2)).transpose(1, 2).reshape(feat.shape[0], -1, *feat.shape[-2:])
            maps.append(x if x.shape[-2:] == size else F.interpolate(x, size, mode="bilinear", align_corners=False))
        fused = self.fuse(torch.cat(maps[::-1], dim=1))
        return FrameDecoding(fused=fused, logits=self.classifier(fused))
