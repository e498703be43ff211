"""Alignment-core benchmark: writes results/benchmarks/alignment.{json,md}.

    .venv/bin/python benchmarks/bench_alignment.py            # ~3-5 minutes on 2 cores

Times (median of repeats, 2 threads, forward+backward unless noted):
1. SequenceContrastiveLoss() (S2DTW, all B x B pairs, n = m = 8, D = 512) at B = 16, 32, 64, 128 against a
   released-style CPU path (B^2 copies of the embeddings, smoothing + weak lattice as autograd-recorded torch ops,
   pysdtw's CPU numba DP on the lattices, logsumexp contrastive), plus two floors at B = 64: the cost product
   alone (fwd+bwd: 3 matmuls) and the loss on the pure-torch backend;
2. plain soft_dtw (fwd+bwd) at 4160 x 17^2, 32 x 256^2, 8 x 512^2, 4 x 1024^2 on the auto backend (numba at 17^2,
   numba_skew from 192 up) and the batch-lockstep numba kernel, against tslearn's SoftDTWLossPyTorch, pysdtw (CPU)
   and, at 17^2 only, a naive PyTorch loop with autograd through the DP (vectorised over anti-diagonals). Every
   method computes the same work: squared-Euclidean costs from (B, N, d) sequences, gamma = 0.1, float32.
Peak memory = growth of the process's resident-set high-water mark (VmHWM, reset through /proc/self/clear_refs)
over the run; "n/a" where the kernel does not allow the reset. The numba first-compile time is measured in a
subprocess with an empty NUMBA_CACHE_DIR.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from vttwins.alignment import backends, pairwise_cost, set_backend, soft_dtw  # noqa: E402
from vttwins.alignment.lattice import smooth_forward, weak_lattice  # noqa: E402

GAMMA = 0.1
D_SOFT = 8


def _hwm_kib() -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _reset_hwm() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def measure(fn, repeats: int, budget_s: float, warmup: bool = True):
    """(median ms, peak RSS growth MiB or None). One warm-up call; stops early once budget_s is spent."""
    if warmup:
        fn()
    ok = _reset_hwm()
    base = _rss_kib()
    times, start = [], time.perf_counter()
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1e3)
        if time.perf_counter() - start > budget_s and len(times) >= min(3, repeats):
            break
    peak = (_hwm_kib() - base) / 1024 if ok and _hwm_kib() is not None else None
    return statistics.median(times), peak


# --------------------------------------------------------------------------- soft-DTW implementations
def ours(x, y, backward=True):
    def run():
        xx = x.detach().requires_grad_(backward)
        r = soft_dtw(pairwise_cost(xx, y, kind="sq_euclidean"), gamma=GAMMA)
        if backward:
            r.sum().backward()

    return run


def _loss_runner(loss, x, y, backward):
    """A timed callable: `loss(x, y)` on a fresh leaf copy of x, summed and backpropagated when `backward`."""

    def run():
        xx = x.detach().requires_grad_(backward)
        r = loss(xx, y)
        if backward:
            r.sum().backward()

    return run


def lockstep(x, y, backward=True):
    """vttwins forced onto the batch-lockstep numba kernel (what "auto" picks below SKEW_MIN_SIDE)."""
    run = ours(x, y, backward)

    def forced():
        set_backend("numba")
        try:
            run()
        finally:
            set_backend("auto")

    return forced


def tslearn_peer(x, y, backward=True):
    from tslearn.metrics import SoftDTWLossPyTorch

    return _loss_runner(SoftDTWLossPyTorch(gamma=GAMMA), x, y, backward)


def pysdtw_peer(x, y, backward=True):
    import pysdtw

    return _loss_runner(pysdtw.SoftDTW(gamma=GAMMA, use_cuda=False), x, y, backward)


def naive_peer(x, y, backward=True):
    """Autograd through the DP, vectorised over anti-diagonals: R_d (B, N+1) indexed by row i, one softmin per d."""
    big = 1e10  # finite "+inf": keeps logsumexp's gradient NaN-free

    def run():
        xx = x.detach().requires_grad_(backward)
        cost = torch.cdist(xx, y).pow(2)
        B, N, M = cost.shape
        rows = torch.arange(1, N + 1)
        r_prev2 = torch.full((B, N + 1), big).index_fill(1, torch.tensor([0]), 0.0)  # d = 0: R_00 = 0
        r_prev = torch.full((B, N + 1), big)  # d = 1
        for d in range(2, N + M + 1):
            cols = d - rows
            valid = (cols >= 1) & (cols <= M)
            c = cost[:, rows - 1, cols.clamp(1, M) - 1]
            args = torch.stack([r_prev2[:, :-1], r_prev[:, :-1], r_prev[:, 1:]])
            val = torch.where(valid, c - GAMMA * torch.logsumexp(-args / GAMMA, 0), torch.full_like(c, big))
            r_prev2, r_prev = r_prev, torch.cat([torch.full((B, 1), big), val], 1)
        r = r_prev[:, N]
        if backward:
            r.sum().backward()

    return run


PEERS = {
    "vttwins": ours,
    "vttwins [numba lockstep]": lockstep,
    "tslearn": tslearn_peer,
    "pysdtw": pysdtw_peer,
    "naive_torch": naive_peer,
}


def soft_dtw_cases(records, notes):
    g = torch.Generator().manual_seed(0)
    cases = [
        ("4160x17x17", 4160, 17, True, 15, 20.0),
        ("32x256x256", 32, 256, True, 5, 20.0),
        ("8x512x512", 8, 512, True, 5, 20.0),
        ("4x1024x1024", 4, 1024, True, 3, 25.0),
    ]
    for name, B, N, bwd, reps, budget in cases:
        x = torch.randn(B, N, D_SOFT, generator=g)
        y = torch.randn(B, N, D_SOFT, generator=g)
        row_ms = {}
        for peer, make in PEERS.items():
            if peer == "naive_torch" and N > 17:  # autograd through 511+ diagonals: tens of seconds per call
                continue
            if peer == "vttwins [numba lockstep]" and N < backends.SKEW_MIN_SIDE:
                continue  # that is what "auto" already runs there
            try:
                ms, peak = measure(make(x, y, bwd), reps, budget)
            except Exception as exc:  # a peer that cannot run a shape is reported, not fatal
                notes.append(f"{peer} cannot run {name}: {type(exc).__name__}: {str(exc)[:120]}")
                continue
            row_ms[peer] = ms
            records.append(
                {
                    "case": f"soft_dtw {name}",
                    "method": peer,
                    "ms": ms,
                    "Mcells_per_s": B * N * N / ms / 1e3,
                    "peak_MiB": peak,
                }
            )
        for rec in records:
            if rec["case"] == f"soft_dtw {name}":
                rec["x_vs_vttwins"] = rec["ms"] / row_ms["vttwins"]
        if "tslearn" in row_ms:
            notes.append(
                f"target soft-DTW >= 5x tslearn at {name}: {row_ms['tslearn'] / row_ms['vttwins']:.1f}x "
                f"({'met' if row_ms['tslearn'] >= 5 * row_ms['vttwins'] else 'NOT met'})"
            )


def released_style_loss(v, t):
    """The released code's shape of computation (structure only; its code is not copied): every pair's embeddings
    copied (B^2 x N x D), the cosine cost, smoothing and weak lattice as autograd-recorded torch ops, then the
    pysdtw / pytorch-softdtw CPU numba DP on each (2N+1)^2 lattice, and a logsumexp contrastive over columns."""
    import pysdtw

    B, N, _ = v.shape
    vv, tt = v.clone().requires_grad_(), t.clone().requires_grad_()
    cost = -torch.bmm(vv.repeat_interleave(B, 0), tt.repeat(B, 1, 1).transpose(1, 2))
    lat = weak_lattice(smooth_forward(cost, 0.1)[0], 0.5)
    sdtw = pysdtw.SoftDTW(gamma=0.1, dist_func=lambda a, b: lat, use_cuda=False)
    P = lat.shape[1]
    S = sdtw(torch.zeros(B * B, P, 1), torch.zeros(B * B, P, 1)).reshape(B, B)
    (S.diagonal() + torch.logsumexp(-S, 0)).mean().backward()


def loss_cases(records, notes):
    try:
        from vttwins.losses import SequenceContrastiveLoss

        loss_fn = SequenceContrastiveLoss()
        label = "SequenceContrastiveLoss()"
    except ImportError:
        from vttwins.alignment import s2dtw_matrix

        def loss_fn(v, t):
            S = s2dtw_matrix(v, t)
            return (S.diagonal() + torch.logsumexp(-S, 0)).mean()

        label = "s2dtw_matrix + logsumexp"
    g = torch.Generator().manual_seed(1)
    for B in (16, 32, 64, 128):
        v = torch.nn.functional.normalize(torch.randn(B, 8, 512, generator=g), dim=-1)
        t = torch.nn.functional.normalize(torch.randn(B, 8, 512, generator=g), dim=-1)

        def run(v=v, t=t):
            vv, tt = v.clone().requires_grad_(), t.clone().requires_grad_()
            loss_fn(vv, tt).backward()

        ms, peak = measure(run, 25, 15.0)
        case = f"loss B={B} ({B * B} pairs 17x17)"
        records.append(
            {
                "case": case,
                "method": f"{label} [auto backend]",
                "ms": ms,
                "x_vs_vttwins": 1.0,
                "Mcells_per_s": B * B * 17 * 17 / ms / 1e3,
                "peak_MiB": peak,
            }
        )
        if B == 64:
            notes.append(f"target S2DTW loss B=64 fwd+bwd <= 5 ms: {ms:.1f} ms ({'met' if ms <= 5 else 'NOT met'})")
        ref, peak = measure(lambda v=v, t=t: released_style_loss(v, t), 1 if B >= 128 else 3, 15.0, warmup=B == 16)
        records.append(
            {
                "case": case,
                "method": "released-style CPU path (B^2 copies, pysdtw CPU DP)",
                "ms": ref,
                "x_vs_vttwins": ref / ms,
                "Mcells_per_s": B * B * 17 * 17 / ref / 1e3,
                "peak_MiB": peak,
            }
        )
        if B == 64:

            def matmul_only(v=v, t=t):
                vv, tt = v.clone().requires_grad_(), t.clone().requires_grad_()
                (vv.reshape(-1, 512) @ tt.reshape(-1, 512).T).sum().backward()

            ms, peak = measure(matmul_only, 25, 10.0)
            records.append(
                {
                    "case": f"loss B={B} ({B * B} pairs 17x17)",
                    "method": "floor: cost matmul fwd+bwd only",
                    "ms": ms,
                    "Mcells_per_s": None,
                    "peak_MiB": peak,
                }
            )
            import numba

            torch.set_num_threads(1)
            numba.set_num_threads(1)
            cpu = []
            for _ in range(25):  # CPU time of this process on one thread: less sensitive to other jobs' load
                c0 = time.process_time()
                run()
                cpu.append((time.process_time() - c0) * 1e3)
            torch.set_num_threads(2)
            numba.set_num_threads(2)
            ms = statistics.median(cpu)
            records.append(
                {
                    "case": f"loss B={B} ({B * B} pairs 17x17)",
                    "method": f"{label} [auto backend], CPU time on 1 thread (process_time)",
                    "ms": ms,
                    "Mcells_per_s": B * B * 17 * 17 / ms / 1e3,
                    "peak_MiB": None,
                }
            )
            set_backend("torch")
            ms, peak = measure(run, 5, 10.0)
            set_backend("auto")
            records.append(
                {
                    "case": f"loss B={B} ({B * B} pairs 17x17)",
                    "method": f"{label} [torch backend]",
                    "ms": ms,
                    "Mcells_per_s": B * B * 17 * 17 / ms / 1e3,
                    "peak_MiB": peak,
                }
            )


def numba_compile_seconds() -> float | None:
    """First call of the numba kernels (lockstep and skewed DP, fused S2DTW; float32 + float64, forward + backward)
    with an empty cache."""
    code = (
        "import time, torch; t = time.perf_counter(); from vttwins.alignment import soft_dtw\n"
        "from vttwins.alignment import s2dtw_matrix\n"
        "for dt in (torch.float32, torch.float64):\n"
        "    c = torch.randn(3, 4, 5, dtype=dt, requires_grad=True); soft_dtw(c).sum().backward()\n"
        "    c = torch.randn(2, 200, 200, dtype=dt, requires_grad=True); soft_dtw(c).sum().backward()\n"
        "    x = torch.randn(2, 3, 4, dtype=dt, requires_grad=True); s2dtw_matrix(x, x).sum().backward()\n"
        "print(time.perf_counter() - t)"
    )
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache, PYTHONPATH=str(ROOT))
        try:
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
        except subprocess.TimeoutExpired:  # under heavy load from other jobs: reported as not measured
            return None
    try:
        return float(out.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return None


def main() -> None:
    torch.set_num_threads(2)
    import numba

    numba.set_num_threads(2)
    if not backends.numba_available():
        raise SystemExit("numba backend unavailable; this benchmark measures it")
    load_before = os.getloadavg()
    records, notes = [], []
    t0 = time.perf_counter()
    compile_s = numba_compile_seconds()
    loss_cases(records, notes)
    soft_dtw_cases(records, notes)
    load_after = os.getloadavg()
    notes += [
        f"numba first-call compile (empty cache, both dtypes, forward+backward): {compile_s:.1f} s"
        if compile_s is not None
        else "numba compile time: not measured (over 300 s under the load below, or failed)",
        f"uptime load average (1/5/15 min) {'/'.join(f'{x:.1f}' for x in load_before)} before, "
        f"{'/'.join(f'{x:.1f}' for x in load_after)} after, on {os.cpu_count()} cores"
        + (
            ": other jobs shared the cores during this run, so every timing is an upper bound"
            if max(load_before[0], load_after[0]) > 0.75 * (os.cpu_count() or 1) + 1
            else " (the benchmark itself uses up to 2)"
        ),
        "x_vs_vttwins = method ms / vttwins ms at the same case (> 1: vttwins is faster)",
        "peak_MiB = growth of the RSS high-water mark (VmHWM) over the timed repeats, not tracemalloc",
        f"total benchmark wall time {time.perf_counter() - t0:.0f} s; GPU unmeasured here (benchmarks/gpu_check.sh "
        "writes results/benchmarks/gpu.md on a CUDA machine)",
    ]
    cols = ["case", "method", "ms", "x_vs_vttwins", "Mcells_per_s", "peak_MiB"]
    try:
        from vttwins.companion.results import write_benchmark

        write_benchmark(
            records,
            "alignment",
            columns=cols,
            notes=notes,
            title="Alignment core: S2DTW loss and soft-DTW vs tslearn, pysdtw, naive autograd (2 threads)",
        )
    except ImportError:
        import json

        out = ROOT / "results" / "benchmarks"
        out.mkdir(parents=True, exist_ok=True)
        (out / "alignment.json").write_text(json.dumps({"records": records, "notes": notes}, indent=2))
    for rec in records:
        print(rec)
    print("\n".join(notes))


if __name__ == "__main__":
    main()
