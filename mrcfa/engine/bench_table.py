"""`mrcfa bench-table`: the benchmarked rows of one table timed together, for speed comparisons that hold from
one process to the next.

One process builds every row's model as `mrcfa bench` builds it for its first protocol (random weights, the
streaming cache filled), runs `warmup` untimed rounds, then `rounds` rounds in which every row makes one timed
call (a new frame, or a clip: the unit of bench.json's timed calls), round r starting at row r mod k. The job
repeats this in `processes` fresh interpreters, one after another (`--one-process` workers), and writes every
process's per-round seconds and orders to results/<profile>/bench/<table>.json. What differs between two
processes (memory layout, the core they run on, the machine's other load) differs between the repeats, so the
FPS claims' intervals, which take the process as the block (`analysis/table_bench.py`), cover it.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

from mrcfa import layout, provenance
from mrcfa.atomic import write_json
from mrcfa.config import RunConfig, TableBenchConfig
from mrcfa.errors import UserError, hint
from mrcfa.experiments.profiles import Profile
from mrcfa.experiments.registry import Registry


def row_configs(registry: Registry, profile: Profile, table: str) -> dict[str, RunConfig]:
    """Run -> config of every row of `table` that is run here (cited rows are not), in row order."""
    if table not in registry.tables:
        raise UserError(f"--table: unknown table {table!r}; {hint(table, list(registry.tables))}")
    runs = registry.tables[table].runs
    if not runs:
        raise UserError(f"--table {table}: every row is cited from the paper; nothing to time")
    return {run: registry.resolve(profile, run) for run in runs}


def one_process(cfgs: dict[str, RunConfig], settings: TableBenchConfig, threads: int | None) -> dict[str, Any]:
    """Time the rows in this process: per round, the order the rows ran in and each row's seconds."""
    import torch

    from mrcfa.engine.bench import built, device_name, prepared, rotating

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if threads:
        torch.set_num_threads(threads)
    workloads = {run: prepared(built(cfg.model, device), cfg.bench.protocols[0], cfg.bench.size, device)
                 for run, cfg in cfgs.items()}
    rounds = rotating(workloads, settings.rounds, settings.warmup, device)
    return {"order": [list(r) for r in rounds], "seconds": {run: [r[run] for r in rounds] for run in cfgs},
            "device": device_name(device), "threads": torch.get_num_threads(), "pid": os.getpid(),
            "versions": {"torch": torch.__version__, "python": sys.version.split()[0]}}


def _worker(registry: Registry, profile: Profile, table: str, threads: int | None) -> dict[str, Any]:
    """`one_process` in a fresh interpreter; its JSON comes back on stdout."""
    cmd = [sys.executable, "-m", "mrcfa", "bench-table", "--one-process", "--json", "--profile", profile.name,
           "--table", table, "--registry", str(registry.path)]
    if threads:
        cmd += ["--threads", str(threads)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark process failed ({' '.join(cmd)}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout)


def machine() -> dict[str, Any]:
    return {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(), "omp_num_threads": os.environ.get("OMP_NUM_THREADS")}


def bench_table(registry: Registry, profile: Profile, table: str, threads: int | None = None,
                results: str | Path = layout.RESULTS_ROOT) -> dict[str, Any]:
    """Time the table's rows in `processes` fresh processes, one after another, and file the result."""
    cfgs = row_configs(registry, profile, table)
    settings = profile.table_bench
    processes = [_worker(registry, profile, table, threads) for _ in range(settings.processes)]
    labels = {r.run: r.label for r in registry.tables[table].rows if r.run}
    result = {
        "profile": profile.name, "table": table,
        "rows": [{"label": labels[run], "run": run, "config_hash": cfg.hash(), "protocol": cfg.bench.protocols[0],
                  "size": list(cfg.bench.size)} for run, cfg in cfgs.items()],
        "processes": processes, "rounds": settings.rounds, "warmup": settings.warmup, "batch": 1,
        "device": processes[0]["device"], "threads": processes[0]["threads"], "machine": machine(),
        "versions": processes[0]["versions"], **provenance.stamp(),
    }
    write_json(Path(layout.path(layout.TABLE_BENCH, results=results, profile=profile.name, table=table)), result)
    return result
