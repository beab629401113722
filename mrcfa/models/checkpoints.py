"""Released checkpoints onto our modules: SegFormer's ImageNet `mit_bX.pth` and the authors' trained
MRCFA B0/B1/B2/B5 (mmcv checkpoints, `state_dict` with `backbone.` and `decode_head.` keys).

The released head names its parts after a research codebase (`hypercorre_module.hpn.encoder_layer4`,
`sr2`, `deco4`…); `released_to_ours` renames them to the paper's (STM keys, SAR, MAA, classifiers).
The head's `conv_seg` is created by mmseg's base class and never used: it is accepted and dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import torch

from mrcfa.config import ModelConfig, build_section
from mrcfa.models.mit import CheckpointMismatch, MiT, load_state_strict, mit_state_dict, read_state_dict
from mrcfa.models.segmenter import Segmenter

IGNORED_RELEASED_KEYS = ("decode_head.conv_seg.weight", "decode_head.conv_seg.bias")

# Released scale index -> backbone stage: q1/k1 act on stage 2 (1/8), q2/k2 on 3, q3/k3 on 4.
_HEAD_RENAMES: list[tuple[str, str]] = [
    (r"^linear_c(\d)\.proj\.", lambda m: f"decoder.embed.{int(m.group(1)) - 1}."),
    (r"^linear_fuse\.", "decoder.fuse."),
    (r"^linear_pred\.", "decoder.classifier.1."),
    (r"^deco4\.smalldecoder\.", "temporal.classifier."),
    (r"^deco([123])\.smalldecoder\.", lambda m: f"temporal.aux_classifiers.{int(m.group(1)) - 1}."),
    (r"^hypercorre_module\.q(\d)\.", lambda m: f"temporal.query.stage{int(m.group(1)) + 1}."),
    (r"^hypercorre_module\.k(\d)\.", lambda m: f"temporal.key.stage{int(m.group(1)) + 1}."),
    (r"^sr([23])\.", lambda m: f"temporal.key_down.stage{m.group(1)}."),
    (r"^sr1_feat\.", "temporal.value_down."),
    (r"^hypercorre_module\.hpn\.encoder_layer(\d)\.", lambda m: f"temporal.affinity.sar.stage{m.group(1)}."),
    (r"^hypercorre_module\.hpn\.encoder_layer(\d)to(\d)\.", lambda m: f"temporal.affinity.maa.stage{m.group(2)}."),
]


def released_to_ours(raw: dict[str, torch.Tensor], model: Segmenter) -> tuple[dict[str, torch.Tensor], list[str]]:
    """Rename a released MRCFA state dict; returns (mapped state, keys that have no counterpart)."""
    backbone = {k[len("backbone."):]: v for k, v in raw.items() if k.startswith("backbone.")}
    out = {f"backbone.{k}": v for k, v in mit_state_dict(backbone, model.backbone).items()}
    unmapped = []
    for key, value in raw.items():
        if key.startswith("backbone.") or key in IGNORED_RELEASED_KEYS:
            continue
        if not key.startswith("decode_head."):
            unmapped.append(key)
            continue
        name = key[len("decode_head."):].replace(".conv2.", ".")  # the released conv wrapper
        for pattern, repl in _HEAD_RENAMES:
            new, n = re.subn(pattern, repl, name)
            if n:
                out[new] = value
                break
        else:
            unmapped.append(key)
    return out, unmapped


def load_released_mrcfa(model: Segmenter, path: str | Path) -> int:
    state, unmapped = released_to_ours(read_state_dict(path), model)
    if unmapped:
        raise CheckpointMismatch(f"{path}: keys with no counterpart in this model: {', '.join(unmapped[:8])}")
    return load_state_strict(model, state, str(path))


# --- `mrcfa weights check` ------------------------------------------------------------------------

WEIGHT_ARCHS = ("mit_b0", "mit_b1", "mit_b2", "mit_b3", "mit_b4", "mit_b5",
                "mrcfa_b0", "mrcfa_b1", "mrcfa_b2", "mrcfa_b5")


@dataclass
class WeightReport:
    loaded: int = 0
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    mismatched: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.unexpected or self.mismatched)


def released_model_config(arch: str, num_classes: int = 124) -> ModelConfig:
    """The model a released checkpoint was trained as (released configs: p 0.8 for B0, else 0.5)."""
    family, backbone = arch.split("_")
    if family == "mit":
        return build_section(ModelConfig, {"arch": "segformer", "backbone": backbone}, "model.")
    fields = {"arch": "mrcfa", "backbone": backbone, "num_classes": num_classes,
              "keep_ratio": 0.8 if backbone == "b0" else 0.5}
    return build_section(ModelConfig, fields, "model.")


def check_weights(arch: str, path: str | Path) -> WeightReport:
    """Compare a checkpoint against the architecture it claims to be, key by key and shape by shape."""
    if arch not in WEIGHT_ARCHS:
        raise ValueError(f"--arch must be one of {', '.join(WEIGHT_ARCHS)}, got {arch!r}")
    raw = read_state_dict(path)
    if arch.startswith("mit_"):
        module: torch.nn.Module = MiT(released_model_config(arch))
        state, extra = mit_state_dict(raw, module), []
    else:
        cls_key = "decode_head.linear_pred.weight"
        num_classes = raw[cls_key].shape[0] if cls_key in raw else 124
        module = Segmenter(released_model_config(arch, num_classes))
        state, extra = released_to_ours(raw, module)
    own = module.state_dict()
    report = WeightReport(
        missing=sorted(set(own) - set(state)),
        unexpected=sorted((set(state) - set(own)) | set(extra)),
        mismatched=sorted(f"{k}: {tuple(state[k].shape)} != {tuple(own[k].shape)}"
                          for k in set(own) & set(state) if state[k].shape != own[k].shape),
    )
    report.loaded = len(set(own) & set(state)) - len(report.mismatched)
    return report
