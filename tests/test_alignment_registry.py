"""The backend registry's recipe, followed once: a backend registered from a test serves soft-DTW end to end."""

from __future__ import annotations

import pytest
import torch

from vttwins.alignment import backends, soft_dtw
from vttwins.alignment import dp_torch

CALLS = {"forward": 0, "backward": 0}


# The toy backend's kernels: the torch backend's, counted (a module-level pair, as backends.py's contract asks).
def forward(D, lp, lq, gamma, need_grad):
    CALLS["forward"] += 1
    return dp_torch.forward(D, lp, lq, gamma, need_grad)


def backward(ctx):
    CALLS["backward"] += 1
    return dp_torch.backward(ctx)


@pytest.fixture
def toy_backend():
    name = "toy_counted"
    backends.BACKENDS[name] = backends.Backend(name, __name__, ("cpu",))  # the recipe's one registry line
    try:
        yield name
    finally:
        backends.set_backend("auto")
        del backends.BACKENDS[name]


def test_toy_backend_registered_from_a_test(toy_backend):
    cost = torch.randn(3, 5, 4, dtype=torch.float64, requires_grad=True)
    want = soft_dtw(cost, gamma=0.3)
    (g_want,) = torch.autograd.grad(want.sum(), cost)
    backends.set_backend(toy_backend)
    assert backends.resolve("cpu", torch.float64, (5, 4)).name == toy_backend
    before = dict(CALLS)
    got = soft_dtw(cost, gamma=0.3)
    (g_got,) = torch.autograd.grad(got.sum(), cost)
    assert CALLS["forward"] > before["forward"] and CALLS["backward"] > before["backward"]
    torch.testing.assert_close(got, want)
    torch.testing.assert_close(g_got, g_want)


def test_unknown_backend_names_the_choices():
    with pytest.raises(ValueError, match="backend must be 'auto' or one of"):
        backends.set_backend("no_such_backend")
