"""Selective Token Masking (STM, paper §3.4): keep the reference tokens that matter most.

Importance of a reference token = the sum of its top-n affinities with the target's deepest-scale tokens
(eqs. 10–11). The ⌊p·N⌋ most important tokens are kept, in raster order of the reference grid (as the
released code's boolean-mask gather does). One selection per (clip, reference frame) is shared by every
scale and by the value features. The selection is an index: no gradient flows through it, while the
gathered affinities, keys and values stay differentiable.
"""

from __future__ import annotations

import torch


def num_kept(num_tokens: int, keep_ratio: float) -> int:
    # At least one token, so tiny CPU-profile grids keep working.
    return max(1, int(num_tokens * keep_ratio))


def select_tokens(deep_affinity: torch.Tensor, keep_ratio: float, top_n: int) -> torch.Tensor:
    """deep_affinity: B×R×(target tokens)×(reference tokens). Returns kept indices B×R×S, ascending."""
    num_ref = deep_affinity.shape[-1]
    keep = num_kept(num_ref, keep_ratio)
    if keep == num_ref:
        idx = torch.arange(num_ref, device=deep_affinity.device)
        return idx.expand(*deep_affinity.shape[:2], num_ref)
    with torch.no_grad():
        n = min(top_n, deep_affinity.shape[-2])
        importance = deep_affinity.topk(n, dim=-2).values.sum(dim=-2)
        idx = importance.topk(keep, dim=-1).indices
        return idx.sort(dim=-1).values


def gather_tokens(tokens: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """tokens: B×R×N×C, idx: B×R×S -> B×R×S×C."""
    return tokens.gather(2, idx.unsqueeze(-1).expand(*idx.shape, tokens.shape[-1]))
