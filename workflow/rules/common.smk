# Shared by all rules: the registry read at parse time, the profile's resources, the command prefix.
#
# Profile: every file rule has a `{profile}` wildcard, and everything it reads (inputs, threads, resources,
# dataset roots) comes from the profile of that wildcard, so `results/smoke/...` is built with the smoke
# profile whatever `--config profile=` says. The configured profile only chooses what the target rules
# (all, table1 ... table6, figure3, released) ask for.

import os
import sys

from mrcfa import layout
from mrcfa.layout import path
from mrcfa.experiments.registry import load_registry

REGISTRY = load_registry(config["registry"])
PROFILE = config["profile"]
REGISTRY.profile(PROFILE)  # an unknown profile stops here, with the registry's message
TABLES = list(REGISTRY.tables)
PLOT_TABLES = {stem: table for table, stem in layout.TABLE_PLOTS.items()}  # table2_tradeoff -> table2

# `seeds` (config): the seeds of every profile in this invocation, instead of each profile's own; the digit strings
# of `--config seeds=[0,1]` become integers.
SEEDS = None if config.get("seeds") is None else sorted(int(s) for s in config["seeds"])
if SEEDS is not None and len(set(SEEDS)) < len(SEEDS):
    raise ValueError(f"config seeds: {config['seeds']} names a seed twice")


def seeds_of(profile):
    """The seeds a profile's jobs are made at, and its tables and claims read."""
    return SEEDS if SEEDS is not None else REGISTRY.seeds(profile)


def seeds_arg(wc):
    """`--seeds` for `analysis`: exactly the seeds the jobs made."""
    return ",".join(map(str, seeds_of(wc.profile)))


# The interpreter running Snakemake runs the jobs too: no reliance on an activated environment.
MRCFA = f"{sys.executable} -m mrcfa"
ANALYSIS = f"{sys.executable} -m analysis"
GPU = f"{sys.executable} workflow/scripts/with_gpu.py"
# Tools that would phone home are told not to (no network at run time).
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DVC_NO_ANALYTICS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


wildcard_constraints:
    profile="[^/]+",  # one path component: results/<profile>/...


# Benchmarks run alone: they claim all cores Snakemake was given. A cluster job asks for the profile's bench
# threads instead: the submitting Snakemake has no core count (or a huge one: `workflow.cores` would raise
# without one, so the setting is read), and the job's own Snakemake on its node (remote mode, `--cores all`)
# must give the job the same threads. `exclusive_bench: false` (the CI profile, where timings do not matter)
# lets them run beside other jobs. The schema admits the strings `--config exclusive_bench=false` gives.
_exclusive = config["exclusive_bench"] in (True, 1, "true", "yes")
_cores = None if workflow.remote_exec else workflow.resource_settings.cores
EXCLUSIVE_THREADS = _cores if _exclusive and _cores and _cores <= 256 else None


def res(step, key, default):
    """A rule's thread count or resource, read from the profile of the job's wildcard."""
    return lambda wc: REGISTRY.profile(wc.profile).get("resources", {}).get(step, {}).get(key, default)


def bench_threads(wc):
    return EXCLUSIVE_THREADS or res("bench", "threads", 1)(wc)


def train_procs(wc):
    """Processes of one training job (`resources.train.procs`), each with the profile's threads, GPUs, memory."""
    return res("train", "procs", 1)(wc)


def train_total(key, default):
    """A training job's threads, GPUs or memory: the profile's figure per process × its processes."""
    return lambda wc: res("train", key, default)(wc) * train_procs(wc)


def train_process_threads(wc, threads):
    """Each process's share of the job's threads (which Snakemake scales down to --cores when it runs locally)."""
    return max(1, threads // train_procs(wc))


def train_launcher(wc):
    """`mrcfa`, or torchrun starting the job's processes on its node (DDP: NCCL on GPUs, gloo on CPU); `--` keeps
    torchrun from reading our options (it would take `--run` for its `--run-path`)."""
    n = train_procs(wc)
    if n == 1:
        return MRCFA
    return f"{sys.executable} -m torch.distributed.run --standalone --nproc_per_node {n} -m mrcfa --"


def runtime(step, default):
    """Minutes; a retried job gets more time on each attempt."""
    return lambda wc, attempt: res(step, "runtime", default)(wc) * attempt


def run_dataset(run):
    return REGISTRY.runs[run].get("dataset", "vspw")


def dataset_marker(profile, dataset):
    """The file that proves a dataset is ready: the synthetic generator's summary, or a passed check."""
    spec = REGISTRY.profile(profile)["datasets"][dataset]
    if spec.get("source") == "synth":
        return os.path.join(spec["root"], layout.SYNTH_SUMMARY_FILE)
    return path(layout.DATA_CHECK, profile=profile, dataset=dataset)


def weights_marker(profile, run):
    """Runs that start from ImageNet weights wait for a passed `mrcfa weights check` of them."""
    cfg = REGISTRY.resolve(profile, run)
    if not cfg.model.pretrained:
        return []
    return [path(layout.WEIGHTS_CHECK, profile=profile, backbone=cfg.model.backbone)]


def table_outputs(profile, table):
    return layout.table_files(table, profile=profile)


def table_plot_outputs(profile, table):
    """The plot a table target also builds (Tables 1-3)."""
    return layout.table_plot_files(table, profile=profile)


def figure_outputs(profile):
    return layout.figure_files(layout.PLOT_FILES["figure3"], profile=profile)
