"""The skewed long-lattice numba kernel (vttwins/alignment/dp_skew.py) against brute force, the scalar DP oracle
and the torch backend: values and expected alignments, ragged lengths, N != M, gamma = 0 tie rule."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from alignment_oracles import brute_force, scalar_soft_dtw
from vttwins.alignment import backends, dp, soft_dtw

pytestmark = pytest.mark.skipif(not backends.numba_available(), reason="numba not importable")


@pytest.mark.parametrize("gamma", [0.0, 1e-2, 1.0])
@pytest.mark.parametrize("shape", [(1, 1), (1, 4), (4, 1), (3, 5), (4, 4)])
def test_skew_brute_force(gamma, shape):
    cost = torch.randn(1, *shape, generator=torch.Generator().manual_seed(sum(shape)), dtype=torch.float64)
    value, occ = brute_force(cost[0].numpy(), gamma)
    r, ctx = dp.forward(cost, torch.tensor([shape[0]]), torch.tensor([shape[1]]), gamma, True, backend="numba_skew")
    e = dp.backward(ctx)
    assert r.item() == pytest.approx(value, rel=1e-10, abs=1e-10)
    if gamma > 0 or np.isclose(occ.max(), 1.0):  # gamma = 0 with tied best paths: see the tie test
        np.testing.assert_allclose(e[0].numpy(), occ, rtol=1e-7, atol=1e-9)


def test_skew_hard_ties_follow_documented_rule():
    """All-zero cost: every path ties; the rule (diag, then up, then left) picks the diagonal, then the up steps."""
    r, ctx = dp.forward(
        torch.zeros(1, 4, 3, dtype=torch.float64), torch.tensor([4]), torch.tensor([3]), 0.0, True, backend="numba_skew"
    )
    r2, ctx2 = dp.forward(
        torch.zeros(1, 4, 3, dtype=torch.float64), torch.tensor([4]), torch.tensor([3]), 0.0, True, backend="torch"
    )
    assert torch.equal(dp.backward(ctx), dp.backward(ctx2))
    assert dp.backward(ctx).sum().item() == 4.0  # one path of 4 cells (3 diagonal steps + 1 up)


@pytest.mark.parametrize("dtype,tol", [(torch.float64, 1e-10), (torch.float32, 2e-4)])
@pytest.mark.parametrize("gamma", [0.0, 1e-3, 0.1, 10.0])
def test_skew_equals_torch_ragged(dtype, tol, gamma):
    g = torch.Generator().manual_seed(5)
    D = torch.randn(6, 23, 17, generator=g, dtype=dtype)
    lp, lq = torch.tensor([23, 1, 9, 23, 5, 17]), torch.tensor([17, 8, 1, 3, 17, 17])
    r1, c1 = dp.forward(D, lp, lq, gamma, True, backend="torch")
    r2, c2 = dp.forward(D, lp, lq, gamma, True, backend="numba_skew")
    e1, e2 = dp.backward(c1), dp.backward(c2)
    assert torch.allclose(r1, r2, rtol=tol, atol=tol)
    assert torch.allclose(e1, e2, rtol=tol, atol=tol), (e1 - e2).abs().max()
    for b in range(6):  # exactly zero beyond each end
        assert torch.all(e2[b, lp[b] :] == 0) and torch.all(e2[b, :, lq[b] :] == 0)


def test_skew_long_lattice_auto_and_scalar_oracle():
    """A lattice above SKEW_MIN_SIDE goes to the skewed kernel under "auto"; its value equals the scalar DP."""
    n, m = backends.SKEW_MIN_SIDE + 8, backends.SKEW_MIN_SIDE + 1
    assert backends.get_backend("cpu", (n, m)) == "numba_skew"
    cost = torch.rand(2, n, m, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    cost.requires_grad_()
    r = soft_dtw(cost, gamma=0.1, x_lengths=torch.tensor([n, n - 30]))
    (e,) = torch.autograd.grad(r.sum(), cost)
    assert r[0].item() == pytest.approx(scalar_soft_dtw(cost[0].detach().numpy(), 0.1), rel=1e-10)
    assert r[1].item() == pytest.approx(scalar_soft_dtw(cost[1, : n - 30].detach().numpy(), 0.1), rel=1e-10)
    assert torch.all(e[1, n - 30 :] == 0) and torch.allclose(e[0, -1, -1], torch.tensor(1.0, dtype=torch.float64))
