"""Sanity rows for the alignment-vs-truth readout: what a diagonal already gets, what the truth allows, and τ.

    table = alignment_sanity({"untrained": before, "S2DTW": trained}, tokenizer, heldout, video_ids)
    diagonal_path(8, 8)        # [(0, 0), (1, 1), ...]: the uniform warp, nothing skipped
    oracle_path(truth)         # the best monotone lattice path on the true step match

The readout of `truth.score_model` (the hard path of the released S2DTW lattice at τ = 0.5) can be confounded by
τ and by the sign of the costs: an untrained model's path is the diagonal, and a trained model whose costs −cos
are negative almost everywhere takes the longest path and never skips. So a learned alignment is judged against:

- `diagonal`: the uniform warp (i -> round(i (M-1)/(N-1)), no skip), independent of the model;
- `oracle`: the hard path of the weak lattice on the cost 1 − 2·truth (−1 on a true pair, +1 elsewhere) with a
  small skip cost (`ORACLE_TAU`): the best a monotone path with skips can do on this truth;
- every model's own readout at τ in `TAUS` and at τ = the median of its smoothed real-cell costs over the videos
  (a τ on the model's own cost scale, `tau_kind = "median cost"`).

All rows are micro-averaged over the videos with `examples.rates` (percent), like `alignment_truth`.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
import torch

from vttwins.alignment import hard_path, pairwise_cost
from vttwins.alignment.lattice import smooth_forward

from .examples import embed_sequences, path_counts, rates, step_truth

TAUS = (0.1, 0.3, 0.5, 1.0)
ORACLE_TAU = 0.05  # cheaper than a false pair (+1), far dearer than a true one (-1)


def diagonal_path(n: int, m: int) -> list[tuple[int, int]]:
    """The uniform warp from (0, 0) to (n-1, m-1): one pair per step of the longer side, nothing skipped."""
    if n < 1 or m < 1:
        raise ValueError(f"n and m must be >= 1, got {n}, {m}")
    k = max(n, m)
    steps = np.arange(k) / max(k - 1, 1)
    pairs = zip(np.rint(steps * (n - 1)).astype(int), np.rint(steps * (m - 1)).astype(int))
    return list(dict.fromkeys((int(i), int(j)) for i, j in pairs))


def oracle_path(truth: np.ndarray, tau: float = ORACLE_TAU) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """(pairs, skipped clips, skipped captions) of the hard weak-lattice path on cost 1 - 2 * truth `(N, M)`."""
    t = np.asarray(truth, dtype=bool)
    x = torch.from_numpy(2.0 * t - 1.0)[None]  # -<x_i, e_j> = 1 - 2 truth_ij
    y = torch.eye(t.shape[1], dtype=torch.float64)[None]
    p = hard_path(x, y, smooth=False, weak=True, tau=tau)[0]
    return [tuple(map(int, q)) for q in p.pairs.tolist()], p.unmatched_x.tolist(), p.unmatched_y.tolist()


def _readout(v, t, tau: float, smooth_gamma: float):
    p = hard_path(v[None], t[None], smooth_gamma=smooth_gamma, tau=tau)[0]
    return p.pairs.tolist(), p.unmatched_x.tolist(), p.unmatched_y.tolist()


def _median_cost(seqs, smooth_gamma: float) -> float:
    costs = [smooth_forward(pairwise_cost(v[None], t[None]), smooth_gamma)[0][0].numpy().ravel() for v, t, _ in seqs]
    return float(np.median(np.concatenate(costs)))


def reference_rows(truths: Sequence[np.ndarray]) -> list[dict]:
    """The model-free rows: diagonal and oracle, over the truth matrices of the videos."""
    diag = [path_counts(tr, diagonal_path(*tr.shape), [], []) for tr in truths]
    oracle = [path_counts(tr, *oracle_path(tr)) for tr in truths]
    return [
        {"model": "diagonal (uniform warp)", "tau_kind": "-", "tau": np.nan, **rates(pd.DataFrame(diag))},
        {"model": "oracle (true step match)", "tau_kind": "fixed", "tau": ORACLE_TAU, **rates(pd.DataFrame(oracle))},
    ]


def alignment_sanity(
    models: dict,
    tokenizer,
    paths,
    video_ids: Sequence[str],
    n_clips: int = 8,
    window: int = 4,
    taus: Sequence[float] = TAUS,
    smooth_gamma: float = 0.1,
) -> pd.DataFrame:
    """Diagonal and oracle rows, then per model (label -> model) its readout at every τ of `taus` and at its
    median cost: columns model, tau_kind, tau, pair/skip precision/recall (percent), videos."""
    truths, rows = None, []
    for label, model in models.items():
        seqs = []
        for vid in video_ids:
            v, t, caps, ann = embed_sequences(model, tokenizer, paths, vid, n_clips, window)
            seqs.append((v, t, step_truth(caps, ann, window)))
        if truths is None:
            truths = [tr for _, _, tr in seqs]
            rows += reference_rows(truths)
        grid = [("fixed", float(tau)) for tau in taus] + [("median cost", _median_cost(seqs, smooth_gamma))]
        for kind, tau in grid:
            counts = [path_counts(tr, *_readout(v, t, tau, smooth_gamma)) for v, t, tr in seqs]
            rows.append({"model": label, "tau_kind": kind, "tau": tau, **rates(pd.DataFrame(counts))})
    return pd.DataFrame(rows)
