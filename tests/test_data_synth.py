"""Synthetic benchmark: determinism, VSPW layout, and that single frames are ambiguous."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mrcfa.data.check import check_dataset
from mrcfa.data.synth import BACKGROUND, _hide_rates, _VideoMaker, class_cues, write_synthetic
from mrcfa.data.synth_settings import Knobs, SynthSettings

SMALL = dict(train_videos=3, val_videos=2, frames=12, height=32, width=48, num_classes=5, seed=3)


def tree_hash(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(root)).encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def test_same_arguments_give_identical_bytes(tmp_path: Path) -> None:
    a = write_synthetic(tmp_path / "a", SynthSettings(difficulty=0.5, **SMALL))
    b = write_synthetic(tmp_path / "b", SynthSettings(difficulty=0.5, **SMALL))
    assert a == b
    assert tree_hash(tmp_path / "a") == tree_hash(tmp_path / "b")
    write_synthetic(tmp_path / "c", SynthSettings(difficulty=0.5, **{**SMALL, "seed": 4}))
    assert tree_hash(tmp_path / "a") != tree_hash(tmp_path / "c")


def test_vspw_layout_and_summary(tmp_path: Path) -> None:
    root = tmp_path / "synth"
    summary = write_synthetic(root, SynthSettings(difficulty=0.5, **SMALL))
    assert (root / "train.txt").read_text() == "train_0000\ntrain_0001\ntrain_0002\n"
    assert (root / "val.txt").read_text() == "val_0000\nval_0001\n"
    frames = sorted(p.name for p in (root / "data" / "val_0001" / "origin").iterdir())
    assert frames == [f"{t:08d}.jpg" for t in range(12)]
    values = set()
    for p in (root / "data").glob("*/mask/*.png"):
        with Image.open(p) as img:
            assert img.mode == "P" and img.size == (48, 32)
            values |= set(np.unique(np.asarray(img)).tolist())
    assert BACKGROUND in values and values <= set(range(1, 6))  # 0 ("others") unused
    assert json.loads((root / "synth.json").read_text()) == summary
    assert summary["knobs"] == json.loads(json.dumps(Knobs().__dict__))
    assert check_dataset(root, num_classes=5) == []
    # Rewriting into its own folder is allowed; into a foreign non-empty one is not.
    write_synthetic(root, SynthSettings(difficulty=0.5, **{**SMALL, "train_videos": 1}))
    assert not (root / "data" / "train_0002").exists()
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "keep.txt").write_text("x")
    with pytest.raises(FileExistsError, match="other"):
        write_synthetic(tmp_path / "other", SynthSettings(difficulty=0.5, **SMALL))


def _cue_maps(root: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Stacked images, labels, cue states and frame positions of all frames."""
    imgs, labs, cues, pos = [], [], [], []
    for video in sorted((root / "data").iterdir()):
        for t, p in enumerate(sorted((video / "mask").iterdir())):
            imgs.append(np.asarray(Image.open(video / "origin" / p.name.replace(".png", ".jpg"))))
            labs.append(np.asarray(Image.open(p)))
            cues.append(np.asarray(Image.open(video / "cue" / p.name)))
            pos.append(np.full(labs[-1].shape, t))
    return np.stack(imgs), np.stack(labs), np.stack(cues), np.stack(pos)


def test_difficulty_extremes(tmp_path: Path) -> None:
    write_synthetic(tmp_path / "easy", SynthSettings(difficulty=0.0, **SMALL))
    write_synthetic(tmp_path / "hard", SynthSettings(difficulty=1.0, **SMALL))
    _, labs, cues, _ = _cue_maps(tmp_path / "easy")
    assert not cues.any()
    _, labs, cues, _ = _cue_maps(tmp_path / "hard")
    assert np.array_equal(cues > 0, labs != BACKGROUND)


def test_hidden_cue_makes_classes_look_alike(tmp_path: Path) -> None:
    root = tmp_path / "s"
    knobs = Knobs(decoy_prob=0.0, noise=2.0, ring=1)
    write_synthetic(root, SynthSettings(train_videos=8, val_videos=0, frames=16, height=48, width=64, num_classes=4,
                                       difficulty=0.5, seed=0, knobs=knobs))
    imgs, labs, cues, pos = _cue_maps(root)
    assert cues[pos >= 9].any() and (cues[pos >= 9] == 0).any()  # hidden also at late targets
    shown = {c: imgs[(labs == c) & (cues == 0)].mean(0) for c in (2, 3, 4)}
    hidden = {c: imgs[(labs == c) & (cues == 1)].mean(0) for c in (2, 3, 4)}
    pairs = [(a, b) for a in (2, 3, 4) for b in (2, 3, 4) if a < b]
    # Mean colours (rings with random identity colours included) measured: ~140 apart when
    # shown, < 17 apart when hidden.
    assert min(np.linalg.norm(shown[a] - shown[b]) for a, b in pairs) > 80
    assert max(np.linalg.norm(hidden[a] - hidden[b]) for a, b in pairs) < 30


def test_hidden_spells_have_requested_share_and_length() -> None:
    assert _hide_rates(0.5, 3.0) == pytest.approx((1 / 3, 1 / 3))
    assert _hide_rates(0.9, 3.0) == pytest.approx((1.0, 1 / 9))  # spells lengthen to reach 90 %
    maker = _VideoMaker(np.random.default_rng(0), 32, 48, 5, 0.4, Knobs(objects=(4, 4)), class_cues(5))
    states = []
    for _ in range(5000):
        maker._step()
        states.append([o.hidden for o in maker.objects])
    runs = [len(r) for col in np.array(states).T for r in "".join("h" if s else "." for s in col).split(".") if r]
    assert np.array(states).mean() == pytest.approx(0.4, abs=0.03)
    assert np.mean(runs) == pytest.approx(3.0, abs=0.3)
