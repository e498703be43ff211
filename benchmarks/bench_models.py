"""Forward+backward time and peak memory of the encoders, to size the notebooks' CPU profiles.

    .venv/bin/python benchmarks/bench_models.py            # -> results/benchmarks/models.{json,md}
    .venv/bin/python benchmarks/bench_models.py --quick    # 1 repeat, for a smoke check

Cases: S3D (video tower, training mode, plain stem) at width 1.0 and 0.5 on 16 clips of 8 frames at 32x32 and
64x64; the feature encoder on 64 videos x 8 clips (windows of 4 x 1024-d vectors); the sentence encoder on the
matching 512 captions of 20 words (frozen 66250 x 300 table). 2 CPU threads; each case runs in its own process
so that its peak resident memory (ru_maxrss) is its own; `act_mb` is the peak minus the resident size after the
model and inputs were built (activations + gradients). Times are the median of the repeats after one warm-up;
`cpu_ms` is process CPU time, a steadier measure on a shared machine; `vs_w1` is the wall time relative to the width-1.0 S3D at the same input, measured in the same run. With CUDA, the
paper's shape (32 frames, 224x224, width 1.0) is added with bf16 autocast.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from vttwins.models import FeatureVideoEncoder, S3D, SentenceEncoder  # noqa: E402

CASES = {  # name -> (kind, width, batch, frames, size)
    "s3d_w1.0_32px": ("s3d", 1.0, 16, 8, 32),
    "s3d_w0.5_32px": ("s3d", 0.5, 16, 8, 32),
    "s3d_w1.0_64px": ("s3d", 1.0, 16, 8, 64),
    "s3d_w0.5_64px": ("s3d", 0.5, 16, 8, 64),
    "feature_encoder": ("feature", 1.0, 64 * 8, 4, None),
    "sentence_encoder": ("text", 1.0, 64 * 8, 20, None),
}
GPU_CASES = {"s3d_w1.0_224px_32f_amp": ("s3d", 1.0, 16, 32, 224)}


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _build(kind: str, width: float, batch: int, frames: int, size, device):
    g = torch.Generator().manual_seed(0)
    if kind == "s3d":
        model = S3D(width=width, vocab_size=10).to(device).train()
        x = torch.rand(batch, 3, frames, size, size, generator=g).to(device)
        return model, lambda: model.encode_video(x)
    if kind == "feature":
        model = FeatureVideoEncoder(1024, 512, 512, "mean").to(device).train()
        x = torch.randn(batch, frames, 1024, generator=g).to(device)
        return model, lambda: model(x)
    model = SentenceEncoder(66250, 300, 2048, 512).to(device).train()
    tokens = torch.randint(0, 66250, (batch, frames), generator=g).to(device)
    return model, lambda: model(tokens)


def run_case(name: str, repeats: int, device: str = "cpu") -> dict:
    """Time one case in this process; returns its record."""
    kind, width, batch, frames, size = {**CASES, **GPU_CASES}[name]
    torch.manual_seed(0)
    model, forward = _build(kind, width, batch, frames, size, device)
    amp = torch.autocast("cuda", dtype=torch.bfloat16) if device == "cuda" else torch.autocast("cpu", enabled=False)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    base = _rss_mb()
    fwd, step, cpu = [], [], []
    for i in range(repeats + 1):
        model.zero_grad(set_to_none=True)
        sync()
        c0, t0 = time.process_time(), time.perf_counter()
        with amp:
            out = forward()
        sync()
        t1 = time.perf_counter()
        out.float().square().mean().backward()
        sync()
        t2, c2 = time.perf_counter(), time.process_time()
        if i:  # the first pass warms up allocator and kernels
            fwd.append(t1 - t0)
            step.append(t2 - t0)
            cpu.append(c2 - c0)
    record = {
        "case": name,
        "model": kind,
        "width": width,
        "batch": batch,
        "input": f"{frames}x{size}x{size}" if size else f"{frames}x1024" if kind == "feature" else f"{frames} words",
        "device": device,
        "fwd_ms": 1000 * statistics.median(fwd),
        "fwd_bwd_ms": 1000 * statistics.median(step),
        "cpu_ms": 1000 * statistics.median(cpu),
        "repeats": repeats,
        "load_1m": os.getloadavg()[0],
    }
    record["clips_per_s"] = batch / (record["fwd_bwd_ms"] / 1000)
    if device == "cuda":
        record["peak_mb"] = torch.cuda.max_memory_allocated() / 2**20
        record["act_mb"] = record["peak_mb"] - sum(p.numel() * p.element_size() for p in model.parameters()) / 2**20
    else:
        record["peak_mb"], record["act_mb"] = _rss_mb(), _rss_mb() - base
    return record


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 repeat per case")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--one", help=argparse.SUPPRESS)  # child mode: run a single case, print its record
    parser.add_argument("--out-dir", default=None, help="default: results/benchmarks")
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    repeats = 1 if args.quick else args.repeats
    if args.one:
        device = "cuda" if args.one in GPU_CASES else "cpu"
        print(json.dumps(run_case(args.one, repeats, device)))
        return 0
    names = list(CASES) + (list(GPU_CASES) if torch.cuda.is_available() else [])
    records = []
    for name in names:
        out = subprocess.run(
            [sys.executable, __file__, "--one", name, "--repeats", str(repeats)],
            capture_output=True,
            text=True,
            check=True,
        )
        records.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(f"{name}: {records[-1]['fwd_bwd_ms']:.1f} ms, peak {records[-1]['peak_mb']:.0f} MB", file=sys.stderr)
    width1 = {r["input"]: r["fwd_bwd_ms"] for r in records if r["model"] == "s3d" and r["width"] == 1.0}
    for r in records:
        r["vs_w1"] = r["fwd_bwd_ms"] / width1[r["input"]] if r["model"] == "s3d" and r["input"] in width1 else None
    write(records, args.out_dir)
    return 0


def write(records, out_dir) -> None:
    from vttwins.companion.results import write_benchmark

    columns = [
        "case",
        "model",
        "width",
        "batch",
        "input",
        "device",
        "fwd_ms",
        "fwd_bwd_ms",
        "cpu_ms",
        "clips_per_s",
        "peak_mb",
        "act_mb",
        "vs_w1",
        "load_1m",
    ]
    write_benchmark(
        records,
        "models",
        out_dir,
        columns=columns,
        float_format="%.2f",
        title="Encoders: forward + backward time and peak memory (2 CPU threads)",
        notes=[
            "median of the repeats after one warm-up; each case in its own process",
            "cpu_ms = process CPU time of forward+backward (both threads); load_1m = the "
            "machine's 1-minute load average during the case: wall times on a shared 2-core "
            "machine are inflated when load_1m > 2, cpu_ms much less so",
            "peak_mb = process peak RSS (CPU) or max allocated (CUDA); act_mb = peak minus "
            "the resident size after building model and inputs",
            "S3D cases: video tower only, training mode, plain stem, float32; batch = clips of (3, T, H, W)",
            "feature_encoder: 64 videos x 8 clips, each a window of 4 x 1024-d vectors",
            "sentence_encoder: 512 captions x 20 tokens, frozen 66250 x 300 word table",
        ],
    )


if __name__ == "__main__":
    raise SystemExit(main())
