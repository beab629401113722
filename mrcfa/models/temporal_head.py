"""Cross-frame part of MRCFA: affinities (eq. 3), STM, the affinity decoder, retrieval (eq. 7), merge (eq. 8).

The work splits in two so that streaming inference computes each frame's share once:
- `reference_state(frame)`: keys of every scale on the deepest (1/32) grid and the value tokens — all
  that a later target needs from this frame;
- `attend(target, references)`: queries, affinities, STM, refinement, retrieval and the merge.

Scales are backbone stages, deepest first: L = 3 uses stages 4, 3, 2 (strides 32, 16, 8) as released;
L = 4 (the paper's Cityscapes setting, not in the released code) adds stage 1 with an 8×8/8 key conv and
retrieves at stride 4 instead of 8. The Feature-Pyramid baseline (Table 4, never released) shares the
queries, keys, STM and values but merges per-scale *retrieved features* instead of refined affinities.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from mrcfa.config import ModelConfig
from mrcfa.models.affinity_decoder import AffinityDecoder
from mrcfa.models.segformer_head import Classifier
from mrcfa.models.stm import gather_tokens, select_tokens


@dataclass
class ReferenceState:
    """Per-frame tensors a later target needs; leading dims are frames (N) or (B, R)."""

    keys: dict[int, torch.Tensor]  # stage -> ...×(HL·WL)×C_stage
    values: torch.Tensor  # ...×(HL·WL)×E

    @staticmethod
    def stack(states: list["ReferenceState"]) -> "ReferenceState":
        """N single-frame states (leading dim 1) -> one state with leading dims 1×N (B=1, R=N)."""
        keys = {s: torch.stack([st.keys[s][0] for st in states])[None] for s in states[0].keys}
        return ReferenceState(keys=keys, values=torch.stack([st.values[0] for st in states])[None])

    def view(self, batch: int, refs: int) -> "ReferenceState":
        return ReferenceState(
            keys={s: k.reshape(batch, refs, *k.shape[1:]) for s, k in self.keys.items()},
            values=self.values.reshape(batch, refs, *self.values.shape[1:]),
        )


def _tokens(x: torch.Tensor) -> torch.Tensor:
    return x.flatten(2).transpose(1, 2)


def half_size(x: torch.Tensor) -> torch.Tensor:
    """The released head's 1/4 -> 1/8 resize: (int(h/2), int(w/2)), bilinear."""
    h, w = x.shape[-2:]
    return F.interpolate(x, (h // 2, w // 2), mode="bilinear", align_corners=False)


class TemporalHead(nn.Module):
    def __init__(self, cfg: ModelConfig, in_channels: tuple[int, ...]) -> None:
        super().__init__()
        self.cfg = cfg
        self.stages = list(range(4, 4 - cfg.num_scales, -1))  # e.g. [4, 3, 2], deepest first
        self.retrieval_stride = 4 if 1 in self.stages else 8
        ch = {s: in_channels[s - 1] for s in self.stages}
        self.query = nn.ModuleDict({f"stage{s}": nn.Linear(ch[s], ch[s]) for s in self.stages})
        self.key = nn.ModuleDict({f"stage{s}": nn.Linear(ch[s], ch[s]) for s in self.stages})
        # Keys of shallower stages are brought to the deepest grid by a conv with kernel = stride (eq. 9).
        self.key_down = nn.ModuleDict({
            f"stage{s}": nn.Conv2d(ch[s], ch[s], 2 ** (4 - s), stride=2 ** (4 - s)) for s in self.stages if s < 4
        })
        e = cfg.embed_dim
        self.value_down = nn.Conv2d(e, e, 4, stride=4)  # fused decoder feature, 1/8 -> 1/32
        if cfg.arch == "mrcfa":
            self.affinity = AffinityDecoder(self.stages, double=cfg.double_sar, sar=bool(cfg.sar), maa=bool(cfg.maa))
        self.classifier = Classifier(e, cfg.num_classes, cfg.dropout)
        # Training-only: one classifier per reference on its retrieved feature (the released deco1..3).
        self.aux_classifiers = nn.ModuleList(Classifier(e, cfg.num_classes, cfg.dropout)
                                             for _ in cfg.ref_offsets or ())

    def reference_state(self, stages: list[torch.Tensor], fused: torch.Tensor) -> ReferenceState:
        keys = {}
        for s in self.stages:
            f = stages[s - 1]
            if s < 4:
                f = self.key_down[f"stage{s}"](f)
            keys[s] = self.key[f"stage{s}"](_tokens(f))
        values = _tokens(self.value_down(half_size(fused)))
        return ReferenceState(keys=keys, values=values)

    def _target_feature(self, fused: torch.Tensor) -> torch.Tensor:
        return fused if self.retrieval_stride == 4 else half_size(fused)

    def attend(self, stages: list[torch.Tensor], fused: torch.Tensor, refs: ReferenceState,
               with_aux: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        """stages/fused: the B target frames; refs: leading dims B×R. Returns logits at the fused (1/4) grid
        and, with `with_aux`, the per-reference auxiliary logits B×R×K×h×w."""
        target = self._target_feature(fused)
        b, e, h, w = target.shape
        r = refs.values.shape[1]
        idx: torch.Tensor | None = None
        affinities: list[torch.Tensor] = []
        grids: list[tuple[int, int]] = []
        for s in self.stages:
            feat = stages[s - 1]
            q = self.query[f"stage{s}"](_tokens(feat))  # B×n×C
            if idx is None:  # deepest scale: full affinity, then STM picks the tokens for every scale
                full = torch.einsum("bnc,brkc->brnk", q, refs.keys[s])
                idx = select_tokens(full, self.cfg.keep_ratio, self.cfg.top_n)
                a = full.gather(-1, idx.unsqueeze(2).expand(-1, -1, full.shape[2], -1))
            else:
                a = torch.einsum("bnc,brkc->brnk", q, gather_tokens(refs.keys[s], idx))
            affinities.append(a)
            grids.append(tuple(feat.shape[-2:]))
        assert idx is not None
        values = gather_tokens(refs.values, idx)  # B×R×S×E
        keep = idx.shape[-1]

        if self.cfg.arch == "mrcfa":
            maps = [a.transpose(2, 3).reshape(b * r * keep, 1, *g) for a, g in zip(affinities, grids)]
            refined = self.affinity(maps, (h, w)).reshape(b, r, keep, h * w).transpose(2, 3)
            retrieved = refined.softmax(-1) @ values  # B×R×(h·w)×E
            retrieved = retrieved.transpose(2, 3).reshape(b, r, e, h, w)
        else:  # Feature Pyramid: retrieve per scale, upsample to the retrieval grid, average the features
            per_scale = []
            for a, g in zip(affinities, grids):
                o = (a.softmax(-1) @ values).transpose(2, 3).reshape(b * r, e, *g)
                per_scale.append(F.interpolate(o, (h, w), mode="bilinear", align_corners=False)
                                 if g != (h, w) else o)
            retrieved = torch.stack(per_scale).mean(0).reshape(b, r, e, h, w)

        merged = retrieved.mean(1) + target  # eq. 8
        logits = self._to_fused_grid(self.classifier(merged), fused)
        aux = None
        if with_aux:
            aux = torch.stack([self._to_fused_grid(cls(retrieved[:, i]), fused)
                               for i, cls in enumerate(self.aux_classifiers)], dim=1)
        return logits, aux

    @staticmethod
    def _to_fused_grid(x: torch.Tensor, fused: torch.Tensor) -> torch.Tensor:
        size = fused.shape[-2:]
        return x if x.shape[-2:] == size else F.interpolate(x, size, mode="bilinear", align_corners=False)
