"""What MLflow is told about a run: which table rows it feeds, its description, its params and tags."""

from __future__ import annotations

from typing import Any

from mrcfa.config import RunConfig
from mrcfa.overrides import format_overrides


def row_tags(registry: Any, run: str) -> dict[str, str]:
    """`tables` (comma-separated, for a search filter such as `tags.mrcfa.tables LIKE '%table2%'`), `rows`,
    and one tag per table holding the run's row label(s) there (`mrcfa.table2` = `p=50%`): the UI groups
    runs by a single tag's value, and a table's rows are then its groups."""
    by_table = registry.rows_of(run)
    return {"tables": ",".join(by_table), "rows": "; ".join(f"{t}:{label}" for t, labels in by_table.items()
                                                             for label in labels),
            **{t: "; ".join(labels) for t, labels in by_table.items()}}


def describe(cfg: RunConfig, seed: int, rows: str, weights_label: str | None) -> str:
    """The run's description in the MLflow UI (Markdown): what it is, where it appears, what made it."""
    what = (f"Checkpoint `{weights_label}` evaluated with the model of `{cfg.run}`, seed {seed}"
            if weights_label else f"`{cfg.run}`, seed {seed}")
    lines = [f"{what}; profile `{cfg.profile}`, dataset {cfg.data.dataset}, config hash `{cfg.hash()}`.",
             f"Table rows: {rows}." if rows else "Table rows: none (a run of its own, outside the tables)."]
    if cfg.overrides:
        lines.append(f"Overrides: `{format_overrides(cfg.overrides)}`.")
    return "\n\n".join(lines)


def open_tracker(cfg: RunConfig, seed: int, run_id: str | None = None, tags: dict[str, str] | None = None,
                 weights_label: str | None = None) -> Any:
    """The MLflow run of (run, seed); continues an existing one. `weights_label` names weights that are not
    the run's training result (`evaluate --weights`): they get an MLflow run of their own, `run@label`."""
    from mrcfa.tracking import Tracker

    tags = {"seed": str(seed), **(tags or {})}
    tags["mlflow.note.content"] = describe(cfg, seed, tags.get("rows", ""), weights_label)
    if cfg.overrides:
        tags["overrides"] = format_overrides(cfg.overrides)
    params = {k: v for k, v in cfg.to_dict().items() if k != "overrides"}  # the tag says what they changed
    run = cfg.run if weights_label is None else f"{cfg.run}@{weights_label}"
    return Tracker(dataset=cfg.data.dataset, profile=cfg.profile, run=run, seed=seed, config_hash=cfg.hash(),
                   params=params, tags=tags, run_id=run_id)
