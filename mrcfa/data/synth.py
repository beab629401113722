"""Synthetic video segmentation benchmark in VSPW layout, where time pays off.

Each video shows a textured background (class 1) and a few moving objects.
Every class has a fixed appearance cue (a colour and a stripe orientation
and period). In each frame an object's cue may be HIDDEN (painted with a
neutral checker shared by all classes) or CORRUPTED (painted with another
class's cue) while its outline, its identity ring and its motion stay
continuous. A single frame is then ambiguous, but a model that matches the
object to reference frames where its cue was visible can recover the class:
exactly the benefit MRCFA's cross-frame affinities should bring.

Hidden spells follow a two-state Markov chain per object, so they last a
few frames and hit any frame position (also targets >= 9) with probability
``difficulty``. Labels always show the true class; ``data/<video>/cue/``
records per pixel whether the cue was shown (0), hidden (1) or corrupted (2),
so studies can score the ambiguous pixels separately. Raw labels follow VSPW:
0 = "others" (unused), classes 1..K, so ``reduce_zero_label`` gives 0..K-1
with the background at 0.

Output is byte-identical for the same arguments: all randomness comes from
``np.random.default_rng([seed, split, video])``, JPEG quality is fixed and
no timestamps are written.
"""

from __future__ import annotations

import colorsys
import json
import math
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from mrcfa import layout
from mrcfa.data.synth_settings import Knobs, SynthSettings

BACKGROUND = 1  # raw label of the background class
SPLITS = ("train", "val")
SUMMARY_FILE = layout.SYNTH_SUMMARY_FILE
CUE_STATES = ("shown", "hidden", "corrupted")  # values 0, 1, 2 of data/<video>/cue/<frame>.png


@dataclass(frozen=True)
class Cue:
    """A class's appearance: stripes blending two colours."""

    a: tuple[float, float, float]
    b: tuple[float, float, float]
    angle: float
    period: float

    def paint(self, y: np.ndarray, x: np.ndarray, phase: float) -> np.ndarray:
        t = (x * math.cos(self.angle) + y * math.sin(self.angle)) * (2 * math.pi / self.period)
        p = (0.5 + 0.5 * np.sin(t + phase))[..., None]
        return p * np.array(self.a, np.float32) + (1 - p) * np.array(self.b, np.float32)


def class_cues(num_classes: int) -> dict[int, Cue]:
    """Fixed cues for raw classes 1..K (1 is the background); seed-independent."""
    cues = {BACKGROUND: Cue((58, 66, 78), (88, 92, 84), angle=0.3, period=9.0)}
    n_obj = num_classes - 1
    for j in range(n_obj):
        r, g, b = colorsys.hsv_to_rgb(j / n_obj, 0.8, 0.95)
        r2, g2, b2 = colorsys.hsv_to_rgb(j / n_obj, 0.55, 0.55)
        cues[j + 2] = Cue(
            (255 * r, 255 * g, 255 * b),
            (255 * r2, 255 * g2, 255 * b2),
            angle=np.pi * ((j * 0.382) % 1.0),  # golden-ratio spread of orientations
            period=3.0 + (j % 3) * 1.5,
        )
    return cues


def neutral_texture(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The class-free look of a hidden object: a grey checker."""
    check = ((np.floor(y / 3) + np.floor(x / 3)) % 2)[..., None]
    return 105 + 45 * check * np.ones(3, np.float32)


@dataclass
class _Object:
    cls: int
    shape: str
    half: tuple[float, float]  # (ry, rx)
    pos: np.ndarray  # (cy, cx)
    vel: np.ndarray
    ring_colour: np.ndarray
    phase: float
    hidden: bool
    decoy: int | None = None  # class whose cue a corrupted object shows
    hidden_frames: int = 0


@dataclass
class _Occluder:
    """A bar of background texture sliding across the frame."""

    vertical: bool
    pos: float
    vel: float
    width: float


def _shape_level(shape: str, dy: np.ndarray, dx: np.ndarray, ry: float, rx: float) -> np.ndarray:
    """<= 1 inside the shape with half-extents (ry, rx)."""
    if shape == "ellipse":
        return (dy / ry) ** 2 + (dx / rx) ** 2
    if shape == "box":
        return np.maximum(np.abs(dy) / ry, np.abs(dx) / rx)
    return np.abs(dy) / ry + np.abs(dx) / rx  # diamond


def _hide_rates(difficulty: float, spell_length: float) -> tuple[float, float]:
    """(enter, leave) probabilities whose stationary hidden share is ``difficulty``."""
    leave = 1.0 / max(spell_length, 1.0)
    if difficulty >= 1.0:
        return 1.0, 0.0
    enter = difficulty * leave / (1.0 - difficulty)
    if enter > 1.0:  # spells must get longer to reach so high a share
        enter, leave = 1.0, (1.0 - difficulty) / difficulty
    return enter, leave


class _VideoMaker:
    def __init__(self, rng: np.random.Generator, h: int, w: int, num_classes: int,
                 difficulty: float, knobs: Knobs, cues: dict[int, Cue]) -> None:  # fmt: skip
        self.rng, self.h, self.w, self.k = rng, h, w, num_classes
        self.knobs, self.cues = knobs, cues
        self.enter, self.leave = _hide_rates(difficulty, knobs.spell_length)
        self.difficulty = difficulty
        self.unit = min(h, w) / 64.0
        self.y, self.x = np.mgrid[0:h, 0:w].astype(np.float32)
        n = int(rng.integers(knobs.objects[0], knobs.objects[1] + 1))
        self.objects = [self._new_object() for _ in range(n)]
        self.bg_phase = float(rng.uniform(0, 2 * np.pi))
        self.pan = rng.uniform(-0.5, 0.5, size=2) * self.unit
        n_occ = int(rng.integers(knobs.occluders[0], knobs.occluders[1] + 1))
        self.occluders = [self._new_occluder() for _ in range(n_occ)]

    def _new_object(self) -> _Object:
        rng, kn, side = self.rng, self.knobs, min(self.h, self.w)
        ry, rx = (float(rng.uniform(*kn.size)) * side for _ in range(2))
        pos = np.array([rng.uniform(ry, self.h - ry), rng.uniform(rx, self.w - rx)])
        angle = rng.uniform(0, 2 * np.pi)
        vel = rng.uniform(*kn.speed) * self.unit * np.array([np.sin(angle), np.cos(angle)])
        obj = _Object(
            cls=int(rng.integers(2, self.k + 1)),
            shape=str(rng.choice(["ellipse", "box", "diamond"])),
            half=(ry, rx),
            pos=pos,
            vel=vel,
            ring_colour=rng.integers(0, 256, size=3).astype(np.float32),
            phase=float(rng.uniform(0, 2 * np.pi)),
            hidden=False,
        )
        if rng.random() < self.difficulty:
            self._start_spell(obj)
        return obj

    def _new_occluder(self) -> _Occluder:
        vertical = bool(self.rng.random() < 0.5)
        return _Occluder(
            vertical=vertical,
            pos=float(self.rng.uniform(0, self.w if vertical else self.h)),
            vel=float(self.rng.uniform(-1, 1) * self.unit),
            width=float(self.rng.uniform(2, 4) * self.unit),
        )

    def _start_spell(self, obj: _Object) -> None:
        obj.hidden = True
        obj.decoy = None
        others = [c for c in range(2, self.k + 1) if c != obj.cls]
        if others and self.rng.random() < self.knobs.decoy_prob:
            obj.decoy = int(self.rng.choice(others))

    def _step(self) -> None:
        for obj in self.objects:
            obj.pos = obj.pos + obj.vel
            for axis, limit in ((0, self.h), (1, self.w)):
                r = obj.half[axis]
                if obj.pos[axis] < r or obj.pos[axis] > limit - r:  # bounce off walls
                    obj.vel[axis] = -obj.vel[axis]
                    obj.pos[axis] = np.clip(obj.pos[axis], r, limit - r)
            if obj.hidden:
                obj.hidden = not (self.rng.random() < self.leave)
            elif self.rng.random() < self.enter:
                self._start_spell(obj)
        for occ in self.occluders:
            occ.pos = (occ.pos + occ.vel) % (self.w if occ.vertical else self.h)

    def frame(self, t: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Image (HxWx3 uint8), raw label and cue state (0 shown, 1 hidden, 2 corrupted)."""
        if t > 0:
            self._step()
        bg = self.cues[BACKGROUND]
        img = bg.paint(self.y + self.pan[0] * t, self.x + self.pan[1] * t, self.bg_phase)
        label = np.full((self.h, self.w), BACKGROUND, np.uint8)
        state = np.zeros((self.h, self.w), np.uint8)
        for obj in self.objects:
            self._draw(obj, img, label, state)
        for occ in self.occluders:
            coord = self.x if occ.vertical else self.y
            bar = np.abs(coord - occ.pos) <= occ.width / 2
            img[bar] = bg.paint(self.y[bar], self.x[bar], self.bg_phase + 1.0)
            label[bar] = BACKGROUND
            state[bar] = 0
        gain = 1.0 + self.rng.uniform(-self.knobs.brightness, self.knobs.brightness)
        img = img * gain + self.rng.normal(0.0, self.knobs.noise, size=img.shape)
        return np.clip(np.rint(img), 0, 255).astype(np.uint8), label, state

    def _draw(self, obj: _Object, img: np.ndarray, label: np.ndarray, state: np.ndarray) -> None:
        """Paint one object in place, only inside its bounding box (speed)."""
        ry, rx = obj.half
        cy, cx = obj.pos
        y0, y1 = max(int(cy - ry) - 1, 0), min(int(cy + ry) + 2, self.h)
        x0, x1 = max(int(cx - rx) - 1, 0), min(int(cx + rx) + 2, self.w)
        dy, dx = self.y[y0:y1, x0:x1] - cy, self.x[y0:y1, x0:x1] - cx
        inside = _shape_level(obj.shape, dy, dx, ry, rx) <= 1.0
        ring = self.knobs.ring
        core = _shape_level(obj.shape, dy, dx, max(ry - ring, 1), max(rx - ring, 1)) <= 1.0
        if not obj.hidden:
            look = self.cues[obj.cls].paint(dy, dx, obj.phase)
        elif obj.decoy is not None:
            look = self.cues[obj.decoy].paint(dy, dx, obj.phase)
        else:
            look = neutral_texture(dy, dx)
        obj.hidden_frames += int(obj.hidden)
        window = img[y0:y1, x0:x1]
        window[core] = look[core]
        window[inside & ~core] = obj.ring_colour
        label[y0:y1, x0:x1][inside] = obj.cls
        state[y0:y1, x0:x1][inside] = 0 if not obj.hidden else (1 if obj.decoy is None else 2)


def cue_path(root: str | os.PathLike[str], video: str, stem: str) -> Path:
    """Where the generator records a frame's per-pixel cue state (values index CUE_STATES)."""
    return Path(root) / "data" / video / "cue" / f"{stem}.png"


def _palette(num_classes: int, cues: dict[int, Cue]) -> list[int]:
    """PNG palette: class colours for viewing; index 255 white."""
    pal = np.zeros((256, 3), np.uint8)
    for c, cue in cues.items():
        pal[c] = np.array(cue.a, np.uint8)
    pal[255] = 255
    return pal.flatten().tolist()


def _prepare_out(out: Path) -> None:
    """Refuse to write into a folder that holds something other than a synthetic set."""
    if out.exists() and any(out.iterdir()):
        if not (out / SUMMARY_FILE).is_file():
            raise FileExistsError(
                f"{out}: folder is not empty and holds no {SUMMARY_FILE}; "
                f"choose an empty or new folder for the synthetic data"
            )
        shutil.rmtree(out / "data", ignore_errors=True)  # drop videos of an earlier, larger run
    (out / "data").mkdir(parents=True, exist_ok=True)


def settings_mismatch(root: str | os.PathLike[str], settings: SynthSettings) -> list[str]:
    """Where the benchmark stored under ``root`` differs from ``settings`` (a profile's, typed).

    Runs read whatever data is on disk; after a profile's generator settings change, old data would silently
    give numbers for the wrong benchmark. An empty list means the stored summary agrees on every setting.
    """
    path = Path(root) / SUMMARY_FILE
    try:
        stored = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        return [f"{path}: cannot read the generator summary ({e})"]

    def flat(section: dict[str, Any]) -> dict[str, Any]:
        """Knobs as `knobs.<name>`."""
        items = [(k, v) for k, v in section.items() if k != "knobs"]
        return dict(items + [(f"knobs.{k}", v) for k, v in (section.get("knobs") or {}).items()])

    wanted, have = flat(settings.to_dict()), flat(stored)
    return [f"{path}: {k} is {have.get(k)!r}, the profile asks for {v!r}"
            for k, v in sorted(wanted.items()) if have.get(k) != v]


def write_synthetic(out: str | os.PathLike[str], settings: SynthSettings, *, progress: bool = False) -> dict[str, Any]:
    """Write the benchmark under ``out`` and return (and store) its summary."""
    kn = settings.knobs
    num_classes, height, width, frames = settings.num_classes, settings.height, settings.width, settings.frames
    root = Path(out)
    _prepare_out(root)
    cues = class_cues(num_classes)
    palette = _palette(num_classes, cues)
    counts = {"train": settings.train_videos, "val": settings.val_videos}
    jobs = [(s, i) for s in SPLITS for i in range(counts[s])]
    if progress:
        from tqdm import tqdm

        jobs = tqdm(jobs, desc=f"synth -> {root}", unit="video")
    pixels = np.zeros(num_classes + 1, np.int64)
    hidden = object_frames = 0
    names: dict[str, list[str]] = {s: [] for s in SPLITS}
    for split, index in jobs:
        name = f"{split}_{index:04d}"
        names[split].append(name)
        rng = np.random.default_rng([settings.seed, SPLITS.index(split), index])
        maker = _VideoMaker(rng, height, width, num_classes, settings.difficulty, kn, cues)
        origin, mask, cue = (root / "data" / name / sub for sub in ("origin", "mask", "cue"))
        for folder in (origin, mask, cue):
            folder.mkdir(parents=True)
        for t in range(frames):
            img, label, state = maker.frame(t)
            Image.fromarray(img).save(
                origin / f"{t:08d}.jpg", quality=kn.jpeg_quality, subsampling=0
            )
            png = Image.frombytes("P", (width, height), label.tobytes())
            png.putpalette(palette)
            png.save(mask / f"{t:08d}.png")
            Image.frombytes("L", (width, height), state.tobytes()).save(cue / f"{t:08d}.png")
            pixels += np.bincount(label.ravel(), minlength=num_classes + 1)[: num_classes + 1]
        hidden += sum(o.hidden_frames for o in maker.objects)
        object_frames += len(maker.objects) * frames
    for split in SPLITS:
        (root / f"{split}.txt").write_text("".join(f"{n}\n" for n in names[split]))
    summary: dict[str, Any] = {
        "layout": "vspw",
        **settings.to_dict(),
        "background_class": BACKGROUND,
        "hidden_object_frame_fraction": hidden / max(object_frames, 1),
        "class_pixel_fraction": (pixels[1:] / max(pixels.sum(), 1)).round(6).tolist(),
    }
    text = json.dumps(summary, indent=2, sort_keys=True)
    (root / SUMMARY_FILE).write_text(text + "\n")
    return json.loads(text)  # the stored form: tuples become lists
