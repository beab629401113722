"""The figures the README quotes, read back from a results folder: each table's metrics as mean ± std over seeds
in row order, and where and how they were made (benchmark device and threads, training time, this machine).

    python -m analysis summary --profile demo --only table2
"""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
from pathlib import Path

from analysis.flavours import TIMED
from analysis.job_times import recorded_times
from analysis.metrics import format_number, metric
from analysis.workspace import Workspace
from mrcfa import layout
from mrcfa.metric_keys import FPS


def _json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _values(table, m: str) -> str:
    shown = []
    for r in table.rows:
        if r.cited:
            continue
        s = r.ours.get(m)
        # Benchmarks to three significant figures: a demo model's memory is a few MB, where whole MB hide STM.
        bench_decimals = (max(0, 2 - math.floor(math.log10(abs(s.mean)))) if s is not None and s.mean
                          and metric(m).source == "bench" else None)
        text = "--" if s is None else format_number(m, s.mean, bench_decimals)
        if s is not None and s.has_std:
            text += f" ± {format_number(m, s.std, len(format_number(m, s.mean).partition('.')[2]))}"
        shown.append(text)
    return ", ".join(shown)


def machine_lines(ws: Workspace, runs: list[str]) -> list[str]:
    devices, threads = set(), set()
    for run in runs:
        bench = _json(ws.run_dir(run) / layout.BENCH_FILE)
        if "device" in bench:
            devices.add(str(bench["device"]))
        if "threads" in bench:
            threads.add(str(bench["threads"]))
    times = recorded_times(ws)
    seconds, recorded = times.of("train", runs), times.threads_of("train", runs)
    out = []
    if devices or threads:
        out.append(f"each run's benchmark: device {', '.join(sorted(devices)) or '?'}, "
                   f"{', '.join(sorted(threads)) or '?'} thread(s)")
    if seconds:
        threads = (f"{', '.join(sorted(recorded))} torch thread(s) each (train.json)" if recorded - {"?"}
                   else f"{ws.profile.step('train').threads} thread(s) each (profile)")
        out.append(f"training: {len(seconds)} job(s), {sum(seconds) / 60:.1f} min in all, median "
                   f"{statistics.median(seconds) / 60:.1f} min per job, {threads}")
    cpus = os.cpu_count() or 0
    out.append(f"this machine: {platform.platform()}, {platform.processor() or platform.machine()}, {cpus} CPU(s); "
               f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}")
    return out


def summary_text(ws: Workspace, tables: list[str]) -> str:
    lines = []
    for key in tables:
        table = ws.table(key)
        read = set().union(*(ws.results.eval_seeds(r) for r in ws.registry.tables[key].runs))
        seeds = ", ".join(map(str, sorted(read))) or "none"
        labels = ", ".join(r.label for r in table.rows if not r.cited)
        lines.append(f"{key} on profile {ws.profile.name} (seeds {seeds}), rows {labels}:")
        for m in table.metrics:
            what = ("mean ± std over seeds" if metric(m).source == "eval"
                    else f"{TIMED}, 3 figures" if m == FPS and table.timed
                    else "one benchmark per run, 3 figures")
            lines.append(f"  {metric(m).text} ({what}): {_values(table, m)}")
        if timed := table.timed:
            lines.append(f"  {TIMED} (FPS column and claims): device {timed.device or '?'}, "
                         f"{timed.threads or '?'} thread(s), {timed.design}")
        lines += [f"  {line}" for line in machine_lines(ws, ws.registry.tables[key].runs)]
    return "\n".join(lines)
