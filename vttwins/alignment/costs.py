"""Pairwise frame costs: `pairwise_cost(x, y)` for aligned batches, `all_pairs_neg_dot` for every (x, y) pair.

    C = pairwise_cost(x, y)               # x: (B, N, D), y: (B, M, D) -> (B, N, M), C_ij = -<x_i, y_j>

Both are plain differentiable torch expressions (their backward is the matmul's); nothing here loops.
"""

from __future__ import annotations

import torch

from .checks import check_pair_inputs

COST_KINDS = ("neg_dot", "neg_cosine", "sq_euclidean")


def pairwise_cost(x: torch.Tensor, y: torch.Tensor, kind: str = "neg_dot") -> torch.Tensor:
    """Cost matrix between the frames of two aligned batches of sequences.

    Parameters
    ----------
    x : (B, N, D) tensor
    y : (B, M, D) tensor
    kind : "neg_dot" (``-<x_i, y_j>``, the VT-TWINS cost), "neg_cosine" (``-cos(x_i, y_j)``) or
        "sq_euclidean" (``||x_i - y_j||^2``).

    Returns
    -------
    (B, N, M) tensor in the input's dtype (half/bfloat16 are accumulated in float32).
    """
    check_pair_inputs(x, y, paired=True)
    if kind not in COST_KINDS:
        raise ValueError(f"kind must be one of {COST_KINDS}, got {kind!r}")
    xf, yf = _compute_dtype(x), _compute_dtype(y)
    if kind == "neg_cosine":
        xf = torch.nn.functional.normalize(xf, dim=-1)
        yf = torch.nn.functional.normalize(yf, dim=-1)
    # few passes over the (B, N, M) result: the sign / factor go on the (B, N, D) side or into baddbmm
    if kind == "sq_euclidean":
        norms = xf.pow(2).sum(-1).unsqueeze(2) + yf.pow(2).sum(-1).unsqueeze(1)
        cost = torch.baddbmm(norms, xf, yf.transpose(1, 2), alpha=-2.0).clamp_min_(0.0)
    else:
        cost = torch.bmm(-xf, yf.transpose(1, 2))
    return cost.to(x.dtype)


def all_pairs_neg_dot(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``C[c, a] = -x[c] @ y[a].T`` for every pair from ONE matrix product: (Bx, N, D), (By, M, D) -> (Bx*By, N, M).

    The embeddings are never expanded into Bx*By copies; only the (Bx*By, N, M) costs are materialised, and
    autograd routes the gradient back to x and y through the same product.
    """
    bx, n, d = x.shape
    by, m, _ = y.shape
    prod = x.reshape(bx * n, d) @ y.reshape(by * m, d).T  # (Bx*N, By*M)
    return -prod.reshape(bx, n, by, m).permute(0, 2, 1, 3).reshape(bx * by, n, m)


def _compute_dtype(t: torch.Tensor) -> torch.Tensor:
    """Half and bfloat16 are computed in float32 (the public functions cast results back)."""
    return t.float() if t.dtype in (torch.float16, torch.bfloat16) else t
