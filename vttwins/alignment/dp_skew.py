"""Numba CPU backend for long lattices: skewed (anti-diagonal contiguous) layout, SIMD along each anti-diagonal,
one prange task per pair (so both threads work whenever B >= 2). Same contract as dp_numba.py / dp_torch.py.

Cell (p, q) of anti-diagonal d = p + q is stored at [d, p]. Its three predecessors then sit at [d-2, p-1] (diag),
[d-1, p-1] (up) and [d-1, p] (left): for one diagonal all three are contiguous, shifted slices, so the per-cell
softmin of dp_numba.py (`cells_soft`, the same polynomial exp/log, the same gamma = 0 tie rule: diag, then up,
then left) runs vectorised over the whole diagonal. R keeps three rotating diagonals; the forward stores the
softmin weights skewed (B, P+Q+1, 3, P+2), and the backward runs E over three rotating diagonals and scatters
each one into the caller's (B, P, Q) layout. Each pair runs only its own (lp, lq) sub-lattice: cells beyond its
end never influence R at the end, and E there is exactly 0. Used by "auto" for min(P, Q) >= SKEW_MIN_SIDE
(backends.py); below that a diagonal is too short for SIMD and the pairs-in-lanes kernel (dp_numba.py) wins.
"""

from __future__ import annotations

import numpy as np
import torch
from numba import njit, prange

from .dp_numba import BIG, BIG32, ONE, ZERO, cells_hard, cells_soft, cells_soft_value


@njit(fastmath=True, error_model="numpy", cache=True)
def _gather_diag(D, b, d, lo, hi, dd):
    """dd[p] = D[b, p-1, d-p-1] for p in [lo, hi]: one anti-diagonal of the cost, made contiguous."""
    for p in range(lo, hi + 1):
        dd[p] = D[b, p - 1, d - p - 1]


@njit(fastmath=True, error_model="numpy", cache=True)
def _forward_pair(D, b, P, Q, gamma, big, W, store):
    """R over the (P, Q) sub-lattice of pair b; returns R[P, Q]. W[b, d-2, r, p] = weight r of cell (p, d-p)."""
    R3 = np.full((3, P + 2), big)
    dd = np.empty(P + 2, D.dtype)
    R3[0, 0] = 0.0  # diagonal 0 holds R_00 = 0 (d % 3 == 0)
    inv_g = ONE / gamma if gamma > 0 else ZERO * gamma
    for d in range(2, P + Q + 1):
        lo, hi = max(1, d - Q), min(P, d - 1)
        n = hi - lo + 1
        r0, r1, r2 = R3[d % 3], R3[(d - 1) % 3], R3[(d - 2) % 3]
        _gather_diag(D, b, d, lo, hi, dd)
        k = d - 2
        if gamma > 0 and store:
            cells_soft(
                r2[lo - 1 : hi],
                r1[lo - 1 : hi],
                r1[lo : hi + 1],
                r0[lo : hi + 1],
                dd[lo : hi + 1],
                W[b, k, 0, lo : hi + 1],
                W[b, k, 1, lo : hi + 1],
                W[b, k, 2, lo : hi + 1],
                gamma,
                inv_g,
                n,
            )
        elif gamma > 0:
            cells_soft_value(
                r2[lo - 1 : hi], r1[lo - 1 : hi], r1[lo : hi + 1], r0[lo : hi + 1], dd[lo : hi + 1], gamma, inv_g, n
            )
        else:
            cells_hard(
                r2[lo - 1 : hi],
                r1[lo - 1 : hi],
                r1[lo : hi + 1],
                r0[lo : hi + 1],
                dd[lo : hi + 1],
                W[b, k, 0, lo : hi + 1],
                W[b, k, 1, lo : hi + 1],
                W[b, k, 2, lo : hi + 1],
                n,
                store,
            )
        r0[lo - 1] = big  # the neighbours just outside read as +inf ...
        r0[hi + 1] = big
        if store:  # ... and as weight 0 in the backward
            for r in range(3):
                W[b, k, r, lo - 1] = 0.0
                W[b, k, r, hi + 1] = 0.0
    return R3[(P + Q) % 3, P]


@njit(cache=True, parallel=True)
def _forward_kernel(D, lp, lq, gamma, big, W, rend, store):
    for b in prange(D.shape[0]):
        rend[b] = _forward_pair(D, b, lp[b], lq[b], gamma, big, W, store)


@njit(fastmath=True, error_model="numpy", cache=True)
def _back_cells(e, ed, wd, eu, wu, el, wl, n):
    for k in range(n):
        e[k] = ed[k] * wd[k] + eu[k] * wu[k] + el[k] * wl[k]


@njit(fastmath=True, error_model="numpy", cache=True)
def _backward_pair(W, b, P, Q, out):
    """E over pair b's sub-lattice on three rotating diagonals; each finished diagonal scattered into out[b]."""
    E3 = np.zeros((3, P + 2), W.dtype)
    kend = P + Q - 2
    for r in range(3):  # the two diagonals after the end: weight 0
        for p in range(P + 2):
            W[b, kend + 1, r, p] = 0.0
            W[b, kend + 2, r, p] = 0.0
    E3[(P + Q) % 3, P] = 1.0  # the seed dR_end / dR_end
    out[b, P - 1, Q - 1] = 1.0
    for d in range(P + Q - 1, 1, -1):
        lo, hi = max(1, d - Q), min(P, d - 1)
        e0, e1, e2 = E3[d % 3], E3[(d + 1) % 3], E3[(d + 2) % 3]
        k = d - 2
        _back_cells(
            e0[lo : hi + 1],
            e2[lo + 1 : hi + 2],
            W[b, k + 2, 0, lo + 1 : hi + 2],
            e1[lo + 1 : hi + 2],
            W[b, k + 1, 1, lo + 1 : hi + 2],
            e1[lo : hi + 1],
            W[b, k + 1, 2, lo : hi + 1],
            hi - lo + 1,
        )
        e0[lo - 1] = 0.0
        e0[hi + 1] = 0.0
        for p in range(lo, hi + 1):
            out[b, p - 1, d - p - 1] = e0[p]


@njit(cache=True, parallel=True)
def _backward_kernel(W, lp, lq, out):
    for b in prange(out.shape[0]):
        _backward_pair(W, b, lp[b], lq[b], out)


def forward(D: torch.Tensor, lp: torch.Tensor, lq: torch.Tensor, gamma: float, need_grad: bool):
    B, P, Q = D.shape
    Dt = D.detach().contiguous().numpy()
    lp_np = lp.to(torch.int64).contiguous().numpy()
    lq_np = lq.to(torch.int64).contiguous().numpy()
    W = np.empty((B, P + Q + 1, 3, P + 2) if need_grad else (1, 1, 3, 1), dtype=Dt.dtype)
    rend = np.empty(B, dtype=Dt.dtype)
    sc = Dt.dtype.type
    big = sc(BIG32 if Dt.dtype == np.float32 else BIG)
    _forward_kernel(Dt, lp_np, lq_np, sc(gamma), big, W, rend, need_grad)
    return torch.from_numpy(rend).to(D.dtype), (W, lp_np, lq_np, (B, P, Q))


def backward(ctx) -> torch.Tensor:
    W, lp, lq, shape = ctx
    out = np.zeros(shape, dtype=W.dtype)
    _backward_kernel(W, lp, lq, out)
    return torch.from_numpy(out)
