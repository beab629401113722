"""The plan of jobs: every job of a profile, with its inputs, outputs, resources and command.

The one description of the pipeline that both engines run. The Snakefile's rules take their inputs, resources
and commands from it (`Plan.job("train", run=..., seed=...)` for the files Snakemake matched), and `make dvc`
writes dvc.yaml from `Plan.jobs()`, one stage per job. No torch: Snakemake reads this at parse time.

    synth / data_check / weights_check    the data is there (generated or checked), ImageNet weights load
    train, evaluate                       one per run and seed
    benchmark, bench_table                one per run of a table with FPS, memory or parameter columns; one per
                                          table whose claims compare FPS (its rows timed together)
    evaluate_released                     the authors' checkpoints present on disk (real-data profiles)
    table, table_plot, figure,            `analysis`: tables, plots, figures, every claim, the report
    training_curves, claims, report
"""

from __future__ import annotations

import dataclasses
import os
import shlex
from collections.abc import Sequence
from dataclasses import dataclass

from mrcfa import layout
from mrcfa.config import ConfigError, RunConfig
from mrcfa.experiments.profiles import StepResources
from mrcfa.experiments.registry import Registry
from mrcfa.provenance import CODE

THREADS = "{threads}"  # in a command: the job's threads, which Snakemake may lower to the cores it was given
ANALYSIS_CODE = ("analysis", "experiments/registry.yaml")  # what decides a table, plot, claim or report
DATA_CODE = ("mrcfa/data",)
WEIGHTS_CODE = ("mrcfa/models",)
RELEASED_DATASET = "vspw"  # the authors released VSPW models only
# The wildcards that name one job of each kind (besides the profile), as the Snakefile's patterns spell them.
KEYS = {"synth": ("dataset",), "data_check": ("dataset",), "weights_check": ("backbone",),
        "train": ("run", "seed"), "evaluate": ("run", "seed"), "benchmark": ("run",), "bench_table": ("table",),
        "evaluate_released": ("run",), "table": ("table",), "table_plot": ("table",), "figure": ("figure",),
        "training_curves": (), "claims": (), "report": (), "released_table": ()}


@dataclass(frozen=True)
class Job:
    kind: str  # its rule in the Snakefile
    name: str  # its stage in dvc.yaml, e.g. train-mrcfa_b1-seed0
    command: tuple[str, ...]  # what follows `python -m`
    outputs: tuple[str, ...]
    inputs: tuple[str, ...] = ()  # files that other jobs make
    # Files the user supplies (ImageNet weights): DVC depends on them; Snakemake does not declare them, so that a
    # dry run lists the pipeline before they are there, and the job says what to put where.
    sources: tuple[str, ...] = ()
    code: tuple[str, ...] = ()  # the code paths whose change makes its results stale (DVC depends on them)
    params: tuple[str, ...] = ()  # keys of params.yaml it depends on: its runs' config hashes
    resources: StepResources | None = None  # the whole job's; None: one thread, the scheduler's defaults
    stdout: str | None = None  # the output the command prints, when it writes none itself

    @property
    def threads(self) -> int:
        return self.resources.threads if self.resources else 1

    def shell(self, python: str = "python", threads: int | None = None) -> str:
        """The command line; `threads` (default: the job's) is shared among its processes, at least one each."""
        procs = self.resources.procs if self.resources else 1
        per_process = str(max(1, (threads or self.threads) // procs))
        words = shlex.join(per_process if w == THREADS else w for w in self.command)
        if procs > 1:  # torchrun starts them on one node; `--` keeps it from reading our options (`--run`)
            module, rest = words.split(" ", 1)
            return (f"{python} -m torch.distributed.run --standalone --nproc_per_node {procs} "
                    f"-m {module} -- {rest}")
        return f"{python} -m {words}"


class Plan:
    """The jobs of one profile at its seeds (or `seeds`, which change no run's config)."""

    def __init__(self, registry: Registry, profile: str, seeds: Sequence[int] | None = None):
        self.registry = registry
        loaded = registry.load_profile(profile)
        self.profile = loaded if seeds is None else loaded.with_seeds(seeds)
        self.name = profile
        self.seeds = list(self.profile.seeds)
        self._configs: dict[str, RunConfig] = {}

    def job(self, kind: str, **names: object) -> Job:
        """One job by its kind and the wildcards of its files, e.g. `job("train", run="mrcfa_b1", seed="0")`."""
        if kind not in KEYS:
            raise ConfigError(f"no job of kind {kind!r} (known: {', '.join(KEYS)})")
        return getattr(self, kind)(**{k: names[k] for k in KEYS[kind]})

    # --- what the jobs are made of ---

    def config(self, run: str) -> RunConfig:
        if run not in self._configs:
            self._configs[run] = self.registry.resolve(self.profile, run)
        return self._configs[run]

    def _path(self, pattern: str, **fields: object) -> str:
        return layout.path(pattern, profile=self.name, **fields)

    def _args(self, *words: object) -> tuple[str, ...]:
        return tuple(str(w) for w in words)

    def _seeds_arg(self) -> str:
        return ",".join(map(str, self.seeds))

    def _step(self, step: str) -> StepResources:
        """A step's resources for one whole job: a training job's threads, GPUs and memory are its processes'."""
        r = self.profile.step(step)
        return dataclasses.replace(r, threads=r.threads * r.procs, gpu=r.gpu * r.procs, mem_mb=r.mem_mb * r.procs)

    def data_ready(self, dataset: str) -> str:
        """The file that proves a dataset is there: the generator's summary, or a passed check."""
        ds = self.profile.dataset(dataset)
        if ds.synthetic:
            return os.path.join(ds.root, layout.SYNTH_SUMMARY_FILE)
        return self._path(layout.DATA_CHECK, dataset=dataset)

    def used_runs(self) -> list[str]:
        """Every run a table or figure reads, once."""
        keys = [*self.registry.tables, *self.registry.figures]
        return list(dict.fromkeys(r for k in keys for r in self.registry.table_runs(k)))

    def weights(self) -> dict[str, str]:
        """Backbone -> the ImageNet weights file of the runs that start from it."""
        return {cfg.model.backbone: cfg.model.pretrained for cfg in map(self.config, self.used_runs())
                if cfg.model.pretrained}

    def released_applies(self) -> bool:
        """The released checkpoints are VSPW models: they are evaluated on real-data profiles only."""
        return RELEASED_DATASET in self.profile.datasets and not self.profile.synthetic(RELEASED_DATASET)

    def released_present(self) -> list[str]:
        """Runs whose released checkpoint is on disk (on a profile they apply to)."""
        return [run for run, ckpt in self.registry.released.items()
                if self.released_applies() and os.path.isfile(ckpt)]

    def released_metrics(self) -> list[str]:
        return [self._path(layout.RELEASED_RUN + "/" + layout.METRICS_FILE, run=r) for r in self.released_present()]

    # --- data, weights ---

    def synth(self, dataset: str) -> Job:
        ds = self.profile.dataset(dataset)
        if not ds.synthetic:
            raise ConfigError(f"profile {self.name!r} reads {dataset} from disk ({ds.root}); nothing to synthesise")
        return Job("synth", f"synth-{dataset}", self._args("mrcfa", "synth", "--profile", self.name, "--dataset",
                                                           dataset, "--json"),
                   outputs=(self.data_ready(dataset),), code=DATA_CODE)

    def data_check(self, dataset: str) -> Job:
        ds = self.profile.dataset(dataset)
        marker = self._path(layout.DATA_CHECK, dataset=dataset)
        return Job("data_check", f"data_check-{dataset}",
                   self._args("mrcfa", "data", "check", ds.root, "--dataset", dataset, "--fast", "--json"),
                   outputs=(marker,), code=DATA_CODE, stdout=marker)

    def weights_check(self, backbone: str) -> Job:
        weights = self.weights()
        if backbone not in weights:
            raise ConfigError(f"no run of profile {self.name!r} starts from ImageNet weights of mit_{backbone}")
        marker = self._path(layout.WEIGHTS_CHECK, backbone=backbone)
        return Job("weights_check", f"weights_check-{backbone}",
                   self._args("mrcfa", "weights", "check", "--arch", f"mit_{backbone}", weights[backbone], "--json"),
                   outputs=(marker,), sources=(weights[backbone],), code=WEIGHTS_CODE, stdout=marker)

    # --- training, evaluation, benchmarks ---

    def train(self, run: str, seed: object) -> Job:
        cfg, at = self.config(run), {"run": run, "seed": seed}
        inputs = [self.data_ready(cfg.data.dataset)]
        if cfg.model.pretrained:
            inputs.append(self._path(layout.WEIGHTS_CHECK, backbone=cfg.model.backbone))
        return Job("train", "train-" + self._path(layout.JOB, **at), self._args(
            "mrcfa", "train", "--profile", self.name, "--run", run, "--seed", seed, "--threads", THREADS, "--json"),
            outputs=tuple(self._path(p, **at) for p in (layout.MODEL, layout.HISTORY, layout.TRAIN_JSON)),
            inputs=tuple(inputs), code=CODE, params=(f"runs.{run}",), resources=self._step("train"))

    def evaluate(self, run: str, seed: object) -> Job:
        cfg, at = self.config(run), {"run": run, "seed": seed}
        return Job("evaluate", "evaluate-" + self._path(layout.JOB, **at), self._args(
            "mrcfa", "evaluate", "--profile", self.name, "--run", run, "--seed", seed, "--threads", THREADS,
            "--json"),
            outputs=(self._path(layout.METRICS, **at), self._path(layout.SAMPLES, **at)),
            inputs=(self._path(layout.MODEL, **at), self.data_ready(cfg.data.dataset)),
            code=CODE, params=(f"runs.{run}",), resources=self._step("evaluate"))

    def benchmark(self, run: str) -> Job:
        r = self._step("bench")
        return Job("benchmark", f"benchmark-{run}", self._args(
            "mrcfa", "bench", "--profile", self.name, "--run", run, "--threads", r.threads, "--json"),
            outputs=(self._path(layout.BENCH, run=run),), code=CODE, params=(f"runs.{run}",), resources=r)

    def bench_table(self, table: str) -> Job:
        if table not in self.registry.bench_tables():
            raise ConfigError(f"no claim of {table} compares FPS: its rows are not timed together")
        r = self._step("bench")
        return Job("bench_table", f"bench_table-{table}", self._args(
            "mrcfa", "bench-table", "--profile", self.name, "--table", table, "--threads", r.threads),
            outputs=(self._path(layout.TABLE_BENCH, table=table),), code=CODE, params=(f"bench_tables.{table}",),
            resources=r)

    def evaluate_released(self, run: str) -> Job:
        out = self._path(layout.RELEASED_RUN, run=run)
        return Job("evaluate_released", f"evaluate_released-{run}", self._args(
            "mrcfa", "evaluate", "--profile", self.name, "--run", run, "--weights", self.registry.released[run],
            "--out", out, "--threads", THREADS, "--json"),
            outputs=(f"{out}/{layout.METRICS_FILE}", f"{out}/{layout.SAMPLES_DIR}"),
            inputs=(self.registry.released[run],), code=CODE, resources=self._step("evaluate"))

    # --- tables, figures, claims, the report ---

    def _analysis(self, kind: str, name: str, command: str, *options: str, inputs: Sequence[str],
                  outputs: Sequence[str]) -> Job:
        words = ("analysis", command, "--profile", self.name, *options, "--seeds", self._seeds_arg())
        return Job(kind, name, words,
                   outputs=tuple(outputs), inputs=tuple(dict.fromkeys(inputs)), code=ANALYSIS_CODE)

    def _table_inputs(self, table: str) -> list[str]:
        return self.registry.table_inputs(table, self.name, self.seeds)

    def table(self, table: str) -> Job:
        inputs = self._table_inputs(table) + (self.released_metrics() if table == "table5" else [])
        return self._analysis("table", table, "tables", "--only", table, inputs=inputs,
                              outputs=layout.table_files(table, profile=self.name))

    def table_plot(self, table: str) -> Job:
        """Table 1's and Table 3's trends and Table 2's accuracy / speed / memory trade-off."""
        if table not in layout.TABLE_PLOTS:
            raise ConfigError(f"{table} has no plot (plots: {', '.join(layout.TABLE_PLOTS)})")
        return self._analysis("table_plot", f"plot-{table}", "plots", "--only", table, "--jobs", "1",
                              inputs=self._table_inputs(table),
                              outputs=layout.table_plot_files(table, profile=self.name))

    def figure(self, figure: str) -> Job:
        """Predicted frames of the figure's runs (their first seed's samples) beside the input and ground truth."""
        samples = [self._path(layout.SAMPLES, run=r, seed=self.seeds[0]) for r in self.registry.table_runs(figure)]
        return self._analysis("figure", figure, "plots", "--only", figure, "--jobs", "1", inputs=samples,
                              outputs=layout.figure_files(layout.PLOT_FILES[figure], profile=self.name))

    def training_curves(self) -> Job:
        histories = [self._path(layout.HISTORY, run=r, seed=s) for r in self.used_runs() for s in self.seeds]
        return self._analysis("training_curves", "training_curves", "plots", "--only", "training", "--jobs", "1",
                              inputs=histories,
                              outputs=layout.figure_files(layout.PLOT_FILES["training"], profile=self.name))

    def claims(self) -> Job:
        return self._analysis("claims", "claims", "claims", "--track",
                              inputs=self.registry.claims_inputs(self.name, self.seeds),
                              outputs=[self._path(layout.CLAIMS + ext) for ext in (".md", ".csv")])

    def report(self) -> Job:
        """The self-contained report; it embeds the files of the jobs before it and rewrites none of them."""
        inputs = [f for job in self._report_parts() for f in job.outputs]
        return self._analysis("report", "report", "report", "--no-rebuild", inputs=inputs,
                              outputs=[self._path(layout.REPORT + ext) for ext in (".html", ".md")])

    def released_table(self) -> Job:
        """Table 5 with the released checkpoints' column group, whatever else has been trained yet."""
        out = self._path(layout.RELEASED)
        return Job("released_table", "released_table", self._args(
            "analysis", "tables", "--profile", self.name, "--only", "table5", "--out", out),
            outputs=tuple(f"{out}/table5{suffix}" for suffix in layout.TABLE_SUFFIXES),
            inputs=tuple(self.released_metrics()), code=ANALYSIS_CODE)

    # --- the whole plan ---

    def _report_parts(self) -> list[Job]:
        tables = list(self.registry.tables)
        return ([self.table(t) for t in tables] + [self.table_plot(t) for t in tables if t in layout.TABLE_PLOTS]
                + [self.figure(f) for f in self.registry.figures] + [self.training_curves(), self.claims()])

    def _data_jobs(self) -> list[Job]:
        """One job per dataset folder the runs read (two datasets may share a generated one), then weights."""
        jobs: dict[str, Job] = {}
        for dataset in dict.fromkeys(self.config(r).data.dataset for r in self.used_runs()):
            job = self.synth(dataset) if self.profile.synthetic(dataset) else self.data_check(dataset)
            jobs.setdefault(job.outputs[0], job)
        return [*jobs.values(), *(self.weights_check(b) for b in self.weights())]

    def jobs(self) -> list[Job]:
        """Every job of the profile's tables, figures, claims and report, each once, producers first."""
        runs, tables = self.used_runs(), list(self.registry.tables)
        timed = [r for r in runs if any(self.registry.needs_bench(t) and r in self.registry.table_runs(t)
                                        for t in tables)]
        return [*self._data_jobs(),
                *(self.job(kind, run=r, seed=s) for r in runs for s in self.seeds for kind in ("train", "evaluate")),
                *(self.benchmark(r) for r in timed), *(self.bench_table(t) for t in self.registry.bench_tables()),
                *(self.evaluate_released(r) for r in self.released_present()),
                *self._report_parts(), self.report()]

    def targets(self) -> dict[str, list[str]]:
        """The files of each target: all, every table (with its plot), every figure, the released checkpoints."""
        tables = {t: [*self.table(t).outputs, *(self.table_plot(t).outputs if t in layout.TABLE_PLOTS else ())]
                  for t in self.registry.tables}
        figures = {f: list(self.figure(f).outputs) for f in self.registry.figures}
        everything = [f for files in [*tables.values(), *figures.values()] for f in files]
        return {"all": everything + list(self.claims().outputs) + list(self.report().outputs), **tables, **figures,
                "released": list(self.released_table().outputs)}
