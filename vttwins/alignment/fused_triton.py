"""Full S2DTW on the Triton backend (same contract as fused_numba.py): smoothing + weak lattice + soft-DTW.

    r, ctx = forward(C4, sign, lp, lq, gamma, smooth_gamma, tau, need_grad)   # C4: (bx, N, by, M) tensor
    G4 = backward(ctx, grad_r)                                                  # dL/dC4, same layout as C4

Pair b = c * by + a has the cost sign * C4[c, :, a, :] (the all-pairs product viewed as 4-D: the embeddings are
never copied per pair). The smoothing and its backward are a few whole-tensor torch operations (they are not
recursive: C~ reads C, not C~), and the DP kernel of dp_triton.py reads the weak lattice virtually (real cells
from C~, every other cell tau), so the (2N+1) x (2M+1) lattice is never built; its backward returns E at the real
cells only. float32 throughout (functional.py casts half inputs up before calling this).
"""

from __future__ import annotations

import torch

from . import dp_triton
from .lattice import smooth_backward, smooth_forward


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
    bx, N, by, M = C4.shape
    cost = (sign * C4.detach()).permute(0, 2, 1, 3).reshape(bx * by, N, M)
    ct, ws, _ = smooth_forward(cost, smooth_gamma)
    r, dctx = dp_triton.forward(ct.contiguous(), lp, lq, gamma, need_grad, weak=True, tau=tau)
    return r, ((dctx, ws, float(sign), C4.shape) if need_grad else None)


def backward(ctx, grad_r: torch.Tensor) -> torch.Tensor:
    dctx, ws, sign, shape = ctx
    bx, N, by, M = shape
    e = dp_triton.backward(dctx)  # (B, N, M) = dR / dC~ at the real cells
    dcost = smooth_backward(e * grad_r.to(e.dtype)[:, None, None], ws)
    return (sign * dcost).reshape(bx, by, N, M).permute(0, 2, 1, 3).contiguous()
