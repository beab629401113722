"""The synthetic benchmark's generator settings, typed: a profile's `datasets.<name>.synth` section (plus the
dataset's `num_classes`), or `mrcfa synth`'s options. The generator (`mrcfa.data.synth`), the CLI and the
pipeline's data check all take a `SynthSettings`; the profile's raw section stays in the run config only as
what its hash covers.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from mrcfa.errors import DataError, hint


@dataclass(frozen=True)
class Knobs:
    """Generator parameters beyond the basic ones (all explicit, all in the summary)."""

    objects: tuple[int, int] = (2, 4)  # objects per video, inclusive range
    size: tuple[float, float] = (0.10, 0.24)  # half-extent as a fraction of min(H, W)
    speed: tuple[float, float] = (1.0, 2.5)  # pixels per frame at a 64-pixel short side
    spell_length: float = 3.0  # mean length (frames) of a hidden spell
    decoy_prob: float = 0.25  # share of hidden spells showing another class's cue
    ring: int = 2  # identity ring width in pixels (class-independent colour)
    occluders: tuple[int, int] = (0, 2)  # moving background-class bars per video
    noise: float = 6.0  # Gaussian pixel noise (0..255 scale)
    brightness: float = 0.08  # per-frame global gain jitter, +-
    jpeg_quality: int = 92


@dataclass(frozen=True)
class SynthSettings:
    """Everything the generator's output depends on; the defaults are `mrcfa synth`'s without a profile."""

    train_videos: int = 24
    val_videos: int = 6
    frames: int = 20
    height: int = 64
    width: int = 96
    num_classes: int = 8  # raw labels 1..num_classes, the background included
    difficulty: float = 0.6  # probability that an object's cue is hidden or corrupted in a frame
    seed: int = 0
    knobs: Knobs = field(default_factory=Knobs)

    def __post_init__(self) -> None:
        n, d = self.num_classes, self.difficulty
        if n < 3:
            raise DataError(f"synth: {n} classes (--classes): need a background and >= 2 object classes")
        if n > 254:
            raise DataError(f"synth: {n} classes (--classes): raw labels must stay below 255 (ignore)")
        if not 0.0 <= d <= 1.0:
            raise DataError(f"synth: difficulty (--difficulty) {d} must lie in [0, 1]")
        if self.frames < 1 or self.height < 16 or self.width < 16:
            raise DataError(f"synth: {self.frames} frames (--frames) of {self.height}x{self.width} (--size): "
                            "need >= 1 frame of >= 16x16")
        if min(self.train_videos, self.val_videos) < 0:
            raise DataError(f"synth: {self.train_videos} train and {self.val_videos} val videos (--train-videos, "
                            "--val-videos): counts must be >= 0")

    @classmethod
    def from_section(cls, section: dict[str, Any], num_classes: int | None = None) -> "SynthSettings":
        """A profile's `synth` section (types already checked by the profile schema), with the dataset's
        `num_classes`; unset fields keep their defaults."""
        values = dict(section)
        names = {f.name for f in dataclasses.fields(cls)} - {"num_classes"}
        unknown = sorted(set(values) - names)
        if unknown:
            raise DataError(f"synth.{unknown[0]}: unknown setting; {hint(unknown[0], sorted(names))}")
        knobs = values.pop("knobs", None) or {}
        known = {f.name for f in dataclasses.fields(Knobs)}
        if set(knobs) - known:
            bad = sorted(set(knobs) - known)[0]
            raise DataError(f"synth.knobs.{bad}: unknown knob (known: {', '.join(sorted(known))})")
        if num_classes is not None:
            values["num_classes"] = num_classes
        tupled = {k: tuple(v) if isinstance(v, list) else v for k, v in knobs.items()}
        return cls(**values, knobs=Knobs(**tupled))

    def replace(self, **changes: Any) -> "SynthSettings":
        """These settings with the given fields changed; None leaves a field as it is (an unset CLI option)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    def to_dict(self) -> dict[str, Any]:
        """As the generator's summary stores them: tuples become lists."""
        def plain(v: Any) -> Any:
            return list(v) if isinstance(v, tuple) else v

        out = {k: plain(v) for k, v in dataclasses.asdict(self).items() if k != "knobs"}
        return out | {"knobs": {k: plain(v) for k, v in dataclasses.asdict(self.knobs).items()}}
