"""Numba CPU backend of the soft-DTW DP (same contract as dp_torch.forward / backward; registry: backends.py).

Layout: pairs innermost. Each lattice row is gathered into (Q, lanes) and each thread (`prange`) runs a chunk of
up to 64 pairs in lockstep, so the innermost loop runs over pairs and LLVM vectorises it (AVX2/AVX-512 lanes).
That needs branch-free, call-free arithmetic: `_exp_neg` and `_log_1to3` below are polynomial versions of exp
and log on the ranges the softmin needs (numba has no vector math library here): float64 versions (relative
error ~1e-13) for float64 input, float32 versions (twice the SIMD lanes; exp relative error <~1e-5, which moves
a softmin by <~gamma * 1e-5) for float32 input, picked at compile time by the `expn` / `logn` overloads.
The forward stores each cell's three softmin weights, so the backward is multiply-adds only. First call
compiles (cached on disk by `cache=True`; see the benchmark notes). Full S2DTW on CPU uses fused_numba.py.
"""

from __future__ import annotations

import math

import numba
import numpy as np
import torch
from numba import njit, prange, types
from numba.extending import overload

BIG = 1e300  # "+inf" inside the kernel: finite, so BIG - BIG never makes a NaN
EXP_CUT = -40.0  # exp(-40) = 4e-18 < float64 eps / 2: arguments below contribute nothing to 1 + e1 + e2
LN2 = 0.6931471805599453
SQRT2 = 1.4142135623730951


@njit(inline="always", fastmath=True, error_model="numpy")
def _exp_neg(x):
    """exp(x) for x <= 0 (0 below EXP_CUT): Taylor degree 10 on x / 256, then squared 8 times."""
    r = max(x, EXP_CUT) * (1.0 / 256.0)
    p = 1.0 + r * (
        1.0
        + r
        * (
            0.5
            + r
            * (
                1.0 / 6
                + r
                * (
                    1.0 / 24
                    + r
                    * (
                        1.0 / 120
                        + r
                        * (1.0 / 720 + r * (1.0 / 5040 + r * (1.0 / 40320 + r * (1.0 / 362880 + r * (1.0 / 3628800)))))
                    )
                )
            )
        )
    )
    for _ in range(8):
        p = p * p
    return p if x > EXP_CUT else 0.0


@njit(inline="always", fastmath=True, error_model="numpy")
def _log_1to3(s):
    """log(s) for s in [1, 3]: halve above sqrt(2), then 2 atanh(z), z = (s-1)/(s+1), |z| <= 0.2, 12 terms."""
    big = s > SQRT2
    t = s * 0.5 if big else s
    z = (t - 1.0) / (t + 1.0)
    z2 = z * z
    acc = 1.0 / 25
    for k in range(11, -1, -1):
        acc = 1.0 / (2 * k + 1) + z2 * acc
    return 2.0 * z * acc + (LN2 if big else 0.0)


# float32 lanes compute in float32 (twice the SIMD width): these constants are float32 globals, so float32 code
# stays float32, and in float64 code they promote exactly (1, 0).
F32 = np.float32
ONE = F32(1.0)
ZERO = F32(0.0)
CUT32 = F32(-20.0)  # exp(-20) = 2e-9 < float32 eps / 2
SQRT2_32 = F32(math.sqrt(2.0))
LN2_32 = F32(math.log(2.0))
HALF32 = F32(0.5)
TWO32 = F32(2.0)
EXP_C32 = tuple(F32(1.0 / math.factorial(k)) for k in range(8))
LOG_C32 = tuple(F32(1.0 / (2 * k + 1)) for k in range(6))
INV64_32 = F32(1.0 / 64.0)
BIG32 = 1e30  # "+inf" of the float32 R rows: finite, so big - big is never a NaN


@njit(inline="always", fastmath=True, error_model="numpy")
def _exp_neg32(x):
    """exp(x) for x <= 0 in float32: Taylor degree 7 on x / 64 (|r| <= 0.31), squared 6 times; rel. err ~1e-5."""
    r = max(x, CUT32) * INV64_32
    c = EXP_C32
    p = c[0] + r * (c[1] + r * (c[2] + r * (c[3] + r * (c[4] + r * (c[5] + r * (c[6] + r * c[7]))))))
    for _ in range(6):
        p = p * p
    return p if x > CUT32 else ZERO


@njit(inline="always", fastmath=True, error_model="numpy")
def _log_1to3_32(s):
    """log(s) for s in [1, 3] in float32: halve above sqrt(2), then 2 atanh(z), |z| <= 0.172, 6 terms."""
    big = s > SQRT2_32
    t = s * HALF32 if big else s
    z = (t - ONE) / (t + ONE)
    z2 = z * z
    c = LOG_C32
    acc = c[0] + z2 * (c[1] + z2 * (c[2] + z2 * (c[3] + z2 * (c[4] + z2 * c[5]))))
    return TWO32 * z * acc + (LN2_32 if big else ZERO)


def expn(x):
    raise NotImplementedError


def logn(s):
    raise NotImplementedError


@overload(expn, jit_options={"fastmath": True, "error_model": "numpy"})
def _ov_expn(x):
    if x == types.float32:
        return lambda x: _exp_neg32(x)
    return lambda x: _exp_neg(x)


@overload(logn, jit_options={"fastmath": True, "error_model": "numpy"})
def _ov_logn(s):
    if s == types.float32:
        return lambda s: _log_1to3_32(s)
    return lambda s: _log_1to3(s)


# The per-cell loops are separate (not inlined) functions: inlined into the (p, q) loops, LLVM kept them scalar
# (measured 28 ns/cell vs 4-5 ns/cell); a store flag inside the loop was also slow at large widths.
@njit(fastmath=True, error_model="numpy", cache=True)
def cells_soft(pa, pu, cl, cc, dd, w0, w1, w2, gamma, inv_g, nb):
    """One lattice cell (p, q) for nb pairs: pa/pu/cl = R at diag/up/left, cc = R out, dd = cost, w* = weights."""
    for k in range(nb):
        a, u, l = pa[k], pu[k], cl[k]
        m = min(a, min(u, l))
        ea = expn((m - a) * inv_g)  # the minimal argument gives exp(0) = 1 exactly
        eu = expn((m - u) * inv_g)
        el = expn((m - l) * inv_g)
        s = ea + eu + el  # in [1, 3]
        cc[k] = dd[k] + m - gamma * logn(s)
        inv = ONE / s
        w0[k] = ea * inv
        w1[k] = eu * inv
        w2[k] = el * inv


@njit(fastmath=True, error_model="numpy", cache=True)
def cells_soft_value(pa, pu, cl, cc, dd, gamma, inv_g, nb):
    """Forward-only variant (no weights kept)."""
    for k in range(nb):
        a, u, l = pa[k], pu[k], cl[k]
        m = min(a, min(u, l))
        s = expn((m - a) * inv_g) + expn((m - u) * inv_g) + expn((m - l) * inv_g)
        cc[k] = dd[k] + m - gamma * logn(s)


@njit(fastmath=True, error_model="numpy", cache=True)
def cells_hard(pa, pu, cl, cc, dd, w0, w1, w2, nb, store):
    """gamma = 0: exact min; one-hot weights, ties to diag, then up, then left."""
    for k in range(nb):
        a, u, l = pa[k], pu[k], cl[k]
        m = min(a, min(u, l))
        cc[k] = dd[k] + m
        if store:
            wa = 1.0 if a == m else 0.0
            wu = 1.0 if (u == m and a != m) else 0.0
            w0[k] = wa
            w1[k] = wu
            w2[k] = 1.0 - wa - wu


@njit(fastmath=True, cache=True, error_model="numpy")
def _forward_chunk(D, lp, lq, gamma, big, b0, nb, W, rend, store):
    """Pairs b0 .. b0+nb-1 in lockstep; R kept as two rows of (Q+1, nb) in D's dtype (big = its "+inf").

    D is (B, P, Q) as the caller has it: each lattice row is gathered into a (Q, nb) lane buffer first."""
    _, P, Q = D.shape
    row = np.empty((Q, nb), D.dtype)
    inv_g = ONE / gamma if gamma > 0 else ZERO * gamma
    prev = np.full((Q + 1, nb), big)
    cur = np.full((Q + 1, nb), big)
    prev[0, :] = 0.0  # R_00 = 0 sits at prev[0] for row p = 1
    b1 = b0 + nb
    for p in range(1, P + 1):
        for k in range(nb):
            src = D[b0 + k, p - 1]
            for q in range(Q):
                row[q, k] = src[q]
        for q in range(1, Q + 1):
            wq = W[p - 1, q - 1] if store else W[0, 0]
            if gamma > 0 and store:
                cells_soft(
                    prev[q - 1],
                    prev[q],
                    cur[q - 1],
                    cur[q],
                    row[q - 1],
                    wq[0, b0:b1],
                    wq[1, b0:b1],
                    wq[2, b0:b1],
                    gamma,
                    inv_g,
                    nb,
                )
            elif gamma > 0:
                cells_soft_value(prev[q - 1], prev[q], cur[q - 1], cur[q], row[q - 1], gamma, inv_g, nb)
            else:
                cells_hard(
                    prev[q - 1],
                    prev[q],
                    cur[q - 1],
                    cur[q],
                    row[q - 1],
                    wq[0, b0:b1],
                    wq[1, b0:b1],
                    wq[2, b0:b1],
                    nb,
                    store,
                )
        for k in range(nb):
            if lp[b0 + k] == p:
                rend[b0 + k] = cur[lq[b0 + k], k]
        prev, cur = cur, prev
        cur[0, :] = big


@njit(cache=True, parallel=True)
def _forward_kernel(D, lp, lq, gamma, big, chunk, W, rend, store):
    # the parallel wrapper stays tiny: numba's parfor passes over the full kernel take minutes to compile
    B = D.shape[0]
    for c in prange((B + chunk - 1) // chunk):
        _forward_chunk(D, lp, lq, gamma, big, c * chunk, min(B, c * chunk + chunk) - c * chunk, W, rend, store)


@njit(fastmath=True, error_model="numpy", cache=True)
def _cells_back(e, ed, wd, eu, wu, el, wl, lp1, lq1, p, q, nb):
    for k in range(nb):
        seed = 1.0 if (lp1[k] == p and lq1[k] == q) else 0.0
        e[k] = seed + ed[k] * wd[k] + eu[k] * wu[k] + el[k] * wl[k]


@njit(fastmath=True, cache=True, error_model="numpy")
def _backward_chunk(W, lp, lq, b0, nb, E, out):
    """E and W carry one extra row and column (zeros) so the recursion needs no edge branches. Each finished row
    of E is also written to out (B, P, Q), the caller's layout."""
    P, Q = E.shape[0] - 1, E.shape[1] - 1
    b1 = b0 + nb
    lp1 = lp[b0:b1] - 1
    lq1 = lq[b0:b1] - 1
    for p in range(P + 1):
        E[p, Q, b0:b1] = 0.0
        W[p, Q, :, b0:b1] = 0.0
    for q in range(Q + 1):
        E[P, q, b0:b1] = 0.0
        W[P, q, :, b0:b1] = 0.0
    for p in range(P - 1, -1, -1):
        for q in range(Q - 1, -1, -1):
            _cells_back(
                E[p, q, b0:b1],
                E[p + 1, q + 1, b0:b1],
                W[p + 1, q + 1, 0, b0:b1],
                E[p + 1, q, b0:b1],
                W[p + 1, q, 1, b0:b1],
                E[p, q + 1, b0:b1],
                W[p, q + 1, 2, b0:b1],
                lp1,
                lq1,
                p,
                q,
                nb,
            )
        for k in range(nb):
            dst = out[b0 + k, p]
            for q in range(Q):
                dst[q] = E[p, q, b0 + k]


@njit(cache=True, parallel=True)
def _backward_kernel(W, lp, lq, chunk, E, out):
    B = W.shape[3]
    for c in prange((B + chunk - 1) // chunk):
        _backward_chunk(W, lp, lq, c * chunk, min(B, c * chunk + chunk) - c * chunk, E, out)


def _chunk(batch: int) -> int:
    """Pairs per prange task: up to 64 lanes, but at least one task per thread."""
    per_thread = -(-batch // max(1, numba.get_num_threads()))
    return int(max(1, min(64, per_thread)))


def forward(D: torch.Tensor, lp: torch.Tensor, lq: torch.Tensor, gamma: float, need_grad: bool):
    B, P, Q = D.shape
    Dt = D.detach().contiguous().numpy()  # (B, P, Q): the kernel gathers rows into lanes itself
    lp_np = lp.to(torch.int64).contiguous().numpy()
    lq_np = lq.to(torch.int64).contiguous().numpy()
    W = np.empty((P + 1, Q + 1, 3, B) if need_grad else (1, 1, 3, 1), dtype=Dt.dtype)
    rend = np.empty(B, dtype=np.float64)
    chunk = _chunk(B)
    sc = Dt.dtype.type  # float32 lanes compute in float32 (R rows too), float64 in float64
    big = sc(BIG32 if Dt.dtype == np.float32 else BIG)
    _forward_kernel(Dt, lp_np, lq_np, sc(gamma), big, chunk, W, rend, need_grad)
    r = torch.from_numpy(rend).to(D.dtype)
    return r, (W, lp_np, lq_np, chunk)


def backward(ctx) -> torch.Tensor:
    W, lp, lq, chunk = ctx
    P1, Q1, _, B = W.shape
    E = np.empty((P1, Q1, B), dtype=W.dtype)
    out = np.empty((B, P1 - 1, Q1 - 1), dtype=W.dtype)
    _backward_kernel(W, lp, lq, chunk, E, out)
    return torch.from_numpy(out)
