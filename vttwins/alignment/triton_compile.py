"""Compile every Triton kernel launch of this package for a GPU, on a machine without one.

    python -m vttwins.alignment.triton_compile --arch 90 80 --out /tmp/ptx   # exit status 1 when one fails

The interpreter (TRITON_INTERPRET=1, what the CPU tests run) accepts kernels that the compiler rejects; this
compiles them for real (`triton.compile(ASTSource(...), target=GPUTarget("cuda", arch, 32))` gives PTX and a cubin
without a driver). What is compiled comes from the launchers themselves: the forward and backward of dp_triton.py
and of fused_triton.py run on small CPU tensors with each kernel replaced by a recorder, over every setting that
changes a constexpr (gamma = 0 or not, with or without weights, plain or weak lattice, each half and float dtype the
backend serves, the smallest and the largest tile). Each recorded launch is specialised the way the JIT specialises
it (an int 1 becomes a constexpr, 16-divisible ints and pointers get tt.divisibility), so the PTX is the one a GPU
run builds. Run it with TRITON_INTERPRET unset: under the interpreter the kernels are not compilable objects.
Tested with triton 3.6 and 3.9 (the ASTSource/GPUTarget API and the signature format are the same there).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import torch

log = logging.getLogger(__name__)

SMALL = (5, 3)  # lattice sides of the small cases: the smallest tile (16)
LARGE = 520  # a side whose tile is the largest one (MAX_BLOCK = 1024)


@dataclass
class Launch:
    """One recorded kernel launch: the JIT function, its positional arguments and constexpr keywords."""

    kernel: object
    args: tuple
    constexprs: dict
    path: str  # "dp" or "fused": which launcher made it
    grid: tuple = field(default=())


class _Recorder:
    """Stands in for a @triton.jit kernel: `kernel[grid](*args, **constexprs)` records instead of launching."""

    def __init__(self, kernel, sink: list, path: list):
        self.kernel, self.sink, self.path = kernel, sink, path

    def __getitem__(self, grid):
        return lambda *args, **kw: self.sink.append(Launch(self.kernel, args, kw, self.path[0], tuple(grid)))


@contextmanager
def _recording(sink: list, path: list):
    from . import dp_triton  # deferred: triton

    saved = dp_triton.fwd_kernel, dp_triton.bwd_kernel
    dp_triton.fwd_kernel = _Recorder(saved[0], sink, path)
    dp_triton.bwd_kernel = _Recorder(saved[1], sink, path)
    try:
        yield
    finally:
        dp_triton.fwd_kernel, dp_triton.bwd_kernel = saved


def _dp_cases(dtypes):
    """(dtype, gamma, need_grad, weak, (N, M)) of the dp launcher: every flag for every dtype on the small lattice,
    every flag on the large one in float32 (the tile width is the only thing the size changes)."""
    for dtype in dtypes:
        sizes = (SMALL, (LARGE, LARGE)) if dtype == torch.float32 else (SMALL,)
        for size in sizes:
            for gamma in (0.0, 0.1):
                for need_grad in (False, True):
                    for weak in (False, True):
                        n, m = size
                        yield dtype, gamma, need_grad, weak, ((n // 2, m // 2) if weak and n > 8 else (n, m))


def record_launches(dtypes=None) -> list[Launch]:
    """Every launch the dp and fused launchers make over the cases of `_dp_cases` (dtypes: default, all the
    triton backend serves) and the fused S2DTW forward/backward (soft, with and without gradient, both sizes)."""
    from . import backends, dp_triton, fused_triton  # deferred: triton

    dtypes = dtypes or backends.BACKENDS["triton"].dtypes
    sink, path = [], ["dp"]
    with _recording(sink, path), torch.no_grad():
        for dtype, gamma, need_grad, weak, (n, m) in _dp_cases(dtypes):
            D = torch.zeros(2, n, m, dtype=dtype)
            lp, lq = torch.tensor([n, max(1, n - 1)]), torch.tensor([m, m])
            if weak:
                lp, lq = 2 * lp + 1, 2 * lq + 1
            _, ctx = dp_triton.forward(D, lp, lq, gamma, need_grad, weak=weak, tau=0.5)
            if need_grad:
                dp_triton.backward(ctx)
        path[0] = "fused"
        for n, m in (SMALL, (LARGE // 2, LARGE // 2)):
            for need_grad in (False, True):
                C4 = torch.zeros(2, n, 3, m)
                lp, lq = torch.full((6,), 2 * n + 1), torch.full((6,), 2 * m + 1)
                _, ctx = fused_triton.forward(C4, -1.0, lp, lq, 0.1, 0.1, 0.5, need_grad)
                if need_grad:
                    fused_triton.backward(ctx, torch.ones(6))
    return sink


def specialise(launch: Launch, backend) -> tuple[dict, dict, dict]:
    """(signature by name, constexprs by argument index, attrs) of a launch, as triton's JIT derives them."""
    # the JIT's own specialiser (imported by triton.runtime.jit on 3.6 and 3.9)
    from triton.runtime.jit import native_specialize_impl

    kernel = launch.kernel
    values = iter(launch.args)
    signature, constexprs, attrs = {}, {}, {}
    for i, p in enumerate(kernel.params):
        if p.is_constexpr:
            signature[p.name], constexprs[(i,)] = "constexpr", launch.constexprs[p.name]
            continue
        value = next(values)
        ty, key = native_specialize_impl(
            backend, value, p.is_const, not p.do_not_specialize, not p.do_not_specialize_on_alignment
        )
        signature[p.name] = ty
        if ty == "constexpr":  # an int 1: the JIT makes it a compile-time constant
            constexprs[(i,)] = key
        elif isinstance(key, str) and key:
            attrs[(i,)] = backend.parse_attr(key)
    if next(values, None) is not None or set(launch.constexprs) - set(signature):
        raise ValueError(f"launch of {kernel.__name__} does not match its parameters {kernel.arg_names}")
    return signature, constexprs, attrs


def compile_launch(launch: Launch, arch: int):
    """The CompiledKernel of one launch for sm_<arch> (its .asm holds ttir, ttgir, llir, ptx, cubin)."""
    import triton
    from triton.compiler import ASTSource

    signature, constexprs, attrs = specialise(launch, _backend(arch))
    src = ASTSource(fn=launch.kernel, signature=signature, constexprs=constexprs, attrs=attrs)
    return triton.compile(src, target=_target(arch))


def _target(arch: int):
    from triton.backends.compiler import GPUTarget

    return GPUTarget("cuda", arch, 32)


def _backend(arch: int):
    from triton.compiler.compiler import make_backend

    return make_backend(_target(arch))


def _key(launch: Launch, arch: int) -> str:
    """Identifies what the JIT would compile: kernel, specialised signature, constexprs, attrs, arch."""
    spec = specialise(launch, _backend(arch))
    text = repr((launch.kernel.__name__, arch, [sorted(part.items()) for part in spec]))
    return hashlib.sha1(text.encode()).hexdigest()[:12]


def compile_all(archs=(90, 80), out: str | Path | None = None) -> list[dict]:
    """Compile every distinct recorded launch for each arch; one row per distinct (specialisation, arch), naming
    the launchers ("dp", "fused") that make it. With `out`: each PTX to out/<kernel>-<key>-sm<arch>.ptx and the
    rows to out/manifest.json. A failed compile is a row with "error" (the others still run)."""
    out = Path(out) if out is not None else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    rows = {}
    for launch in record_launches():
        for arch in archs:
            key = _key(launch, arch)
            if key not in rows:
                rows[key] = _compile_row(launch, arch, key, out)
            rows[key]["paths"] = sorted(set(rows[key]["paths"]) | {launch.path})
    if out is not None:
        (out / "manifest.json").write_text(json.dumps(list(rows.values()), indent=1, default=str))
    return list(rows.values())


def _compile_row(launch: Launch, arch: int, key: str, out: Path | None) -> dict:
    name = launch.kernel.__name__
    signature, _, _ = specialise(launch, _backend(arch))
    row = {
        "kernel": name,
        "arch": arch,
        "key": key,
        "paths": [],
        "constexprs": dict(launch.constexprs),
        "signature": signature,
    }
    try:
        compiled = compile_launch(launch, arch)
    except Exception as exc:  # noqa: BLE001 (reported per launch; the CLI exits 1)
        row["error"] = f"{type(exc).__name__}: {exc}"[:4000]
        return row
    row.update(ptx_lines=len(compiled.asm["ptx"].splitlines()), cubin_bytes=len(compiled.asm.get("cubin", b"")))
    if out is not None:
        row["ptx"] = f"{name}-{key}-sm{arch}.ptx"
        (out / row["ptx"]).write_text(compiled.asm["ptx"])
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", type=int, nargs="+", default=[90, 80], help="CUDA compute capabilities (90 = H100/H200)")
    ap.add_argument("--out", default=None, help="folder for the PTX files and manifest.json")
    a = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    import triton

    rows = compile_all(a.arch, a.out)
    bad = [r for r in rows if "error" in r]
    for r in rows:
        log.info(
            "%-12s sm_%d %-60s %s",
            r["kernel"],
            r["arch"],
            r["constexprs"],
            r.get("error") or f"{r['ptx_lines']} PTX lines",
        )
    log.info("triton %s: %d kernels compiled, %d failed", triton.__version__, len(rows) - len(bad), len(bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
