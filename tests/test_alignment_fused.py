"""The fused numba S2DTW kernel (vttwins/alignment/fused_numba.py) against the oracles and the general path."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from alignment_oracles import brute_force, spec_lattice, spec_s2dtw, spec_smooth
from vttwins.alignment import s2dtw, s2dtw_matrix, set_backend
from vttwins.alignment import backends
from vttwins.alignment import functional as fn_module

pytestmark = pytest.mark.skipif(not backends.numba_available(), reason="numba not importable")


def unit(*shape, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    return torch.nn.functional.normalize(torch.randn(*shape, generator=g, dtype=dtype), dim=-1)


@pytest.fixture
def count_fused(monkeypatch):
    """Counts calls of the fused Function, so each test proves it ran on the fused kernel."""
    calls = []
    orig = fn_module._FusedS2DTW.apply

    def apply(*args):
        calls.append(1)
        return orig(*args)

    monkeypatch.setattr(fn_module._FusedS2DTW, "apply", apply)
    set_backend("auto")
    yield calls
    set_backend("auto")


def _matrix_and_grads(x, y, xl, yl, w, **kw):
    xx, yy = x.clone().requires_grad_(), y.clone().requires_grad_()
    S = s2dtw_matrix(xx, yy, x_lengths=xl, y_lengths=yl, **kw)
    gx, gy = torch.autograd.grad((S * w).sum(), (xx, yy))
    return S.detach(), gx, gy


@pytest.mark.parametrize("dtype,tol", [(torch.float64, 1e-10), (torch.float32, 5e-5)])
@pytest.mark.parametrize("kw", [{}, {"gamma": 1e-2, "smooth_gamma": 1.0, "tau": -0.3}, {"gamma": 3.0, "tau": 2.0}])
def test_fused_matrix_equals_torch_backend(count_fused, dtype, tol, kw):
    """> 64 pairs (several chunks, a partial last one), ragged lengths, N != M; values and both gradients."""
    bx, by, n, m = 9, 11, 6, 5
    x, y = unit(bx, n, 16, seed=1, dtype=dtype), unit(by, m, 16, seed=2, dtype=dtype)
    g = torch.Generator().manual_seed(3)
    xl, yl = torch.randint(1, n + 1, (bx,), generator=g), torch.randint(1, m + 1, (by,), generator=g)
    w = torch.randn(bx, by, generator=g, dtype=dtype)
    fused = _matrix_and_grads(x, y, xl, yl, w, **kw)
    assert len(count_fused) == 1
    set_backend("torch")
    ref = _matrix_and_grads(x, y, xl, yl, w, **kw)
    for a, b in zip(fused, ref):
        assert torch.allclose(a, b, rtol=tol, atol=tol), (a - b).abs().max()


def test_fused_paired_equals_spec_and_brute_force(count_fused):
    x, y = unit(3, 3, 8, seed=4), unit(3, 2, 8, seed=5)
    r = s2dtw(x, y, gamma=0.3, smooth_gamma=0.2, tau=0.4)
    assert len(count_fused) == 1
    for b in range(3):
        xb, yb = x[b].numpy(), y[b].numpy()
        assert abs(r[b].item() - spec_s2dtw(xb, yb, gamma=0.3, gamma_s=0.2, tau=0.4)) < 1e-10
        lat = spec_lattice(spec_smooth(-xb @ yb.T, 0.2), 0.4)
        value, _ = brute_force(lat, 0.3)
        assert abs(r[b].item() - value) < 1e-10


def test_fused_gradcheck(count_fused):
    x = unit(2, 3, 4, seed=6).requires_grad_()
    y = unit(3, 4, 4, seed=7).requires_grad_()
    f = lambda a, b: s2dtw_matrix(
        a,
        b,
        gamma=0.3,
        smooth_gamma=0.2,  # noqa: E731
        x_lengths=torch.tensor([3, 2]),
        y_lengths=torch.tensor([4, 3, 2]),
    )
    assert torch.autograd.gradcheck(f, (x, y))
    assert len(count_fused) > 0


def test_fused_retain_graph_and_threads(count_fused):
    import numba

    x, y = unit(8, 8, 32, seed=8).requires_grad_(), unit(8, 8, 32, seed=9).requires_grad_()
    S = s2dtw_matrix(x, y)
    (g1,) = torch.autograd.grad(S.sum(), x, retain_graph=True)
    s2dtw_matrix(x, y).sum().backward()  # another call in between reuses the scratch pool
    (g2,) = torch.autograd.grad(S.sum(), x)
    assert torch.equal(g1, g2)
    old = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        S1 = s2dtw_matrix(x, y)
        (g3,) = torch.autograd.grad(S1.sum(), x)
    finally:
        numba.set_num_threads(old)
    assert torch.allclose(S1, S, atol=1e-12) and torch.allclose(g3, g1, atol=1e-12)


def test_fused_not_used_for_learnable_or_hard(count_fused):
    x, y = unit(2, 3, 4, seed=10), unit(2, 3, 4, seed=11)
    s2dtw(x, y, gamma=torch.tensor(0.1, dtype=torch.float64, requires_grad=True))
    s2dtw(x, y, gamma=0.0)
    s2dtw(x, y, smooth_gamma=0.0)
    s2dtw(x, y, smooth=False)
    assert count_fused == []
    s2dtw(x, y)
    assert count_fused == [1]


def test_fused_float32_values_close_to_float64(count_fused):
    x, y = unit(16, 8, 64, seed=12), unit(16, 8, 64, seed=13)
    S64 = s2dtw_matrix(x, y)
    S32 = s2dtw_matrix(x.float(), y.float())
    assert S32.dtype == torch.float32
    assert np.allclose(S32.double().numpy(), S64.numpy(), rtol=1e-5, atol=2e-5)
