"""Soft-DTW dynamic programme on a batch of cost lattices: forward values and the expected alignment E.

    r_end, ctx = forward(D, lp, lq, gamma, need_grad)   # D: (B, P, Q); pair b ends at (lp[b], lq[b]) (1-based)
    E = backward(ctx)                                   # (B, P, Q) = dR_end / dD, exactly 0 beyond each end

Recursion (Cuturi & Blondel 2017): R_00 = 0, R_p0 = R_0q = +inf,
R_pq = D_{p-1,q-1} + softmin_gamma(R_{p-1,q-1}, R_{p-1,q}, R_{p,q-1}). The forward keeps each cell's three softmin
weights, so the backward E_pq = sum_succ E_succ * w_succ(pq) is multiply-adds only (that is the analytic
expected-alignment recursion, never autograd through the loop). gamma = 0: exact min; ties go to the first of
(diag, up, left), so the gradient is the indicator of one best path, chosen deterministically.

The kernels live in one module per backend; backends.py is the registry that picks one (`resolve`).
"""

from __future__ import annotations

import torch

from . import backends


def forward(
    D: torch.Tensor, lp: torch.Tensor, lq: torch.Tensor, gamma: float, need_grad: bool, backend: str | None = None
):
    """Run the backend chosen for D (explicit `backend` name > set_backend setting > "auto")."""
    be = backends.resolve(D.device, D.dtype, tuple(D.shape), backend)
    r, ctx = be.load().forward(D, lp, lq, gamma, need_grad)
    return r, (be, ctx)


def backward(ctx) -> torch.Tensor:
    be, inner = ctx
    return be.load().backward(inner)
