# Shared by all rules: the plan of jobs read at parse time, the GPU wrapper, the benchmarks' cores.
#
# Every job's inputs, resources and command come from the plan (mrcfa/experiments/jobs.py), the same one
# `make dvc` writes dvc.yaml from; the rules add what only Snakemake needs: output patterns, logs, GPUs.
# Profile: every file rule has a `{profile}` wildcard, and a job is planned with the profile of that wildcard,
# so `results/smoke/...` is built with the smoke profile whatever `--config profile=` says. The configured
# profile only chooses what the target rules (all, table1 ... table6, figure3, released) ask for.

import sys

from mrcfa import layout
from mrcfa.layout import path
from mrcfa.experiments.jobs import Plan
from mrcfa.experiments.registry import load_registry
from mrcfa.offline import stay_offline

REGISTRY = load_registry(config["registry"])
PROFILE = config["profile"]

# `seeds` (config): the seeds of every profile in this invocation, instead of each profile's own; the digit strings
# of `--config seeds=[0,1]` become integers.
SEEDS = None if config.get("seeds") is None else sorted(int(s) for s in config["seeds"])
if SEEDS is not None and len(set(SEEDS)) < len(SEEDS):
    raise ValueError(f"config seeds: {config['seeds']} names a seed twice")

_PLANS = {}


def plan(profile):
    """The plan of a profile (read once: Snakemake asks for every job at parse time)."""
    if profile not in _PLANS:
        _PLANS[profile] = Plan(REGISTRY, profile, SEEDS)  # an unknown profile stops here, with the registry's message
    return _PLANS[profile]


TARGETS = plan(PROFILE).targets()
PLOT_TABLES = {stem: table for table, stem in layout.TABLE_PLOTS.items()}  # table2_tradeoff -> table2


def job(kind, wc):
    """The planned job of a rule for the wildcards Snakemake matched."""
    names = dict(wc.items())
    if kind == "table_plot":
        names["table"] = PLOT_TABLES[names.pop("plot")]
    return plan(names.pop("profile")).job(kind, **names)


def inputs(kind):
    return lambda wc: job(kind, wc).inputs


def command(kind, share_threads=True):
    """The job's command line; with `share_threads`, the threads Snakemake gives it (it lowers them to --cores)
    are shared among its processes, else the command keeps the profile's."""
    if share_threads:
        return lambda wc, threads: job(kind, wc).shell(sys.executable, threads)
    return lambda wc: job(kind, wc).shell(sys.executable)


def threads_of(kind):
    return lambda wc: job(kind, wc).threads


def resource(kind, key):
    return lambda wc: getattr(job(kind, wc).resources, key)


def runtime(kind):
    """Minutes; a retried job gets more time on each attempt."""
    return lambda wc, attempt: job(kind, wc).resources.runtime * attempt


# The interpreter running Snakemake runs the jobs too (`command` renders them with it): no reliance on an
# activated environment.
GPU = f"{sys.executable} workflow/scripts/with_gpu.py"
stay_offline()  # no network at run time: tools that would phone home are told not to, in every job too


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


def bench_threads(kind):
    return lambda wc: EXCLUSIVE_THREADS or job(kind, wc).threads
