"""Input validation shared by the public alignment functions and the losses (`vttwins.losses`): bad input raises
ValueError naming the argument."""

from __future__ import annotations

import math

import torch


def _all_finite(t: torch.Tensor) -> bool:
    """One reduction pass: min and max propagate NaN, and both are finite iff every value is."""
    try:
        lo, hi = torch.aminmax(t.detach())
    except (RuntimeError, NotImplementedError):  # a dtype/device without aminmax
        return bool(torch.isfinite(t).all())
    return math.isfinite(float(lo)) and math.isfinite(float(hi))


def check_seq(t, name: str, finite: bool = True) -> None:
    """`t`: a non-empty floating-point tensor (B, N, D); `finite` also reads every value (one reduction)."""
    if not isinstance(t, torch.Tensor):
        raise ValueError(f"{name} must be a 3-D tensor (B, N, D), got {type(t).__name__}")
    if t.dim() != 3:
        raise ValueError(f"{name} must be a 3-D tensor (B, N, D), got shape {tuple(t.shape)}")
    if not t.is_floating_point():
        raise ValueError(f"{name} must be a floating-point tensor, got dtype {t.dtype}")
    if t.shape[0] == 0 or t.shape[1] == 0 or t.shape[2] == 0:
        raise ValueError(f"{name} must have non-empty batch, sequence and feature dims, got shape {tuple(t.shape)}")
    if finite and not _all_finite(t):
        raise ValueError(f"{name} contains non-finite values (NaN or inf); shape {tuple(t.shape)}")


def check_pair_inputs(
    x, y, paired: bool, names: tuple[str, str] = ("x", "y"), same_length: bool = False, finite: bool = True
) -> None:
    """x: (B, N, D), y: (B', M, D) on one device; `paired` also requires B == B', `same_length` N == M.
    `names`: how the messages call x and y."""
    a, b = names
    check_seq(x, a, finite)
    check_seq(y, b, finite)
    got = f"got {a} {tuple(x.shape)} and {b} {tuple(y.shape)}"
    if x.shape[2] != y.shape[2]:
        raise ValueError(f"{a} and {b} must have the same feature dim D, {got}")
    if paired and x.shape[0] != y.shape[0]:
        raise ValueError(f"{a} and {b} must have the same batch size, {got}")
    if same_length and x.shape[1] != y.shape[1]:
        raise ValueError(f"{a} and {b} must have shapes (B, n, D) and (B, n, D) (the same length), {got}")
    if x.device != y.device:
        raise ValueError(f"{a} and {b} must be on the same device, got {x.device} and {y.device}")


def check_cost(cost) -> None:
    check_seq(cost, "cost")


def check_lengths(lengths, name: str, batch: int, maximum: int, device) -> torch.Tensor:
    """None -> full lengths; else an int tensor (batch,) with 1 <= lengths <= maximum. Returns int64 on `device`."""
    if lengths is None:
        return torch.full((batch,), maximum, dtype=torch.int64, device=device)
    if not isinstance(lengths, torch.Tensor):
        lengths = torch.as_tensor(lengths)
    if lengths.dtype.is_floating_point or lengths.dtype == torch.bool or lengths.is_complex():
        raise ValueError(f"{name} must be an integer tensor of shape ({batch},), got dtype {lengths.dtype}")
    if tuple(lengths.shape) != (batch,):
        raise ValueError(f"{name} must be an integer tensor of shape ({batch},), got shape {tuple(lengths.shape)}")
    lo, hi = int(lengths.min()), int(lengths.max())
    if lo < 1 or hi > maximum:
        raise ValueError(f"{name} must lie in [1, {maximum}] (the padded sequence length), got min {lo}, max {hi}")
    return lengths.to(device=device, dtype=torch.int64)


def check_scalar(value, name: str, allow_zero: bool = True) -> float:
    """A float or a 0-d tensor, finite and >= 0 (> 0 when not allow_zero). Returns its float value."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ValueError(f"{name} must be a scalar (float or 1-element tensor), got shape {tuple(value.shape)}")
        v = float(value.detach().reshape(()))
    else:
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a float or a scalar tensor, got {value!r}") from None
    if not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        raise ValueError(f"{name} must be finite and {'>=' if allow_zero else '>'} 0, got {v}")
    return v


def check_any_scalar(value, name: str) -> float:
    """Like check_scalar but any finite sign (tau may be negative)."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ValueError(f"{name} must be a scalar (float or 1-element tensor), got shape {tuple(value.shape)}")
        v = float(value.detach().reshape(()))
    else:
        v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {v}")
    return v
