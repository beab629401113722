"""The registry (`experiments/registry.yaml`): every run once, every table and figure as rows, the authors'
released checkpoints and the paper's claims. The one reader of it for the engine, the Snakefile, the DVC side and
`analysis`; no torch.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mrcfa import layout
from mrcfa.config import ConfigError, RunConfig
from mrcfa.errors import hint
from mrcfa.experiments import schema
from mrcfa.experiments.claims import ClaimError, ClaimSpec, parse_claims, parse_references
from mrcfa.experiments.files import EXPERIMENTS, load_yaml
from mrcfa.experiments.profiles import Profile, read_profile
from mrcfa.experiments.resolve import DEFAULT_DATASET, resolve_all, resolve_run
from mrcfa.experiments.tables import FigureSpec, TableSpec, parse_tables
from mrcfa.metric_keys import BENCH_METRICS, FPS


@dataclass(frozen=True)
class Registry:
    path: Path
    runs: dict[str, dict[str, Any]]  # run -> its settings over the profile's, as written
    tables: dict[str, TableSpec]
    figures: dict[str, FigureSpec]
    released: dict[str, str] = field(default_factory=dict)  # run -> the authors' checkpoint file for it
    claims: dict[str, ClaimSpec] = field(default_factory=dict)
    _profiles: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False, compare=False)

    @property
    def profiles_dir(self) -> Path:
        return self.path.parent / "profiles"

    # --- profiles ---

    def profile(self, name: str) -> dict[str, Any]:
        """The merged profile as plain data (a copy: callers may change it)."""
        if name not in self._profiles:  # read once: Snakemake asks for every job at parse time
            self._profiles[name] = read_profile(self.profiles_dir, name)
        return copy.deepcopy(self._profiles[name])

    def load_profile(self, name: str, profiles_dir: str | Path | None = None) -> Profile:
        where = Path(profiles_dir) if profiles_dir else self.profiles_dir
        data = self.profile(name) if where == self.profiles_dir else read_profile(where, name)
        return Profile(name, where / f"{name}.yaml", data)

    def seeds(self, profile: str) -> list[int]:
        return list(self.load_profile(profile).seeds)

    # --- runs ---

    def dataset_of(self, run: str) -> str:
        return str(self.runs.get(run, {}).get("dataset", DEFAULT_DATASET))

    def resolve(self, profile: str | Profile, run: str, overrides: dict[str, Any] | None = None) -> RunConfig:
        """The run's config at the profile's scale (a name under `profiles_dir`, or a loaded `Profile`), with
        `--set` overrides last (see `resolve_run`)."""
        if run not in self.runs:
            raise ConfigError(f"run: unknown run {run!r}; {hint(run, list(self.runs))}")
        name, data = (profile.name, profile.data) if isinstance(profile, Profile) else (profile, self.profile(profile))
        return resolve_run(name, data, run, self.runs[run], overrides)

    def check(self, profile: str | Profile) -> dict[str, RunConfig]:
        """Resolve every run of a profile; two names giving the same config are an error."""
        prof = profile if isinstance(profile, Profile) else self.load_profile(profile)
        return resolve_all(prof.name, prof.data, self.runs)

    # --- tables, figures and the results files they read ---

    def table_runs(self, key: str) -> list[str]:
        """Runs a table or figure reads, in row order."""
        spec = self.tables.get(key) or self.figures.get(key)
        if spec is None:
            known = list(self.tables) + list(self.figures)
            raise ConfigError(f"table: unknown table {key!r} (known: {', '.join(known)})")
        return spec.runs

    def needs_bench(self, table: str) -> bool:
        """Tables with FPS, memory or parameter columns read the runs' benchmark results."""
        return table in self.tables and self.tables[table].needs_bench

    def rows_of(self, run: str) -> dict[str, list[str]]:
        """Table or figure -> the labels of its rows that read `run`, in registry order."""
        labels = {k: [r.label for r in t.rows if r.run == run] for k, t in self.tables.items()}
        labels |= {k: [label for label, r in f.rows if r == run] for k, f in self.figures.items()}
        return {k: v for k, v in labels.items() if v}

    def claims_of(self, table: str) -> list[ClaimSpec]:
        return [c for c in self.claims.values() if c.table == table]

    def bench_tables(self) -> list[str]:
        """Tables whose claims compare FPS: their rows are timed together (`mrcfa bench-table`), one job each."""
        return [t for t in self.tables if any(c.metric == FPS for c in self.claims_of(t))]

    def metrics_files(self, profile: str, runs: list[str], seeds: Sequence[int] | None = None) -> list[str]:
        """Every seed's metrics.json of `runs` on a profile, at `seeds` (default: the profile's)."""
        seeds = self.seeds(profile) if seeds is None else seeds
        return [layout.path(layout.METRICS, profile=profile, run=r, seed=s) for r in runs for s in seeds]

    def table_inputs(self, table: str, profile: str, seeds: Sequence[int] | None = None) -> list[str]:
        """The results files a table is built from (the same for Snakemake and DVC)."""
        runs = self.table_runs(table)
        files = self.metrics_files(profile, runs, seeds)
        if self.needs_bench(table):
            files += [layout.path(layout.BENCH, profile=profile, run=r) for r in runs]
        if table in self.bench_tables():  # its rows timed together: its FPS claims and FPS column
            files.append(layout.path(layout.TABLE_BENCH, profile=profile, table=table))
        return files

    def claims_inputs(self, profile: str, seeds: Sequence[int] | None = None) -> list[str]:
        """The results files every claim of the registry is decided from: FPS claims from their table's rows
        timed together, memory and parameter counts from each run's benchmark."""
        files = []
        for claim in self.claims.values():
            if claim.metric == FPS:
                files.append(layout.path(layout.TABLE_BENCH, profile=profile, table=claim.table))
            elif claim.metric in BENCH_METRICS:
                files += [layout.path(layout.BENCH, profile=profile, run=r) for r in claim.runs]
            else:
                files += self.metrics_files(profile, list(claim.runs), seeds)
        return list(dict.fromkeys(files))


def default_path() -> Path:
    """./experiments/registry.yaml, else the one beside this package."""
    local = Path.cwd() / "experiments" / "registry.yaml"
    return local if local.is_file() else EXPERIMENTS / "registry.yaml"


def load_registry(path: str | Path | None = None) -> Registry:
    """The registry at `path` (default: `default_path()`), checked against its schema, then for names that must
    exist (a row's run, a released run, a claim's rows)."""
    path = Path(path) if path is not None else default_path()
    data = load_yaml(path)
    schema.check(data, "registry", str(path))
    runs = data["runs"]
    released = data.get("released") or {}
    for run in released:
        if run not in runs:
            raise ConfigError(f"{path}: released.{run}: unknown run {run!r}")
    try:
        references = parse_references(data["tables"])
        claims = parse_claims(data.get("claims"), data["tables"])
        tables, figures = parse_tables(data["tables"], runs, references)
    except (ClaimError, ConfigError) as e:
        raise ConfigError(f"{path}: {e}") from None
    return Registry(path=path, runs=runs, tables=tables, figures=figures, released=dict(released), claims=claims)
