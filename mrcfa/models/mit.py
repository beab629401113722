"""MiT (Mix Transformer) encoders B0–B5: timm's PVTv2 built with SegFormer's MiT settings.

timm's `pvt_v2_bX` differs from MiT in one place only: PVTv2 uses MLP ratios (8, 8, 4, 4), MiT uses 4
everywhere. With `mlp_ratios=(4, 4, 4, 4)` and drop-path 0.1 the module is MiT, and SegFormer's ImageNet
`mit_bX.pth` maps onto it through timm's own `checkpoint_filter_fn`.
"""

from __future__ import annotations

from pathlib import Path

import torch
from timm.models.pvt_v2 import PyramidVisionTransformerV2, checkpoint_filter_fn

from mrcfa.config import MIT_HEADS, ModelConfig


class MiT(PyramidVisionTransformerV2):
    """Returns the four stage maps (strides 4, 8, 16, 32), NCHW."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__(
            depths=cfg.depths,
            embed_dims=cfg.embed_dims,
            num_heads=MIT_HEADS,
            sr_ratios=(8, 4, 2, 1),
            mlp_ratios=(4.0, 4.0, 4.0, 4.0),
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


class CheckpointMismatch(RuntimeError):
    """A checkpoint does not fit the model exactly (a partial load is never silent)."""


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Load a checkpoint's tensors safely (`weights_only`), unwrapping mmcv/timm containers."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: checkpoint not found")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # corrupt file, pickle with arbitrary objects, truncated download
        raise CheckpointMismatch(f"{path}: cannot be read as a PyTorch checkpoint ({e})") from e
    for key in ("state_dict", "model"):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
    if not isinstance(obj, dict) or not all(torch.is_tensor(v) for v in obj.values()):
        raise CheckpointMismatch(f"{path}: expected a state dict of tensors")
    return obj


def mit_state_dict(raw: dict[str, torch.Tensor], model: MiT) -> dict[str, torch.Tensor]:
    """SegFormer key layout -> timm layout (timm's own filter); the ImageNet classifier is dropped."""
    mapped = checkpoint_filter_fn(raw, model)
    return {k: v for k, v in mapped.items() if not k.startswith("head.")}


def load_state_strict(module: torch.nn.Module, state: dict[str, torch.Tensor], source: str) -> int:
    """Load every tensor or nothing; the error lists missing, unexpected and mis-shaped keys."""
    own = module.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    mismatched = sorted(
        f"{k}: checkpoint {tuple(state[k].shape)} vs model {tuple(own[k].shape)}"
        for k in set(own) & set(state)
        if state[k].shape != own[k].shape
    )
    if missing or unexpected or mismatched:
        lines = [f"{source} does not match {type(module).__name__}:"]
        for title, keys in (("missing", missing), ("unexpected", unexpected), ("wrong shape", mismatched)):
            if keys:
                shown = ", ".join(keys[:8]) + (f", … ({len(keys)} in all)" if len(keys) > 8 else "")
                lines.append(f"  {title}: {shown}")
        raise CheckpointMismatch("\n".join(lines))
    module.load_state_dict(state, strict=True)
    return len(state)


def load_imagenet_weights(model: MiT, path: str | Path) -> int:
    """Load SegFormer's ImageNet `mit_bX.pth` strictly; returns the number of tensors loaded."""
    if not Path(path).is_file():
        raise FileNotFoundError(
            f"{path}: ImageNet MiT weights not found. SegFormer's mit_b0.pth … mit_b5.pth come from the "
            "NVlabs/SegFormer release; put them under weights/ (README, 'Weights')."
        )
    return load_state_strict(model, mit_state_dict(read_state_dict(path), model), str(path))
