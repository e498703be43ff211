"""The Triton backend (vttwins/alignment/dp_triton.py) against the numba and torch backends and brute force.

Without CUDA the kernels run under Triton's interpreter (TRITON_INTERPRET=1, set here before triton is imported)
on CPU tensors; with CUDA the same tests run on the GPU. Shapes stay tiny: the interpreter is slow."""

import os

import numpy as np
import pytest
import torch

if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")
triton = pytest.importorskip("triton")

from alignment_oracles import brute_force  # noqa: E402
from vttwins.alignment import backends, dp, s2dtw_matrix, set_backend  # noqa: E402

DEV = "cuda" if torch.cuda.is_available() else "cpu"
if DEV == "cpu" and os.environ.get("TRITON_INTERPRET") != "1":
    pytest.skip("no CUDA and TRITON_INTERPRET is not 1", allow_module_level=True)


def _run(D, lp, lq, gamma, backend):
    r, ctx = dp.forward(D, lp, lq, gamma, True, backend=backend)
    return r, dp.backward(ctx)


@pytest.mark.parametrize("gamma", [0.0, 1e-3, 0.1])
def test_triton_equals_torch_and_numba_ragged(gamma):
    """Ragged lengths (incl. 1), N != M; values and expected alignments, exactly zero beyond each end."""
    g = torch.Generator().manual_seed(7)
    D = torch.randn(4, 7, 5, generator=g)
    lp, lq = torch.tensor([7, 1, 4, 7]), torch.tensor([5, 3, 1, 2])
    r_t, e_t = _run(D.to(DEV), lp.to(DEV), lq.to(DEV), gamma, "triton")
    r_ref, e_ref = _run(D.double(), lp, lq, gamma, "torch")
    assert torch.allclose(r_t.cpu().double(), r_ref, atol=1e-4, rtol=1e-5)
    assert torch.allclose(e_t.cpu().double(), e_ref, atol=1e-4), (e_t.cpu().double() - e_ref).abs().max()
    if backends.numba_available():
        r_n, e_n = _run(D, lp, lq, gamma, "numba")
        assert torch.allclose(r_t.cpu(), r_n, atol=1e-4) and torch.allclose(e_t.cpu(), e_n, atol=1e-4)
    assert torch.all(e_t[1, 1:].cpu() == 0) and torch.all(e_t[2, :, 1:].cpu() == 0)


def test_triton_brute_force_and_gamma_to_zero():
    cost = torch.randn(1, 3, 4, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    one = torch.tensor([3]), torch.tensor([4])
    for gamma in (1.0, 1e-4):
        value, occ = brute_force(cost[0].numpy(), gamma)
        r, e = _run(cost.float().to(DEV), one[0].to(DEV), one[1].to(DEV), gamma, "triton")
        assert r.item() == pytest.approx(value, abs=1e-4)
        np.testing.assert_allclose(e[0].cpu().numpy(), occ, atol=1e-4)
    r0, e0 = _run(cost.float().to(DEV), one[0].to(DEV), one[1].to(DEV), 0.0, "triton")
    assert abs(r0.item() - r.item()) < 1e-3 and torch.allclose(e0, e, atol=1e-3)  # gamma -> 0 meets gamma = 0


def test_triton_tiles_long_diagonals(monkeypatch):
    """Diagonals longer than the tile (tile forced to 16, diagonals of 17): the tile loop must carry them."""
    from vttwins.alignment import dp_triton

    monkeypatch.setattr(dp_triton, "MAX_BLOCK", 16)
    D = torch.rand(2, 19, 17, generator=torch.Generator().manual_seed(1))
    lp, lq = torch.tensor([19, 18]), torch.tensor([17, 17])
    r_t, e_t = _run(D.to(DEV), lp.to(DEV), lq.to(DEV), 0.1, "triton")
    r_ref, e_ref = _run(D.double(), lp, lq, 0.1, "torch")
    assert torch.allclose(r_t.cpu().double(), r_ref, atol=1e-4)
    assert torch.allclose(e_t.cpu().double(), e_ref, atol=1e-4)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_triton_half_accumulates_in_float32(dtype):
    D = torch.rand(2, 6, 5, generator=torch.Generator().manual_seed(2)).to(dtype)
    l1, l2 = torch.tensor([6, 6]), torch.tensor([5, 5])
    r, e = _run(D.to(DEV), l1.to(DEV), l2.to(DEV), 0.1, "triton")
    r_ref, e_ref = _run(D.double(), l1, l2, 0.1, "torch")
    assert r.dtype == dtype and e.dtype == dtype
    assert torch.allclose(r.cpu().double(), r_ref, rtol=1e-2) and torch.allclose(e.cpu().double(), e_ref, atol=1e-2)


@pytest.mark.parametrize("kw", [{}, {"gamma": 1e-2, "smooth_gamma": 1.0, "tau": -0.3}])
def test_triton_fused_s2dtw_matrix_equals_torch(monkeypatch, kw):
    """The fused Triton S2DTW (virtual weak lattice) through the autograd Function: values and both gradients of
    s2dtw_matrix with ragged lengths and N != M equal the torch backend's general path."""
    from vttwins.alignment import fused_triton

    calls = []
    orig = fused_triton.forward
    monkeypatch.setattr(fused_triton, "forward", lambda *a: calls.append(1) or orig(*a))
    g = torch.Generator().manual_seed(4)
    x = torch.nn.functional.normalize(torch.randn(2, 3, 8, generator=g), dim=-1)
    y = torch.nn.functional.normalize(torch.randn(3, 2, 8, generator=g), dim=-1)
    out = {}
    for name, dev in (("triton", DEV), ("torch", "cpu")):
        xx, yy = x.clone().to(dev).requires_grad_(), y.clone().to(dev).requires_grad_()
        set_backend(name)
        try:
            S = s2dtw_matrix(xx, yy, x_lengths=torch.tensor([3, 2]), y_lengths=torch.tensor([2, 1, 2]), **kw)
            gx, gy = torch.autograd.grad((S * torch.arange(6.0).reshape(2, 3).to(dev)).sum(), (xx, yy))
        finally:
            set_backend("auto")
        out[name] = [t.detach().cpu() for t in (S, gx, gy)]
    assert len(calls) == 1
    for a, b in zip(out["triton"], out["torch"]):
        assert torch.allclose(a, b, atol=1e-4), (a - b).abs().max()


def test_triton_custom_op_has_fake_impl():
    """The custom ops trace with fake tensors (what torch.compile needs): shapes without running a kernel."""
    from torch._subclasses.fake_tensor import FakeTensorMode  # noqa: PLC0415 (test-only import)
    from vttwins.alignment import dp_triton

    with FakeTensorMode() as mode:
        D = mode.from_tensor(torch.zeros(3, 5, 4))
        lp = mode.from_tensor(torch.tensor([5, 5, 5]))
        r, wt = dp_triton.soft_dtw_fwd(D, lp, lp, 0.1, True, False, 0.0)
        e = dp_triton.soft_dtw_bwd(wt, lp, lp, D, False)
    assert tuple(r.shape) == (3,) and tuple(wt.shape) == (3, 8, 3, 6) and tuple(e.shape) == (3, 5, 4)
    torch.library.opcheck(
        torch.ops.vttwins.soft_dtw_fwd.default,
        (torch.rand(2, 4, 3).to(DEV), torch.tensor([4, 2]).to(DEV), torch.tensor([3, 3]).to(DEV), 0.1, True, True, 0.5),
        test_utils=("test_schema", "test_faketensor"),
    )
