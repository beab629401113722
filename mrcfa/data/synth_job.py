"""Writing the synthetic benchmark as a job: the generator's settings are its defaults, then a profile's
dataset entry, then what the command line changes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mrcfa.data.synth import Knobs, write_synthetic
from mrcfa.errors import UserError

DEFAULTS: dict[str, Any] = {"train_videos": 24, "val_videos": 6, "frames": 20, "height": 64, "width": 96,
                            "num_classes": 8, "difficulty": 0.6, "seed": 0}


def profile_settings(registry: str | Path | None, profile: str, dataset: str) -> tuple[dict[str, Any], str]:
    """A profile's generator settings for `dataset`, and the folder its runs read that dataset from."""
    from mrcfa.config import load_registry

    ds = load_registry(registry).profile(profile)["datasets"][dataset]
    if ds.get("source") != "synth":
        raise UserError(f"profile {profile!r} reads {dataset} from disk ({ds.get('root')}); nothing to synthesise")
    return {"num_classes": ds["num_classes"], **ds.get("synth", {})}, ds["root"]


def _knobs(given: dict[str, Any]) -> Knobs:
    """The optional generator knobs (mrcfa.data.synth.Knobs fields); YAML lists become the tuples Knobs holds."""
    fields = set(Knobs.__dataclass_fields__)
    unknown = sorted(set(given) - fields)
    if unknown:
        raise UserError(f"synth.knobs.{unknown[0]}: unknown knob (known: {', '.join(sorted(fields))})")
    return Knobs(**{k: tuple(v) if isinstance(v, list) else v for k, v in given.items()})


def synthesise(out: str | None, changes: dict[str, Any], *, profile: str | None = None, dataset: str = "vspw",
               registry: str | Path | None = None, progress: bool = True) -> tuple[str, dict[str, Any]]:
    """Write the benchmark to `out` (default with `profile`: the profile's dataset root) with the generator's
    settings changed by `changes` (e.g. {"frames": 10}). Returns the folder and the generator's summary."""
    settings = dict(DEFAULTS)
    if profile:
        from_profile, root = profile_settings(registry, profile, dataset)
        settings |= from_profile
        out = out or root
    if not out:
        raise UserError("give --out DIR (or --profile to use the profile's dataset root)")
    settings |= changes
    knobs = settings.pop("knobs", None)
    if knobs:
        settings["knobs"] = _knobs(knobs)
    return out, write_synthetic(out, progress=progress, **settings)
