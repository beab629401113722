"""Student-t quantiles and 95 % intervals of an effect over seeds, in plain Python (scipy is not a dependency).

`t_quantile` inverts Student's t distribution function, written with the regularised incomplete beta
function (continued fraction, as in Numerical Recipes §6.4), by bisection; any real df > 0 works, so
Welch's non-integer degrees of freedom need no rounding.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

LEVEL = 0.95


def _beta_cf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny, eps = 1e-300, 1e-15
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 10_000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < eps:
            break
    return h


def betainc(a: float, b: float, x: float) -> float:
    """Regularised incomplete beta function I_x(a, b)."""
    if not 0.0 <= x <= 1.0:
        raise ValueError(f"x must be in [0, 1], got {x}")
    if x in (0.0, 1.0):
        return x
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_cf(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_cf(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with `df` degrees of freedom."""
    if df <= 0:
        raise ValueError(f"degrees of freedom must be > 0, got {df}")
    tail = 0.5 * betainc(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t >= 0 else tail


def normal_quantile(p: float) -> float:
    return _invert(lambda z: 0.5 * math.erfc(-z / math.sqrt(2.0)), p)


def t_quantile(p: float, df: float) -> float:
    """The p-quantile of Student's t (e.g. t_quantile(0.975, 1) = 12.706); the normal's for df = inf."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be in (0, 1), got {p}")
    if math.isinf(df):
        return normal_quantile(p)
    return _invert(lambda t: t_cdf(t, df), p)


def _invert(cdf, p: float) -> float:
    if p < 0.5:
        return -_invert(cdf, 1.0 - p)
    lo, hi = 0.0, 1.0
    while cdf(hi) < p:
        lo, hi = hi, hi * 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if cdf(mid) < p:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-12 * max(1.0, hi):
            break
    return 0.5 * (lo + hi)


@dataclass(frozen=True)
class Interval:
    """An effect's estimate and its two-sided 95 % interval (NaN bounds when there is none)."""

    estimate: float
    low: float
    high: float
    n: int  # paired: seeds; Welch: seeds of both sides together; single measurement: 1
    df: float
    method: str  # "paired t", "Welch t", "one seed", "single measurement"

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
