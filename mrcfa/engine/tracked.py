"""What MLflow is told about a run: which table rows it feeds, its params and tags."""

from __future__ import annotations

from typing import Any

from mrcfa.config import RunConfig
from mrcfa.overrides import format_overrides


def row_tags(registry: Any, run: str) -> dict[str, str]:
    tables, rows = [], []
    for name, table in registry.tables.items():
        for row in table["rows"]:
            if row.get("run") == run:
                tables.append(name)
                rows.append(f"{name}:{row['label']}")
    return {"tables": ",".join(dict.fromkeys(tables)), "rows": "; ".join(rows)}


def open_tracker(cfg: RunConfig, seed: int, run_id: str | None = None, tags: dict[str, str] | None = None,
                 weights_label: str | None = None) -> Any:
    """The MLflow run of (run, seed); continues an existing one. `weights_label` names weights that are not
    the run's training result (`evaluate --weights`): they get an MLflow run of their own, `run@label`."""
    from mrcfa.tracking import Tracker

    tags = {"config_hash": cfg.hash(), "seed": str(seed), **(tags or {})}
    if cfg.overrides:
        tags["overrides"] = format_overrides(cfg.overrides)
    params = {k: v for k, v in cfg.to_dict().items() if k != "overrides"}  # the tag says what they changed
    run = cfg.run if weights_label is None else f"{cfg.run}@{weights_label}"
    return Tracker(dataset=cfg.data.dataset, profile=cfg.profile, run=run, seed=seed, params=params, tags=tags,
                   run_id=run_id)
