"""The one registry of soft-DTW backends: which devices and dtypes each serves, and where its kernels live.

    set_backend("auto")                       # or any name in BACKENDS
    get_backend(torch.device("cpu"))          # -> "numba" (the name auto picks for small lattices on that device)
    be = resolve(device, dtype, (P, Q))       # -> Backend used for a (B, P, Q) lattice; be.load().forward(...)

A backend is a module of this package exposing
    forward(D (B, P, Q), lp (B,), lq (B,), gamma: float, need_grad: bool) -> (r_end (B,), ctx)
    backward(ctx) -> E (B, P, Q)          # expected alignment dR_end/dD, exactly 0 beyond each pair's end
and optionally a fused S2DTW module (see fused_numba.py for the contract). Adding a backend = one new file plus
one `Backend(...)` line in BACKENDS (and its name in AUTO if "auto" should ever pick it).

"auto" order per device type (first available that serves the dtype and lattice size wins):
CUDA -> triton (when triton imports), else torch; CPU -> numba_skew for lattices with min(P, Q) >= SKEW_MIN_SIDE,
else numba, else torch. A backend whose import fails is reported once at WARNING and skipped (never silently).
"""

from __future__ import annotations

import importlib
import logging
import os
from dataclasses import dataclass

import torch

log = logging.getLogger(__name__)

FLOATS = (torch.float32, torch.float64)
HALVES = (torch.float16, torch.bfloat16, torch.float32)  # float32 accumulation; float64 stays on torch
# Lattices with both sides >= 192 go to the skewed kernel: below that the batch-lockstep kernel (pairs in SIMD
# lanes, dp_numba.py) is as fast or faster for the batches seen there; measured fwd+bwd float32 on the 2-core box:
# 64x128^2 lockstep 77 ms vs skew 96 ms; 32x256^2 200 vs 145 ms; 8x512^2 380 vs 123 ms (load average ~7 then).
SKEW_MIN_SIDE = 192


def _interpret() -> bool:
    """Triton's interpreter (TRITON_INTERPRET=1) runs the same kernels on CPU tensors (used by the tests)."""
    return os.environ.get("TRITON_INTERPRET", "0") == "1"


@dataclass(frozen=True)
class Backend:
    """name; module (in this package) with forward/backward; devices (torch device types); dtypes served;
    fused: module with the fused S2DTW kernel or None; min_side: "auto" picks it only when min(P, Q) >= this;
    interpret_cpu: also serves CPU tensors under TRITON_INTERPRET=1 (explicit choice only, never by auto)."""

    name: str
    module: str
    devices: tuple
    dtypes: tuple = FLOATS
    fused: str | None = None
    min_side: int = 0
    interpret_cpu: bool = False

    def serves(self, device: torch.device, dtype: torch.dtype) -> bool:
        cpu_ok = self.interpret_cpu and device.type == "cpu" and _interpret()
        return (device.type in self.devices or cpu_ok) and dtype in self.dtypes

    def load(self):
        """The kernel module, imported once; raises RuntimeError naming the backend and the import error."""
        mod = _load(self.module)
        if mod is None:
            raise RuntimeError(f"alignment backend {self.name!r} is unavailable: {_ERRORS[self.module]}")
        return mod

    def available(self) -> bool:
        return _load(self.module) is not None

    def load_fused(self):
        return None if self.fused is None else _load(self.fused)


BACKENDS = {
    b.name: b
    for b in (
        Backend("torch", "dp_torch", ("cpu", "cuda", "mps", "xpu")),
        Backend("numba", "dp_numba", ("cpu",), fused="fused_numba"),
        Backend("numba_skew", "dp_skew", ("cpu",), fused="fused_numba", min_side=SKEW_MIN_SIDE),
        Backend("triton", "dp_triton", ("cuda",), HALVES, fused="fused_triton", interpret_cpu=True),
    )
}
AUTO = {"cpu": ("numba_skew", "numba", "torch"), "cuda": ("triton", "torch")}

_MODULES: dict = {}
_ERRORS: dict = {}
_SETTING = ["auto"]  # a one-element list: the only mutable state, private to this file


def _import(module: str):
    """A module of this package by its bare name, else `module` as an absolute name (a backend kept elsewhere)."""
    local = f"{__package__}.{module}"
    try:
        return importlib.import_module(local)
    except ModuleNotFoundError as exc:
        if exc.name != local:  # the backend module exists but one of ITS imports is missing: report that
            raise
    return importlib.import_module(module)


def _load(module: str):
    if module not in _MODULES:
        try:
            _MODULES[module] = _import(module)
        except ImportError as exc:  # optional dependency missing: reported once, then skipped by "auto"
            _MODULES[module] = None
            _ERRORS[module] = repr(exc)
            log.warning("vttwins.alignment: %s unavailable (%s); 'auto' skips it", module, exc)
    return _MODULES[module]


def set_backend(name: str) -> None:
    """ "auto" or a name in BACKENDS; an explicit name whose kernels cannot be imported raises RuntimeError."""
    if name != "auto" and name not in BACKENDS:
        raise ValueError(f"backend must be 'auto' or one of {sorted(BACKENDS)}, got {name!r}")
    if name != "auto":
        BACKENDS[name].load()
    _SETTING[0] = name


def numba_available() -> bool:
    return BACKENDS["numba"].available()


def resolve(device, dtype: torch.dtype = torch.float32, shape: tuple = (1, 1), name: str | None = None) -> Backend:
    """The backend for a (B, P, Q) lattice `shape[-2:]` of `dtype` on `device` (explicit `name` > setting)."""
    device = torch.device(device)
    name = name or _SETTING[0]
    if name != "auto":
        be = BACKENDS[name]
        if not be.serves(device, dtype):
            raise RuntimeError(
                f"alignment backend {name!r} serves devices {be.devices} and dtypes {be.dtypes}, "
                f"got {device.type} {dtype}; use set_backend('auto') or 'torch'"
            )
        return be
    side = min(shape[-2:])
    for cand in AUTO.get(device.type, ("torch",)):
        be = BACKENDS[cand]
        if be.serves(device, dtype) and side >= be.min_side and be.available():
            return be
    raise RuntimeError(f"no alignment backend serves {device.type} {dtype}")


def get_backend(device="cpu", shape: tuple = (1, 1)) -> str:
    """Name of the backend used for float32 lattices of `shape` (default: a small one) on `device`."""
    return resolve(device, torch.float32, shape).name
