"""Pure-torch backend of the soft-DTW DP: vectorised over the anti-diagonals of all pairs; any device.

Same contract as every backend (see backends.py): forward(D, lp, lq, gamma, need_grad) -> (r_end, ctx),
backward(ctx) -> E. One launch group per anti-diagonal, so it is the portable reference, not the fast path.
"""

from __future__ import annotations

import torch

from .lattice import softmin3


def _diagonals(P: int, Q: int, device):
    """Flat indices (into a (P+2, Q+2) grid, 1-based cells) of each anti-diagonal d = p + q, d = 2..P+Q."""
    out = []
    for d in range(2, P + Q + 1):
        p = torch.arange(max(1, d - Q), min(P, d - 1) + 1, device=device)
        out.append((p, d - p))
    return out


def forward(D: torch.Tensor, lp: torch.Tensor, lq: torch.Tensor, gamma: float, need_grad: bool):
    """Anti-diagonal wavefront over all pairs at once. Memory: R (B, P+1, Q+1) and weights (B, P+2, Q+2, 3)."""
    B, P, Q = D.shape
    R = D.new_full((B, P + 1, Q + 1), float("inf"))
    R[:, 0, 0] = 0.0
    W = D.new_zeros((B, P + 2, Q + 2, 3)) if need_grad else None
    for p, q in _diagonals(P, Q, D.device):
        prev = torch.stack([R[:, p - 1, q - 1], R[:, p - 1, q], R[:, p, q - 1]], dim=-1)
        val, w = softmin3(prev, gamma)
        R[:, p, q] = D[:, p - 1, q - 1] + val
        if W is not None:
            W[:, p, q] = w
    r_end = R[torch.arange(B, device=D.device), lp, lq]
    return r_end, (W, lp, lq)


def backward(ctx) -> torch.Tensor:
    W, lp, lq = ctx
    B, P2, Q2, _ = W.shape
    P, Q = P2 - 2, Q2 - 2
    E = W.new_zeros((B, P2, Q2))
    E[torch.arange(B, device=W.device), lp, lq] = 1.0  # cells beyond an end never receive anything: E = 0 there
    for p, q in reversed(_diagonals(P, Q, W.device)):
        E[:, p, q] += (
            E[:, p + 1, q + 1] * W[:, p + 1, q + 1, 0]
            + E[:, p + 1, q] * W[:, p + 1, q, 1]
            + E[:, p, q + 1] * W[:, p, q + 1, 2]
        )
    return E[:, 1 : P + 1, 1 : Q + 1]
