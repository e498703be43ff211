"""Fused numba CPU kernel for full S2DTW (smoothing + weak lattice + soft-DTW), forward and analytic backward.

    r, ctx = forward(C4, sign, lp, lq, gamma, smooth_gamma, tau, need_grad)   # C4: (bx, N, by, M) array
    G4 = backward(ctx, grad_r)                                                  # dL/dC4, same layout as C4

Pair b = c * by + a has the cost matrix sign * C4[c, :, a, :] — that is the (bx*N, by*M) matrix product of
s2dtw_matrix viewed as 4-D (no permute/copy in PyTorch), or a (B, N, M) cost viewed as (B, N, 1, M). Pairs run
in chunks of up to 64 lanes in lockstep (innermost loop over pairs, so LLVM vectorises it); one prange task per
chunk in a two-line parallel wrapper (numba's parfor passes over a big kernel take minutes to compile).

Per chunk, everything stays in per-chunk scratch: the raw costs are gathered into (N, M, lanes), smoothed in
place (reverse order, so each cell still reads raw neighbours), and the soft-DTW runs over the (2N+1) x (2M+1)
weak lattice without building it: cells at odd/odd lattice positions read the smoothed cost, all others tau.
The forward keeps the lattice softmin weights and the smoothing weights; the backward runs the expected-
alignment recursion on two rows, collects E at the real cells, applies the smoothing backward and scatters
sign * dC straight into the C4 layout. Learnable gamma / smooth_gamma / tau, gamma = 0 and smooth_gamma = 0 are
not handled here (functional.py uses the general path for them).
"""
from __future__ import annotations

import math

import numba
import numpy as np
import torch
from numba import njit, prange, types
from numba.extending import overload

from .dp_numba import BIG, _exp_neg, _log_1to3

LN3 = math.log(3.0)
LANES = 64

# float32 lanes compute in float32 (twice the SIMD width): these constants are float32 globals, so float32 code
# stays float32, and in float64 code they promote exactly (1, 0).
F32 = np.float32
ONE = F32(1.0)
ZERO = F32(0.0)
CUT32 = F32(-20.0)              # exp(-20) = 2e-9 < float32 eps / 2
SQRT2_32 = F32(math.sqrt(2.0))
LN2_32 = F32(math.log(2.0))
HALF32 = F32(0.5)
TWO32 = F32(2.0)
EXP_C32 = tuple(F32(1.0 / math.factorial(k)) for k in range(8))
LOG_C32 = tuple(F32(1.0 / (2 * k + 1)) for k in range(6))
INV64_32 = F32(1.0 / 64.0)
BIG32 = 1e30                    # "+inf" of the float32 R rows: finite, so big - big is never a NaN


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


def _expn(x):
    raise NotImplementedError


def _logn(s):
    raise NotImplementedError


@overload(_expn, jit_options={"fastmath": True, "error_model": "numpy"})
def _ov_expn(x):
    if x == types.float32:
        return lambda x: _exp_neg32(x)
    return lambda x: _exp_neg(x)


@overload(_logn, jit_options={"fastmath": True, "error_model": "numpy"})
def _ov_logn(s):
    if s == types.float32:
        return lambda s: _log_1to3_32(s)
    return lambda s: _log_1to3(s)


@njit(fastmath=True, error_model="numpy", cache=True)
def _smooth_cells(cd, cu, cl, cc, w0, w1, w2, gs, inv_gs, nb):
    """cc += softmin_gs(cd, cu, cl) for nb lanes (interior cells: all three neighbours finite); weights kept."""
    for k in range(nb):
        a, u, l = cd[k], cu[k], cl[k]
        m = min(a, min(u, l))
        ea = _expn((m - a) * inv_gs)
        eu = _expn((m - u) * inv_gs)
        el = _expn((m - l) * inv_gs)
        s = ea + eu + el
        cc[k] = cc[k] + (m - gs * _logn(s))
        inv = ONE / s
        w0[k] = ea * inv
        w1[k] = eu * inv
        w2[k] = el * inv


@njit(fastmath=True, error_model="numpy", cache=True)
def _dp_cells(pa, pu, cl, cc, dd, w0, w1, w2, gamma, inv_g, nb):
    """R cell for nb lanes with per-lane cost dd (a real lattice cell)."""
    for k in range(nb):
        a, u, l = pa[k], pu[k], cl[k]
        m = min(a, min(u, l))
        ea = _expn((m - a) * inv_g)
        eu = _expn((m - u) * inv_g)
        el = _expn((m - l) * inv_g)
        s = ea + eu + el
        cc[k] = dd[k] + m - gamma * _logn(s)
        inv = ONE / s
        w0[k] = ea * inv
        w1[k] = eu * inv
        w2[k] = el * inv


@njit(fastmath=True, error_model="numpy", cache=True)
def _dp_cells_tau(pa, pu, cl, cc, tau, w0, w1, w2, gamma, inv_g, nb):
    """R cell for nb lanes with the constant dummy cost tau."""
    for k in range(nb):
        a, u, l = pa[k], pu[k], cl[k]
        m = min(a, min(u, l))
        ea = _expn((m - a) * inv_g)
        eu = _expn((m - u) * inv_g)
        el = _expn((m - l) * inv_g)
        s = ea + eu + el
        cc[k] = tau + m - gamma * _logn(s)
        inv = ONE / s
        w0[k] = ea * inv
        w1[k] = eu * inv
        w2[k] = el * inv


@njit(fastmath=True, error_model="numpy", cache=True)
def _fwd_chunk(C4, sign, b0, nb, lp, lq, gs, gamma, tau, big, Ct, Ws, W, R2, rend):
    """Ct: (N, M, L) scratch; Ws: (N, M, 3, L); W: (P+2, Q+2, 3, L); R2: (2, Q+1, L); all in the input dtype."""
    _, N, by, M = C4.shape
    P, Q = 2 * N + 1, 2 * M + 1
    for k in range(nb):                                   # gather (pairs into lanes)
        b = b0 + k
        c = b // by
        a = b - c * by
        for i in range(N):
            for j in range(M):
                Ct[i, j, k] = sign * C4[c, i, a, j]
    inv_gs = ONE / gs
    third = 1.0 / 3.0
    for i in range(N - 1, 0, -1):                         # smoothing in place, reverse order
        for j in range(M - 1, 0, -1):
            _smooth_cells(Ct[i - 1, j - 1], Ct[i - 1, j], Ct[i, j - 1], Ct[i, j],
                          Ws[i, j, 0], Ws[i, j, 1], Ws[i, j, 2], gs, inv_gs, nb)
        for k in range(nb):                               # first column: only the up neighbour
            Ct[i, 0, k] += Ct[i - 1, 0, k]
            Ws[i, 0, 0, k] = 0.0
            Ws[i, 0, 1, k] = 1.0
            Ws[i, 0, 2, k] = 0.0
    for j in range(M - 1, 0, -1):                         # first row: only the left neighbour
        for k in range(nb):
            Ct[0, j, k] += Ct[0, j - 1, k]
            Ws[0, j, 0, k] = 0.0
            Ws[0, j, 1, k] = 0.0
            Ws[0, j, 2, k] = 1.0
    for k in range(nb):                                   # (0, 0): three zero neighbours
        Ct[0, 0, k] -= gs * LN3
        Ws[0, 0, 0, k] = third
        Ws[0, 0, 1, k] = third
        Ws[0, 0, 2, k] = third
    # weak-lattice soft-DTW; W's extra row P+1 and column Q+1 are zeros for the backward
    for q in range(Q + 2):
        for r in range(3):
            for k in range(nb):
                W[P + 1, q, r, k] = 0.0
    for p in range(P + 2):
        for r in range(3):
            for k in range(nb):
                W[p, Q + 1, r, k] = 0.0
    inv_g = ONE / gamma
    prev = R2[0]
    cur = R2[1]
    for q in range(Q + 1):
        for k in range(nb):
            prev[q, k] = big
            cur[q, k] = big
    for k in range(nb):
        prev[0, k] = 0.0
    for p in range(1, P + 1):
        real_row = (p % 2) == 0                           # lattice row p-1 odd
        i = (p - 2) // 2
        for q in range(1, Q + 1):
            wq = W[p, q]
            if real_row and (q % 2) == 0:
                _dp_cells(prev[q - 1], prev[q], cur[q - 1], cur[q], Ct[i, (q - 2) // 2],
                          wq[0], wq[1], wq[2], gamma, inv_g, nb)
            else:
                _dp_cells_tau(prev[q - 1], prev[q], cur[q - 1], cur[q], tau,
                              wq[0], wq[1], wq[2], gamma, inv_g, nb)
        for k in range(nb):
            if lp[b0 + k] == p:
                rend[b0 + k] = cur[lq[b0 + k], k]
        prev, cur = cur, prev
        for k in range(nb):
            cur[0, k] = big


@njit(cache=True, parallel=True)
def _fwd_kernel(C4, sign, lp, lq, gs, gamma, tau, big, Ct, Ws, W, R2, rend):
    B = lp.shape[0]
    L = Ct.shape[3]
    for c in prange(Ct.shape[0]):
        _fwd_chunk(C4, sign, c * L, min(B, c * L + L) - c * L, lp, lq, gs, gamma, tau, big, Ct[c], Ws[c], W[c],
                   R2[c], rend)


@njit(fastmath=True, error_model="numpy", cache=True)
def _back_cells(e, ed, wd, eu, wu, el, wl, nb):
    for k in range(nb):
        e[k] += ed[k] * wd[k] + eu[k] * wu[k] + el[k] * wl[k]


@njit(fastmath=True, error_model="numpy", cache=True)
def _smooth_back_cells(o, d, dd, wd, du, wu, dl, wl, nb):
    for k in range(nb):
        o[k] = d[k] + dd[k] * wd[k] + du[k] * wu[k] + dl[k] * wl[k]


@njit(fastmath=True, error_model="numpy", cache=True)
def _bwd_chunk(W, Ws, lp, lq, g, b0, nb, sign, E2, dC, O, G4):
    """E2: (2, Q+2, L) rows of E; dC: (N+1, M+1, L) dR/dC~ with a zero border; O: (N, M, L) dR/dC."""
    _, N, by, M = G4.shape
    P, Q = 2 * N + 1, 2 * M + 1
    nxt = E2[0]
    cur = E2[1]
    for q in range(Q + 2):
        for k in range(nb):
            nxt[q, k] = 0.0
            cur[q, k] = 0.0
    for i in range(N + 1):
        for k in range(nb):
            dC[i, M, k] = 0.0
    for j in range(M + 1):
        for k in range(nb):
            dC[N, j, k] = 0.0
    for p in range(P, 0, -1):
        real_row = (p % 2) == 0
        i = (p - 2) // 2
        for q in range(Q + 1):
            for k in range(nb):
                cur[q, k] = 0.0
        for k in range(nb):                               # the seed: dL/dR_end = g[b] at the pair's end cell
            if lp[b0 + k] == p:
                cur[lq[b0 + k], k] = g[b0 + k]
        for q in range(Q, 0, -1):
            _back_cells(cur[q], nxt[q + 1], W[p + 1, q + 1, 0], nxt[q], W[p + 1, q, 1], cur[q + 1], W[p, q + 1, 2],
                        nb)
        if real_row:
            for j in range(M):
                e = cur[2 * j + 2]
                for k in range(nb):
                    dC[i, j, k] = e[k]
        nxt, cur = cur, nxt
    for i in range(N - 1, -1, -1):                         # smoothing backward
        for j in range(M - 1, -1, -1):
            _smooth_back_cells(O[i, j], dC[i, j], dC[i + 1, j + 1], Ws[i + 1, j + 1, 0] if i + 1 < N and j + 1 < M
                               else Ws[0, 0, 0], dC[i + 1, j], Ws[i + 1, j, 1] if i + 1 < N else Ws[0, 0, 1],
                               dC[i, j + 1], Ws[i, j + 1, 2] if j + 1 < M else Ws[0, 0, 2], nb)
    for k in range(nb):                                   # scatter into the caller's layout
        b = b0 + k
        c = b // by
        a = b - c * by
        for i in range(N):
            for j in range(M):
                G4[c, i, a, j] = sign * O[i, j, k]


@njit(cache=True, parallel=True)
def _bwd_kernel(W, Ws, lp, lq, g, sign, E2, dC, O, G4):
    B = lp.shape[0]
    L = W.shape[4]
    for c in prange(W.shape[0]):
        _bwd_chunk(W[c], Ws[c], lp, lq, g, c * L, min(B, c * L + L) - c * L, sign, E2[c], dC[c], O[c], G4)


_POOL: dict = {}       # (shape, dtype) -> spare scratch arrays, so repeated calls reuse already-mapped pages


def _take(shape, dtype) -> np.ndarray:
    spare = _POOL.get((shape, np.dtype(dtype)))
    if spare:
        try:
            return spare.pop()
        except IndexError:
            pass
    return np.empty(shape, dtype)


def _give(*arrays) -> None:
    if len(_POOL) > 16:
        _POOL.clear()
    for a in arrays:
        spare = _POOL.setdefault((a.shape, a.dtype), [])
        if len(spare) < 2:
            spare.append(a)


def _lanes(batch: int) -> int:
    per_thread = -(-batch // max(1, numba.get_num_threads()))
    return int(max(1, min(LANES, per_thread)))


def forward(C4: torch.Tensor, sign: float, lp: torch.Tensor, lq: torch.Tensor, gamma: float, smooth_gamma: float,
            tau: float, need_grad: bool):
    """C4: (bx, N, by, M) CPU float32/float64 tensor; lp, lq: (bx*by,) lattice ends 2n+1, 2m+1 (1-based R)."""
    c4 = C4.detach()
    if not c4.is_contiguous():
        c4 = c4.contiguous()
    a = c4.numpy()
    bx, N, by, M = a.shape
    B = bx * by
    P, Q = 2 * N + 1, 2 * M + 1
    L = _lanes(B)
    nch = -(-B // L)
    dt = a.dtype
    lp_np = lp.to(torch.int64).contiguous().numpy()
    lq_np = lq.to(torch.int64).contiguous().numpy()
    Ct = _take((nch, N, M, L), dt)
    Ws = _take((nch, N, M, 3, L), dt)
    W = _take((nch, P + 2, Q + 2, 3, L), dt)
    R2 = _take((nch, 2, Q + 1, L), dt)
    rend = np.empty(B, np.float64)
    sc = dt.type                                          # scalars in the lanes' dtype: float32 math for float32
    big = sc(BIG32 if dt == np.float32 else BIG)
    _fwd_kernel(a, sc(sign), lp_np, lq_np, sc(smooth_gamma), sc(gamma), sc(tau), big, Ct, Ws, W, R2, rend)
    _give(Ct, R2)
    if not need_grad:
        _give(W, Ws)
    r = torch.from_numpy(rend).to(C4.dtype)
    return r, ((W, Ws, lp_np, lq_np, float(sign), a.shape) if need_grad else None)


def backward(ctx, grad_r: torch.Tensor) -> torch.Tensor:
    W, Ws, lp, lq, sign, shape = ctx
    bx, N, by, M = shape
    nch, _, Q2, _, L = W.shape
    dt = W.dtype
    g = grad_r.detach().to(torch.float64).contiguous().numpy()
    E2 = _take((nch, 2, Q2, L), dt)
    dC = _take((nch, N + 1, M + 1, L), dt)
    O = _take((nch, N, M, L), dt)
    G4 = np.empty(shape, dt)                              # handed to autograd: never pooled
    _bwd_kernel(W, Ws, lp, lq, g, sign, E2, dC, O, G4)
    _give(E2, dC, O)                                      # W, Ws stay with ctx (retain_graph may reuse them)
    return torch.from_numpy(G4)
