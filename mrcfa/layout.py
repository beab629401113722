"""Where every file of the harness lives: the path patterns of the results tree, the resumable work tree and
the check markers, and the name of the MLflow experiment that mirrors them, in one place. The plan of jobs (and
through it Snakemake's rules and the generated dvc.yaml), the engine, `analysis` and the MLflow sync all format
these patterns; no other module spells a path of these trees out. No torch: Snakemake reads this at parse time.

    results/<profile>/
      runs/<run>/bench.json                   one benchmark per run (it does not depend on the seed)
      bench/<table>.json                      a table's rows timed together, in several processes (FPS claims)
      runs/<run>/seed<S>/                     model.pt, train.json, history.csv, metrics.json, samples/
      tables/<table>{,_vs_paper}.{tex,md,csv}, tables/<table>_claims.{md,csv}
      figures/<plot>.{png,pdf}, claims.{csv,md}, report.{html,md}, logs/
      released/<run>/                         the authors' checkpoints evaluated here (metrics.json, samples/)
      checkpoints/<file stem>/<run>/          any other checkpoint evaluated with a run's model
      data/<dataset>.check.json, weights/mit_<backbone>.check.json   passed checks
    work/<profile>/<run>/seed<S>/last.pt       resumable training state, outside the declared outputs
    data/<profile>/synth_<dataset>/synth.json  the synthetic benchmark's summary, proof that it is there

A pattern is a `str.format` template whose fields are Snakemake's wildcards too: `path(MODEL)` keeps every
field but the roots (a rule's output), `path(MODEL, profile="demo", run="mrcfa_b1", seed=0)` fills them.
"""

from __future__ import annotations

import re
from pathlib import Path

RESULTS_ROOT = "results"
WORK_ROOT = "work"

MODEL_FILE, TRAIN_FILE, HISTORY_FILE = "model.pt", "train.json", "history.csv"
METRICS_FILE, SAMPLES_DIR, BENCH_FILE = "metrics.json", "samples", "bench.json"
SYNTH_SUMMARY_FILE, TRAIN_STATE_FILE = "synth.json", "last.pt"

PROFILE = "{results}/{profile}"
RUNS = PROFILE + "/runs"
RUN = RUNS + "/{run}"
SEED_NAME = "seed{seed}"
SEED = RUN + "/" + SEED_NAME
MODEL = SEED + "/" + MODEL_FILE
TRAIN_JSON = SEED + "/" + TRAIN_FILE
HISTORY = SEED + "/" + HISTORY_FILE
METRICS = SEED + "/" + METRICS_FILE
SAMPLES = SEED + "/" + SAMPLES_DIR
BENCH = RUN + "/" + BENCH_FILE
TABLE_BENCH = PROFILE + "/bench/{table}.json"

TABLES = PROFILE + "/tables"
FIGURES = PROFILE + "/figures"
LOGS = PROFILE + "/logs"
CLAIMS = PROFILE + "/claims"  # .csv and .md
REPORT = PROFILE + "/report"  # .html and .md
RELEASED = PROFILE + "/released"
RELEASED_RUN = RELEASED + "/{run}"
CHECKPOINT_RUN = PROFILE + "/checkpoints/{stem}/{run}"
DATA_CHECK = PROFILE + "/data/{dataset}.check.json"
WEIGHTS_CHECK = PROFILE + "/weights/mit_{backbone}.check.json"
SYNTH_SUMMARY = "data/{profile}/synth_{dataset}/" + SYNTH_SUMMARY_FILE

WORK_SEED = "{work}/{profile}/{run}/" + SEED_NAME

JOB = "{run}-" + SEED_NAME  # a (run, seed) job's name in log files

# The MLflow mirror: one experiment per (dataset, profile), holding one MLflow run per (run, seed).
EXPERIMENT = "mrcfa-{dataset}-{profile}"

# Table -> the stem of its plot under figures/; every plot (as `python -m analysis plots --only` names it) -> stem.
TABLE_PLOTS = {"table1": "table1_trend", "table2": "table2_tradeoff", "table3": "table3_trend"}
PLOT_FILES = {**TABLE_PLOTS, "training": "training_curves", "figure3": "figure3"}
# What a table writes under tables/: the table, its comparison with the paper, its claims.
TABLE_SUFFIXES = [f"{part}.{ext}" for part in ("", "_vs_paper") for ext in ("tex", "md", "csv")] + [
    "_claims.md", "_claims.csv"]

_SEED_FOLDER = re.compile(re.escape(SEED_NAME).replace(r"\{seed\}", r"(-?\d+)"))


class _Fields(dict):
    """Fields not given stay `{name}`: Snakemake's wildcards."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def path(pattern: str, **fields: object) -> str:
    """`pattern` with `fields` filled in (roots default to results/ and work/), the others left as wildcards."""
    return pattern.format_map(_Fields({"results": RESULTS_ROOT, "work": WORK_ROOT,
                                       **{k: str(v) for k, v in fields.items()}}))


def experiment_name(dataset: str, profile: str) -> str:
    return EXPERIMENT.format(dataset=dataset, profile=profile)


def is_experiment_of(name: str, profile: str) -> bool:
    """Whether an MLflow experiment holds `profile`'s runs, of any dataset."""
    before, after = EXPERIMENT.split("{dataset}")
    after = after.format(profile=profile)
    return name.startswith(before) and name.endswith(after) and len(name) > len(before) + len(after)


def log(name: str) -> str:
    """The pattern of a job's log file, `name` being e.g. `"train/" + JOB`."""
    return f"{LOGS}/{name}.log"


def table_files(table: str, **fields: object) -> list[str]:
    return [path(f"{TABLES}/{table}{suffix}", **fields) for suffix in TABLE_SUFFIXES]


def figure_files(stem: str, **fields: object) -> list[str]:
    return [path(f"{FIGURES}/{stem}.{ext}", **fields) for ext in ("png", "pdf")]


def table_plot_files(table: str, **fields: object) -> list[str]:
    """The plot a table also draws (Tables 1-3); empty for a table without one."""
    return figure_files(TABLE_PLOTS[table], **fields) if table in TABLE_PLOTS else []


def seed_of(folder: str | Path) -> int | None:
    """The seed of a seed folder (`seed3` -> 3); None for any other name."""
    m = _SEED_FOLDER.fullmatch(Path(folder).name)
    return int(m.group(1)) if m else None


def seed_dirs(run_dir: str | Path) -> list[tuple[int, Path]]:
    """(seed, folder) of every seed folder of a run, by seed."""
    run_dir = Path(run_dir)
    found = [(seed_of(d), d) for d in run_dir.iterdir() if d.is_dir()] if run_dir.is_dir() else []
    return sorted((s, d) for s, d in found if s is not None)


def run_dirs(profile: str, results: str | Path = RESULTS_ROOT) -> list[Path]:
    """Every run folder of a profile's results tree, by name."""
    base = Path(path(RUNS, results=results, profile=profile))
    return sorted(p for p in base.iterdir() if p.is_dir()) if base.is_dir() else []
