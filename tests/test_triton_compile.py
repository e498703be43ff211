"""Every Triton kernel launch of the package compiles to PTX for sm_90 (H100/H200) and sm_80 (A100), on a CPU.

The interpreter tests (test_alignment_triton.py) accept kernels the compiler rejects (a plain module global read
inside @jit did exactly that). Here `python -m vttwins.alignment.triton_compile` records what the dp and fused
launchers launch and compiles each specialisation with triton.compile. It runs in a subprocess without
TRITON_INTERPRET: test_alignment_triton.py sets that variable for the whole session, and under it @triton.jit gives
functions the compiler cannot take. The first run costs ~20-30 s on 2 cores (80 compiles); triton's cache makes
later runs fast.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

triton = pytest.importorskip("triton")

ROOT = Path(__file__).resolve().parents[1]
ARCHS = (90, 80)
DTYPES = {"*fp32", "*fp16", "*bf16"}


def _python(args, timeout=900):
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    out = tmp_path_factory.mktemp("ptx")
    proc = _python(["-m", "vttwins.alignment.triton_compile", "--arch", *map(str, ARCHS), "--out", str(out)])
    manifest = out / "manifest.json"
    rows = json.loads(manifest.read_text()) if manifest.exists() else []
    return proc, rows, out


def test_every_launch_compiles_to_ptx_for_sm90_and_sm80(compiled):
    proc, rows, out = compiled
    bad = [r for r in rows if "error" in r]
    assert proc.returncode == 0 and rows and not bad, (proc.stdout[-3000:], proc.stderr[-3000:], bad[:2])
    assert {(r["kernel"], r["arch"]) for r in rows} == {(k, a) for k in ("fwd_kernel", "bwd_kernel") for a in ARCHS}
    for r in rows:
        ptx = (out / r["ptx"]).read_text()
        assert f".entry {r['kernel']}" in ptx, r["ptx"]
        assert f".target sm_{r['arch']}" in ptx, r["ptx"]  # sm_90a for 90
        assert r["cubin_bytes"] > 0  # ptxas accepted it too


def test_the_compiled_launches_cover_every_constexpr_dtype_and_the_fused_path(compiled):
    """Both values of every boolean constexpr, the smallest and the largest tile, each dtype the backend serves
    (fp32, fp16, bf16 costs and expected alignments), and launches made by the fused S2DTW path, for each arch."""
    _, rows, _ = compiled
    for arch in ARCHS:
        fwd = [r for r in rows if r["kernel"] == "fwd_kernel" and r["arch"] == arch and "error" not in r]
        bwd = [r for r in rows if r["kernel"] == "bwd_kernel" and r["arch"] == arch and "error" not in r]
        flags = {(r["constexprs"]["HARD"], r["constexprs"]["STORE"], r["constexprs"]["WEAK"]) for r in fwd}
        assert flags == {(h, s, w) for h in (False, True) for s in (False, True) for w in (False, True)}
        assert {r["constexprs"]["WEAK"] for r in bwd} == {False, True}
        for group in (fwd, bwd):
            assert {r["constexprs"]["BLOCK"] for r in group} == {16, 1024}
        assert {r["signature"]["D"] for r in fwd} == DTYPES and {r["signature"]["OUT"] for r in bwd} == DTYPES
        assert any("fused" in r["paths"] for r in fwd) and any("fused" in r["paths"] for r in bwd)


TOY = """
import triton
import triton.language as tl

PLAIN = 2.0
CONST = tl.constexpr(2.0)


@triton.jit
def plain(X, N, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    tl.store(X + offs, tl.load(X + offs, mask=offs < N) * PLAIN, mask=offs < N)


@triton.jit
def const(X, N, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    tl.store(X + offs, tl.load(X + offs, mask=offs < N) * CONST, mask=offs < N)
"""

PROBE = """
import json, sys, torch
sys.path.insert(0, sys.argv[1])
import toy_kernel
from vttwins.alignment.triton_compile import Launch, compile_launch
res = {}
for name in ("plain", "const"):
    launch = Launch(getattr(toy_kernel, name), (torch.zeros(8), 5), {"BLOCK": 8}, "toy")
    try:
        res[name] = ".entry " + name in compile_launch(launch, 90).asm["ptx"]
    except Exception as exc:
        res[name] = f"{type(exc).__name__}: {exc}"[:600]
print(json.dumps(res))
"""


def test_the_check_rejects_a_kernel_that_only_the_interpreter_accepts(tmp_path):
    """A plain module global read inside @jit (the bug this check was written for) fails to compile; the same
    value as a tl.constexpr global compiles."""
    (tmp_path / "toy_kernel.py").write_text(TOY)
    proc = _python(["-c", PROBE, str(tmp_path)], timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    assert res["const"] is True
    assert isinstance(res["plain"], str) and "global variable PLAIN" in res["plain"], res["plain"]
