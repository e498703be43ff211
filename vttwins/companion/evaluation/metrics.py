"""Downstream metrics as pure numpy functions on score matrices and per-second score arrays.

    ranks = retrieval_ranks(scores, positives)            # scores: (Q, C) -> (Q,) 1-based ranks
    summary = rank_summary(ranks, ks=(1, 5, 10))          # {"R@1": %, ..., "MedR": r, "MeanR": r}
    hits, total = crosstask_hits(step_scores, gt)         # one video: (T, K) scores, (T, K) bool ground truth

Tie rule (one rule everywhere): *pessimistic*. A positive's rank is 1 + the number of negative candidates whose
score is >= the positive's score; a classification or a per-step instant counts as correct only when no wrong
answer scores as high as the right one. Why: it is deterministic, does not depend on the order of candidates,
and a collapsed model (every score equal) lands at the bottom instead of being rewarded by an index tie-break.
For a per-step argmax over seconds (CrossTask) a tie picks the *earliest* second (numpy's argmax), documented
in `crosstask_predict`.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

__all__ = [
    "retrieval_ranks",
    "rank_summary",
    "top1_correct",
    "accuracy",
    "interval_mask",
    "crosstask_hits",
    "crosstask_predict",
    "ordered_instants",
    "monotone_paths",
    "standardize_steps",
    "pooled_recall",
]


def _as_scores(scores, name: str = "scores") -> np.ndarray:
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (queries, candidates) array, got shape {s.shape}")
    if not np.isfinite(s).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return s


def _positive_mask(positives, shape: tuple[int, int]) -> np.ndarray:
    """(Q,) ints (index of the single positive) or a (Q, C) boolean mask -> (Q, C) bool."""
    p = np.asarray(positives)
    if p.dtype == bool:
        if p.shape != shape:
            raise ValueError(f"positives mask must have shape {shape}, got {p.shape}")
        mask = p
    else:
        if p.shape != (shape[0],):
            raise ValueError(f"positives must be ({shape[0]},) indices or a {shape} mask, got shape {p.shape}")
        if p.size and (p.min() < 0 or p.max() >= shape[1]):
            raise ValueError(f"positive indices must lie in [0, {shape[1]}), got range [{p.min()}, {p.max()}]")
        mask = np.zeros(shape, dtype=bool)
        mask[np.arange(shape[0]), p.astype(np.int64)] = True
    if not mask.any(axis=1).all():
        raise ValueError("every query needs at least one positive candidate")
    return mask


def retrieval_ranks(scores, positives=None) -> np.ndarray:
    """1-based rank of the best-scoring positive of each query, pessimistic on ties.

    scores: (Q, C), higher = better. positives: (Q,) candidate index per query (default: the diagonal,
    requires Q == C) or a (Q, C) boolean mask. Returns (Q,) int64: 1 + number of negatives scoring >= the
    best positive. With several positives the others never push the rank down.
    """
    s = _as_scores(scores)
    if positives is None:
        if s.shape[0] != s.shape[1]:
            raise ValueError(f"positives=None needs a square score matrix, got shape {s.shape}")
        positives = np.arange(s.shape[0])
    mask = _positive_mask(positives, s.shape)
    best = np.where(mask, s, -np.inf).max(axis=1, keepdims=True)
    return 1 + ((s >= best) & ~mask).sum(axis=1).astype(np.int64)


def rank_summary(ranks, ks: Sequence[int] = (1, 5, 10)) -> dict[str, float]:
    """R@k in percent, median rank and mean rank of (Q,) 1-based ranks."""
    r = np.asarray(ranks, dtype=np.float64)
    if r.ndim != 1 or r.size == 0:
        raise ValueError(f"ranks must be a non-empty 1-D array, got shape {r.shape}")
    out = {f"R@{k}": 100.0 * float((r <= k).mean()) for k in ks}
    out["MedR"] = float(np.median(r))
    out["MeanR"] = float(r.mean())
    return out


def top1_correct(scores, labels) -> np.ndarray:
    """(N, K) class scores, (N,) true class -> (N,) bool: correct iff the true class beats every other strictly."""
    s = _as_scores(scores)
    lab = np.asarray(labels, dtype=np.int64)
    if lab.shape != (s.shape[0],):
        raise ValueError(f"labels must have shape ({s.shape[0]},), got {lab.shape}")
    return retrieval_ranks(s, lab) == 1


def accuracy(scores, labels) -> float:
    """Top-1 accuracy in percent (pessimistic ties, see `top1_correct`)."""
    return 100.0 * float(top1_correct(scores, labels).mean())


# --------------------------------------------------------------------------------------------- CrossTask
def interval_mask(num_seconds: int, num_steps: int, segments: Iterable[tuple[int, float, float]]) -> np.ndarray:
    """Ground truth of one video as a (T, K) bool array, the CrossTask convention (Zhukov et al. 2019).

    segments: (step, start, end) with 0-based step and float seconds; second t belongs to the segment when
    floor(start) <= t < ceil(end). A step annotated twice gets both intervals; a step never annotated stays
    all-False (and is not counted by `crosstask_hits`).
    """
    y = np.zeros((int(num_seconds), int(num_steps)), dtype=bool)
    for step, start, end in segments:
        if not 0 <= int(step) < num_steps:
            raise ValueError(f"step {step} outside [0, {num_steps})")
        y[int(np.floor(start)) : int(np.ceil(end)), int(step)] = True
    return y


def crosstask_predict(step_scores) -> np.ndarray:
    """(T, K) scores -> (K,) predicted instant per step: the argmax over seconds (ties: earliest second)."""
    return _as_scores(step_scores, "step_scores").argmax(axis=0)


def crosstask_hits(instants, gt) -> tuple[int, int]:
    """(K,) predicted second per step and (T, K) bool ground truth -> (hits, annotated steps).

    Only steps with at least one annotated second count; a hit is a predicted second inside any of the step's
    intervals.
    """
    y = np.asarray(gt, dtype=bool)
    t = np.asarray(instants, dtype=np.int64)
    if y.ndim != 2 or t.shape != (y.shape[1],):
        raise ValueError(f"instants ({t.shape}) must have one entry per column of gt ({y.shape})")
    annotated = y.any(axis=0)
    hit = y[np.clip(t, 0, y.shape[0] - 1), np.arange(y.shape[1])] & annotated
    return int(hit.sum()), int(annotated.sum())


def pooled_recall(per_video: Iterable[tuple[str, int, int]]) -> dict[str, float]:
    """(task, hits, annotated) per video -> recall per task in percent: sum(hits) / sum(annotated) per task
    (Zhukov et al.'s pooling). Tasks without an annotated step are left out."""
    hits: dict[str, int] = {}
    total: dict[str, int] = {}
    for task, h, n in per_video:
        hits[task] = hits.get(task, 0) + int(h)
        total[task] = total.get(task, 0) + int(n)
    return {task: 100.0 * hits[task] / total[task] for task in sorted(total) if total[task] > 0}


def standardize_steps(step_scores) -> np.ndarray:
    """Z-score every step's column over the seconds of the video (a constant column becomes 0).

    Why: a monotone path visits every second, so a step whose text embedding simply scores higher everywhere
    (a per-step offset or scale, common for unnormalised embeddings) would swallow the whole video. Argmax
    decoding is unaffected by this per-column affine map; the ordered decoder needs it.
    """
    s = _as_scores(step_scores, "step_scores")
    std = s.std(axis=0)
    return (s - s.mean(axis=0)) / np.where(std > 0, std, 1.0)


def monotone_paths(step_scores) -> list[list[tuple[int, int]]]:
    """Best monotone alignment path(s) of seconds to steps in task order: hard DTW maximising the summed score.

    step_scores: (T, K) or a batch (B, T, K). A path runs from (0, 0) to (T-1, K-1) with moves (1, 0), (0, 1),
    (1, 1), so every second gets a step and every step at least one cell. This is the numpy reference of
    `vttwins.alignment.hard_path` with cost = -score (gamma=0, no smoothing, no weak lattice). Backtracking ties
    prefer the diagonal, then the time axis, then the step axis. Returns one list of (t, k) cells per input.
    """
    s = np.asarray(step_scores, dtype=np.float64)
    single = s.ndim == 2
    s = s[None] if single else s
    if s.ndim != 3 or 0 in s.shape[1:]:
        raise ValueError(f"step_scores must be (T, K) or (B, T, K) with T, K > 0, got shape {s.shape}")
    b, t_len, k_len = s.shape
    acc = np.full((b, t_len + 1, k_len + 1), -np.inf)
    acc[:, 0, 0] = 0.0
    for t in range(1, t_len + 1):
        prev = np.maximum(acc[:, t - 1, 1:], acc[:, t - 1, :-1])  # from (t-1, k) and (t-1, k-1)
        for k in range(1, k_len + 1):
            acc[:, t, k] = s[:, t - 1, k - 1] + np.maximum(prev[:, k - 1], acc[:, t, k - 1])
    paths = [_backtrack(acc[i]) for i in range(b)]
    return paths[:1] if single else paths


def _backtrack(acc: np.ndarray) -> list[tuple[int, int]]:
    t, k = acc.shape[0] - 1, acc.shape[1] - 1
    path = [(t - 1, k - 1)]
    while (t, k) != (1, 1):
        diag, up, left = acc[t - 1, k - 1], acc[t - 1, k], acc[t, k - 1]
        if diag >= up and diag >= left:
            t, k = t - 1, k - 1
        elif up >= left:
            t = t - 1
        else:
            k = k - 1
        path.append((t - 1, k - 1))
    return path[::-1]


def ordered_instants(step_scores, path=None) -> np.ndarray:
    """Order-respecting prediction for one video: (T, K) scores -> (K,) instants.

    The seconds are aligned to the steps in task order by a monotone path (default `monotone_paths`; pass the
    cells of `vttwins.alignment.hard_path` to use it instead); each step's instant is its best-scoring second
    among the path cells in its column (ties: earliest second).
    """
    s = _as_scores(step_scores, "step_scores")
    cells = monotone_paths(s)[0] if path is None else [(int(t), int(k)) for t, k in path]
    best = np.full(s.shape[1], -1, dtype=np.int64)
    for t, k in cells:
        if best[k] < 0 or s[t, k] > s[best[k], k]:
            best[k] = t
    if (best < 0).any():
        raise ValueError(f"path leaves steps {np.flatnonzero(best < 0).tolist()} without a second")
    return best
