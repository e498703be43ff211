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
The forward keeps nothing; the backward reruns each chunk's forward keeping the lattice softmin weights and the
smoothing weights in per-thread scratch (cache-resident), then runs the expected-alignment recursion on two
rows, collects E at the real cells, applies the smoothing backward and scatters sign * dC straight into the
C4 layout. Learnable gamma / smooth_gamma / tau, gamma = 0 and smooth_gamma = 0 are not handled here
(functional.py uses the general path for them). Note: numba's cache keys on this file only; the float32/64 exp
and log come from dp_numba.py, so after editing that file clear __pycache__ (numba's *.nbi/*.nbc) by hand.
"""

from __future__ import annotations

import math

import numba
import numpy as np
import torch
from numba import njit, prange

from .dp_numba import BIG, BIG32, ONE, expn, logn
from .dp_numba import cells_soft as _dp_cells, cells_soft_value as _dp_cells_value  # same cell maths

LN3 = math.log(3.0)
LANES = 64


@njit(fastmath=True, error_model="numpy", cache=True)
def _smooth_cells(cd, cu, cl, cc, w0, w1, w2, gs, inv_gs, nb):
    """cc += softmin_gs(cd, cu, cl) for nb lanes (interior cells: all three neighbours finite); weights kept."""
    for k in range(nb):
        a, u, l = cd[k], cu[k], cl[k]
        m = min(a, min(u, l))
        ea = expn((m - a) * inv_gs)
        eu = expn((m - u) * inv_gs)
        el = expn((m - l) * inv_gs)
        s = ea + eu + el
        cc[k] = cc[k] + (m - gs * logn(s))
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
        ea = expn((m - a) * inv_g)
        eu = expn((m - u) * inv_g)
        el = expn((m - l) * inv_g)
        s = ea + eu + el
        cc[k] = tau + m - gamma * logn(s)
        inv = ONE / s
        w0[k] = ea * inv
        w1[k] = eu * inv
        w2[k] = el * inv


@njit(fastmath=True, error_model="numpy", cache=True)
def _dp_cells_tau_value(pa, pu, cl, cc, tau, gamma, inv_g, nb):
    """Forward-only R cell (no weights kept), dummy cost tau."""
    for k in range(nb):
        a, u, l = pa[k], pu[k], cl[k]
        m = min(a, min(u, l))
        s = expn((m - a) * inv_g) + expn((m - u) * inv_g) + expn((m - l) * inv_g)
        cc[k] = tau + m - gamma * logn(s)


@njit(fastmath=True, error_model="numpy", cache=True)
def _fwd_chunk(C4, sign, b0, nb, lp, lq, gs, gamma, tau, big, Ct, Ws, W, R2, rend, store):
    """Ct: (N, M, L) scratch; Ws: (N, M, 3, L); W: (P+2, Q+2, 3, L); R2: (2, Q+1, L); all in the input dtype."""
    _, N, by, M = C4.shape
    P, Q = 2 * N + 1, 2 * M + 1
    for k in range(nb):  # gather (pairs into lanes)
        b = b0 + k
        c = b // by
        a = b - c * by
        for i in range(N):
            for j in range(M):
                Ct[i, j, k] = sign * C4[c, i, a, j]
    inv_gs = ONE / gs
    third = 1.0 / 3.0
    for i in range(N - 1, 0, -1):  # smoothing in place, reverse order
        for j in range(M - 1, 0, -1):
            _smooth_cells(
                Ct[i - 1, j - 1],
                Ct[i - 1, j],
                Ct[i, j - 1],
                Ct[i, j],
                Ws[i, j, 0],
                Ws[i, j, 1],
                Ws[i, j, 2],
                gs,
                inv_gs,
                nb,
            )
        for k in range(nb):  # first column: only the up neighbour
            Ct[i, 0, k] += Ct[i - 1, 0, k]
            Ws[i, 0, 0, k] = 0.0
            Ws[i, 0, 1, k] = 1.0
            Ws[i, 0, 2, k] = 0.0
    for j in range(M - 1, 0, -1):  # first row: only the left neighbour
        for k in range(nb):
            Ct[0, j, k] += Ct[0, j - 1, k]
            Ws[0, j, 0, k] = 0.0
            Ws[0, j, 1, k] = 0.0
            Ws[0, j, 2, k] = 1.0
    for k in range(nb):  # (0, 0): three zero neighbours
        Ct[0, 0, k] -= gs * LN3
        Ws[0, 0, 0, k] = third
        Ws[0, 0, 1, k] = third
        Ws[0, 0, 2, k] = third
    # weak-lattice soft-DTW; W's extra row P+1 and column Q+1 are zeros for the backward
    if store:
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
        real_row = (p % 2) == 0  # lattice row p-1 odd
        i = (p - 2) // 2
        for q in range(1, Q + 1):
            real = real_row and (q % 2) == 0
            if store:
                wq = W[p, q]
                if real:
                    _dp_cells(
                        prev[q - 1],
                        prev[q],
                        cur[q - 1],
                        cur[q],
                        Ct[i, (q - 2) // 2],
                        wq[0],
                        wq[1],
                        wq[2],
                        gamma,
                        inv_g,
                        nb,
                    )
                else:
                    _dp_cells_tau(prev[q - 1], prev[q], cur[q - 1], cur[q], tau, wq[0], wq[1], wq[2], gamma, inv_g, nb)
            elif real:
                _dp_cells_value(prev[q - 1], prev[q], cur[q - 1], cur[q], Ct[i, (q - 2) // 2], gamma, inv_g, nb)
            else:
                _dp_cells_tau_value(prev[q - 1], prev[q], cur[q - 1], cur[q], tau, gamma, inv_g, nb)
        for k in range(nb):
            if lp[b0 + k] == p:
                rend[b0 + k] = cur[lq[b0 + k], k]
        prev, cur = cur, prev
        for k in range(nb):
            cur[0, k] = big


@njit(cache=True, parallel=True)
def _fwd_kernel(C4, sign, lp, lq, gs, gamma, tau, big, nch, Ct, Ws, W, R2, rend):
    B = lp.shape[0]
    L = Ct.shape[3]
    T = Ct.shape[0]
    for t in prange(T):
        for c in range(t, nch, T):
            _fwd_chunk(
                C4,
                sign,
                c * L,
                min(B, c * L + L) - c * L,
                lp,
                lq,
                gs,
                gamma,
                tau,
                big,
                Ct[t],
                Ws[t],
                W[t],
                R2[t],
                rend,
                False,
            )


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
        for k in range(nb):  # the seed: dL/dR_end = g[b] at the pair's end cell
            if lp[b0 + k] == p:
                cur[lq[b0 + k], k] = g[b0 + k]
        for q in range(Q, 0, -1):
            _back_cells(cur[q], nxt[q + 1], W[p + 1, q + 1, 0], nxt[q], W[p + 1, q, 1], cur[q + 1], W[p, q + 1, 2], nb)
        if real_row:
            for j in range(M):
                e = cur[2 * j + 2]
                for k in range(nb):
                    dC[i, j, k] = e[k]
        nxt, cur = cur, nxt
    for i in range(N - 1, -1, -1):  # smoothing backward
        for j in range(M - 1, -1, -1):
            _smooth_back_cells(
                O[i, j],
                dC[i, j],
                dC[i + 1, j + 1],
                Ws[i + 1, j + 1, 0] if i + 1 < N and j + 1 < M else Ws[0, 0, 0],
                dC[i + 1, j],
                Ws[i + 1, j, 1] if i + 1 < N else Ws[0, 0, 1],
                dC[i, j + 1],
                Ws[i, j + 1, 2] if j + 1 < M else Ws[0, 0, 2],
                nb,
            )
    for k in range(nb):  # scatter into the caller's layout
        b = b0 + k
        c = b // by
        a = b - c * by
        for i in range(N):
            for j in range(M):
                G4[c, i, a, j] = sign * O[i, j, k]


@njit(cache=True, parallel=True)
def _bwd_kernel(C4, sign, lp, lq, gs, gamma, tau, big, g, nch, Ct, Ws, W, R2, rend, E2, dC, O, G4):
    """Per chunk: rerun the forward keeping the weights in per-thread scratch (L2-resident), then the backward."""
    B = lp.shape[0]
    L = Ct.shape[3]
    T = Ct.shape[0]
    for t in prange(T):
        for c in range(t, nch, T):
            b0 = c * L
            nb = min(B, b0 + L) - b0
            _fwd_chunk(C4, sign, b0, nb, lp, lq, gs, gamma, tau, big, Ct[t], Ws[t], W[t], R2[t], rend, True)
            _bwd_chunk(W[t], Ws[t], lp, lq, g, b0, nb, sign, E2[t], dC[t], O[t], G4)


_POOL: dict = {}  # (shape, dtype) -> spare scratch arrays, so repeated calls reuse already-mapped pages


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


def _scratch(dt, T, N, M, L):
    P, Q = 2 * N + 1, 2 * M + 1
    return (
        _take((T, N, M, L), dt),
        _take((T, N, M, 3, L), dt),
        _take((T, P + 2, Q + 2, 3, L), dt),
        _take((T, 2, Q + 1, L), dt),
    )


def _scalars(dt, sign, smooth_gamma, gamma, tau):
    sc = dt.type  # scalars in the lanes' dtype: float32 math for float32
    return sc(sign), sc(smooth_gamma), sc(gamma), sc(tau), sc(BIG32 if dt == np.float32 else BIG)


def forward(
    C4: torch.Tensor,
    sign: float,
    lp: torch.Tensor,
    lq: torch.Tensor,
    gamma: float,
    smooth_gamma: float,
    tau: float,
    need_grad: bool,
):
    """C4: (bx, N, by, M) CPU float32/float64 tensor; lp, lq: (bx*by,) lattice ends 2n+1, 2m+1 (1-based R).

    Stores nothing for the backward but the (already existing) costs: the backward reruns each chunk's forward
    with the weights kept in per-thread scratch, which stays in cache (reading weights back from memory was
    slower than recomputing them on this machine)."""
    c4 = C4.detach()
    if not c4.is_contiguous():
        c4 = c4.contiguous()
    a = c4.numpy()
    bx, N, by, M = a.shape
    B = bx * by
    L = _lanes(B)
    nch = -(-B // L)
    T = max(1, min(numba.get_num_threads(), nch))
    dt = a.dtype
    lp_np = lp.to(torch.int64).contiguous().numpy()
    lq_np = lq.to(torch.int64).contiguous().numpy()
    scr = _scratch(dt, T, N, M, L)
    rend = np.empty(B, np.float64)
    s, gs, g, t, big = _scalars(dt, sign, smooth_gamma, gamma, tau)
    _fwd_kernel(a, s, lp_np, lq_np, gs, g, t, big, nch, *scr, rend)
    _give(*scr)
    r = torch.from_numpy(rend).to(C4.dtype)
    return r, ((a, lp_np, lq_np, float(sign), float(smooth_gamma), float(gamma), float(tau)) if need_grad else None)


def backward(ctx, grad_r: torch.Tensor) -> torch.Tensor:
    a, lp, lq, sign, smooth_gamma, gamma, tau = ctx
    bx, N, by, M = a.shape
    B = bx * by
    L = _lanes(B)
    nch = -(-B // L)
    T = max(1, min(numba.get_num_threads(), nch))
    dt = a.dtype
    g = grad_r.detach().to(torch.float64).contiguous().numpy()
    scr = _scratch(dt, T, N, M, L)
    Q2 = 2 * M + 3
    E2 = _take((T, 2, Q2, L), dt)
    dC = _take((T, N + 1, M + 1, L), dt)
    O = _take((T, N, M, L), dt)
    rend = np.empty(B, np.float64)
    G4 = np.empty(a.shape, dt)  # handed to autograd: never pooled
    s, gs, gm, t, big = _scalars(dt, sign, smooth_gamma, gamma, tau)
    _bwd_kernel(a, s, lp, lq, gs, gm, t, big, g, nch, *scr, rend, E2, dC, O, G4)
    _give(*scr, E2, dC, O)
    return torch.from_numpy(G4)
