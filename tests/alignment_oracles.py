"""Independent oracles for tests/test_alignment*.py: plain-Python loops straight from docs/method.md §3, sharing no
code with vttwins.alignment (brute force over every monotone path, scalar DP, spec's smoothing and lattice)."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np


def softmin(values, gamma):
    vals = [v for v in values if v != math.inf]
    if gamma == 0:
        return min(vals)
    lo = min(vals)
    return lo - gamma * math.log(sum(math.exp(-(v - lo) / gamma) for v in vals))


@lru_cache(maxsize=None)
def monotone_paths(p: int, q: int):
    """Every path from (0, 0) to (p-1, q-1) with steps (1, 0), (0, 1), (1, 1)."""
    if p == 1 and q == 1:
        return (((0, 0),),)
    out = []
    for dp_, dq in ((1, 1), (1, 0), (0, 1)):
        pp, qq = p - dp_, q - dq
        if pp >= 1 and qq >= 1:
            out.extend(path + ((p - 1, q - 1),) for path in monotone_paths(pp, qq))
    return tuple(out)


def brute_force(cost: np.ndarray, gamma: float):
    """(value = softmin over all path costs, E = expected occupancy under the path Gibbs distribution)."""
    paths = monotone_paths(*cost.shape)
    costs = np.array([sum(cost[i, j] for i, j in path) for path in paths])
    value = softmin(list(costs), gamma)
    if gamma == 0:
        probs = (costs == costs.min()).astype(float)
        probs /= probs.sum()
    else:
        probs = np.exp(-(costs - costs.min()) / gamma)
        probs /= probs.sum()
    occ = np.zeros(cost.shape)
    for pr, path in zip(probs, paths):
        for i, j in path:
            occ[i, j] += pr
    return value, occ


def scalar_soft_dtw(cost: np.ndarray, gamma: float) -> float:
    n, m = cost.shape
    r = np.full((n + 1, m + 1), math.inf)
    r[0, 0] = 0.0
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            r[i, j] = cost[i - 1, j - 1] + softmin([r[i - 1, j - 1], r[i - 1, j], r[i, j - 1]], gamma)
    return float(r[n, m])


def spec_smooth(cost: np.ndarray, gamma_s: float) -> np.ndarray:
    """docs/method.md §3 step 2, written cell by cell."""
    n, m = cost.shape
    out = np.empty_like(cost)
    for i in range(n):
        for j in range(m):
            if i == 0 and j == 0:
                out[i, j] = cost[0, 0] - gamma_s * math.log(3.0) if gamma_s > 0 else cost[0, 0]
            elif i == 0:
                out[i, j] = cost[0, j] + cost[0, j - 1]
            elif j == 0:
                out[i, j] = cost[i, 0] + cost[i - 1, 0]
            else:
                out[i, j] = cost[i, j] + softmin([cost[i, j - 1], cost[i - 1, j], cost[i - 1, j - 1]], gamma_s)
    return out


def spec_lattice(ct: np.ndarray, tau: float) -> np.ndarray:
    n, m = ct.shape
    lat = np.full((2 * n + 1, 2 * m + 1), tau)
    for i in range(n):
        for j in range(m):
            lat[2 * i + 1, 2 * j + 1] = ct[i, j]
    return lat


def spec_s2dtw(x: np.ndarray, y: np.ndarray, gamma=0.1, gamma_s=0.1, tau=0.5) -> float:
    cost = -x @ y.T
    return scalar_soft_dtw(spec_lattice(spec_smooth(cost, gamma_s), tau), gamma)


def hard_dtw(cost: np.ndarray) -> float:
    n, m = cost.shape
    r = np.full((n + 1, m + 1), math.inf)
    r[0, 0] = 0.0
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            r[i, j] = cost[i - 1, j - 1] + min(r[i - 1, j - 1], r[i - 1, j], r[i, j - 1])
    return float(r[n, m])
