"""The shared model: shapes for every switch, gradients through STM, streaming, parameter counts, checkpoints."""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from mrcfa.config import ConfigError, ModelConfig, build_section
from mrcfa.experiments.registry import load_registry
from mrcfa.models.checkpoints import check_weights, load_weights, released_model_config
from mrcfa.models.loss import clip_loss
from mrcfa.models.mit import MiT, load_imagenet_weights
from mrcfa.models.state_dict import CheckpointMismatch
from mrcfa.models.segmenter import build_model, count_parameters
from mrcfa.models.stm import select_tokens
from mrcfa.models.streaming import StreamingPredictor
from mrcfa.models.temporal_head import ReferenceState
from mrcfa.models.variants import RELEASED_MRCFA

FIXTURES = Path(__file__).parent / "fixtures" / "official-keys"
TINY = {"width_div": 8, "depth_cap": 1, "embed_dim": 16, "num_classes": 5}


def cfg(**fields) -> ModelConfig:
    return build_section(ModelConfig, {**TINY, **fields}, "model.")


def clip(t: int, h: int = 64, w: int = 96, b: int = 2, seed: int = 0) -> torch.Tensor:
    return torch.randn(b, t, 3, h, w, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize(
    "arch,scales,sar,maa,offsets,backbone",
    [("mrcfa", L, s, m, o, bb) for L, s, m, o, bb in itertools.product(
        (1, 2, 3, 4), (True, False), (True, False), ((-3,), (-9, -6, -3)), ("b0", "b1"))
     if not (bb == "b0" and len(o) == 1)]
    + [("feature_pyramid", L, None, None, (-6, -3), "b1") for L in (1, 3, 4)],
)
def test_output_shapes_for_every_switch(arch, scales, sar, maa, offsets, backbone):
    model = build_model(cfg(arch=arch, backbone=backbone, num_scales=scales, sar=sar, maa=maa,
                            ref_offsets=list(offsets))).train()
    t = len(offsets) + 1
    out = model(clip(t))
    assert out.logits.shape == (2, 5, 16, 24)
    assert out.frame_logits.shape == (2, t, 5, 16, 24)
    assert out.aux_logits.shape == (2, t - 1, 5, 16, 24)
    model.eval()
    with torch.no_grad():
        assert model(clip(t)).aux_logits is None


def test_segformer_and_single_frame_inputs():
    seg = build_model(cfg(arch="segformer")).eval()
    with torch.no_grad():
        out = seg(clip(1))
    assert out.logits.shape == (2, 5, 16, 24) and out.aux_logits is None
    mrcfa = build_model(cfg()).eval()
    with torch.no_grad():  # one frame: the released test policy answers with the SegFormer branch
        single = mrcfa(clip(1))
    assert torch.equal(single.logits, single.frame_logits[:, -1])
    with pytest.raises(ValueError, match="expects 4"):
        mrcfa(clip(3))
    with pytest.raises(ValueError, match="multiples of 32"):
        mrcfa(clip(4, h=48))


def test_gradients_flow_through_kept_tokens_not_the_selection():
    torch.manual_seed(0)
    model = build_model(cfg(keep_ratio=0.5)).train()
    out = model(clip(4))
    labels = torch.randint(0, 5, (2, 4, 64, 96))
    clip_loss(out, labels, torch.ones(2, 4, dtype=torch.bool))["loss"].backward()
    head = model.temporal
    for name, module in [("backbone", model.backbone.patch_embed.proj), ("query", head.query["stage3"]),
                         ("key", head.key["stage2"]), ("sar", head.affinity.sar["stage4"][0]),
                         ("maa", head.affinity.maa["stage2"][0])]:
        assert module.weight.grad is not None and module.weight.grad.abs().sum() > 0, name

    # Keys of reference tokens that STM dropped get exactly zero gradient; kept ones do not.
    head.eval()
    stages = [torch.randn(1, c, 64 // s, 96 // s) for c, s in zip(model.backbone.out_channels, (4, 8, 16, 32))]
    fused = torch.randn(1, 16, 16, 24)
    refs = head.reference_state(stages, fused)
    keys = {s: k.detach().requires_grad_(True) for s, k in refs.keys.items()}
    state = ReferenceState(keys={s: k[None] for s, k in keys.items()}, values=refs.values[None].detach())
    logits, _ = head.attend(stages, fused, state)
    logits.sum().backward()
    deep = torch.einsum("bnc,brkc->brnk", head.query["stage4"](stages[3].flatten(2).transpose(1, 2)),
                        state.keys[4].detach())
    kept = select_tokens(deep, 0.5, 5)[0, 0]
    assert kept.numel() == 3  # int(6 tokens × 0.5)
    grad = keys[3].grad[0].abs().sum(-1)
    dropped = sorted(set(range(6)) - set(kept.tolist()))
    assert torch.all(grad[kept] > 0) and torch.all(grad[dropped] == 0)


def test_stm_selection_rules():
    aff = torch.randn(2, 3, 40, 20)
    idx = select_tokens(aff, 0.5, 5)
    assert idx.shape == (2, 3, 10) and idx.grad_fn is None
    assert torch.all(idx[..., 1:] > idx[..., :-1])  # raster order, as the released boolean-mask gather
    importance = aff.topk(5, dim=2).values.sum(2)
    expected = importance.topk(10, dim=-1).indices.sort(-1).values
    assert torch.equal(idx, expected)
    assert torch.equal(select_tokens(aff, 1.0, 5)[0, 0], torch.arange(20))  # p = 1 keeps every token
    assert select_tokens(aff, 0.01, 5).shape[-1] == 1  # at least one token


def test_streaming_equals_whole_clip_forward():
    torch.manual_seed(1)
    model = build_model(cfg(ref_offsets=[-3, -1])).eval()
    video = clip(8, b=1, seed=3)[0]
    predictor = StreamingPredictor(model)
    with torch.no_grad():
        streamed = [predictor.step(video[i : i + 1]) for i in range(8)]
        for i in range(3, 8):
            whole = model(video[[i - 3, i - 1, i]][None]).logits
            torch.testing.assert_close(streamed[i], whole, atol=1e-5, rtol=1e-5)
        # First frames follow the test-time policy: frame 0 alone, frames 1-2 squeezed references.
        torch.testing.assert_close(streamed[0], model(video[None, :1]).logits, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(streamed[2], model(video[None, [0, 1, 2]]).logits, atol=1e-5, rtol=1e-5)
    assert sorted(predictor.cache) == [5, 6, 7]  # bounded by the reference horizon


def test_same_seed_same_outputs():
    outs = []
    for _ in range(2):
        torch.manual_seed(7)
        model = build_model(cfg()).train()
        torch.manual_seed(8)
        outs.append(model(clip(4)).logits)
    assert torch.equal(outs[0], outs[1])


@pytest.mark.parametrize("backbone,paper_mrcfa,segformer", [
    ("b0", 5.2, 3.75), ("b1", 16.2, 13.71), ("b2", 27.3, 24.75), ("b5", 84.5, 82.00)])
def test_parameter_counts_match_table5(backbone, paper_mrcfa, segformer):
    p = 0.8 if backbone == "b0" else 0.5
    mrcfa = count_parameters(build_model(build_section(ModelConfig, {"backbone": backbone, "keep_ratio": p}, "m.")))
    assert round(mrcfa["inference"] / 1e6, 1) == paper_mrcfa
    assert mrcfa["total"] - mrcfa["inference"] == 3 * (256 * 124 + 124)  # three auxiliary classifiers
    seg = count_parameters(build_model(build_section(ModelConfig, {"arch": "segformer", "backbone": backbone}, "m.")))
    assert round(seg["inference"] / 1e6, 2) == segformer


def test_depth_scaling_rule():
    from mrcfa.config import scaled_depths
    from mrcfa.models.variants import MIT

    # ceil(depth / 4), at least one block: B1 (2,2,2,2) -> 1 each; B2 (3,4,6,3) -> 1,1,2,1; B5 (3,6,40,3) -> 1,2,10,1.
    assert scaled_depths(MIT["b1"].depths, 0.25, None) == (1, 1, 1, 1)
    assert scaled_depths(MIT["b2"].depths, 0.25, None) == (1, 1, 2, 1)
    assert scaled_depths(MIT["b5"].depths, 0.25, None) == (1, 2, 10, 1)
    assert scaled_depths(MIT["b5"].depths, 0.5, None) == (2, 3, 20, 2)
    assert scaled_depths(MIT["b5"].depths, 0.25, 3) == (1, 2, 3, 1)  # the cap still applies after the scale
    assert scaled_depths(MIT["b5"].depths, None, None) == (3, 6, 40, 3)
    with pytest.raises(ConfigError, match="model.depth_scale"):
        build_section(ModelConfig, {"depth_scale": 0.0}, "model.")


def _demo_params(run: str) -> int:
    from mrcfa.experiments.registry import load_registry

    model = load_registry(Path(__file__).resolve().parents[1] / "experiments" / "registry.yaml").resolve("demo", run)
    return count_parameters(build_model(model.model))["inference"]


def test_demo_backbones_are_different_networks_in_the_papers_order():
    for arch in ("segformer", "mrcfa"):
        counts = [_demo_params(f"{arch}_{b}") for b in ("b0", "b1", "b2", "b5")]
        assert counts == sorted(counts) and len(set(counts)) == 4, (arch, counts)


def test_demo_b1_is_the_network_the_demo_results_were_made_with():
    # Counted before depth scaling replaced `depth_cap: 1` (one block per stage): Tables 1-4 and `make table2`
    # must keep reading the same networks.
    assert _demo_params("mrcfa_b1") == 173_625
    assert _demo_params("segformer_b1") == 134_077
    assert _demo_params("mrcfa_b1_p100") == 173_625


def test_params_cli_counts_a_run_at_its_profiles_scale():
    root = Path(__file__).resolve().parents[1]

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "mrcfa", "params", *args], cwd=root, capture_output=True,
                              text=True)

    got = json.loads(cli("--profile", "demo", "--run", "mrcfa_b5", "--json").stdout)
    assert got["inference"] == _demo_params("mrcfa_b5") and got["total"] > got["inference"]
    paper = json.loads(cli("--model", "mrcfa", "--backbone", "b5", "--json").stdout)
    assert paper["inference"] > 100 * got["inference"]
    bad = cli("--profile", "demo")
    assert bad.returncode == 2 and "--run" in bad.stderr


def test_sar_maa_parameters_follow_the_released_variants():
    def hpn(backbone: str) -> int:
        model = build_model(build_section(ModelConfig, {"backbone": backbone}, "m."))
        return sum(p.numel() for p in model.temporal.affinity.parameters())

    assert hpn("b1") == 271 and hpn("b0") == 92 and hpn("b2") == 92


def _fixture_state(name: str) -> tuple[dict, dict[str, torch.Tensor]]:
    spec = json.loads((FIXTURES / f"{name}.json").read_text())
    gen = torch.Generator().manual_seed(0)
    state = {k: torch.randn(shape, generator=gen) if shape else torch.tensor(0) for k, shape in spec["keys"].items()}
    return spec, state


@pytest.mark.parametrize("name", ["mit_b0", "mit_b1", "mit_b2", "mrcfa_b0", "mrcfa_b1", "mrcfa_b2"])
def test_released_checkpoint_layouts_load_completely(name, tmp_path):
    spec, state = _fixture_state(name)
    path = tmp_path / f"{name}.pth"
    torch.save({"state_dict": state, "meta": {"mmcv_version": "1.3.0"}} if name.startswith("mrcfa") else state, path)
    ckpt, report, _ = check_weights(path, arch=name)
    assert report.ok, (report.missing, report.unexpected, report.mismatched)
    assert ckpt.arch == name and check_weights(path)[1].ok  # the file says what it is
    backbone = name.split("_")[1]
    if name.startswith("mit"):
        model = MiT(build_section(ModelConfig, {"backbone": backbone}, "m."))
        assert load_imagenet_weights(model, path) == len(state) - 2  # ImageNet classifier dropped
        key = "backbone.block1.0.attn.q.weight"[len("backbone."):]
        assert torch.equal(model.stages[0].blocks[0].attn.q.weight, state[key])
    else:
        model = build_model(build_section(ModelConfig, {"backbone": backbone}, "m."))
        assert load_weights(model, path).layout == "mmseg"
        assert torch.equal(model.temporal.query["stage2"].weight, state["decode_head.hypercorre_module.q1.weight"])
        assert torch.equal(model.temporal.classifier[1].weight, state["decode_head.deco4.smalldecoder.1.weight"])
        sar = state["decode_head.hypercorre_module.hpn.encoder_layer2.0.conv2.weight"]
        assert torch.equal(model.temporal.affinity.sar["stage2"][0].weight, sar)


def test_registry_runs_of_released_checkpoints_are_the_released_models():
    """The registry spells its runs out (it stays declarative); those with a released checkpoint must be the
    models `RELEASED_MRCFA` says were released, which `weights check --arch` compares files with."""
    registry = load_registry(Path(__file__).parent.parent / "experiments" / "registry.yaml")
    released = {run: registry.resolve("paper", run).model for run in registry.released}
    assert sorted(m.backbone for m in released.values()) == sorted(RELEASED_MRCFA)
    for run, model in released.items():
        preset = RELEASED_MRCFA[model.backbone].model_fields()
        assert model.arch == "mrcfa" and {k: getattr(model, k) for k in preset} == preset, run
        assert replace(model, pretrained=None) == released_model_config(f"mrcfa_{model.backbone}"), run


def test_wrong_architecture_is_refused_with_the_keys(tmp_path):
    _, state = _fixture_state("mrcfa_b1")
    path = tmp_path / "b1.pth"
    torch.save({"state_dict": state}, path)
    report = check_weights(path, arch="mrcfa_b0")[1]
    assert not report.ok and report.mismatched and any("patch_embed" in k for k in report.mismatched)
    model = build_model(build_section(ModelConfig, {"backbone": "b0"}, "m."))
    with pytest.raises(CheckpointMismatch, match=r"released mmseg checkpoint of mrcfa_b1, 124 classes.*builds "
                                                 r"mrcfa_b0.*of the wrong shape") as err:
        load_weights(model, path)
    assert "\n" not in str(err.value) and err.value.report == report
    partial = {k: v for k, v in state.items() if not k.startswith("decode_head.sr")}
    torch.save({"state_dict": partial}, path)
    assert check_weights(path, arch="mrcfa_b1")[1].missing == [
        "temporal.key_down.stage2.bias", "temporal.key_down.stage2.weight", "temporal.key_down.stage3.bias",
        "temporal.key_down.stage3.weight", "temporal.value_down.bias", "temporal.value_down.weight"]
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointMismatch, match="cannot be read"):
        check_weights(tmp_path / "junk.pth", arch="mrcfa_b1")


def test_weights_check_cli_exit_codes(tmp_path):
    _, state = _fixture_state("mit_b0")
    good = tmp_path / "mit_b0.pth"
    torch.save(state, good)
    run = [sys.executable, "-m", "mrcfa", "weights", "check", "--json", "--arch"]
    ok = subprocess.run(run + ["mit_b0", str(good)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout) == {"layout": "imagenet", "arch": "mit_b0", "num_classes": None,
                                     "compared_with": "mit_b0", "loaded": 176, "missing": [], "unexpected": [],
                                     "mismatched": []}
    bad = subprocess.run(run + ["mit_b1", str(good)], capture_output=True, text=True)
    assert bad.returncode == 1 and json.loads(bad.stdout)["mismatched"]


@pytest.mark.parametrize("fields,field", [
    ({"keep_ratio": 0.0}, "model.keep_ratio"), ({"num_scales": 5}, "model.num_scales"),
    ({"ref_offsets": [-3, -6]}, "model.ref_offsets"), ({"ref_offsets": [2]}, "model.ref_offsets"),
    ({"arch": "segformer", "ref_offsets": [-3]}, "model.ref_offsets"), ({"backbone": "b9"}, "model.backbone"),
    ({"arch": "feature_pyramid", "sar": True}, "model.sar"), ({"width_div": 3}, "model.width_div"),
    ({"keep_ratio": "half"}, "model.keep_ratio"), ({"colour": 1}, "model.colour"),
])
def test_invalid_configs_name_the_field(fields, field):
    with pytest.raises(ConfigError, match="^" + re.escape(field) + ":"):
        build_section(ModelConfig, fields, "model.")
