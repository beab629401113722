"""A table's rows timed together (`mrcfa bench-table`: results/<profile>/bench/<table>.json), and the relative FPS
change between two sides of rows that the FPS claims are decided on.

Method, a t-interval with the process as the block:

1. in every round of every process, the log-ratio d = mean log t over the `than` rows − mean log t over the
   `rows` rows (one timed call each, in the same round of the same process; a side of several rows is the mean
   of its rows' log times);
2. per process, the mean of d over its rounds;
3. over the processes' means, mean ± t_{0.975, P − 1} · sd / √P (P processes), exponentiated to a relative FPS
   change, FPS_rows / FPS_than − 1 = exp(d) − 1, in percent.

Beside it, where a rerun of the job should put its estimate: the same mean ± t_{0.975, P − 1} · sd · √(2/P)
(`analysis.stats.rerun_interval`): a rerun draws P new processes, so its estimate carries its own error too.

Why: the rounds of one process share what that process drew (memory layout, the core it ran on, the machine's
load during its spell), so they are not independent repeats of the comparison; processes are. Rounds only
sharpen each process's mean, and the interval spreads as much as the processes' means disagree, which is what
moves the figure from one benchmark job to the next. Pairing within a round removes what slows every row alike.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analysis.stats import Interval, paired_interval, rerun_interval
from mrcfa import layout, provenance

METHOD = "t over processes"


@dataclass(frozen=True)
class TableBench:
    """One bench/<table>.json: per process, each row's seconds per timed round (rows by run name)."""

    table: str
    processes: tuple[dict[str, tuple[float, ...]], ...]
    rounds: int
    config_hashes: dict[str, str | None] = field(default_factory=dict)  # run -> the config hash it was timed with
    code: str | None = None  # the fingerprint of the code that timed it (`mrcfa.provenance`)
    device: str | None = None
    threads: int | None = None

    @property
    def design(self) -> str:
        """How it was timed, e.g. "6 processes x 40 rounds" (the claims' seeds column, notes and summary)."""
        return f"{len(self.processes)} processes x {self.rounds} rounds"

    @property
    def runs(self) -> set[str]:
        return set.intersection(*(set(p) for p in self.processes)) if self.processes else set()


def _parse(data: Any) -> TableBench:
    """A TableBench from the file's JSON; ValueError (or KeyError/TypeError) on anything malformed."""
    processes = []
    for proc in data["processes"]:
        seconds = {str(run): tuple(float(x) for x in xs) for run, xs in proc["seconds"].items()}
        if len({len(xs) for xs in seconds.values()}) != 1 or not all(x > 0 for xs in seconds.values() for x in xs):
            raise ValueError("each row needs the same number of positive timings")
        processes.append(seconds)
    rounds = {len(next(iter(p.values()))) for p in processes}
    if len(rounds) != 1 or 0 in rounds:
        raise ValueError("processes need the same number of rounds, at least one")
    hashes = {str(r["run"]): r.get("config_hash") for r in data.get("rows", [])}
    threads = data.get("threads")
    return TableBench(str(data["table"]), tuple(processes), rounds.pop(), hashes, data.get(provenance.KEY),
                      None if data.get("device") is None else str(data["device"]),
                      None if threads is None else int(threads))


def load_table_benches(results_root: str | Path, profile: str) -> dict[str, TableBench]:
    """table -> its rows timed together, for every readable bench/<table>.json of the profile."""
    folder = Path(layout.path(layout.TABLE_BENCH, results=results_root, profile=profile, table="x")).parent
    out = {}
    for path in sorted(folder.glob("*.json")):
        try:
            bench = _parse(json.loads(path.read_text()))
        except (OSError, ValueError, KeyError, TypeError, StopIteration) as exc:
            warnings.warn(f"skipping unreadable {path}: {exc!r}", stacklevel=2)
            continue
        out[bench.table] = bench
    return out


def _side(proc: dict[str, tuple[float, ...]], runs: Sequence[str], i: int) -> float:
    return sum(math.log(proc[r][i]) for r in runs) / len(runs)


def process_means(bench: TableBench, rows: Sequence[str], than: Sequence[str]) -> list[float]:
    """Per process, the mean over its rounds of log t(than) − log t(rows): log(FPS_rows / FPS_than)."""
    return [sum(_side(p, than, i) - _side(p, rows, i) for i in range(bench.rounds)) / bench.rounds
            for p in bench.processes]


def row_fps(bench: TableBench) -> dict[str, float]:
    """Each row's FPS as the rows timed together give it: the geometric mean over processes and rounds of 1 / t.
    Two rows' ratio of these is exp of the claims' mean log-ratio, so a table's FPS column and its FPS claims
    tell the same change."""
    calls = bench.rounds * len(bench.processes)
    return {run: math.exp(-sum(math.log(t) for p in bench.processes for t in p[run]) / calls)
            for run in sorted(bench.runs)}


def _percent(iv: Interval, method: str) -> Interval:
    pct = [(math.exp(x) - 1.0) * 100.0 for x in (iv.estimate, iv.low, iv.high)]
    return Interval(*pct, iv.n, iv.df, method)


def fps_change(bench: TableBench, rows: Sequence[str], than: Sequence[str]) -> Interval:
    """FPS_rows / FPS_than − 1 in percent, with its 95 % t-interval over the processes (module docstring)."""
    return _percent(paired_interval(process_means(bench, rows, than)), METHOD)


def fps_rerun(bench: TableBench, rows: Sequence[str], than: Sequence[str]) -> Interval:
    """Where a rerun of the job (as many new processes) should put `fps_change`'s estimate, 95 %."""
    return _percent(rerun_interval(process_means(bench, rows, than)), "rerun")
