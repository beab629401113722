"""Profiles: how big every run is (`experiments/profiles/<name>.yaml`), read once for the pipeline and the tables.

A profile may start with `extends: PARENT` and state only what differs: mappings merge key by key, lists and values
are replaced. The merged profile is checked against `experiments/schemas/profile.schema.json`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from mrcfa.config import ConfigError, TableBenchConfig, build_section
from mrcfa.errors import hint
from mrcfa.experiments import schema
from mrcfa.experiments.files import deep_merge, load_yaml

DEFAULT_SEEDS = (0,)
DEFAULT_RUNTIME = {"train": 60, "evaluate": 30, "bench": 15}  # minutes, where a profile names none


def read_profile(profiles_dir: str | Path, name: str) -> dict[str, Any]:
    """The profile `<profiles_dir>/<name>.yaml` as plain data: one that says `extends: PARENT` is its parent with
    its own settings merged on top (`deep_merge`), so a derived profile states only what differs."""
    profiles_dir, chain = Path(profiles_dir), [name]
    data = _read_named(profiles_dir, name, "profile")
    while "extends" in data:
        parent = data.pop("extends")
        where = f"{profiles_dir / chain[-1]}.yaml: extends"
        if not isinstance(parent, str):
            raise ConfigError(f"{where}: expected a profile name, got {parent!r}")
        if parent in chain:
            raise ConfigError(f"{where}: {' -> '.join(chain + [parent])} is a cycle")
        chain.append(parent)
        data = deep_merge(_read_named(profiles_dir, parent, where), data)
    schema.check(data, "profile", f"profile {name}")
    _table_bench(data, name)  # its ranges, checked as early as its types
    return data


def _table_bench(data: dict[str, Any], name: str) -> TableBenchConfig:
    return build_section(TableBenchConfig, data.get("table_bench") or {}, f"profile {name}: table_bench.")


def _read_named(profiles_dir: Path, name: str, where: str) -> dict[str, Any]:
    path = profiles_dir / f"{name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in profiles_dir.glob("*.yaml"))
        raise ConfigError(f"{where}: unknown profile {name!r}; {hint(name, known)} (in {profiles_dir})")
    return load_yaml(path)


@dataclass(frozen=True)
class DatasetSpec:
    """One entry of a profile's `datasets:`: where the dataset is read from, and whether it is generated."""

    name: str
    root: str
    source: str | None = None  # "synth": written by the synthetic generator; otherwise the real dataset on disk
    num_classes: int | None = None
    synth: dict[str, Any] = field(default_factory=dict)  # the generator's settings

    @property
    def synthetic(self) -> bool:
        return self.source == "synth"


@dataclass(frozen=True)
class StepResources:
    """What one job of a step asks the scheduler for. For training, `threads`, `gpu` and `mem_mb` are per
    process and `procs` processes make one job (torchrun on one node)."""

    threads: int = 1
    procs: int = 1
    gpu: int = 0
    mem_mb: int = 4000
    runtime: int = 30  # minutes


@dataclass(frozen=True)
class Profile:
    """A merged profile; `data` is all of it as plain values (what run configs are resolved from)."""

    name: str
    path: Path
    data: dict[str, Any] = field(repr=False)

    @property
    def seeds(self) -> tuple[int, ...]:
        return tuple(self.data.get("seeds", DEFAULT_SEEDS))

    def with_seeds(self, seeds: Sequence[int]) -> Profile:
        """The same profile at other seeds (`--config seeds=`, `--seeds`): seeds decide no run's config."""
        return Profile(self.name, self.path, {**self.data, "seeds": list(seeds)})

    @cached_property
    def datasets(self) -> dict[str, DatasetSpec]:
        """The declared datasets, by name (the schema has checked their fields); built once per profile."""
        declared = self.data.get("datasets") or {}
        return {name: DatasetSpec(name=name, root=ds["root"], source=ds.get("source"),
                                  num_classes=ds.get("num_classes"), synth=ds.get("synth") or {})
                for name, ds in declared.items()}

    def dataset(self, name: str) -> DatasetSpec:
        if name not in self.datasets:
            raise ConfigError(f"profiles/{self.name}.yaml: datasets.{name} is not declared")
        return self.datasets[name]

    def step(self, step: str) -> StepResources:
        """The resources of one job of `step` (train, evaluate, bench): the profile's `resources:`, else defaults."""
        given = (self.data.get("resources") or {}).get(step, {})
        return StepResources(**{"runtime": DEFAULT_RUNTIME[step], **given})

    @property
    def table_bench(self) -> TableBenchConfig:
        """How a table's rows are timed together (`mrcfa bench-table`)."""
        return _table_bench(self.data, self.name)

    def dataset_root(self, dataset: str) -> Path | None:
        return Path(self.datasets[dataset].root) if dataset in self.datasets else None

    def synthetic(self, dataset: str) -> bool:
        """Is this dataset generated (`source: synth`) rather than the real one on disk?"""
        return dataset in self.datasets and self.datasets[dataset].synthetic

    def num_classes(self, dataset: str) -> int | None:
        return self.datasets[dataset].num_classes if dataset in self.datasets else None


def load_profile(profiles_dir: str | Path, name: str) -> Profile:
    return Profile(name, Path(profiles_dir) / f"{name}.yaml", read_profile(profiles_dir, name))
