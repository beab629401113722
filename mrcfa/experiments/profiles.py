"""Profiles: how big every run is (`experiments/profiles/<name>.yaml`), read once for the pipeline and the tables.

A profile may start with `extends: PARENT` and state only what differs: mappings merge key by key, lists and values
are replaced. The merged profile is checked against `experiments/schemas/profile.schema.json`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mrcfa.config import ConfigError, TableBenchConfig, build_section
from mrcfa.errors import hint
from mrcfa.experiments import schema
from mrcfa.experiments.files import deep_merge, load_yaml

DEFAULT_SEEDS = (0,)


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

    @property
    def datasets(self) -> dict[str, dict[str, Any]]:
        return self.data.get("datasets") or {}

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        """Per step (train, evaluate, bench): threads, mem_mb, runtime, gpu; train's are per process, and its
        `procs` says how many processes one training job runs."""
        return self.data.get("resources") or {}

    @property
    def table_bench(self) -> TableBenchConfig:
        """How a table's rows are timed together (`mrcfa bench-table`)."""
        return _table_bench(self.data, self.name)

    def dataset_root(self, dataset: str) -> Path | None:
        root = self.datasets.get(dataset, {}).get("root")
        return Path(root) if root else None

    def synthetic(self, dataset: str) -> bool:
        """Is this dataset generated (`source: synth`) rather than the real one on disk?"""
        return self.datasets.get(dataset, {}).get("source") == "synth"

    def num_classes(self, dataset: str) -> int | None:
        return self.datasets.get(dataset, {}).get("num_classes")


def load_profile(profiles_dir: str | Path, name: str) -> Profile:
    return Profile(name, Path(profiles_dir) / f"{name}.yaml", read_profile(profiles_dir, name))
