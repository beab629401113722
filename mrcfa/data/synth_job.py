"""Writing the synthetic benchmark as a job: the generator's defaults (`SynthSettings`), then a profile's
dataset entry, then what the command line changes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mrcfa.data.synth import write_synthetic
from mrcfa.data.synth_settings import SynthSettings
from mrcfa.errors import UserError


def profile_settings(registry: str | Path | None, profile: str, dataset: str) -> tuple[SynthSettings, str]:
    """A profile's generator settings for `dataset`, and the folder its runs read that dataset from."""
    from mrcfa.experiments.registry import load_registry

    ds = load_registry(registry).load_profile(profile).dataset(dataset)
    if not ds.synthetic:
        raise UserError(f"profile {profile!r} reads {dataset} from disk ({ds.root}); nothing to synthesise")
    return SynthSettings.from_section(ds.synth, ds.num_classes), ds.root


def synthesise(out: str | None, changes: dict[str, Any], *, profile: str | None = None, dataset: str = "vspw",
               registry: str | Path | None = None, progress: bool = True) -> tuple[str, dict[str, Any]]:
    """Write the benchmark to `out` (default with `profile`: the profile's dataset root) with the generator's
    settings changed by `changes` (e.g. {"frames": 10}; None leaves a setting as it is). Returns the folder and
    the generator's summary."""
    settings = SynthSettings()
    if profile:
        settings, root = profile_settings(registry, profile, dataset)
        out = out or root
    if not out:
        raise UserError("give --out DIR (or --profile to use the profile's dataset root)")
    return out, write_synthetic(out, settings.replace(**changes), progress=progress)
