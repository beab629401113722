"""A run's config at a profile's scale: defaults, then the profile, then the run's own settings, then `--set`."""

from __future__ import annotations

import dataclasses
from typing import Any

from mrcfa.config import ConfigError, RunConfig, build_section, with_sections
from mrcfa.experiments.files import deep_merge, nest

DEFAULT_DATASET = "vspw"
SECTIONS = ("model", "data", "train", "bench")


def _layers(profile: str, prof: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    """The plain values of every section, profile first, the run's on top."""
    dataset = spec.get("dataset", DEFAULT_DATASET)
    datasets = prof.get("datasets", {})
    if dataset not in datasets:
        raise ConfigError(f"profiles/{profile}.yaml: datasets.{dataset} is not declared")
    ds = dict(datasets[dataset])
    dataset_overrides = ds.pop("overrides", {})
    num_classes = ds.pop("num_classes", None)
    layers: dict[str, Any] = {s: prof.get(s, {}) for s in SECTIONS}
    layers["data"] = deep_merge(layers["data"], {"dataset": dataset, **ds})
    if dataset == "vspw" and ds.get("source") == "synth":
        layers["data"]["layout"] = "vspw"
    if num_classes is not None:
        layers["model"] = deep_merge(layers["model"], {"num_classes": num_classes})
    layers = deep_merge(layers, dataset_overrides)
    return deep_merge(layers, {k: v for k, v in spec.items() if k != "dataset"})


def resolve_run(profile: str, prof: dict[str, Any], run: str, spec: dict[str, Any],
                overrides: dict[str, Any] | None = None) -> RunConfig:
    """The run's config under the profile `prof` (merged plain data). `overrides` (dotted field -> value, from
    `--set`) come last; a config they change is a variant named `<run>+<its hash>`, so that its results never
    land on the registry run's (a table would then read them as the run's)."""
    layers = _layers(profile, prof, spec)
    cfg = build_section(RunConfig, {"run": run, "profile": profile, **layers}, "")
    if not overrides:
        return cfg
    merged = deep_merge(layers, nest(overrides))
    changed = with_sections(cfg, {s: merged[s] for s in dict.fromkeys(key.partition(".")[0] for key in overrides)})
    name = run if changed.hash() == cfg.hash() else f"{run}+{changed.hash()[:8]}"
    return dataclasses.replace(changed, run=name, overrides=dict(overrides))


def resolve_all(profile: str, prof: dict[str, Any], runs: dict[str, dict[str, Any]]) -> dict[str, RunConfig]:
    """Every run under one profile; two names giving the same config are an error."""
    resolved: dict[str, RunConfig] = {}
    by_hash: dict[str, str] = {}
    for run, spec in runs.items():
        try:
            cfg = resolve_run(profile, prof, run, spec)
        except ConfigError as e:
            raise ConfigError(f"registry run {run!r} under profile {profile!r}: {e}") from None
        h = cfg.hash()
        if h in by_hash:
            raise ConfigError(f"runs {by_hash[h]!r} and {run!r} resolve to the same config under "
                              f"profile {profile!r}; point both table rows at one run")
        by_hash[h] = run
        resolved[run] = cfg
    return resolved
