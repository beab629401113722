"""Everything one command works on: registry, profile, results and where outputs go."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

import pandas as pd

from analysis.results import (Missing, Results, Stale, find_missing, load_released, load_results, stale_files,
                              stale_runs, summarise)
from analysis.table_model import Table, build_table
from mrcfa import layout, provenance
from mrcfa.experiments.profiles import Profile
from mrcfa.experiments.registry import Registry, load_registry

TRAINING_KEY = "training"


@dataclass
class Workspace:
    registry: Registry
    profile: Profile
    results: Results
    results_root: Path
    # Results files that record another config hash than the registry resolves their run to today, or other code.
    stale_files: tuple[Stale, ...] = ()
    # `--seeds`: the only seeds read (the profile then expects exactly these); None: every seed in the results.
    only_seeds: frozenset[int] | None = None
    _missing_cache: dict[tuple[str, ...], list[Missing]] = field(default_factory=dict, repr=False)

    def _path(self, pattern: str, **fields: object) -> Path:
        return Path(layout.path(pattern, results=self.results_root, profile=self.profile.name, **fields))

    @property
    def out_dir(self) -> Path:
        return self._path(layout.PROFILE)

    @property
    def tables_dir(self) -> Path:
        return self._path(layout.TABLES)

    @property
    def figures_dir(self) -> Path:
        return self._path(layout.FIGURES)

    @cached_property
    def stale(self) -> dict[str, tuple[str, ...]]:
        """Run -> why its results are stale ("config", "code"); runs absent here are current."""
        return stale_runs(list(self.stale_files))

    @cached_property
    def summary(self) -> pd.DataFrame:
        return summarise(self.results.values)

    @cached_property
    def released(self) -> dict[str, dict[str, float]]:
        return load_released(self.results_root, self.profile.name)

    def table(self, key: str) -> Table:
        """Table `key` filled with these results: effects on synthetic data, released checkpoints, stale rows, and
        FPS from its rows timed together where they were."""
        return build_table(self.registry.tables[key], self.summary, effects=self.synthetic(key),
                           released=self.released, stale=self.stale,
                           timed=self.results.table_benches.get(key) if key in self.registry.bench_tables() else None)

    def run_dir(self, run: str) -> Path:
        return self._path(layout.RUN, run=run)

    def samples_dir(self, run: str, seed: int) -> Path:
        return self._path(layout.SAMPLES, run=run, seed=seed)

    def sample_seeds(self, run: str) -> list[int]:
        """Seeds of `run` that wrote prediction samples, lowest first."""
        return [seed for seed, d in layout.seed_dirs(self.run_dir(run))
                if (self.only_seeds is None or seed in self.only_seeds)
                and any((d / layout.SAMPLES_DIR).glob("*/*.png"))]

    def data_root(self, run: str) -> Path | None:
        """Dataset root of the run's dataset; relative roots are taken from the working directory
        (as the engine does), else from the repository holding the registry."""
        root = self.profile.dataset_root(self.registry.dataset_of(run))
        if root is None or root.is_absolute() or root.exists():
            return root
        return self.registry.path.resolve().parent.parent / root

    def synthetic(self, table: str) -> bool:
        """Does any run of this table read synthetic data on this profile? Then its comparison with the
        paper is of effects, never of values."""
        return any(self.profile.synthetic(self.registry.dataset_of(r)) for r in self.registry.tables[table].runs)

    def missing(self, keys: list[str]) -> list[Missing]:
        """Missing pieces of the runs that the given tables/figures read, in registry order."""
        key = tuple(keys)
        if key in self._missing_cache:
            return self._missing_cache[key]
        needs: dict[str, tuple[bool, bool]] = {}
        used_by: dict[str, list[str]] = {}
        for k in keys:
            if k in self.registry.tables:
                spec = self.registry.tables[k]
                for run in spec.runs:
                    e, b = needs.get(run, (False, False))
                    needs[run] = (e or spec.needs_eval, b or spec.needs_bench)
                    used_by.setdefault(run, []).append(k)
            elif k in self.registry.figures:
                for run in self.registry.figures[k].runs:
                    needs.setdefault(run, (False, False))
                    used_by.setdefault(run, []).append(k)
        out = find_missing(self.results, needs, self.profile.seeds, used_by)
        # Figures need prediction samples, which the value table does not know about.
        fig_runs = {r for k in keys if k in self.registry.figures for r in self.registry.figures[k].runs}
        by_run = {m.run: m for m in out}
        for run in fig_runs:
            if self.sample_seeds(run):
                continue
            old = by_run.get(run)
            entirely = (old.entirely if old else not self.results.eval_seeds(run) and not self.results.has_bench(run))
            by_run[run] = Missing(run, (old.parts if old else ()) + ("samples",), entirely,
                                  tuple(used_by.get(run, ())))
        order = list(needs)
        result = sorted(by_run.values(), key=lambda m: order.index(m.run))
        self._missing_cache[key] = result
        return result


def open_workspace(
    profile: str,
    results_root: str | Path = "results",
    registry_path: str | Path = "experiments/registry.yaml",
    profiles_dir: str | Path | None = None,
    mlflow_uri: str | None = None,
    seeds: Sequence[int] | None = None,
) -> Workspace:
    """`seeds`: read only these seeds' results and expect exactly them (what the pipeline's rules pass: the
    seeds its jobs made); None: read every seed there is and expect the profile's."""
    registry = load_registry(registry_path)
    prof = registry.load_profile(profile, profiles_dir)
    files = load_results(results_root, profile)
    if mlflow_uri:
        from analysis.mlflow_source import load_results_mlflow, merge_histories

        results = replace(merge_histories(load_results_mlflow(mlflow_uri, profile), files.histories),
                          table_benches=files.table_benches, results_root=files.results_root)
    else:
        results = files
    if seeds is not None:
        prof, results = prof.with_seeds(seeds), results.at_seeds(seeds)
    recorded = {r for r in results.provenance["run"] if r in registry.runs}
    today = {run: registry.resolve(prof, run).hash() for run in sorted(recorded)}
    return Workspace(registry=registry, profile=prof, results=results, results_root=Path(results_root),
                     stale_files=tuple(stale_files(results.provenance, today, provenance.current())),
                     only_seeds=None if seeds is None else frozenset(seeds))
