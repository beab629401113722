"""How long a profile's jobs took, and with how many torch threads: each training job's `seconds` and `threads`
(train.json) and each evaluation's `seconds` (metrics.json), as the jobs recorded them in the results tree."""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from analysis.workspace import Workspace
from mrcfa import layout

STEP_FILES = {"train": layout.TRAIN_FILE, "evaluate": layout.METRICS_FILE}


def _recorded(path: Path) -> tuple[float, str] | None:
    """(seconds, threads) a job recorded; threads "?" where it recorded none (made by older code)."""
    try:
        data = json.loads(path.read_text())
        value = data.get("seconds")
    except (OSError, ValueError, AttributeError):
        return None
    if not isinstance(value, (int, float)) or value < 0:
        return None
    return float(value), str(data.get("threads", "?"))


@dataclass(frozen=True)
class JobTimes:
    """(step, run) -> the seconds each of its jobs took, over every seed on disk."""

    seconds: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    threads: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # the same jobs' torch threads

    def of(self, step: str, runs: list[str] | None = None) -> list[float]:
        return [s for (st, run), xs in self.seconds.items() if st == step and (runs is None or run in runs)
                for s in xs]

    def threads_of(self, step: str, runs: list[str]) -> set[str]:
        return {t for (st, run), ts in self.threads.items() if st == step and run in runs for t in ts}

    def estimate(self, step: str, run: str) -> tuple[float | None, bool]:
        """(seconds, measured): the run's median job, else the median of the step's jobs on the profile (an
        estimate for a run never made here); None when the profile recorded none."""
        own = self.seconds.get((step, run))
        if own:
            return statistics.median(own), True
        every = self.of(step)
        return (statistics.median(every) if every else None), False


def recorded_times(ws: Workspace) -> JobTimes:
    times = JobTimes()
    for run_dir in layout.run_dirs(ws.profile.name, ws.results_root):
        for _, seed_dir in layout.seed_dirs(run_dir):
            for step, name in STEP_FILES.items():
                if (job := _recorded(seed_dir / name)) is not None:
                    times.seconds.setdefault((step, run_dir.name), []).append(job[0])
                    times.threads.setdefault((step, run_dir.name), []).append(job[1])
    return times
