"""Training throughput: steps/s and clips/s of one optimisation step (forward, loss, backward, Adam) in feature and
pixel mode with the S2DTW loss vs. MIL-NCE at the same batch, and the data-loading throughput of SynthHowTo.

    .venv/bin/python benchmarks/bench_training.py            # -> results/benchmarks/training.{json,md}
    .venv/bin/python benchmarks/bench_training.py --quick    # fewer repeats

2 CPU threads (as in CONTRIBUTING.md). The step is timed on fixed random inputs, so data loading is excluded
from it and measured on its own (PyAV decoding for pixel mode, .npy windows for feature mode). With a CUDA device,
the pixel-mode step at the paper's shape (16 videos x 8 clips x 32 frames x 224^2, S3D width 1) with bf16 AMP is
added.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from vttwins.companion.config import load_config  # noqa: E402
from vttwins.models import ModelConfig, build_model  # noqa: E402
from vttwins.companion.training import builders  # noqa: E402
from vttwins.companion.training.loop import TrainStep  # noqa: E402

VOCAB = [f"w{i}" for i in range(1000)]
# name -> (model overrides, videos per step, clips, frames, size)
SHAPES = {
    "feature": ({"mode": "feature"}, 16, 8, 4, None),  # released sizes, batch 16
    "pixel": ({"mode": "pixel", "width": 0.25, "text_hidden": 512}, 2, 8, 8, 64),  # S3D at a CPU-sized shape
}


def _inputs(mode: str, videos: int, clips: int, frames: int, size: int | None, device):
    g = torch.Generator().manual_seed(0)
    if mode == "feature":
        x = torch.randn(videos, clips, frames, 1024, generator=g)
    else:
        x = torch.randint(0, 256, (videos, clips, 3, frames, size, size), generator=g, dtype=torch.uint8)
    tokens = torch.randint(1, len(VOCAB) + 1, (videos, clips, 20), generator=g)
    return x.to(device), tokens.to(device)


def _stepper(loss_name: str, model_over: dict, x, tokens, device, amp):
    config = load_config("default", [f"loss.name={loss_name}", "loss.num_candidates=4"])
    torch.manual_seed(0)
    model = build_model(ModelConfig(**model_over), vocab=VOCAB)
    step = TrainStep(
        model, builders.build_loss(config), bool(config.loss.normalize), loss_name not in ("mil_nce", "clip_nce"), amp
    ).to(device)
    optimizer = torch.optim.Adam([p for p in step.parameters() if p.requires_grad], lr=1e-4)

    def one() -> float:
        if device != "cpu":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        step(x, tokens).backward()
        optimizer.step()
        if device != "cpu":
            torch.cuda.synchronize()
        return time.perf_counter() - t0

    return one


def time_steps(losses, shape: str, repeats: int, device="cpu", amp=None, override=None) -> list[dict]:
    """Median step time per loss; the losses' steps are interleaved so that load changes hit them alike."""
    model_over, videos, clips, frames, size = SHAPES[shape] if override is None else override
    x, tokens = _inputs(model_over["mode"], videos, clips, frames, size, device)
    steppers = {name: _stepper(name, model_over, x, tokens, device, amp) for name in losses}
    for one in steppers.values():
        one()  # warm-up (allocations, JIT)
    times = {name: [] for name in losses}
    for _ in range(repeats):
        for name, one in steppers.items():
            times[name].append(one())
    records = []
    for name in losses:
        median = statistics.median(times[name])
        records.append(
            {
                "what": "train step",
                "mode": model_over["mode"],
                "loss": name,
                "videos": videos,
                "clips": clips,
                "frames": frames,
                "size": size or 0,
                "device": str(device),
                "amp": str(amp or "none").replace("torch.", ""),
                "repeats": repeats,
                "step_s": median,
                "steps_per_s": 1 / median,
                "clips_per_s": videos * clips / median,
            }
        )
    return records


def time_loading(mode: str, items: int):
    from vttwins.data import collate_pretrain

    config = load_config("smoke", [f"model.mode={mode}", "data.num_frames=8", "data.size=64"])
    paths = builders.data_paths(config)
    dataset = builders.build_dataset(config, paths, builders.build_tokenizer(paths))
    n = min(items, len(dataset))
    t0 = time.perf_counter()
    batch = collate_pretrain([dataset[i] for i in range(n)])
    elapsed = time.perf_counter() - t0
    key = "video" if mode == "pixel" else "features"
    return {
        "what": "data loading",
        "mode": mode,
        "loss": "-",
        "videos": n,
        "clips": config.data.n_clips,
        "frames": config.data.num_frames if mode == "pixel" else config.model.feature_window,
        "size": config.data.size if mode == "pixel" else 0,
        "device": "cpu",
        "amp": "none",
        "repeats": 1,
        "step_s": elapsed / n,
        "steps_per_s": n / elapsed,
        "clips_per_s": n * config.data.n_clips / elapsed,
        "shape": list(batch[key].shape),
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--out", default=None, help="output folder (default results/benchmarks)")
    args = p.parse_args(argv)
    torch.set_num_threads(2)
    repeats = 3 if args.quick else 8
    records = []
    load_before = os.getloadavg()[0]
    for shape in ("feature", "pixel"):
        records += time_steps(("s2dtw", "mil_nce"), shape, repeats if shape == "feature" else max(2, repeats // 2))
        print(records[-2:], flush=True)
    for mode in ("feature", "pixel"):
        records.append(time_loading(mode, 24))
        print(records[-1], flush=True)
    if torch.cuda.is_available():
        paper = ({"mode": "pixel", "width": 1.0}, 16, 8, 32, 224)
        records += time_steps(("s2dtw", "mil_nce"), "pixel", 5, "cuda", torch.bfloat16, override=paper)
    notes_load = (
        f"machine load average (1 min) {load_before:.1f} before and {os.getloadavg()[0]:.1f} after "
        f"the run on {os.cpu_count()} cores: other processes shared the CPU, so absolute times are "
        "inflated; the interleaved S2DTW / MIL-NCE ratios are the comparable numbers."
    )
    from vttwins import alignment

    notes_backend = f"alignment backend: {alignment.get_backend()} (numba available: {alignment.numba_available()})."
    by = {(r["what"], r["mode"], r["loss"], r["device"]): r for r in records}
    notes = [
        "2 CPU threads; median over repeats after one warm-up step; inputs are fixed random tensors, so the "
        "step excludes data loading, which is measured separately (SynthHowTo smoke, num_workers=0).",
        "feature mode: released sizes (1024-d inputs, 4 vectors per clip, d=512, text fc1 2048), 16 videos x 8 "
        "clips; pixel mode on CPU: S3D width 0.25, 8 frames of 64x64, 2 videos x 8 clips.",
        notes_load,
        notes_backend,
    ]
    for mode in ("feature", "pixel"):
        a, b = by[("train step", mode, "s2dtw", "cpu")], by[("train step", mode, "mil_nce", "cpu")]
        notes.append(
            f"{mode} mode: an S2DTW step takes {a['step_s'] / b['step_s']:.2f}x the time of a MIL-NCE step "
            "at the same batch (the cost of the alignment)."
        )
    from vttwins.companion.results import write_benchmark

    cols = [
        "what",
        "mode",
        "loss",
        "device",
        "amp",
        "videos",
        "clips",
        "frames",
        "size",
        "step_s",
        "steps_per_s",
        "clips_per_s",
    ]
    json_path, md_path = write_benchmark(
        records,
        "training",
        args.out,
        columns=cols,
        notes=notes,
        title="Training throughput (steps/s, clips/s) and data loading",
    )
    print(md_path.read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
