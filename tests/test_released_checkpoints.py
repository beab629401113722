"""The authors' released checkpoints, end to end: recognised, loaded strictly, evaluated at the real
frame size exactly as the released test pipeline does; every wrong file refused in one line, and
`weights check` and `evaluate` agree on each file."""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import io
import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from mrcfa.cli import main
from mrcfa.experiments.registry import load_registry
from mrcfa.data.transforms import MEAN_RGB, STD_RGB
from mrcfa.engine.preflight import sha256
from mrcfa.models.checkpoints import released_to_ours
from mrcfa.models.segmenter import build_model
from mrcfa.models.streaming import StreamingPredictor

from conftest import ROOT, tool_env

FIXTURES = Path(__file__).parent / "fixtures" / "official-keys"
FRAMES, H, W = 10, 480, 853  # VSPW_480p's frame size; 10 frames reach the plain (-9, -6, -3) clip


def released_state(name: str, seed: int = 0) -> dict[str, torch.Tensor]:
    """Random tensors in a released checkpoint's key layout, in ranges a trained net would have
    (positive BN variances, small weights), so predictions are not degenerate."""
    keys = json.loads((FIXTURES / f"{name}.json").read_text())["keys"]
    gen = torch.Generator().manual_seed(seed)
    state = {}
    for k, shape in keys.items():
        if not shape:
            state[k] = torch.tensor(0)
        elif k.endswith("running_var"):
            state[k] = torch.rand(shape, generator=gen) + 0.5
        else:
            state[k] = torch.randn(shape, generator=gen) * (0.5 if len(shape) == 1 else 0.2)
    return state


def save_released(path: Path, state: dict[str, torch.Tensor]) -> Path:
    meta = {"CLASSES": [f"c{i}" for i in range(124)], "PALETTE": [[i, i, i] for i in range(124)]}
    torch.save({"state_dict": state, "meta": meta}, path)
    return path


@pytest.fixture(scope="module")
def vspw_480p(tmp_path_factory) -> Path:
    """One val video of 10 real-size frames: smooth colour fields with moving blocks, raw masks 0..124."""
    root = tmp_path_factory.mktemp("VSPW_480p")
    origin, mask = root / "data" / "clip0" / "origin", root / "data" / "clip0" / "mask"
    origin.mkdir(parents=True)
    mask.mkdir(parents=True)
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:H, 0:W]
    for i in range(FRAMES):
        img = np.stack([(xx * 0.3 + i * 7) % 256, (yy * 0.5) % 256, (xx + yy) * 0.1 % 256], -1).astype(np.uint8)
        img[100 + 5 * i:220 + 5 * i, 300:500] = rng.integers(0, 256, 3)
        img = np.clip(img + rng.normal(0, 6, img.shape), 0, 255).astype(np.uint8)
        cv2.imwrite(str(origin / f"{i:08d}.jpg"), img[..., ::-1])  # files hold BGR as OpenCV writes them
        lab = ((yy // 60 + xx // 100 + i) % 125).astype(np.uint8)
        Image.fromarray(lab).save(mask / f"{i:08d}.png")
    (root / "val.txt").write_text("clip0\n")
    (root / "train.txt").write_text("clip0\n")
    return root


def mrcfa(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mrcfa", *args], capture_output=True, text=True, cwd=ROOT,
                          env=tool_env(), timeout=600)


def mrcfa_here(*args: str) -> subprocess.CompletedProcess:
    """The same command line run in this process (no interpreter start-up per call)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def reference_predictions(state: dict[str, torch.Tensor], root: Path) -> list[np.ndarray]:
    """The released test pipeline written out by hand: cv2.imread (BGR), mmcv's two resizes (keep-ratio
    rescale to fit 853x480, then up to multiples of 32, both cv2 bilinear), RGB normalisation, the
    model's streaming forward, logits resized to the network input and to the frame, argmax."""
    cfg = load_registry(ROOT / "experiments" / "registry.yaml").resolve("paper", "mrcfa_b0")
    model = build_model(dataclasses.replace(cfg.model, pretrained=None))
    mapped, unmapped = released_to_ours(state, model)
    assert not unmapped
    model.load_state_dict(mapped, strict=True)
    predictor = StreamingPredictor(model.eval())
    preds = []
    with torch.inference_mode():
        for i in range(FRAMES):
            bgr = cv2.imread(str(root / "data" / "clip0" / "origin" / f"{i:08d}.jpg"), cv2.IMREAD_COLOR)
            rescaled = cv2.resize(bgr, (853, 480), interpolation=cv2.INTER_LINEAR)
            aligned = cv2.resize(rescaled, (864, 480), interpolation=cv2.INTER_LINEAR)
            rgb = cv2.cvtColor(aligned, cv2.COLOR_BGR2RGB).astype(np.float32)
            x = torch.from_numpy(((rgb - MEAN_RGB) / STD_RGB).transpose(2, 0, 1).copy())[None]
            logits = F.interpolate(predictor.step(x), (480, 864), mode="bilinear", align_corners=False)
            logits = F.interpolate(logits, (H, W), mode="bilinear", align_corners=False)
            preds.append(logits.argmax(1)[0].numpy().astype(np.uint8))
    return preds


def test_released_checkpoint_is_evaluated_exactly_as_the_released_pipeline(vspw_480p, tmp_path):
    state = released_state("mrcfa_b0")
    ckpt = save_released(tmp_path / "mrcfa_b0.pth", state)
    out, preds = tmp_path / "out", tmp_path / "preds"
    # No ImageNet weights anywhere: --weights holds every tensor.
    r = mrcfa("evaluate", "--profile", "paper", "--run", "mrcfa_b0", "--weights", str(ckpt), "--data-root",
              str(vspw_480p), "--save-preds", str(preds), "--out", str(out), "--no-track", "--json")
    assert r.returncode == 0, r.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["num_frames"] == FRAMES and metrics["weights"]["layout"] == "mmseg"
    assert len(metrics["weights"]["sha256"]) == 64
    saved = [np.array(Image.open(preds / "clip0" / f"{i:08d}.png")) for i in range(FRAMES)]
    expected = reference_predictions(state, vspw_480p)
    assert len({int(v) for p in expected for v in np.unique(p)}) > 3  # a non-degenerate model
    for i, (got, want) in enumerate(zip(saved, expected)):
        assert got.shape == (H, W) and np.array_equal(got, want), f"frame {i}: {np.mean(got != want):.5f} differ"


def _own_model_pt(path: Path) -> Path:
    cfg = load_registry(ROOT / "experiments" / "registry.yaml").resolve("paper", "segformer_b0")
    model = build_model(dataclasses.replace(cfg.model, pretrained=None))
    torch.save(model.state_dict(), path)
    return path


BAD_FILES = {
    "released B1 for a B0 run": lambda p: save_released(p, released_state("mrcfa_b1")),
    "ImageNet backbone": lambda p: torch.save(released_state("mit_b0"), p),
    "released without the STM keys": lambda p: save_released(
        p, {k: v for k, v in released_state("mrcfa_b0").items() if not k.startswith("decode_head.sr")}),
    "own model.pt of another arch": _own_model_pt,
    "empty file": lambda p: p.write_bytes(b""),
    "not a checkpoint": lambda p: p.write_bytes(b"PK\x03\x04 not really a zip"),
    "a pickled list": lambda p: torch.save([1, 2, 3], p),
}


@pytest.mark.parametrize("kind", list(BAD_FILES) + ["missing file"])
def test_wrong_files_get_one_line_and_check_agrees_with_evaluate(kind, vspw_480p, tmp_path):
    path = tmp_path / "weights.pth"
    if kind in BAD_FILES:
        BAD_FILES[kind](path)
    run = ["--profile", "paper", "--run", "mrcfa_b0"]
    check = mrcfa_here("weights", "check", *run, str(path))
    ev = mrcfa_here("evaluate", *run, "--weights", str(path), "--data-root", str(vspw_480p), "--no-track")
    assert check.returncode != 0 and ev.returncode == 2, (check.stdout, check.stderr, ev.stderr)
    for r in (check, ev):
        assert "Traceback" not in r.stderr
    assert len(ev.stderr.strip().splitlines()) == 1 and ev.stderr.startswith("error: "), ev.stderr
    if kind == "released B1 for a B0 run":
        assert "mrcfa_b1" in ev.stderr and "mrcfa_b0" in ev.stderr and "NOT LOADABLE" in check.stdout
    if kind == "ImageNet backbone":
        assert "ImageNet" in ev.stderr and "no decoder" in ev.stderr
    if kind == "released without the STM keys":
        assert "6 missing" in ev.stderr and "6 missing" in check.stdout
    as_json = mrcfa_here("weights", "check", *run, "--json", str(path))
    if check.returncode == 1:  # the file was read: the full key lists come with --json only
        report = json.loads(as_json.stdout)
        assert report["missing"] or report["unexpected"] or report["mismatched"]
        assert len(check.stdout.splitlines()) == 2


def test_snakemake_released_evaluates_the_present_checkpoints_into_table5(vspw_480p, pipeline_dir):
    """`snakemake released` on the paper profile: the checkpoint present is evaluated and logged to MLflow with
    its sha256, the missing ones are named with what to put where, and Table 5 gains its column group."""
    (pipeline_dir / "data" / "vspw").mkdir(parents=True)
    (pipeline_dir / "data" / "vspw" / "VSPW_480p").symlink_to(vspw_480p)
    (pipeline_dir / "weights" / "released").mkdir(parents=True)
    ckpt = save_released(pipeline_dir / "weights" / "released" / "mrcfa_b0.pth", released_state("mrcfa_b0"))
    proc = subprocess.run([str(Path(sys.executable).parent / "snakemake"), "released", "--cores", "2",
                           "--config", "profile=paper", "--set-resources", "evaluate_released:gpu=0"],  # CPU here
                          cwd=pipeline_dir, env=tool_env(), capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "weights/released/mrcfa_b1.pth" in proc.stdout + proc.stderr  # missing ones are reported
    metrics = json.loads((pipeline_dir / "results/paper/released/mrcfa_b0/metrics.json").read_text())
    vs = (pipeline_dir / "results/paper/released/table5_vs_paper.md").read_text()
    row = next(line for line in vs.splitlines() if line.startswith("| MRCFA MiT-B0"))
    assert "mIoU released" in vs and f"{metrics['mIoU']:.1f}" in row
    csv_rows = list(csv.DictReader((pipeline_dir / "results/paper/released/table5.csv").open()))
    b0 = next(r for r in csv_rows if r["label"] == "MRCFA MiT-B0")
    assert float(b0["mIoU_released"]) == pytest.approx(metrics["mIoU"]) and b0["mIoU_mean"] == ""
    assert r"\multicolumn{4}{c}{mIoU}" in (pipeline_dir / "results/paper/released/table5_vs_paper.tex").read_text()

    import mlflow

    client = mlflow.MlflowClient(f"sqlite:///{pipeline_dir / 'mlflow.db'}")
    exp = client.get_experiment_by_name("mrcfa-vspw-paper")
    (run,) = client.search_runs([exp.experiment_id], "tags.`mrcfa.run` = 'mrcfa_b0@mrcfa_b0'")
    assert run.data.tags["mrcfa.weights_sha256"] == metrics["weights"]["sha256"] == sha256(ckpt)
    assert run.data.tags["mrcfa.config_hash"] == metrics["config_hash"]  # the run config's hash, the only one
    assert run.data.metrics["mIoU"] == pytest.approx(metrics["mIoU"])
