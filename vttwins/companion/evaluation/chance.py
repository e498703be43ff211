"""Chance levels, computed from the evaluation data (never assumed).

    chance = retrieval_chance(num_candidates=1000)          # {"R@1": 0.1, ..., "MedR": ..., "MeanR": 500.5}
    crosstask_chance(videos)                                # recall of a uniformly random second per step

Definitions (the same units as `metrics`: percent for recalls and accuracies, 1-based ranks):
- retrieval: a uniformly random ranking of the candidates. With C candidates and p positives the best positive's
  rank R has P(R > r) = binom(C - r, p) / binom(C, p); R@k = 100 P(R <= k); MeanR = E[R] = (C + 1) / (p + 1);
  MedR = the expected *sample* median of the Q query ranks (order statistics of the binomial count), which for
  large Q approaches the median of R.
- CrossTask standard: one uniformly random second per step; a step's hit probability is its annotated seconds / T.
- CrossTask ordered: the ordered decoder (on per-step standardised scores, as evaluated) run on i.i.d.
  standard-normal scores (Monte Carlo, seeded).
- classification (CTR, linear probe, zero-shot): the better of two label-only predictors, a uniform guess
  (1 / number of candidate classes) and always answering the most frequent training class (ties: lowest index).
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from vttwins.data.features import shared_reads_enabled

from . import metrics

__all__ = [
    "rank_pmf",
    "retrieval_chance",
    "expected_sample_median",
    "crosstask_chance",
    "ordered_crosstask_chance",
    "classification_chance",
]


def rank_pmf(num_candidates: int, num_positives: int = 1) -> np.ndarray:
    """pmf of the best positive's 1-based rank under a random permutation: entry r-1 = P(R = r)."""
    c, p = int(num_candidates), int(num_positives)
    if not 1 <= p <= c:
        raise ValueError(f"need 1 <= num_positives <= num_candidates, got {p} and {c}")
    from scipy.special import gammaln  # deferred: scipy (~1 s to import; a grid worker may never need it)

    r = np.arange(0, c + 1)  # P(R > r) for r = 0..C
    log_binom = lambda n, k: gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)  # noqa: E731
    surv = np.where(c - r >= p, np.exp(log_binom(np.maximum(c - r, p), p) - log_binom(c, p)), 0.0)
    return surv[:-1] - surv[1:]


def expected_sample_median(pmf: np.ndarray, num_queries: int) -> float:
    """E[median of Q i.i.d. draws] for a pmf on ranks 1..len(pmf) (numpy's median: mean of the middle two)."""
    q = int(num_queries)
    if q < 1:
        raise ValueError(f"num_queries must be >= 1, got {q}")
    from scipy import stats  # deferred: scipy (~1 s to import; a grid worker may never need it)

    cdf = np.clip(np.cumsum(pmf), 0.0, 1.0)  # F(r) for r = 1..C

    def order_stat_mean(j: int) -> float:  # E[X_(j)] = sum_{r>=1} P(X_(j) >= r) = sum_r P(#{X <= r-1} < j)
        f_prev = np.concatenate([[0.0], cdf[:-1]])
        return float(stats.binom.cdf(j - 1, q, f_prev).sum())

    if q % 2:
        return order_stat_mean((q + 1) // 2)
    return 0.5 * (order_stat_mean(q // 2) + order_stat_mean(q // 2 + 1))


def retrieval_chance(
    num_candidates: int,
    num_positives: Sequence[int] | int = 1,
    num_queries: int | None = None,
    ks: Sequence[int] = (1, 5, 10),
) -> dict[str, float]:
    """Expected R@k (percent), MedR and MeanR of a random ranking. num_positives: per query or one number."""
    pos = np.atleast_1d(np.asarray(num_positives, dtype=np.int64))
    q = int(num_queries if num_queries is not None else pos.size)
    values, counts = np.unique(pos, return_counts=True)
    pmf = sum(n * rank_pmf(num_candidates, int(p)) for p, n in zip(values, counts)) / counts.sum()
    cdf = np.cumsum(pmf)
    out = {f"R@{k}": 100.0 * float(cdf[min(k, num_candidates) - 1]) for k in ks}
    out["MedR"] = expected_sample_median(pmf, q)
    out["MeanR"] = float((np.arange(1, num_candidates + 1) * pmf).sum())
    return out


def crosstask_chance(videos: Iterable[tuple[str, np.ndarray]]) -> dict[str, float]:
    """(task, (T, K) bool ground truth) per video -> expected pooled recall per task (percent) for a uniformly
    random second per step."""
    hits: dict[str, float] = {}
    total: dict[str, int] = {}
    for task, gt in videos:
        y = np.asarray(gt, dtype=bool)
        annotated = y.any(axis=0)
        hits[task] = hits.get(task, 0.0) + float((y.sum(axis=0)[annotated] / y.shape[0]).sum())
        total[task] = total.get(task, 0) + int(annotated.sum())
    return {t: 100.0 * hits[t] / total[t] for t in sorted(total) if total[t] > 0}


def ordered_crosstask_chance(
    videos: Iterable[tuple[str, np.ndarray]], draws: int = 100, seed: int = 0
) -> dict[str, float]:
    """Expected pooled recall per task (percent) of the ordered decoder on i.i.d. N(0, 1) scores (Monte Carlo).

    A function of the ground truth alone: computed once per process for the same videos, draws and seed (every
    model of a grid is scored on the same test set)."""
    videos = [(task, np.asarray(gt, dtype=bool)) for task, gt in videos]
    key = (int(draws), int(seed), tuple((t, y.shape, y.tobytes()) for t, y in videos))
    if key not in _ORDERED or not shared_reads_enabled():
        _ORDERED.clear()
        _ORDERED[key] = _ordered_chance(videos, draws, seed)
    return dict(_ORDERED[key])


_ORDERED: dict[tuple, dict[str, float]] = {}


def _ordered_chance(videos: list[tuple[str, np.ndarray]], draws: int, seed: int) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    per_video = []
    for task, gt in videos:
        y = np.asarray(gt, dtype=bool)
        scores = np.stack([metrics.standardize_steps(d) for d in rng.standard_normal((int(draws),) + y.shape)])
        hits = 0
        for s, path in zip(scores, metrics.monotone_paths(scores)):
            hits += metrics.crosstask_hits(metrics.ordered_instants(s, path), y)[0]
        per_video.append((task, hits / draws, int(y.any(axis=0).sum())))
    hits_t: dict[str, float] = {}
    total: dict[str, int] = {}
    for task, h, n in per_video:
        hits_t[task] = hits_t.get(task, 0.0) + h
        total[task] = total.get(task, 0) + n
    return {t: 100.0 * hits_t[t] / total[t] for t in sorted(total) if total[t] > 0}


def classification_chance(test_labels, num_classes: int, train_labels=None) -> float:
    """Percent accuracy of the better label-only predictor: uniform guess or the training majority class."""
    test = np.asarray(test_labels, dtype=np.int64)
    if test.size == 0:
        raise ValueError("test_labels is empty")
    uniform = 100.0 / int(num_classes)
    if train_labels is None:
        return uniform
    counts = np.bincount(np.asarray(train_labels, dtype=np.int64), minlength=int(num_classes))
    majority = 100.0 * float((test == int(np.argmax(counts))).mean())
    return max(uniform, majority)
