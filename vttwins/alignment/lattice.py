"""S2DTW's two cost transforms (docs/method.md §3 steps 2-3) and their analytic backward passes.

    Ct, w = smooth_forward(C, gamma_s)    # local neighbourhood smoothing, w: softmin weights (B, N, M, 3)
    L = weak_lattice(Ct, tau, ...)        # (B, 2N+1, 2M+1): real cells at odd/odd positions, tau elsewhere

Both are vectorised over the whole matrix (no recursion: the smoothing reads C, not Ct). Neighbour order in
every weight tensor is (diag, up, left) = ((i-1, j-1), (i-1, j), (i, j-1)).
"""

from __future__ import annotations

import math

import torch

INF = float("inf")


def softmin3(a: torch.Tensor, gamma: float) -> tuple[torch.Tensor, torch.Tensor]:
    """softmin_gamma over the last dim (size 3) and its weights; +inf arguments contribute nothing.

    gamma = 0 is the exact min with one-hot weights on the FIRST minimal argument (ties: diag, then up, then left).
    The max-shift keeps exp's argument <= 0, so this is finite for any gamma > 0 while one argument is finite.
    """
    m = a.amin(-1, keepdim=True)
    if gamma == 0:
        w = torch.nn.functional.one_hot(a.argmin(-1), 3).to(a.dtype)
        return m.squeeze(-1), w
    z = torch.exp((m - a) / gamma)
    s = z.sum(-1, keepdim=True)
    return (m - gamma * torch.log(s)).squeeze(-1), z / s


def smooth_neighbours(cost: torch.Tensor) -> torch.Tensor:
    """(B, N, M) -> (B, N, M, 3) neighbour costs (diag, up, left); out of range = +inf, all three 0 at (0, 0)."""
    b, n, m = cost.shape
    pad = cost.new_full((b, n + 1, m + 1), INF)
    pad[:, 1:, 1:] = cost
    nb = torch.stack([pad[:, :-1, :-1], pad[:, :-1, 1:], pad[:, 1:, :-1]], dim=-1)
    nb[:, 0, 0, :] = 0.0
    return nb


def smooth_forward(cost: torch.Tensor, gamma_s: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """C~_ij = C_ij + softmin_gs(C_{i-1,j-1}, C_{i-1,j}, C_{i,j-1}). Returns (C~, weights (B,N,M,3), softmin values)."""
    nb = smooth_neighbours(cost)
    val, w = softmin3(nb, gamma_s)
    return cost + val, w, val


def smooth_backward(grad: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """dL/dC from dL/dC~: identity plus each cell's weight share sent back to its three neighbours."""
    out = grad.clone()
    gw = grad.unsqueeze(-1) * w  # (B, N, M, 3)
    out[:, :-1, :-1] += gw[:, 1:, 1:, 0]  # (i, j) is the diag neighbour of (i+1, j+1)
    out[:, :-1, :] += gw[:, 1:, :, 1]  # up neighbour of (i+1, j)
    out[:, :, :-1] += gw[:, :, 1:, 2]  # left neighbour of (i, j+1)
    return out


def smooth_gamma_grad(
    grad: torch.Tensor, w: torch.Tensor, val: torch.Tensor, cost: torch.Tensor, gamma_s: float
) -> torch.Tensor:
    """Per-sample dL/dgamma_s = sum_ij grad_ij (softmin_ij - sum_r w_r a_r) / gamma_s  (0 when gamma_s = 0)."""
    if gamma_s == 0:
        return grad.new_zeros(grad.shape[0])
    nb = smooth_neighbours(cost).nan_to_num(posinf=0.0)  # inf neighbours have weight 0
    dval = (val - (w * nb).sum(-1)) / gamma_s
    return (grad * dval).sum((1, 2))


def weak_lattice(ct: torch.Tensor, tau: float) -> torch.Tensor:
    """(B, N, M) -> (B, 2N+1, 2M+1) lattice: L[2i+1, 2j+1] = C~_ij, every even row or column = tau."""
    b, n, m = ct.shape
    lat = ct.new_full((b, 2 * n + 1, 2 * m + 1), tau)
    lat[:, 1::2, 1::2] = ct
    return lat


def weak_lattice_backward(e: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """From dL/dlattice: (dL/dC~ (B, N, M), per-sample dL/dtau = sum over the dummy cells (B,))."""
    real = e[:, 1::2, 1::2]
    return real, e.sum((1, 2)) - real.sum((1, 2))


LN3 = math.log(3.0)


def s2dtw_lattice(
    cost: torch.Tensor, n: torch.Tensor, m: torch.Tensor, smooth: bool, weak: bool, smooth_gamma: float, tau: float
):
    """The cost -> DP-input steps of S2DTW (docs/method.md §3 steps 2-3): optional smoothing, optional weak lattice.

    Parameters
    ----------
    cost : (B, N, M) tensor. n, m : int tensors (B,) of the real lengths.
    smooth, weak : switch each transform on. smooth_gamma, tau : floats.

    Returns
    -------
    (lattice (B, P, Q), lp (B,), lq (B,), weights (B, N, M, 3) or None, softmin values (B, N, M) or None), with
    P, Q = 2N+1, 2M+1 and lp, lq = 2n+1, 2m+1 when weak, else N, M and n, m. The weights and values are what
    `smooth_backward` / `smooth_gamma_grad` need.
    """
    ct, ws, sval = cost, None, None
    if smooth:
        ct, ws, sval = smooth_forward(cost, smooth_gamma)
    lat = weak_lattice(ct, tau) if weak else ct
    lp, lq = (2 * n + 1, 2 * m + 1) if weak else (n, m)
    return lat, lp, lq, ws, sval
