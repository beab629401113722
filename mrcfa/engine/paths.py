"""Where one (run, seed) job's files live: declared outputs under results/, resumable state under work/
(the patterns are `mrcfa.layout`'s).

Snakemake deletes a failed job's declared outputs, so training state must live outside them for a killed
or timed-out job to resume.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mrcfa import layout


@dataclass(frozen=True)
class RunPaths:
    results: Path  # the seed folder (or, for another checkpoint's evaluation, a folder of its own)
    work: Path  # the seed's resumable state

    @classmethod
    def of(cls, profile: str, run: str, seed: int, results_root: str | Path = layout.RESULTS_ROOT,
           work_root: str | Path = layout.WORK_ROOT) -> "RunPaths":
        fields = {"results": results_root, "work": work_root, "profile": profile, "run": run, "seed": seed}
        return cls(results=Path(layout.path(layout.SEED, **fields)), work=Path(layout.path(layout.WORK_SEED, **fields)))

    @property
    def model(self) -> Path:
        return self.results / layout.MODEL_FILE

    @property
    def train_json(self) -> Path:
        return self.results / layout.TRAIN_FILE

    @property
    def history(self) -> Path:
        return self.results / layout.HISTORY_FILE

    @property
    def metrics(self) -> Path:
        return self.results / layout.METRICS_FILE

    @property
    def samples(self) -> Path:
        return self.results / layout.SAMPLES_DIR

    @property
    def checkpoint(self) -> Path:
        return self.work / layout.TRAIN_STATE_FILE

    @property
    def bench(self) -> Path:
        """Benchmarks do not depend on the seed: one per run."""
        return self.results.parent / layout.BENCH_FILE
