"""What each metric column of the paper's tables is: its source, direction and display."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Source = Literal["eval", "bench"]


@dataclass(frozen=True)
class MetricDef:
    key: str
    latex: str  # column header without the arrow
    text: str  # column header for Markdown/HTML/plots, without the arrow
    higher_is_better: bool
    decimals: int
    source: Source  # eval: per seed (metrics.json); bench: once per run (bench.json)
    unit: str = ""


METRICS: dict[str, MetricDef] = {
    m.key: m
    for m in (
        MetricDef("mIoU", "mIoU", "mIoU", True, 1, "eval", "%"),
        MetricDef("WIoU", "WIoU", "WIoU", True, 1, "eval", "%"),
        MetricDef("mVC8", r"mVC$_8$", "mVC8", True, 1, "eval", "%"),
        MetricDef("mVC16", r"mVC$_{16}$", "mVC16", True, 1, "eval", "%"),
        MetricDef("fps", "FPS", "FPS", True, 1, "bench"),
        MetricDef("memory_mb", "Memory (MB)", "Memory (MB)", False, 0, "bench", "MB"),
        MetricDef("params_m", "Params (M)", "Params (M)", False, 1, "bench", "M"),
    )
}

EVAL_METRICS: tuple[str, ...] = tuple(k for k, m in METRICS.items() if m.source == "eval")
BENCH_METRICS: tuple[str, ...] = tuple(k for k, m in METRICS.items() if m.source == "bench")


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
