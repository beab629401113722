"""How each metric column of the paper's tables is shown: header, direction, decimals (the keys themselves are
`mrcfa.metric_keys`')."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from mrcfa.metric_keys import BENCH_METRICS, EVAL_METRICS

Source = Literal["eval", "bench"]


@dataclass(frozen=True)
class MetricDef:
    key: str
    latex: str  # column header without the arrow
    text: str  # column header for Markdown/HTML/plots, without the arrow
    higher_is_better: bool
    decimals: int
    unit: str = ""

    @property
    def source(self) -> Source:
        """eval: per seed (metrics.json); bench: once per run (bench.json)."""
        return "bench" if self.key in BENCH_METRICS else "eval"


METRICS: dict[str, MetricDef] = {
    m.key: m
    for m in (
        MetricDef("mIoU", "mIoU", "mIoU", True, 1, "%"),
        MetricDef("WIoU", "WIoU", "WIoU", True, 1, "%"),
        MetricDef("mVC8", r"mVC$_8$", "mVC8", True, 1, "%"),
        MetricDef("mVC16", r"mVC$_{16}$", "mVC16", True, 1, "%"),
        MetricDef("fps", "FPS", "FPS", True, 1),
        MetricDef("memory_mb", "Memory (MB)", "Memory (MB)", False, 0, "MB"),
        MetricDef("params_m", "Params (M)", "Params (M)", False, 1, "M"),
    )
}
__all__ = ["BENCH_METRICS", "EVAL_METRICS", "METRICS", "MetricDef", "decimals_for", "format_number", "metric"]


def metric(key: str) -> MetricDef:
    try:
        return METRICS[key]
    except KeyError:
        raise KeyError(f"unknown metric {key!r}; known: {', '.join(METRICS)}") from None


def decimals_for(key: str, value: float) -> int:
    """Fixed decimals per metric, but two significant digits below 1 so that the small
    demo-scale models (e.g. 0.04 M parameters) do not all print as 0.0."""
    base = metric(key).decimals
    mag = abs(value)
    if 0 < mag < 1:
        digits = 1
        while mag * 10**digits < 10 and digits < 6:
            digits += 1
        return max(base, digits)
    return base


def format_number(key: str, value: float, decimals: int | None = None) -> str:
    d = decimals_for(key, value) if decimals is None else decimals
    return f"{value:.{d}f}"
