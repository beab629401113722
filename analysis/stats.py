"""95 % intervals of an effect: paired over blocks (seeds, or benchmark processes) and Welch's over two groups;
and where a rerun's estimate should fall.

Student-t quantiles come from `scipy.stats.t`; any real df > 0 works, so Welch's non-integer degrees of
freedom need no rounding.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats

LEVEL = 0.95


def t_quantile(p: float, df: float) -> float:
    """The p-quantile of Student's t (e.g. t_quantile(0.975, 1) = 12.706)."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be in (0, 1), got {p}")
    if not df > 0:
        raise ValueError(f"degrees of freedom must be > 0, got {df}")
    return float(stats.t.ppf(p, df))


@dataclass(frozen=True)
class Interval:
    """An effect's estimate and its two-sided 95 % interval (NaN bounds when there is none)."""

    estimate: float
    low: float
    high: float
    n: int  # paired: seeds (or benchmark processes); Welch: seeds of both sides together; single measurement: 1
    df: float
    method: str  # "paired t", "Welch t", "t over processes", "rerun", "one seed", "single measurement"

    @property
    def has_interval(self) -> bool:
        return not (math.isnan(self.low) or math.isnan(self.high))


def _mean_var(x: Sequence[float]) -> tuple[float, float]:
    n = len(x)
    mean = sum(x) / n
    return mean, (sum((v - mean) ** 2 for v in x) / (n - 1) if n > 1 else math.nan)


def paired_interval(diffs: Sequence[float], level: float = LEVEL) -> Interval:
    """Mean of per-seed differences ± t_{(1+level)/2, n-1} · sd / √n; no interval below two seeds."""
    n = len(diffs)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0, math.nan, "none")
    mean, var = _mean_var(diffs)
    if n < 2:
        return Interval(mean, math.nan, math.nan, n, math.nan, "one seed")
    half = t_quantile((1 + level) / 2, n - 1) * math.sqrt(var / n)
    return Interval(mean, mean - half, mean + half, n, n - 1, "paired t")


def rerun_interval(diffs: Sequence[float], level: float = LEVEL) -> Interval:
    """Where the mean of a rerun over as many new blocks should fall: mean ± t_{(1+level)/2, n-1} · sd · √(2/n).

    A confidence interval is for the effect itself; another run's estimate carries its own error on top, so
    the difference of two runs' means spreads √2 times as much as one mean (the prediction interval for a
    future mean of n observations). When the blocks are all that differs between runs, a 95 % confidence
    interval contains another run's estimate only about 85 % of the time at five or six blocks; this one 95 %.
    Whatever is shared by all blocks of one run (and differs between runs) it cannot see."""
    n = len(diffs)
    if n < 2:
        return Interval(math.nan if n == 0 else diffs[0], math.nan, math.nan, n, math.nan, "none")
    mean, var = _mean_var(diffs)
    half = t_quantile((1 + level) / 2, n - 1) * math.sqrt(2 * var / n)
    return Interval(mean, mean - half, mean + half, n, n - 1, "rerun")


def welch_interval(a: Sequence[float], b: Sequence[float], level: float = LEVEL) -> Interval:
    """mean(a) − mean(b) ± t · √(s_a²/n_a + s_b²/n_b), Welch–Satterthwaite degrees of freedom."""
    na, nb = len(a), len(b)
    if na == 0 or nb == 0:
        return Interval(math.nan, math.nan, math.nan, na + nb, math.nan, "none")
    (ma, va), (mb, vb) = _mean_var(a), _mean_var(b)
    if na < 2 or nb < 2:
        return Interval(ma - mb, math.nan, math.nan, na + nb, math.nan, "one seed")
    se2 = va / na + vb / nb
    if se2 == 0:
        return Interval(ma - mb, ma - mb, ma - mb, na + nb, na + nb - 2, "Welch t")
    df = se2**2 / ((va / na) ** 2 / (na - 1) + (vb / nb) ** 2 / (nb - 1))
    half = t_quantile((1 + level) / 2, df) * math.sqrt(se2)
    return Interval(ma - mb, ma - mb - half, ma - mb + half, na + nb, df, "Welch t")
