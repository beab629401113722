"""SAR/MAA with the maps as the groups of one convolution equal the released per-map computation.

The reference below is the straightforward layout the released code (and this project before it) used:
the maps are a batch of images, each block's layers run as plain modules, so every map is convolved and
GroupNorm-ed as its own image. The package's `MapBlock` must give the same outputs and gradients.
"""

from __future__ import annotations

import itertools

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mrcfa.config import ModelConfig, build_section
from mrcfa.models.affinity_decoder import AffinityDecoder
from mrcfa.models.loss import clip_loss
from mrcfa.models.segmenter import build_model
from mrcfa.models.streaming import StreamingPredictor

TOL = {"atol": 1e-5, "rtol": 1e-5}
STAGES = {1: [4], 2: [4, 3], 3: [4, 3, 2], 4: [4, 3, 2, 1]}
GRIDS = {4: (4, 6), 3: (8, 12), 2: (16, 24), 1: (32, 48)}  # a 128×192 input
VARIANTS = [(d, L, s, m) for d, L, s, m in itertools.product((False, True), (1, 2, 3, 4), (True, False), (True, False))]


def reference_block(block: nn.Sequential, x: torch.Tensor) -> torch.Tensor:
    for layer in block:  # Conv2d over the batch of maps, GroupNorm(1, c) per map, ReLU
        x = layer(x)
    return x


def reference_forward(dec: AffinityDecoder, maps: list[torch.Tensor], out_size: tuple[int, int]) -> torch.Tensor:
    def up(x: torch.Tensor, size: tuple[int, ...]) -> torch.Tensor:
        return x if x.shape[-2:] == size else F.interpolate(x, size, mode="bilinear", align_corners=True)

    merged = None
    for stage, a in zip(dec.stages, maps):
        if dec.use_sar:
            a = reference_block(dec.sar[f"stage{stage}"], a)
        if merged is None:
            merged = a
            continue
        merged = up(merged, a.shape[-2:]) + a
        if dec.use_maa:
            merged = reference_block(dec.maa[f"stage{stage}"], merged)
    return up(merged, out_size)


def randomise(module: nn.Module, seed: int = 0) -> None:
    """Random weights everywhere, GroupNorm's per-channel affine included (near 1 and 0, as trained ones:
    a map that ReLU zeroes entirely has zero variance, and GroupNorm then amplifies round-off 300×)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.Conv2d):
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.5)
            elif isinstance(m, nn.GroupNorm):
                m.weight.copy_(1 + torch.randn(m.weight.shape, generator=gen) * 0.2)
                m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.2)


def assert_grads_close(grads: list[torch.Tensor], ref: list[torch.Tensor], tol: float) -> None:
    """Gradients of shared weights sum thousands of per-pixel terms in a different order: compare them at
    `tol` relative to the largest gradient of the group."""
    assert len(grads) == len(ref)
    scale = max(r.abs().max().item() for r in ref)
    for g, r in zip(grads, ref):
        torch.testing.assert_close(g, r, atol=tol * scale, rtol=tol)


@pytest.mark.parametrize("dtype,tol", [(torch.float32, 1e-5), (torch.float64, 1e-10)])
@pytest.mark.parametrize("double,scales,sar,maa", VARIANTS)
def test_decoder_equals_per_map_reference(double, scales, sar, maa, dtype, tol):
    stages = STAGES[scales]
    dec = AffinityDecoder(stages, double=double, sar=sar, maa=maa)
    randomise(dec)
    dec.to(dtype)
    gen = torch.Generator().manual_seed(1)
    maps = [torch.randn(37, 1, *GRIDS[s], generator=gen, dtype=dtype) for s in stages]
    out_size = GRIDS[stages[-1]] if scales == 4 else GRIDS[2]
    weight = torch.randn(37, 1, *out_size, generator=gen, dtype=dtype)  # a loss weighing every output differently

    results = []
    for forward in (dec, lambda m, size: reference_forward(dec, m, size)):
        inputs = [m.clone().requires_grad_(True) for m in maps]
        dec.zero_grad()
        out = forward(inputs, out_size)
        (out * weight).sum().backward()
        results.append((out.detach(), [x.grad for x in inputs], [p.grad for p in dec.parameters()]))
    (out, grad_in, grad_param), (ref_out, ref_in, ref_param) = results
    assert out.shape == (37, 1, *out_size)
    torch.testing.assert_close(out, ref_out, atol=tol, rtol=tol)
    assert_grads_close(grad_in, ref_in, tol)
    if sar or (maa and scales > 1):
        assert_grads_close(grad_param, ref_param, tol)


def model_cfg(backbone: str, scales: int, sar: bool, maa: bool) -> ModelConfig:
    fields = {"width_div": 8, "depth_cap": 1, "embed_dim": 16, "num_classes": 5, "backbone": backbone,
              "num_scales": scales, "sar": sar, "maa": maa, "keep_ratio": 0.5, "ref_offsets": [-3, -2, -1]}
    return build_section(ModelConfig, fields, "model.")


def build(cfg: ModelConfig, reference: bool) -> nn.Module:
    torch.manual_seed(0)
    model = build_model(cfg)
    dec = model.temporal.affinity
    randomise(dec)
    if reference:
        dec.forward = lambda maps, size: reference_forward(dec, maps, size)
    return model


MODEL_VARIANTS = [("b0", 3, True, True), ("b1", 3, True, True), ("b1", 1, True, True), ("b1", 2, False, True),
                  ("b1", 3, True, False), ("b0", 4, True, True), ("b1", 4, True, True)]


@pytest.mark.parametrize("backbone,scales,sar,maa", MODEL_VARIANTS)
def test_training_step_equals_per_map_reference(backbone, scales, sar, maa):
    clip = torch.randn(2, 4, 3, 128, 192, generator=torch.Generator().manual_seed(2))
    labels = torch.randint(0, 5, (2, 4, 128, 192), generator=torch.Generator().manual_seed(3))
    results = []
    for reference in (False, True):
        model = build(model_cfg(backbone, scales, sar, maa), reference).train()
        torch.manual_seed(1)  # the same dropout masks in both runs
        out = model(clip)
        clip_loss(out, labels, torch.ones(2, 4, dtype=torch.bool))["loss"].backward()
        results.append((out.logits.detach(), {n: p.grad for n, p in model.named_parameters() if p.grad is not None}))
    (logits, grads), (ref_logits, ref_grads) = results
    torch.testing.assert_close(logits, ref_logits, **TOL)
    assert grads.keys() == ref_grads.keys()
    for part in (True, False):  # the decoder's own gradients are far smaller: compare them at their scale
        names = [n for n in grads if n.startswith("temporal.affinity.") == part]
        assert names
        assert_grads_close([grads[n] for n in names], [ref_grads[n] for n in names], 1e-5)


@pytest.mark.parametrize("backbone,scales,sar,maa", MODEL_VARIANTS)
def test_streaming_equals_per_map_reference(backbone, scales, sar, maa):
    video = torch.randn(6, 1, 3, 128, 192, generator=torch.Generator().manual_seed(4))
    streams = []
    for reference in (False, True):
        model = build(model_cfg(backbone, scales, sar, maa), reference).eval()
        predictor = StreamingPredictor(model)
        with torch.inference_mode():
            streams.append([predictor.step(frame) for frame in video])
    for ours, ref in zip(*streams):
        torch.testing.assert_close(ours, ref, **TOL)


def test_state_dict_keys_are_the_released_layout():
    dec = AffinityDecoder([4, 3, 2], double=True, sar=True, maa=True)
    assert sorted(dec.state_dict()) == sorted(
        f"{module}.stage{s}.{i}.{p}" for module, stages in (("sar", (4, 3, 2)), ("maa", (3, 2)))
        for s in stages for i in (0, 1, 3, 4) for p in ("weight", "bias"))
