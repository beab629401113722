"""MiT (Mix Transformer) encoders B0–B5: timm's PVTv2 built with SegFormer's MiT settings
(`mrcfa.models.variants.MIT`).

timm's `pvt_v2_bX` differs from MiT in one place only: PVTv2 uses MLP ratios (8, 8, 4, 4), MiT uses 4
everywhere. With MiT's MLP ratios and drop-path 0.1 the module is MiT, and SegFormer's ImageNet
`mit_bX.pth` maps onto it through timm's own `checkpoint_filter_fn`.
"""

from __future__ import annotations

from pathlib import Path

import torch
from timm.models.pvt_v2 import PyramidVisionTransformerV2, checkpoint_filter_fn

from mrcfa.config import ModelConfig
from mrcfa.models.state_dict import load_strict, read_state_dict
from mrcfa.models.variants import MIT


class MiT(PyramidVisionTransformerV2):
    """Returns the four stage maps (strides 4, 8, 16, 32), NCHW."""

    def __init__(self, cfg: ModelConfig) -> None:
        variant = MIT[cfg.backbone]  # widths and depths come scaled from the config (CPU profiles)
        super().__init__(
            depths=cfg.depths,
            embed_dims=cfg.embed_dims,
            num_heads=variant.heads,
            sr_ratios=variant.sr_ratios,
            mlp_ratios=variant.mlp_ratios,
            qkv_bias=True,
            drop_path_rate=cfg.drop_path,
            num_classes=0,
        )
        self.out_channels: tuple[int, ...] = tuple(cfg.embed_dims)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:  # type: ignore[override]
        x = self.patch_embed(x)
        outs = []
        for stage in self.stages:
            x = stage(x)
            outs.append(x)
        return outs


def mit_state_dict(raw: dict[str, torch.Tensor], model: MiT) -> dict[str, torch.Tensor]:
    """SegFormer key layout -> timm layout (timm's own filter); the ImageNet classifier is dropped."""
    mapped = checkpoint_filter_fn(raw, model)
    return {k: v for k, v in mapped.items() if not k.startswith("head.")}


def load_imagenet_weights(model: MiT, path: str | Path) -> int:
    """Load SegFormer's ImageNet `mit_bX.pth` strictly; returns the number of tensors loaded."""
    if not Path(path).is_file():
        raise FileNotFoundError(
            f"{path}: ImageNet MiT weights not found. SegFormer's mit_b0.pth … mit_b5.pth come from the "
            "NVlabs/SegFormer release; put them under weights/ (docs/data.md, 'ImageNet weights')."
        )
    return load_strict(model, mit_state_dict(read_state_dict(path), model), f"{path} (ImageNet MiT weights)").loaded
