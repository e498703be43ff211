"""GPU alignment benchmark: writes results/benchmarks/gpu.{json,md} (run by benchmarks/gpu_check.sh).

    PYTHONPATH=. python3 benchmarks/bench_gpu.py

soft-DTW forward+backward (squared-Euclidean costs of (B, N, 8) sequences, gamma = 0.1, float32) at 4160 x 17^2,
32 x 256^2, 8 x 512^2, 4 x 1024^2, 32 x 1024^2 on the triton backend, the torch backend and pysdtw's numba-CUDA
kernel (the kernel the released code copies; importable only if carried), plus the S2DTW loss at B = 64
(SequenceContrastiveLoss, 8 x 8 clips, D = 512). Times: median of CUDA-event-timed repeats after one warm-up.
"""

import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from vttwins.alignment import backends, pairwise_cost, set_backend, soft_dtw  # noqa: E402

GAMMA = 0.1
SHAPES = [(4160, 17), (32, 256), (8, 512), (4, 1024), (32, 1024)]


def cuda_ms(fn, repeats=10, budget_s=20.0) -> float:
    fn()
    torch.cuda.synchronize()
    times, t0 = [], time.perf_counter()
    for _ in range(repeats):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        torch.cuda.synchronize()
        times.append(a.elapsed_time(b))
        if time.perf_counter() - t0 > budget_s:
            break
    return statistics.median(times)


def ours(backend, x, y):
    def run():
        set_backend(backend)
        try:
            xx = x.detach().requires_grad_()
            soft_dtw(pairwise_cost(xx, y, kind="sq_euclidean"), gamma=GAMMA).sum().backward()
        finally:
            set_backend("auto")

    return run


def pysdtw_cuda(x, y):
    import pysdtw

    loss = pysdtw.SoftDTW(gamma=GAMMA, use_cuda=True)

    def run():
        xx = x.detach().requires_grad_()
        loss(xx, y).sum().backward()

    return run


def soft_dtw_rows(records, notes):
    g = torch.Generator().manual_seed(0)
    methods = {
        "triton": lambda x, y: ours("triton", x, y),
        "torch backend": lambda x, y: ours("torch", x, y),
        "pysdtw numba-CUDA": pysdtw_cuda,
    }
    for B, N in SHAPES:
        x, y = (torch.randn(B, N, 8, generator=g).cuda() for _ in range(2))
        case, row = f"soft_dtw {B}x{N}^2 fwd+bwd", {}
        for name, make in methods.items():
            if name == "torch backend" and N >= 1024 and B > 4:
                continue  # 2047 diagonals x ~20 launches each way: minutes, adds nothing new
            try:
                ms = cuda_ms(make(x, y), repeats=5 if N >= 512 else 10)
            except Exception as exc:  # a peer that cannot run a shape (pysdtw caps at 1024) is reported
                notes.append(f"{name} at {case}: {type(exc).__name__}: {str(exc)[:160]}")
                continue
            row[name] = ms
            records.append({"case": case, "method": name, "ms": ms, "Gcells_per_s": B * N * N / ms / 1e6})
        for rec in records:
            if rec["case"] == case and "triton" in row:
                rec["x_vs_triton"] = rec["ms"] / row["triton"]


def loss_rows(records):
    from vttwins.losses import SequenceContrastiveLoss

    loss = SequenceContrastiveLoss()
    g = torch.Generator().manual_seed(1)
    v, t = (torch.nn.functional.normalize(torch.randn(64, 8, 512, generator=g), dim=-1).cuda() for _ in range(2))
    for name in ("triton", "torch"):

        def run(name=name):
            set_backend(name)
            try:
                loss(v.clone().requires_grad_(), t.clone().requires_grad_()).backward()
            finally:
                set_backend("auto")

        ms = cuda_ms(run, repeats=20)
        records.append(
            {
                "case": "loss B=64 (4096 pairs 17x17) fwd+bwd",
                "method": f"{name} backend",
                "ms": ms,
                "Gcells_per_s": 4096 * 17 * 17 / ms / 1e6,
            }
        )


def main() -> None:
    if not torch.cuda.is_available():
        raise SystemExit("bench_gpu.py needs CUDA")
    import triton

    records, notes = [], []
    soft_dtw_rows(records, notes)
    loss_rows(records)
    p = torch.cuda.get_device_properties(0)
    notes += [
        f"GPU: {p.name} ({p.total_memory / 2**30:.0f} GiB); torch {torch.__version__}, CUDA "
        f"{torch.version.cuda}, triton {triton.__version__}, python {sys.version.split()[0]}",
        f"auto backend on CUDA: {backends.get_backend('cuda')}",
        "targets: soft-DTW fwd+bwd >= 5 G cells/s at 32x1024^2; >= 10x pysdtw at 512^2; loss B=64 <= 0.5 ms",
    ]
    from vttwins.companion.results import write_benchmark

    write_benchmark(
        records,
        "gpu",
        columns=["case", "method", "ms", "x_vs_triton", "Gcells_per_s"],
        notes=notes,
        title="Alignment on one GPU: Triton vs torch backend vs pysdtw numba-CUDA",
    )
    for rec in records:
        print(rec)
    print("\n".join(notes))


if __name__ == "__main__":
    main()
