"""The differentiable DTW family as functions: soft_dtw on a cost, s2dtw on embeddings, s2dtw_matrix on all pairs.

    d = s2dtw(x, y)                     # x: (B, N, D), y: (B, M, D) -> (B,), VT-TWINS defaults (docs/method.md §3)
    S = s2dtw_matrix(video, text)       # (Bx, N, D), (By, M, D) -> (Bx, By), S[c, a] = s2dtw(video[c], text[a])
    r = soft_dtw(cost, gamma=0.0)       # (B, N, M) -> (B,), hard DTW

One custom autograd Function (`_AlignFunction`) runs smoothing -> weak lattice -> DP forward and, in backward,
the expected-alignment recursion -> lattice -> smoothing weights, by hand. The cost is an ordinary torch
product, so its gradient reaches x and y through the matmul. gamma, smooth_gamma and tau may be tensors with
requires_grad=True: dR/dgamma = (R - <E, L>) / gamma (R is a softmin over path costs), dR/dtau = E summed over
the dummy cells, dC~/dgamma_s = (softmin - sum w a) / gamma_s per smoothed cell. Double backward raises
(RuntimeError when the second derivative is taken), never returns a silently partial second derivative.
float16/bfloat16 inputs are computed in float32; a result beyond the input dtype's range raises OverflowError
(naming the dtype) instead of silently becoming -inf: pass float32 inputs for such magnitudes.
"""

from __future__ import annotations

import torch

from . import backends, dp
from .checks import check_any_scalar, check_cost, check_lengths, check_pair_inputs, check_scalar
from .costs import all_pairs_neg_dot
from .lattice import s2dtw_lattice, smooth_backward, smooth_gamma_grad, weak_lattice_backward


def _compute_dtype(dtype: torch.dtype) -> torch.dtype:
    return torch.float32 if dtype in (torch.float16, torch.bfloat16) else dtype


def _needs_grad(t) -> bool:
    return isinstance(t, torch.Tensor) and t.requires_grad


class _AlignFunction(torch.autograd.Function):
    """(cost (B, N, M), gamma, smooth_gamma, tau tensors-or-None, options) -> R_end (B,)."""

    @staticmethod
    def forward(ctx, cost, gamma_t, smooth_gamma_t, tau_t, opts):
        o = opts
        need = o["need_grad"]
        lat, lp, lq, ws, sval = s2dtw_lattice(cost, o["n"], o["m"], o["smooth"], o["weak"], o["smooth_gamma"], o["tau"])
        r, dpctx = dp.forward(lat.contiguous(), lp, lq, o["gamma"], need, o.get("backend"))
        ctx.opts, ctx.dpctx = o, dpctx
        ctx.save_for_backward(cost, lat, r, ws, sval)
        return r

    @staticmethod
    def backward(ctx, grad_r):
        with torch.no_grad():
            grads = _AlignFunction._backward(ctx, grad_r)
        if torch.is_grad_enabled():  # create_graph=True: make any second derivative through E raise, not vanish
            grads = _no_second_order(grads)
        return grads

    @staticmethod
    def _backward(ctx, grad_r):
        o = ctx.opts
        cost, lat, r, ws, sval = ctx.saved_tensors
        e = dp.backward(ctx.dpctx).to(cost.dtype)  # (B, P, Q) = dR_b / dL_b
        grads = [None, None, None, None, None]
        if ctx.needs_input_grad[1]:
            g = o["gamma"]
            per = (r - (e * lat).sum((1, 2))) / g if g > 0 else torch.zeros_like(r)
            grads[1] = (grad_r * per).sum()
        eg = e * grad_r[:, None, None]
        if o["weak"]:
            dct, dtau = weak_lattice_backward(eg)
            if ctx.needs_input_grad[3]:
                grads[3] = dtau.sum()
        else:
            dct = eg
        if o["smooth"]:
            if ctx.needs_input_grad[2]:
                grads[2] = smooth_gamma_grad(dct, ws, sval, cost, o["smooth_gamma"]).sum()
            dcost = smooth_backward(dct, ws) if ctx.needs_input_grad[0] else None
        else:
            dcost = dct
        grads[0] = dcost if ctx.needs_input_grad[0] else None
        for i, t in ((1, "gamma_t"), (2, "smooth_gamma_t"), (3, "tau_t")):
            if grads[i] is not None:
                ref = o[t]
                grads[i] = grads[i].to(ref.dtype).reshape(ref.shape)
        return tuple(grads)


class _FusedS2DTW(torch.autograd.Function):
    """Full S2DTW on a backend's fused kernel: (C4 (bx, N, by, M) with pair cost sign * C4[c, :, a, :]) -> (bx*by,)."""

    @staticmethod
    def forward(ctx, c4, opts):
        o = opts
        ctx.kernel = o["fused"]
        r, ctx.fctx = ctx.kernel.forward(
            c4, o["sign"], 2 * o["n"] + 1, 2 * o["m"] + 1, o["gamma"], o["smooth_gamma"], o["tau"], o["need_grad"]
        )
        return r

    @staticmethod
    def backward(ctx, grad_r):
        with torch.no_grad():
            g = ctx.kernel.backward(ctx.fctx, grad_r)
        grads = (g, None)
        if torch.is_grad_enabled():
            grads = _no_second_order(grads)
        return grads


def _fused_kernel(o: dict, x: torch.Tensor, m: int):
    """The fused kernel module of the backend chosen for this S2DTW call (x: (B, N, D), m = M), or None when the
    general path must run: fused kernels cover both transforms, gamma > 0, smooth_gamma > 0, fixed scalars."""
    if not (o["smooth"] and o["weak"] and o["gamma"] > 0 and o["smooth_gamma"] > 0 and o["backend"] is None):
        return None
    if any(_needs_grad(o[t]) for t in ("gamma_t", "smooth_gamma_t", "tau_t")):
        return None
    be = backends.resolve(x.device, x.dtype, (2 * x.shape[1] + 1, 2 * m + 1))
    return be.load_fused()


def _apply_fused(c4: torch.Tensor, sign: float, o: dict, kernel) -> torch.Tensor:
    need = torch.is_grad_enabled() and c4.requires_grad
    return _FusedS2DTW.apply(c4, dict(o, sign=sign, need_grad=need, fused=kernel))


class _RaiseOnBackward(torch.autograd.Function):
    """Identity whose backward raises: hung on first-order gradients so a second derivative cannot be partial."""

    @staticmethod
    def forward(ctx, *grads):
        return tuple(g.clone() for g in grads)

    @staticmethod
    def backward(ctx, *_):
        raise RuntimeError("vttwins.alignment: double backward through soft-DTW/S2DTW is not implemented")


def _no_second_order(grads: tuple) -> tuple:
    """Mark first-order gradients so that differentiating them again raises. torch's once_differentiable is not
    enough: it marks nothing when the incoming gradient does not itself require grad (`.sum()` + create_graph),
    and the second derivative then silently misses this term. Each gradient becomes a leaf requiring grad passed
    through `_RaiseOnBackward`, so any path of a second derivative that reaches it raises."""
    idx = [i for i, g in enumerate(grads) if g is not None]
    out = _RaiseOnBackward.apply(*[grads[i].detach().requires_grad_() for i in idx])
    grads = list(grads)
    for i, g in zip(idx, out):
        grads[i] = g
    return tuple(grads)


def _to_input_dtype(r: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """Cast a float32 result back to a half input dtype; raise OverflowError rather than return +-inf."""
    if r.dtype == dtype:
        return r
    limit = torch.finfo(dtype).max
    if bool((r.detach().abs() > limit).any()):
        raise OverflowError(
            f"S2DTW/soft-DTW value {r.detach().abs().max().item():.4g} exceeds the range of the "
            f"input dtype {dtype} (max {limit:.4g}); pass float32 inputs"
        )
    return r.to(dtype)


def _options(gamma, smooth_gamma, tau, smooth, weak, n, m, backend=None) -> dict:
    return {
        "gamma": check_scalar(gamma, "gamma"),
        "smooth_gamma": check_scalar(smooth_gamma, "smooth_gamma"),
        "tau": check_any_scalar(tau, "tau"),
        "smooth": bool(smooth),
        "weak": bool(weak),
        "n": n,
        "m": m,
        "gamma_t": gamma if isinstance(gamma, torch.Tensor) else None,
        "smooth_gamma_t": smooth_gamma if isinstance(smooth_gamma, torch.Tensor) else None,
        "tau_t": tau if isinstance(tau, torch.Tensor) else None,
        "backend": backend,
    }


def _apply(cost, o) -> torch.Tensor:
    dt = cost.dtype
    args = [o["gamma_t"], o["smooth_gamma_t"], o["tau_t"]]
    args = [a.to(dt) if isinstance(a, torch.Tensor) else None for a in args]
    # the Function returns gradients in the dtype/shape of the original scalars
    need = torch.is_grad_enabled() and any(_needs_grad(t) for t in [cost] + args)
    o = dict(o, gamma_t=args[0], smooth_gamma_t=args[1], tau_t=args[2], need_grad=need)
    return _AlignFunction.apply(cost, args[0], args[1], args[2], o)


def soft_dtw(cost: torch.Tensor, gamma=0.1, x_lengths=None, y_lengths=None) -> torch.Tensor:
    """Soft-DTW value of each cost matrix.

    Parameters
    ----------
    cost : (B, N, M) tensor, finite.
    gamma : float >= 0 or scalar tensor (learnable). 0 = hard DTW (exact min; gradient = one best path, ties
        broken towards the diagonal, then the up step (i-1, j), then the left step (i, j-1)).
    x_lengths, y_lengths : optional int tensors (B,) in [1, N] / [1, M]; pair b uses cost[b, :n_b, :m_b] only.

    Returns
    -------
    (B,) tensor in cost's dtype (half/bfloat16 computed in float32).
    """
    check_cost(cost)
    B, N, M = cost.shape
    n = check_lengths(x_lengths, "x_lengths", B, N, cost.device)
    m = check_lengths(y_lengths, "y_lengths", B, M, cost.device)
    o = _options(gamma, 0.0, 0.0, False, False, n, m)
    return _to_input_dtype(_apply(cost.to(_compute_dtype(cost.dtype)), o), cost.dtype)


def s2dtw(x, y, gamma=0.1, smooth_gamma=0.1, tau=0.5, smooth=True, weak=True, x_lengths=None, y_lengths=None):
    """S2DTW between paired sequences (docs/method.md §3): cost -<x_i, y_j>, smoothing, weak lattice, soft-DTW.

    Parameters
    ----------
    x : (B, N, D), y : (B, M, D) tensors (the caller L2-normalises if it wants cosines).
    gamma, smooth_gamma : float >= 0 or scalar tensors; tau : float or scalar tensor (dummy-cell cost).
    smooth, weak : switch the smoothing / the weak lattice off (both off = soft_dtw on the neg-dot cost).
    x_lengths, y_lengths : optional int tensors (B,); the weak lattice then ends at (2n+1, 2m+1).

    Returns
    -------
    (B,) tensor in x's dtype.
    """
    check_pair_inputs(x, y, paired=True)
    B, N, _ = x.shape
    M = y.shape[1]
    n = check_lengths(x_lengths, "x_lengths", B, N, x.device)
    m = check_lengths(y_lengths, "y_lengths", B, M, x.device)
    o = _options(gamma, smooth_gamma, tau, smooth, weak, n, m)
    dt = _compute_dtype(x.dtype)
    kernel = _fused_kernel(o, x.to(dt), M)
    if kernel is not None:
        prod = torch.bmm(x.to(dt), y.to(dt).transpose(1, 2))
        return _to_input_dtype(_apply_fused(prod.reshape(B, N, 1, M), -1.0, o, kernel), x.dtype)
    cost = -torch.bmm(x.to(dt), y.to(dt).transpose(1, 2))
    return _to_input_dtype(_apply(cost, o), x.dtype)


def s2dtw_matrix(x, y, gamma=0.1, smooth_gamma=0.1, tau=0.5, smooth=True, weak=True, x_lengths=None, y_lengths=None):
    """S2DTW of every pair: x (Bx, N, D), y (By, M, D) -> (Bx, By), entry [c, a] = s2dtw(x[c], y[a]).

    All Bx*By cost matrices come from one matrix product; the embeddings are never copied per pair.
    x_lengths (Bx,) and y_lengths (By,) are per sequence.
    """
    check_pair_inputs(x, y, paired=False)
    bx, N, _ = x.shape
    by, M, _ = y.shape
    n = check_lengths(x_lengths, "x_lengths", bx, N, x.device)
    m = check_lengths(y_lengths, "y_lengths", by, M, x.device)
    o = _options(gamma, smooth_gamma, tau, smooth, weak, n.repeat_interleave(by), m.repeat(bx))
    dt = _compute_dtype(x.dtype)
    kernel = _fused_kernel(o, x.to(dt), M)
    if kernel is not None:  # one product, read by the kernel in place: pair (c, a) = -prod[c, :, a, :]
        prod = x.to(dt).reshape(bx * N, -1) @ y.to(dt).reshape(by * M, -1).T
        return _to_input_dtype(_apply_fused(prod.reshape(bx, N, by, M), -1.0, o, kernel).reshape(bx, by), x.dtype)
    cost = all_pairs_neg_dot(x.to(dt), y.to(dt))
    return _to_input_dtype(_apply(cost, o).reshape(bx, by), x.dtype)
