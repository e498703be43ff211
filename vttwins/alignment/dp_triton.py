"""Triton backend of the soft-DTW DP (CUDA; CPU tensors too under TRITON_INTERPRET=1, which the tests use).

One program per pair walks the anti-diagonals d = p + q of its own (lp, lq) sub-lattice; each diagonal is cut into
BLOCK-wide tiles (so there is no length cap: a 4096-cell diagonal is 4 tiles of 1024), all cells of a tile in
parallel, a CTA barrier between diagonals. R lives in three rotating diagonal rows of a (B, 3, P+1) float32
scratch; predecessors outside the lattice are masked to +inf (no sentinels, no initialisation). The forward
stores each cell's three softmin weights skewed, Wt (B, P+Q-1, 3, P+1) float32, so the backward is the analytic
expected-alignment recursion E_pq = sum_succ E_succ * w_succ(pq), again one diagonal at a time, written straight
into E (B, P, Q) in D's dtype (zero beyond each pair's end). float16/bfloat16 costs are read and accumulated in
float32; values and E come back in the input dtype. gamma = 0: exact min, ties to diag, then up, then left.
The interpreter accepts more than the compiler: triton_compile.py compiles every launch of this file for sm_90 and
sm_80 on a CPU machine (tests/test_triton_compile.py); triton 3.6 and 3.9 are tested.

Both passes are `torch.library` custom ops (vttwins::soft_dtw_fwd / soft_dtw_bwd) with fake implementations, so
they trace under torch.compile. Same Python contract as every backend (backends.py): forward / backward.
(No `from __future__ import annotations` and no argument defaults in the ops: torch 2.4's custom_op reads the
annotations as types.)
"""

import torch
import triton
import triton.language as tl

# "+inf" of the float32 R rows: finite, so BIG - BIG is never a NaN. A tl.constexpr, because a @jit function may
# read a module global only when it is one (a plain float passes the interpreter and fails to compile).
BIG = tl.constexpr(1e30)
MAX_BLOCK = 1024  # tile width along a diagonal; longer diagonals loop over tiles


@triton.jit
def _softmin3(a, u, l, gamma, HARD: tl.constexpr):
    """softmin_gamma of three float32 blocks and the three weights (gamma = 0: one-hot on the first minimum)."""
    m = tl.minimum(a, tl.minimum(u, l))
    if HARD:
        wa = tl.where(a == m, 1.0, 0.0)
        wu = tl.where((u == m) & (a != m), 1.0, 0.0)
        return m, wa, wu, 1.0 - wa - wu
    ea = tl.exp((m - a) / gamma)
    eu = tl.exp((m - u) / gamma)
    el = tl.exp((m - l) / gamma)
    s = ea + eu + el
    return m - gamma * tl.log(s), ea / s, eu / s, el / s


@triton.jit
def fwd_kernel(
    D,
    LP,
    LQ,
    R,
    WT,
    REND,
    sdb,
    sdp,
    sdq,
    RW,
    NK,
    gamma,
    tau,
    HARD: tl.constexpr,
    STORE: tl.constexpr,
    WEAK: tl.constexpr,
    BLOCK: tl.constexpr,
):
    b = tl.program_id(0)
    P = tl.load(LP + b).to(tl.int32)
    Q = tl.load(LQ + b).to(tl.int32)
    rrow = R + b * 3 * RW
    wrow = WT + b * NK * 3 * RW
    offs = tl.arange(0, BLOCK)
    # `while`, not `for ... in range(...)`, over run-time bounds: triton 3.6's interpreter turns a range bound into
    # int(1-element array), an error under numpy 2.4; a while condition goes through bool(), fine on 3.6 and 3.9.
    d = tl.full([], 2, tl.int32)
    while d <= P + Q:
        lo, hi = tl.maximum(1, d - Q), tl.minimum(P, d - 1)
        lo1, hi1 = tl.maximum(1, d - 1 - Q), tl.minimum(P, d - 2)
        lo2, hi2 = tl.maximum(1, d - 2 - Q), tl.minimum(P, d - 3)
        r0, r1, r2 = rrow + (d % 3) * RW, rrow + ((d - 1) % 3) * RW, rrow + ((d - 2) % 3) * RW
        start = lo
        while start <= hi:
            p = start + offs
            mk = p <= hi
            a = tl.load(r2 + p - 1, mask=mk & (p - 1 >= lo2) & (p - 1 <= hi2), other=BIG)
            a = tl.where((d == 2) & (p == 1), 0.0, a)  # R_00 = 0
            u = tl.load(r1 + p - 1, mask=mk & (p - 1 >= lo1) & (p - 1 <= hi1), other=BIG)
            l = tl.load(r1 + p, mask=mk & (p >= lo1) & (p <= hi1), other=BIG)
            if WEAK:  # virtual weak lattice: cell (p, q) is real iff p, q even, cost D[(p-2)/2, (q-2)/2]; else tau
                real = mk & (p % 2 == 0) & ((d - p) % 2 == 0)
                c = tl.load(D + b * sdb + ((p - 2) // 2) * sdp + ((d - p - 2) // 2) * sdq, mask=real, other=0.0)
                c = tl.where(real, c.to(tl.float32), tau)
            else:
                c = tl.load(D + b * sdb + (p - 1) * sdp + (d - p - 1) * sdq, mask=mk, other=0.0).to(tl.float32)
            v, w0, w1, w2 = _softmin3(a, u, l, gamma, HARD)
            tl.store(r0 + p, c + v, mask=mk)
            if STORE:
                wk = wrow + (d - 2) * 3 * RW
                tl.store(wk + p, w0, mask=mk)
                tl.store(wk + RW + p, w1, mask=mk)
                tl.store(wk + 2 * RW + p, w2, mask=mk)
            start += BLOCK
        tl.debug_barrier()  # diagonal d done before d + 1
        d += 1
    last = tl.load(rrow + ((P + Q) % 3) * RW + P + offs, mask=offs == 0, other=0.0)
    tl.store(REND + b + offs, last, mask=offs == 0)


@triton.jit
def bwd_kernel(WT, LP, LQ, EB, OUT, sob, sop, soq, RW, NK, WEAK: tl.constexpr, BLOCK: tl.constexpr):
    b = tl.program_id(0)
    P = tl.load(LP + b).to(tl.int32)
    Q = tl.load(LQ + b).to(tl.int32)
    erow = EB + b * 3 * RW
    wrow = WT + b * NK * 3 * RW
    offs = tl.arange(0, BLOCK)
    d = P + Q
    while d >= 2:  # `while`: see fwd_kernel
        lo, hi = tl.maximum(1, d - Q), tl.minimum(P, d - 1)
        lo1, hi1 = tl.maximum(1, d + 1 - Q), tl.minimum(P, d)  # successors' diagonals (empty past end)
        lo2, hi2 = tl.maximum(1, d + 2 - Q), tl.minimum(P, d + 1)
        e0, e1, e2 = erow + (d % 3) * RW, erow + ((d + 1) % 3) * RW, erow + ((d + 2) % 3) * RW
        w1k, w2k = wrow + (d - 1) * 3 * RW, wrow + d * 3 * RW  # weights of diagonals d+1 and d+2
        start = lo
        while start <= hi:
            p = start + offs
            mk = p <= hi
            md = mk & (p + 1 >= lo2) & (p + 1 <= hi2)
            mu = mk & (p + 1 >= lo1) & (p + 1 <= hi1)
            ml = mk & (p >= lo1) & (p <= hi1)
            e = tl.where((p == P) & (d == P + Q), 1.0, 0.0)  # the seed dR_end / dR_end
            e += tl.load(e2 + p + 1, mask=md, other=0.0) * tl.load(w2k + p + 1, mask=md, other=0.0)
            e += tl.load(e1 + p + 1, mask=mu, other=0.0) * tl.load(w1k + RW + p + 1, mask=mu, other=0.0)
            e += tl.load(e1 + p, mask=ml, other=0.0) * tl.load(w1k + 2 * RW + p, mask=ml, other=0.0)
            tl.store(e0 + p, e, mask=mk)
            if WEAK:  # only the real cells' E leaves the kernel (dR/dC~)
                real = mk & (p % 2 == 0) & ((d - p) % 2 == 0)
                tl.store(
                    OUT + b * sob + ((p - 2) // 2) * sop + ((d - p - 2) // 2) * soq,
                    e.to(OUT.dtype.element_ty),
                    mask=real,
                )
            else:
                tl.store(OUT + b * sob + (p - 1) * sop + (d - p - 1) * soq, e.to(OUT.dtype.element_ty), mask=mk)
            start += BLOCK
        tl.debug_barrier()
        d -= 1


def _block(P: int, Q: int) -> int:
    return max(16, min(MAX_BLOCK, triton.next_power_of_2(min(P, Q))))


def _lattice(shape, weak: bool):
    _, N, M = shape
    return (2 * N + 1, 2 * M + 1) if weak else (N, M)


@torch.library.custom_op("vttwins::soft_dtw_fwd", mutates_args=())
def soft_dtw_fwd(
    D: torch.Tensor, lp: torch.Tensor, lq: torch.Tensor, gamma: float, need_grad: bool, weak: bool, tau: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """(D (B, N, M), lp, lq (B,) int64 lattice ends) -> (r_end (B,) float32, Wt (B, P+Q-1, 3, P+1) float32 or
    (1, 1, 3, 1)). weak: the DP runs on the (2N+1, 2M+1) weak lattice of D with dummy cost tau, never built."""
    B = D.shape[0]
    P, Q = _lattice(D.shape, weak)
    RW, NK = P + 1, P + Q - 1
    R = torch.empty((B, 3, RW), dtype=torch.float32, device=D.device)
    Wt = torch.empty((B, NK, 3, RW) if need_grad else (1, 1, 3, 1), dtype=torch.float32, device=D.device)
    rend = torch.empty(B, dtype=torch.float32, device=D.device)
    fwd_kernel[(B,)](
        D,
        lp,
        lq,
        R,
        Wt,
        rend,
        *D.stride(),
        RW,
        NK,
        float(gamma),
        float(tau),
        HARD=gamma == 0,
        STORE=need_grad,
        WEAK=weak,
        BLOCK=_block(P, Q),
    )
    return rend, Wt


@soft_dtw_fwd.register_fake
def _(D, lp, lq, gamma, need_grad, weak, tau):
    P, Q = _lattice(D.shape, weak)
    shape = (D.shape[0], P + Q - 1, 3, P + 1) if need_grad else (1, 1, 3, 1)
    return D.new_empty(D.shape[0], dtype=torch.float32), D.new_empty(shape, dtype=torch.float32)


@torch.library.custom_op("vttwins::soft_dtw_bwd", mutates_args=())
def soft_dtw_bwd(Wt: torch.Tensor, lp: torch.Tensor, lq: torch.Tensor, like: torch.Tensor, weak: bool) -> torch.Tensor:
    """Expected alignment E (B, N, M) in like's dtype (like: the cost D); weak: E at the real cells only."""
    B = like.shape[0]
    P, Q = _lattice(like.shape, weak)
    out = torch.zeros_like(like)
    EB = torch.empty((B, 3, P + 1), dtype=torch.float32, device=like.device)
    bwd_kernel[(B,)](Wt, lp, lq, EB, out, *out.stride(), P + 1, P + Q - 1, WEAK=weak, BLOCK=_block(P, Q))
    return out


@soft_dtw_bwd.register_fake
def _(Wt, lp, lq, like, weak):
    return torch.empty_like(like)


def forward(
    D: torch.Tensor,
    lp: torch.Tensor,
    lq: torch.Tensor,
    gamma: float,
    need_grad: bool,
    weak: bool = False,
    tau: float = 0.0,
):
    lp64, lq64 = lp.to(device=D.device, dtype=torch.int64), lq.to(device=D.device, dtype=torch.int64)
    rend, Wt = soft_dtw_fwd(D, lp64, lq64, float(gamma), bool(need_grad), bool(weak), float(tau))
    return rend.to(D.dtype), (Wt, lp64, lq64, D, weak)


def backward(ctx) -> torch.Tensor:
    Wt, lp, lq, D, weak = ctx
    return soft_dtw_bwd(Wt, lp, lq, D.detach(), weak)
