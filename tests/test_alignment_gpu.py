"""CUDA checks (marked `gpu`, skipped without CUDA; benchmarks/gpu_check.sh runs them): every backend serving
CUDA against the CPU reference, a training step with bf16 autocast in feature and pixel mode, a 1-process NCCL run."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from vttwins.alignment import backends, dp, s2dtw_matrix, set_backend

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]
REPO = Path(__file__).resolve().parent.parent
CUDA_BACKENDS = [name for name, be in backends.BACKENDS.items() if "cuda" in be.devices]


def _available(name):
    if not backends.BACKENDS[name].available():
        pytest.skip(f"{name} not importable")


@pytest.mark.parametrize("name", CUDA_BACKENDS)
@pytest.mark.parametrize("shape,gamma", [((6, 23, 17), 0.1), ((6, 23, 17), 0.0), ((2, 1500, 1100), 0.1)])
def test_cuda_backend_equals_cpu_reference(name, shape, gamma):
    """Ragged lengths, N != M, gamma = 0, and a lattice whose diagonals (1100) exceed one 1024-wide tile."""
    _available(name)
    g = torch.Generator().manual_seed(0)
    D = torch.rand(*shape, generator=g)
    B, P, Q = shape
    lp = torch.randint(1, P + 1, (B,), generator=g).index_fill(0, torch.tensor([0]), P)
    lq = torch.randint(1, Q + 1, (B,), generator=g).index_fill(0, torch.tensor([0]), Q)
    ref = "numba_skew" if min(P, Q) >= backends.SKEW_MIN_SIDE else "torch"
    r0, c0 = dp.forward(D.double() if ref == "torch" else D, lp, lq, gamma, True, backend=ref)
    e0 = dp.backward(c0)
    r1, c1 = dp.forward(D.cuda(), lp.cuda(), lq.cuda(), gamma, True, backend=name)
    e1 = dp.backward(c1)
    tol = 1e-3 if P > 100 else 1e-4
    torch.testing.assert_close(r1.cpu().double(), r0.double(), rtol=tol, atol=tol)
    torch.testing.assert_close(e1.cpu().double(), e0.double(), rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16])
def test_cuda_auto_s2dtw_matrix_gradients_equal_cpu(dtype):
    g = torch.Generator().manual_seed(1)
    x = torch.nn.functional.normalize(torch.randn(5, 8, 32, generator=g), dim=-1)
    y = torch.nn.functional.normalize(torch.randn(6, 7, 32, generator=g), dim=-1)
    out = []
    for dev, dt in (("cpu", torch.float32), ("cuda", dtype)):
        xx, yy = x.to(dev, dt).requires_grad_(), y.to(dev, dt).requires_grad_()
        S = s2dtw_matrix(xx, yy)
        out.append([t.detach().float().cpu() for t in (S, *torch.autograd.grad(S.sum(), (xx, yy)))])
        assert S.dtype == dt
    tol = 1e-4 if dtype == torch.float32 else 5e-2
    for a, b in zip(*out):
        torch.testing.assert_close(b, a, rtol=tol, atol=tol)


def test_cuda_auto_picks_triton_when_importable():
    expect = "triton" if backends.BACKENDS["triton"].available() else "torch"
    set_backend("auto")
    assert backends.get_backend("cuda") == expect


def _smoke_overrides(tmp_path, name="nccl"):
    return [
        f"output_dir={tmp_path / name}",
        f"data_dir={REPO / 'data/synth/smoke'}",
        "train.steps=2",
        "train.progress=log",
        "train.device=cuda",
        "train.amp=bf16",
    ]


def _smoke(tmp_path, name, *extra):
    from vttwins.companion.config import load_config

    return load_config("smoke", _smoke_overrides(tmp_path, name) + list(extra))


PIXEL = [
    "model.mode=pixel",
    "model.width=0.25",
    "model.embed_dim=64",
    "data.num_frames=4",
    "data.fps=2.5",
    "data.size=32",
    "data.clip_seconds=1.6",
    "data.n_clips=4",
    "loss.temperature=10.0",
]


@pytest.mark.parametrize("mode", ["feature", "pixel"])
def test_cuda_bf16_training_steps(tmp_path, mode):
    if mode == "pixel":
        pytest.importorskip("av", reason="pixel mode decodes video with PyAV")
    from vttwins.companion.training import fit

    run = fit(_smoke(tmp_path, mode, *(PIXEL if mode == "pixel" else [])))
    losses = [line for line in (Path(run) / "metrics.jsonl").read_text().splitlines() if line.strip()]
    assert len(losses) == 2 and "nan" not in " ".join(losses).lower()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_one_process_nccl_run(tmp_path):
    """An initialised 1-rank NCCL group (all_reduce on CUDA), then a short fit inside it, in a subprocess."""
    code = (
        "import sys, torch, torch.distributed as dist\n"
        "dist.init_process_group('nccl', rank=0, world_size=1)\n"
        "t = torch.ones(3, device='cuda'); dist.all_reduce(t); assert t.sum().item() == 3.0\n"
        "from vttwins.companion.config import load_config\nfrom vttwins.companion.training import fit\n"
        f"fit(load_config('smoke', {_smoke_overrides(tmp_path)!r}))\n"
        "dist.destroy_process_group()\nprint('nccl ok')\n"
    )
    env = dict(
        os.environ,
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(_free_port()),
        RANK="0",
        WORLD_SIZE="1",
        LOCAL_RANK="0",
        PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "nccl ok" in done.stdout, done.stderr[-3000:]
