"""The affinity decoder: Single-scale Affinity Refinement (SAR, §3.2) and Multi-scale Affinity Aggregation
(MAA, §3.3, eq. 6).

Every kept reference token owns one affinity map laid out over the target frame's grid; SAR refines each
map with small 2-D conv blocks over target positions, MAA upsamples the deeper map, adds it to the next
shallower one and mixes the sum with another conv block, deep to shallow. Blocks follow the released
code: conv → GroupNorm(1 group) → ReLU, single-conv blocks for every backbone except B1, whose blocks
have two convs and carry two channels between SAR and MAA.

The maps are many (B1 streaming at 480×864: 3 references × 202 kept tokens = 606) and small, with one or two
channels each. Convolving them as a batch of one-channel images is slow on CPU; each block instead runs
them as the groups of one grouped convolution (the same weights for every map), then normalises each map
on its own, as the released per-map GroupNorm does.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

# Kernel sizes per backbone stage (1 = stride 4 … 4 = stride 32). Stage 1 (L = 4, Cityscapes) is not in
# the released code; it reuses the stride-8 kernels.
_SAR_KERNELS_SINGLE = {4: (3,), 3: (5,), 2: (5,), 1: (5,)}
_SAR_KERNELS_DOUBLE = {4: (3, 3), 3: (3, 3), 2: (5, 3), 1: (5, 3)}


def conv_per_map(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor,
                 padding: int | tuple[int, ...]) -> torch.Tensor:
    """The same conv on every map of an N×cin×h×w stack: one convolution whose N groups are the maps."""
    n = x.shape[0]
    y = F.conv2d(x.reshape(1, -1, *x.shape[-2:]), weight.repeat(n, 1, 1, 1), bias.repeat(n), padding=padding,
                 groups=n)
    return y.view(n, -1, *y.shape[-2:])


class MapBlock(nn.Sequential):
    """(conv → GroupNorm(1 group) → ReLU)× applied to every map of an N×c×h×w stack on its own.

    The layers stay an nn.Sequential (state-dict keys `0.weight`, `1.weight`, …, as released); only the
    layout of the computation changes: the N maps are the groups of one convolution.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for conv, norm in zip(self[0::3], self[1::3]):  # each (conv, norm, relu) triple
            y = conv_per_map(x, conv.weight, conv.bias, conv.padding)
            x = F.relu_(F.group_norm(y, 1, norm.weight, norm.bias, norm.eps))  # per map: N×c×h×w
        return x


def _block(channels: list[int], kernels: tuple[int, ...]) -> MapBlock:
    layers: list[nn.Module] = []
    for cin, cout, k in zip(channels[:-1], channels[1:], kernels):
        layers += [nn.Conv2d(cin, cout, k, padding=k // 2), nn.GroupNorm(1, cout), nn.ReLU(inplace=True)]
    return MapBlock(*layers)


def upsample(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    # The released MAA upsamples affinity maps with align_corners=True.
    return x if x.shape[-2:] == tuple(size) else F.interpolate(x, size, mode="bilinear", align_corners=True)


class AffinityDecoder(nn.Module):
    """Refines the masked multi-scale affinities of one (target, reference) pair into one map.

    Input: maps deepest first, each (B·R·S)×1×h_l×w_l. Output: (B·R·S)×1×H×W at the requested grid.
    `sar=False` passes raw affinities to MAA; `maa=False` combines scales by upsample + add only.
    """

    def __init__(self, stages: list[int], *, double: bool, sar: bool, maa: bool) -> None:
        super().__init__()
        self.stages = stages  # backbone stage numbers, deepest first
        self.use_sar, self.use_maa = sar, maa
        # Two channels flow between SAR and MAA only in the released B1 blocks with both modules on.
        width = 2 if double and sar and maa and len(stages) > 1 else 1
        kernels = _SAR_KERNELS_DOUBLE if double else _SAR_KERNELS_SINGLE
        if sar:
            self.sar = nn.ModuleDict({
                f"stage{s}": _block([1, 1, width] if double else [1, width], kernels[s])
                for s in stages
            })
        if maa and len(stages) > 1:
            blocks = {}
            for i, s in enumerate(stages[1:], start=1):
                out = 1 if i == len(stages) - 1 else width
                chans = [width, width, out] if double else [width, out]
                blocks[f"stage{s}"] = _block(chans, (3, 3) if double else (3,))
            self.maa = nn.ModuleDict(blocks)

    def forward(self, affinities: list[torch.Tensor], out_size: tuple[int, int]) -> torch.Tensor:
        merged: torch.Tensor | None = None
        for stage, a in zip(self.stages, affinities):
            if self.use_sar:
                a = self.sar[f"stage{stage}"](a)
            if merged is None:
                merged = a
                continue
            merged = upsample(merged, a.shape[-2:]) + a
            if self.use_maa:
                merged = self.maa[f"stage{stage}"](merged)
        assert merged is not None
        return upsample(merged, out_size)
