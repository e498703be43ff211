"""Paired comparisons a reviewer accepts: differences over shared seeds and test items, bootstrap intervals, Holm.

    eff = paired_difference(a, b)                     # a, b: (S,) per-seed metric, or (S, I) per-seed per-item
    eff.diff, eff.low, eff.high, eff.p, eff.resolved   # mean of a - b, 95 % interval, two-sided p, 0 outside interval
    lo, hi = mean_interval(a)                         # the same bootstrap for one method (figures' error bars)
    adjusted = holm([e.p for e in effects])           # family-wise correction over the comparisons of a claim set

One helper for every table, figure and claim, so an interval means the same everywhere.

The bootstrap is hierarchical. A replicate draws the seeds with replacement and, when per-item scores are given,
the test items with replacement; the SAME draw is applied to both methods (they share seeds: seed s is the same
data order and initial weights for every objective; and they share the test items), so the interval is the one of
the paired difference, not of two independent means. Items are drawn once per replicate and applied to every seed:
the test set is fixed, each seed scores the same items. A metric that is a ratio of sums over items (CrossTask
recall = hits / steps, pooled) passes its per-item denominators as `item_weights`: the metric of a replicate is
the weighted mean over the drawn items.

The interval is not the bootstrap's percentiles: with 3 to 5 seeds those are far too narrow (three seeds that
agree in sign give every replicate the same sign, a "p" of 1/n_boot). The bootstrap gives the standard error of
the mean over both sources of variation (seeds and items); the interval and the p-value then use Student's t with
S - 1 degrees of freedom, as a paired t-test over seeds would, on that standard error (scaled by sqrt(S / (S - 1))
to undo the bootstrap's 1/S variance). With many seeds this is the usual bootstrap interval; with few it is as wide
as the seeds allow; with one seed nothing is resolved (interval and p are NaN).
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np
from scipy import stats as _t

__all__ = ["Effect", "paired_difference", "mean_interval", "holm", "bootstrap_means"]


@dataclasses.dataclass(frozen=True)
class Effect:
    """A paired difference `a - b`: its mean, its interval at `level`, a two-sided p-value and the sample sizes."""

    diff: float
    low: float
    high: float
    p: float  # two-sided; NaN with one seed
    n_seeds: int
    n_items: int  # 0 when only per-seed values were given
    level: float = 0.95

    @property
    def resolved(self) -> bool:
        """True when the interval excludes 0 (the sign of the difference is established at `level`)."""
        return bool(self.low > 0 or self.high < 0)  # NaN bounds (one seed) compare False: unresolved

    def text(self, digits: int = 1) -> str:
        """`+3.2 [+1.0, +5.1]`, the form every table and claim prints."""
        f = f"{{:+.{digits}f}}"
        return f"{f.format(self.diff)} [{f.format(self.low)}, {f.format(self.high)}]"


def _as_scores(x, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2 or a.shape[0] == 0 or a.shape[1] == 0:
        raise ValueError(
            f"{name} must be (S,) per-seed values or (S, I) per-seed per-item scores, got shape {np.shape(x)}"
        )
    if not np.isfinite(a).all():
        raise ValueError(f"{name} has {int((~np.isfinite(a)).sum())} non-finite values; drop or impute them first")
    return a


def _weights(item_weights, n_items: int) -> np.ndarray:
    if item_weights is None:
        return np.ones(n_items)
    w = np.asarray(item_weights, dtype=np.float64)
    if w.shape != (n_items,) or (w < 0).any() or w.sum() <= 0:
        raise ValueError(f"item_weights must be ({n_items},) non-negative with a positive sum, got shape {w.shape}")
    return w


def bootstrap_means(scores, item_weights=None, n_boot: int = 4000, seed: int = 0) -> np.ndarray:
    """(n_boot,) replicate means of (S,) or (S, I) `scores`: seeds and items drawn with replacement.

    The draws depend only on (S, I, n_boot, seed), so two score arrays of one shape get the same draws: that is
    what makes `bootstrap_means(a) - bootstrap_means(b)` the paired bootstrap of `a - b`."""
    x = _as_scores(scores, "scores")
    s, i = x.shape
    w = _weights(item_weights, i)
    rng = np.random.default_rng([seed, s, i])
    seed_counts = rng.multinomial(s, np.full(s, 1.0 / s), size=n_boot)  # (B, S)
    if i == 1:
        item_counts = np.ones((n_boot, 1))
    else:
        item_counts = rng.multinomial(i, np.full(i, 1.0 / i), size=n_boot)  # (B, I)
    item_w = item_counts * w  # (B, I)
    # replicate mean = sum_s c_s sum_i c_i w_i x_si / (S * sum_i c_i w_i)
    num = np.einsum("bs,si,bi->b", seed_counts, x, item_w)
    return num / (s * item_w.sum(axis=1))


def _point(x: np.ndarray, w: np.ndarray) -> float:
    return float((x * w).sum() / (x.shape[0] * w.sum()))


def _t_interval(point: float, reps: np.ndarray, n_seeds: int, level: float) -> tuple[float, float, float]:
    """(low, high, p) from the replicates' standard error and Student's t with n_seeds - 1 degrees of freedom."""
    if n_seeds < 2:
        return float("nan"), float("nan"), float("nan")
    se = float(reps.std(ddof=1)) * np.sqrt(n_seeds / (n_seeds - 1))
    if se == 0.0:  # every seed and item gives the same difference: the data show no variation at all
        return point, point, (0.0 if point != 0 else 1.0)
    df = n_seeds - 1
    half = float(_t.t.ppf(0.5 + level / 2.0, df)) * se
    return float(point - half), float(point + half), float(min(1.0, 2.0 * _t.t.sf(abs(point) / se, df)))


def mean_interval(
    scores, item_weights=None, level: float = 0.95, n_boot: int = 4000, seed: int = 0
) -> tuple[float, float]:
    """Interval at `level` of the mean of (S,) or (S, I) scores (the error bar of one method), as in the tables."""
    x = _as_scores(scores, "scores")
    w = _weights(item_weights, x.shape[1])
    low, high, _ = _t_interval(_point(x, w), bootstrap_means(x, w, n_boot, seed), x.shape[0], level)
    return low, high


def paired_difference(a, b, item_weights=None, level: float = 0.95, n_boot: int = 4000, seed: int = 0) -> Effect:
    """Mean of `a - b` over shared seeds (and items) with a paired hierarchical-bootstrap interval and p-value.

    Parameters
    ----------
    a, b : (S,) per-seed metric values, or (S, I) per-seed per-item scores, of two methods on the SAME seeds (row s
        of both is seed s) and the SAME test items (column i of both is item i).
    item_weights : (I,) denominators of a ratio-of-sums metric (e.g. ground-truth steps per video), or None.
    """
    xa, xb = _as_scores(a, "a"), _as_scores(b, "b")
    if xa.shape != xb.shape:
        raise ValueError(f"a and b must be paired (same seeds and items), got shapes {xa.shape} and {xb.shape}")
    if not 0.5 < level < 1.0:
        raise ValueError(f"level must be in (0.5, 1), got {level}")
    w = _weights(item_weights, xa.shape[1])
    d = xa - xb
    point = _point(d, w)
    low, high, p = _t_interval(point, bootstrap_means(d, w, n_boot, seed), xa.shape[0], level)
    return Effect(
        diff=point,
        low=low,
        high=high,
        p=p,
        n_seeds=xa.shape[0],
        n_items=xa.shape[1] if np.ndim(a) == 2 else 0,
        level=level,
    )


def holm(pvalues: Sequence[float]) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values, in the input's order (step-down, monotone, capped at 1)."""
    p = np.asarray(pvalues, dtype=np.float64)
    if p.ndim != 1 or ((p < 0) | (p > 1) | ~np.isfinite(p)).any():
        raise ValueError(f"pvalues must be a 1-D sequence of probabilities, got {pvalues!r}")
    m = p.size
    order = np.argsort(p, kind="stable")
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    adjusted = np.empty(m)
    adjusted[order] = np.maximum.accumulate(scaled)
    return adjusted
