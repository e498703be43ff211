"""Soft-DTW dynamic programme on a batch of cost lattices: forward values and the expected alignment E.

    r_end, ctx = forward(D, lp, lq, gamma, need_grad)   # D: (B, P, Q); pair b ends at (lp[b], lq[b]) (1-based)
    E = backward(ctx)                                   # (B, P, Q) = dR_end / dD, exactly 0 beyond each end

Recursion (Cuturi & Blondel 2017): R_00 = 0, R_p0 = R_0q = +inf,
R_pq = D_{p-1,q-1} + softmin_gamma(R_{p-1,q-1}, R_{p-1,q}, R_{p,q-1}). The forward keeps each cell's three softmin
weights, so the backward E_pq = sum_succ E_succ * w_succ(pq) is multiply-adds only (that is the analytic
expected-alignment recursion, never autograd through the loop). gamma = 0: exact min; ties go to the first of
(diag, up, left), so the gradient is the indicator of one best path, chosen deterministically.

Backends: "torch" (this file; vectorised over the anti-diagonals of all pairs; any device) and "numba"
(dp_numba.py; CPU only; imported lazily). `select_backend` picks one and says why.
"""
from __future__ import annotations

import logging

import torch

from .lattice import softmin3

log = logging.getLogger(__name__)

_BACKEND = "auto"
_NUMBA_STATE: dict = {}


def set_backend(name: str) -> None:
    """"auto" (numba for CPU tensors when numba imports, else torch), "torch" or "numba" (error if unavailable)."""
    global _BACKEND
    if name not in ("auto", "torch", "numba"):
        raise ValueError(f"backend must be 'auto', 'torch' or 'numba', got {name!r}")
    if name == "numba" and not numba_available():
        raise RuntimeError(f"numba backend requested but numba cannot be imported: {_NUMBA_STATE.get('error')}")
    _BACKEND = name


def get_backend() -> str:
    return _BACKEND


def numba_available() -> bool:
    """Import the numba kernels once; remember why it failed (logged at WARNING once)."""
    if "module" not in _NUMBA_STATE:
        try:
            from . import dp_numba
            _NUMBA_STATE["module"] = dp_numba
        except ImportError as exc:  # numba missing or broken: explicit fallback, reported
            _NUMBA_STATE["module"] = None
            _NUMBA_STATE["error"] = repr(exc)
            log.warning("vttwins.alignment: numba backend unavailable (%s); using the torch backend", exc)
    return _NUMBA_STATE["module"] is not None


def fused_available() -> bool:
    """The fused S2DTW numba kernel (fused_numba.py), imported once after the numba backend."""
    if "fused" not in _NUMBA_STATE:
        _NUMBA_STATE["fused"] = None
        if numba_available():
            from . import fused_numba
            _NUMBA_STATE["fused"] = fused_numba
    return _NUMBA_STATE["fused"] is not None


def select_backend(device: torch.device) -> str:
    """The backend used for tensors on `device` under the current setting."""
    if _BACKEND == "torch":
        return "torch"
    if device.type != "cpu":
        if _BACKEND == "numba":
            raise RuntimeError(f"numba backend set but the tensors are on {device}; use 'auto' or 'torch'")
        return "torch"
    return "numba" if numba_available() else "torch"


def forward(D, lp, lq, gamma: float, need_grad: bool, backend: str | None = None):
    backend = backend or select_backend(D.device)
    if backend == "numba":
        return _NUMBA_STATE["module"].forward(D, lp, lq, gamma, need_grad)
    return torch_forward(D, lp, lq, gamma, need_grad)


def backward(ctx):
    if ctx[0] == "numba":
        return _NUMBA_STATE["module"].backward(ctx)
    return torch_backward(ctx)


def _diagonals(P: int, Q: int, device):
    """Flat indices (into a (P+2, Q+2) grid, 1-based cells) of each anti-diagonal d = p + q, d = 2..P+Q."""
    out = []
    for d in range(2, P + Q + 1):
        p = torch.arange(max(1, d - Q), min(P, d - 1) + 1, device=device)
        out.append((p, d - p))
    return out


def torch_forward(D: torch.Tensor, lp: torch.Tensor, lq: torch.Tensor, gamma: float, need_grad: bool):
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
    return r_end, ("torch", W, lp, lq)


def torch_backward(ctx) -> torch.Tensor:
    _, W, lp, lq = ctx
    B, P2, Q2, _ = W.shape
    P, Q = P2 - 2, Q2 - 2
    E = W.new_zeros((B, P2, Q2))
    E[torch.arange(B, device=W.device), lp, lq] = 1.0   # cells beyond an end never receive anything: E = 0 there
    for p, q in reversed(_diagonals(P, Q, W.device)):
        E[:, p, q] += (E[:, p + 1, q + 1] * W[:, p + 1, q + 1, 0] + E[:, p + 1, q] * W[:, p + 1, q, 1]
                       + E[:, p, q + 1] * W[:, p, q + 1, 2])
    return E[:, 1:P + 1, 1:Q + 1]
