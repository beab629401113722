"""Evaluating a registry run as a job: which weights, what is checked before any compute, where the metrics go.

The run's own model.pt is scored into its seed folder; any other file (a released checkpoint, another run's
model) into a folder of its own, so that it never passes for the run's training result.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mrcfa.config import RunConfig
from mrcfa.engine.evaluate import checkpoint_dir, evaluate, write_metrics
from mrcfa.engine.paths import RunPaths
from mrcfa.engine.preflight import PreflightError, data_problems
from mrcfa.engine.tracked import row_tags
from mrcfa.errors import UserError


def _missing(weights: Path, cfg: RunConfig, asked_run: str, seed: int, external: bool, sets: Sequence[str],
             results: str | Path, work: str | Path) -> UserError:
    """A missing checkpoint, with how to make it (or, for a `--set` variant, where the run's own model is)."""
    if external:
        hint = "check the path"
    else:
        flags = "".join(f" --set {shlex.quote(item)}" for item in sets)
        hint = (f"train it first (`mrcfa train --profile {cfg.profile} --run {asked_run} --seed {seed}{flags}`) "
                "or give --weights FILE")
    if cfg.run != asked_run:
        hint += (f"; --set made this config a run of its own, {cfg.run}: evaluate {asked_run}'s model under it "
                 f"with --weights {RunPaths.of(cfg.profile, asked_run, seed, results, work).model}")
    return UserError(f"{weights}: no such checkpoint; {hint}")


def evaluate_run(registry: Any, cfg: RunConfig, asked_run: str, seed: int, *, weights: str | None = None,
                 out: str | None = None, split: str = "val", save_preds: str | None = None,
                 sets: Sequence[str] = (), results: str | Path = "results", work: str | Path = "work",
                 track: bool = True, progress: bool = True) -> tuple[dict[str, Any], RunPaths]:
    """Evaluate `cfg` (registry run `asked_run`, changed by the `--set` items `sets`) at `seed` with its own
    model or `weights`; writes metrics.json (and MLflow). Returns the result and the paths written to."""
    paths = RunPaths.of(cfg.profile, cfg.run, seed, results, work)
    external = weights is not None and Path(weights).resolve() != paths.model.resolve()
    model = Path(weights) if weights else paths.model
    if not model.is_file():
        raise _missing(model, cfg, asked_run, seed, external, sets, results, work)
    problems = data_problems(cfg, (split,))  # seconds, before any compute
    if problems:
        raise PreflightError(problems)
    if out or external:
        paths = RunPaths(results=Path(out) if out else checkpoint_dir(cfg, model, results), work=paths.work)
    start = time.perf_counter()
    result = evaluate(cfg, model, paths, split=split, pred_dir=Path(save_preds) if save_preds else None,
                      progress=progress)
    result["seconds"] = round(time.perf_counter() - start, 2)  # the job's time, for `analysis claims --plan`
    write_metrics(result, seed, paths, cfg, track=track, tags=row_tags(registry, cfg.run), external=external)
    return result, paths
