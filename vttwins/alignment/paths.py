"""What an alignment looks like: the expected alignment E (soft) and the best path (hard), for figures.

    al = soft_alignment(x, y)           # al.real: (B, N, M) occupancy of the real cells; al.lattice: (B, 2N+1, 2M+1)
    paths = hard_path(x, y)             # list of HardPath(pairs (K, 2), unmatched_x, unmatched_y, value)

Both run the same lattice as s2dtw and read E from the DP backward directly (no autograd).
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from . import dp
from .checks import check_any_scalar, check_lengths, check_pair_inputs, check_scalar
from .lattice import s2dtw_lattice


class Alignment(NamedTuple):
    real: torch.Tensor  # (B, N, M): expected occupancy of each real (clip, caption) cell
    lattice: torch.Tensor | None  # (B, 2N+1, 2M+1) occupancy of the whole weak lattice (dummy cells = skips)
    value: torch.Tensor  # (B,) the alignment value (== s2dtw)


class HardPath(NamedTuple):
    pairs: torch.Tensor  # (K, 2) int64 (i, j) of the matched real cells, in path order
    unmatched_x: torch.Tensor  # indices i < n that the path skipped (no real cell in row i)
    unmatched_y: torch.Tensor  # indices j < m that the path skipped
    value: float  # hard DTW value on the lattice


def _occupancy(x, y, gamma, smooth_gamma, tau, smooth, weak, x_lengths, y_lengths):
    check_pair_inputs(x, y, paired=True)
    B, N, _ = x.shape
    M = y.shape[1]
    n = check_lengths(x_lengths, "x_lengths", B, N, x.device)
    m = check_lengths(y_lengths, "y_lengths", B, M, x.device)
    g, gs, t = check_scalar(gamma, "gamma"), check_scalar(smooth_gamma, "smooth_gamma"), check_any_scalar(tau, "tau")
    with torch.no_grad():
        dt = torch.float32 if x.dtype in (torch.float16, torch.bfloat16) else x.dtype
        cost = -torch.bmm(x.to(dt), y.to(dt).transpose(1, 2))
        lat, lp, lq, _, _ = s2dtw_lattice(cost, n, m, smooth, weak, gs, t)
        r, ctx = dp.forward(lat.contiguous(), lp, lq, g, True)
        e = dp.backward(ctx).to(dt)
    return e, r, n, m


def soft_alignment(
    x, y, gamma=0.1, smooth_gamma=0.1, tau=0.5, smooth=True, weak=True, x_lengths=None, y_lengths=None
) -> Alignment:
    """Expected alignment E = dR/dL of s2dtw (same options): `real` (B, N, M), `lattice` when weak, `value` (B,).

    Each entry of E is the probability (under the Gibbs distribution over paths at temperature gamma) that the
    path visits that cell; padded cells are 0.
    """
    e, r, _, _ = _occupancy(x, y, gamma, smooth_gamma, tau, smooth, weak, x_lengths, y_lengths)
    if weak:
        return Alignment(e[:, 1::2, 1::2], e, r)
    return Alignment(e, None, r)


def hard_path(
    x, y, smooth_gamma=0.1, tau=0.5, smooth=True, weak=True, x_lengths=None, y_lengths=None
) -> list[HardPath]:
    """Best (gamma = 0) path per pair on s2dtw's lattice: matched (i, j) pairs and the skipped clips/captions.

    Ties are broken deterministically towards the diagonal, then (i-1, j), then (i, j-1).
    """
    e, r, n, m = _occupancy(x, y, 0.0, smooth_gamma, tau, smooth, weak, x_lengths, y_lengths)
    real = e[:, 1::2, 1::2] if weak else e
    out = []
    for b in range(real.shape[0]):
        nb, mb = int(n[b]), int(m[b])
        pairs = (real[b, :nb, :mb] > 0.5).nonzero()  # row-major order == path order for monotone paths
        used_x = torch.zeros(nb, dtype=torch.bool, device=x.device)
        used_y = torch.zeros(mb, dtype=torch.bool, device=x.device)
        used_x[pairs[:, 0]] = True
        used_y[pairs[:, 1]] = True
        out.append(HardPath(pairs, (~used_x).nonzero().flatten(), (~used_y).nonzero().flatten(), float(r[b])))
    return out
