# Shared by all rules: the registry read at parse time, the profile's resources, the command prefix.

import os
import sys

from analysis.outputs import table_plot_files
from mrcfa.experiments.registry import load_registry

REGISTRY = load_registry(config["registry"])
PROFILE = config["profile"]
PROFILE_SPEC = REGISTRY.profile(PROFILE)
SEEDS = REGISTRY.seeds(PROFILE)
TABLES = list(REGISTRY.tables)

# The interpreter running Snakemake runs the jobs too: no reliance on an activated environment.
MRCFA = f"{sys.executable} -m mrcfa"
ANALYSIS = f"{sys.executable} -m analysis"
GPU = f"{sys.executable} workflow/scripts/with_gpu.py"
# Tools that would phone home are told not to (no network at run time).
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DVC_NO_ANALYTICS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


# Benchmarks run alone: they claim all cores Snakemake was given. On a cluster (no core count, or a huge
# one) the node's CPUs come from the executor's resources instead; `exclusive_bench: false` (the CI
# profile, where timings do not matter) lets them run beside other jobs.
_exclusive = str(config.get("exclusive_bench", True)).lower() not in ("false", "0", "no")  # --config gives strings
EXCLUSIVE_THREADS = workflow.cores if _exclusive and workflow.cores and workflow.cores <= 256 else 1


def res(step, key, default):
    return PROFILE_SPEC.get("resources", {}).get(step, {}).get(key, default)


def run_dataset(run):
    return REGISTRY.runs[run].get("dataset", "vspw")


def dataset_marker(dataset):
    """The file that proves a dataset is ready: the synthetic generator's summary, or a passed check."""
    spec = PROFILE_SPEC["datasets"][dataset]
    if spec.get("source") == "synth":
        return os.path.join(spec["root"], "synth.json")
    return f"results/{PROFILE}/data/{dataset}.check.json"


def weights_marker(run):
    """Runs that start from ImageNet weights wait for a passed `mrcfa weights check` of them."""
    cfg = REGISTRY.resolve(PROFILE, run)
    if not cfg.model.pretrained:
        return []
    return [f"results/{PROFILE}/weights/mit_{cfg.model.backbone}.check.json"]


def run_dir(run, seed):
    return f"results/{PROFILE}/runs/{run}/seed{seed}"


def table_inputs(table):
    return REGISTRY.table_inputs(table, PROFILE)


def table_outputs(table):
    base = f"results/{PROFILE}/tables/{table}"
    return ([f"{base}.{ext}" for ext in ("tex", "md", "csv")] + [f"{base}_vs_paper.{ext}" for ext in ("tex", "md", "csv")]
            + [f"{base}_claims.{ext}" for ext in ("md", "csv")])


def table_plot_outputs(table):
    """The plot a table target also builds (Tables 1-3)."""
    return table_plot_files(f"results/{PROFILE}", table)


def figure_outputs():
    return [f"results/{PROFILE}/figures/figure3.png"]
