"""Every supported checkpoint through one loader: this project's `model.pt`, the authors' trained MRCFA
B0/B1/B2/B5 (mmcv checkpoints, `state_dict` with `backbone.` and `decode_head.` keys, the same layout as
mmseg's SegFormer), and SegFormer's ImageNet `mit_bX.pth`.

A file's layout and architecture are read from its keys and shapes (`open_checkpoint`), so a file that does
not fit the run's model is refused with one line saying what it is. `mrcfa evaluate`, `bench`, `train
--init-from` and `weights check` all go through `fit`, so they never disagree about a file.

The released head names its parts after a research codebase (`hypercorre_module.hpn.encoder_layer4`,
`sr2`, `deco4`…); `released_to_ours` renames them to the paper's (STM keys, SAR, MAA, classifiers).
The head's `conv_seg` is created by mmseg's base class and never used: it is accepted and dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

import torch

from mrcfa.config import ModelConfig, build_section
from mrcfa.models.mit import MiT, mit_state_dict
from mrcfa.models.segmenter import Segmenter
from mrcfa.models.state_dict import CheckpointMismatch, WeightReport, compare, read_state_dict
from mrcfa.models.variants import BACKBONES, MIT, RELEASED_MRCFA

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


# --- what a file is ---------------------------------------------------------------------------------

LAYOUTS = {
    "harness": "this project's model.pt",
    "mmseg": "a released mmseg checkpoint",
    "imagenet": "SegFormer's ImageNet MiT backbone",
    "unknown": "a state dict of unknown layout",
}
FAMILY_NAMES = {"mrcfa": "MRCFA", "segformer": "SegFormer", "feature_pyramid": "Feature-Pyramid", "mit": "MiT"}


@dataclass(frozen=True)
class Checkpoint:
    path: Path
    raw: dict[str, torch.Tensor]
    layout: str  # a key of LAYOUTS
    family: str | None  # mrcfa, segformer, feature_pyramid, mit
    backbone: str | None  # b0 … b5; None for a scaled-down (CPU profile) or unreadable encoder
    widths: tuple[int, ...]
    depths: tuple[int, ...]
    num_classes: int | None

    @property
    def arch(self) -> str | None:
        return f"{self.family}_{self.backbone}" if self.family and self.backbone else None

    def describe(self) -> str:
        what = LAYOUTS[self.layout]
        if self.family is None:
            return what
        if self.backbone:
            model = self.arch
        else:
            model = f"{FAMILY_NAMES[self.family]} on a MiT of widths {self.widths} and depths {self.depths}"
        classes = f", {self.num_classes} classes" if self.num_classes else ""
        return f"{what} of {model}{classes}"


def _mit_shape(raw: dict[str, torch.Tensor], width_key: str, block: str,
               first: int = 1) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Stage widths and depths of a MiT encoder from its keys (`width_key`/`block` take the stage number,
    counted from `first`: SegFormer's names count from 1, timm's from 0)."""
    widths, depths = [], []
    for i in range(first, first + 4):
        w = raw.get(width_key.format(i))
        blocks = {k[len(block.format(i)):].split(".", 1)[0] for k in raw if k.startswith(block.format(i))}
        if w is None or not blocks:
            return (), ()
        widths.append(int(w.shape[0]))
        depths.append(len(blocks))
    return tuple(widths), tuple(depths)


def _mit_name(widths: tuple[int, ...], depths: tuple[int, ...]) -> str | None:
    return next((b for b, v in MIT.items() if v.widths == widths and v.depths == depths), None)


def open_checkpoint(path: str | Path) -> Checkpoint:
    """Read a checkpoint and tell its layout and architecture from its keys and shapes."""
    raw = read_state_dict(path)
    classes: torch.Tensor | None = None
    if "patch_embed1.proj.weight" in raw:
        layout, family = "imagenet", "mit"
        widths, depths = _mit_shape(raw, "patch_embed{0}.proj.weight", "block{0}.")
    elif "backbone.patch_embed1.proj.weight" in raw and any(k.startswith("decode_head.") for k in raw):
        layout = "mmseg"
        family = "mrcfa" if any(k.startswith("decode_head.hypercorre_module.") for k in raw) else "segformer"
        widths, depths = _mit_shape(raw, "backbone.patch_embed{0}.proj.weight", "backbone.block{0}.")
        classes = raw.get("decode_head.linear_pred.weight")
    elif "backbone.patch_embed.proj.weight" in raw and any(k.startswith("decoder.") for k in raw):
        layout = "harness"
        family = ("mrcfa" if any(k.startswith("temporal.affinity.") for k in raw)
                  else "feature_pyramid" if any(k.startswith("temporal.") for k in raw) else "segformer")
        widths, depths = _mit_shape(raw, "backbone.stages.{0}.norm.weight", "backbone.stages.{0}.blocks.",
                                     first=0)
        classes = raw.get("decoder.classifier.1.weight")
    else:
        layout, family, widths, depths = "unknown", None, (), ()
    backbone = _mit_name(widths, depths)
    return Checkpoint(Path(path), raw, layout, family, backbone, widths, depths,
                      None if classes is None else int(classes.shape[0]))


# --- fitting a file to a module --------------------------------------------------------------------


def fit(ckpt: Checkpoint, module: torch.nn.Module) -> tuple[dict[str, torch.Tensor], WeightReport]:
    """The file's tensors renamed for `module` (a Segmenter, or a bare MiT), and how well they fit."""
    raw = ckpt.raw
    extra: list[str] = []
    if isinstance(module, MiT):
        state = mit_state_dict(raw, module) if ckpt.layout == "imagenet" else {}
        extra = [] if ckpt.layout == "imagenet" else sorted(raw)
    elif ckpt.layout == "mmseg":
        state, extra = released_to_ours(raw, module)  # type: ignore[arg-type]
    elif ckpt.layout == "imagenet":
        state = {f"backbone.{k}": v for k, v in mit_state_dict(raw, module.backbone).items()}  # type: ignore[union-attr]
    else:
        state = raw
    return state, compare(module, state, extra)


def model_name(cfg: ModelConfig) -> str:
    """How a model config reads in messages: `mrcfa_b1`, with its scale (CPU profiles) and classes."""
    full = cfg.embed_dims == MIT[cfg.backbone].widths and cfg.depths == MIT[cfg.backbone].depths
    scale = "" if full else f" (MiT widths {cfg.embed_dims}, depths {cfg.depths})"
    return f"{cfg.arch}_{cfg.backbone}{scale}, {cfg.num_classes} classes"


def load_weights(model: Segmenter, path: str | Path, purpose: str = "trained weights") -> Checkpoint:
    """Load any supported checkpoint strictly into `model`; one-line CheckpointMismatch otherwise."""
    ckpt = open_checkpoint(path)
    if ckpt.layout == "imagenet":
        raise CheckpointMismatch(
            f"{path} is {ckpt.describe()}: it has no decoder, so it cannot serve as {purpose}; it is the "
            f"starting point of training (model.pretrained, e.g. weights/mit_{ckpt.backbone or 'b1'}.pth)")
    state, report = fit(ckpt, model)
    if not report.ok:
        raise CheckpointMismatch(
            f"{path} is {ckpt.describe()}, but the run builds {model_name(model.cfg)}: {report.summary()} "
            f"(`mrcfa weights check --profile P --run R {path} --json` lists every key)", report)
    model.load_state_dict(state, strict=True)
    return ckpt


def model_from_file(cfg: ModelConfig, path: str | Path,
                    purpose: str = "trained weights") -> tuple[Segmenter, Checkpoint]:
    """`cfg`'s model with every tensor from `path`: the file replaces them all, so ImageNet weights are not read."""
    model = Segmenter(replace(cfg, pretrained=None))
    return model, load_weights(model, path, purpose)


# --- `mrcfa weights check` ------------------------------------------------------------------------

WEIGHT_ARCHS = tuple(f"{family}_{b}" for family in ("mit", "segformer", "mrcfa") for b in BACKBONES)


def released_model_config(arch: str, num_classes: int | None = None) -> ModelConfig:
    """The model a released checkpoint was trained as (`RELEASED_MRCFA`; B3 and B4, never released, as B1)."""
    family, backbone = arch.split("_")
    fields: dict[str, object] = {"arch": "segformer" if family == "mit" else family, "backbone": backbone,
                                 "num_classes": num_classes or 124}
    if family == "mrcfa":
        fields |= RELEASED_MRCFA.get(backbone, RELEASED_MRCFA["b1"]).model_fields()
    return build_section(ModelConfig, fields, "model.")


def check_weights(path: str | Path, arch: str | None = None,
                  model_cfg: ModelConfig | None = None) -> tuple[Checkpoint, WeightReport, str]:
    """Fit a file to an architecture (`--arch`), to a run's model (`model_cfg`), or to what it says it is.

    Returns the file, the report and the name of the model it was compared with."""
    ckpt = open_checkpoint(path)
    if model_cfg is not None:
        module: torch.nn.Module = Segmenter(replace(model_cfg, pretrained=None))
        target = model_name(model_cfg)
    else:
        arch = arch or ckpt.arch
        if arch is None:
            raise CheckpointMismatch(f"{path} is {ckpt.describe()}; give --arch (or --profile and --run) to "
                                     "compare it with a model")
        if arch not in WEIGHT_ARCHS:
            raise CheckpointMismatch(f"--arch must be one of {', '.join(WEIGHT_ARCHS)}, got {arch!r}")
        cfg = released_model_config(arch, ckpt.num_classes)
        module = MiT(cfg) if arch.startswith("mit_") else Segmenter(cfg)
        target = arch if arch.startswith("mit_") else model_name(cfg)
    state, report = fit(ckpt, module)
    return ckpt, report, target
