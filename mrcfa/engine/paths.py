"""Where a run's files live: declared outputs under results/, resumable state under work/.

Snakemake deletes a failed job's declared outputs, so training state must live outside them for a killed
or timed-out job to resume.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RunPaths:
    results: Path  # results/<profile>/runs/<run>/seed<S>
    work: Path  # work/<profile>/<run>/seed<S>

    @classmethod
    def of(cls, profile: str, run: str, seed: int, results_root: str | Path = "results",
           work_root: str | Path = "work") -> "RunPaths":
        return cls(results=Path(results_root) / profile / "runs" / run / f"seed{seed}",
                   work=Path(work_root) / profile / run / f"seed{seed}")

    @property
    def model(self) -> Path:
        return self.results / "model.pt"

    @property
    def train_json(self) -> Path:
        return self.results / "train.json"

    @property
    def history(self) -> Path:
        return self.results / "history.csv"

    @property
    def metrics(self) -> Path:
        return self.results / "metrics.json"

    @property
    def samples(self) -> Path:
        return self.results / "samples"

    @property
    def checkpoint(self) -> Path:
        return self.work / "last.pt"

    @property
    def bench(self) -> Path:
        """Benchmarks do not depend on the seed: one per run."""
        return self.results.parent / "bench.json"
