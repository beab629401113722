"""How long a profile's jobs took: each training job's `seconds` (train.json) and each evaluation's
(metrics.json), as the jobs recorded them in the results tree."""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from analysis.workspace import Workspace
from mrcfa import layout

STEP_FILES = {"train": layout.TRAIN_FILE, "evaluate": layout.METRICS_FILE}


def _seconds(path: Path) -> float | None:
    try:
        value = json.loads(path.read_text()).get("seconds")
    except (OSError, ValueError, AttributeError):
        return None
    return float(value) if isinstance(value, (int, float)) and value >= 0 else None


@dataclass(frozen=True)
class JobTimes:
    """(step, run) -> the seconds each of its jobs took, over every seed on disk."""

    seconds: dict[tuple[str, str], list[float]] = field(default_factory=dict)

    def of(self, step: str, runs: list[str] | None = None) -> list[float]:
        return [s for (st, run), xs in self.seconds.items() if st == step and (runs is None or run in runs)
                for s in xs]

    def estimate(self, step: str, run: str) -> tuple[float | None, bool]:
        """(seconds, measured): the run's median job, else the median of the step's jobs on the profile (an
        estimate for a run never made here); None when the profile recorded none."""
        own = self.seconds.get((step, run))
        if own:
            return statistics.median(own), True
        every = self.of(step)
        return (statistics.median(every) if every else None), False


def recorded_times(ws: Workspace) -> JobTimes:
    out: dict[tuple[str, str], list[float]] = {}
    for run_dir in layout.run_dirs(ws.profile.name, ws.results_root):
        for _, seed_dir in layout.seed_dirs(run_dir):
            for step, name in STEP_FILES.items():
                if (sec := _seconds(seed_dir / name)) is not None:
                    out.setdefault((step, run_dir.name), []).append(sec)
    return JobTimes(out)
