"""The study's cost, today's data path vs the table path, side by side in one run (issue 20, "runs that cost
their compute"):

    .venv/bin/python benchmarks/bench_study.py            # default profile -> results/benchmarks/study.{json,md}
    .venv/bin/python benchmarks/bench_study.py --quick    # smoke sizes -> runs/bench/study-quick/ (a check it runs)

(a) one feature-mode run as a user starts it (`python -m vttwins train`, a fresh process): its wall time over the
    time of its training steps, measured as t(S steps) / (t(2S) - t(S)) (target <= 1.5);
(b) ms per feature-mode step inside the loop (median of the per-step times after the first few; target: the
    reference / table ratio >= 2);
(c) a small fixed slice of notebook 02's grid (the same cells both ways: losses x seeds, trained and evaluated on
    YouCook2 and CrossTask), each way in a fresh process: wall time and the ratio.

"reference" is today's data path (`VTTWINS_DATA_PATH=reference`): the per-item `HowToPretrainDataset` (every item
re-reads its `.npy` and captions), the vocabulary corpus and the evaluation feature files read again by every run;
"table" is the default (`vttwins.data.howto_table`: the data set read once per process, batches gathered by fancy
indexing; `load_features_shared` and `caption_texts` read once per process). Both give bit-identical batches (tests/test_data_howto_table.py), so the
tables they produce are the same. What is NOT switched: start-up imports (both use this checkout's lazy package
`__init__` files). The SynthHowTo used is generated features-only into runs/bench/ (videos are not needed).
Run it alone on an idle machine: the numbers are wall times.

Where start-up goes (issue 20 item 1, `python -X importtime`, torch 2.13.0+cpu, proportions only, busy machine):
`torch._dynamo` costs about as much as `import torch` itself (cumulative import times ~1:1) and it is pulled in by
constructing `torch.optim.Adam`, not by its first step: `Optimizer.__init__`/`add_param_group` are wrapped by
`torch._disable_dynamo`, whose first call imports `torch._dynamo` (and `_use_grad_for_differentiable` imports it
again on `step`). No torch setting avoids it; only an optimiser that does not subclass `torch.optim.Optimizer`
would. `vttwins.companion.config` (~1/4 of `import torch`) is the next largest import of the training builders.
Not yet profiled: the rest of the train CLI (data/model build) and a notebook-02 cell in a warm worker.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
PATHS = ("reference", "table")
SIZES = {  # profile, steps S of (a), steps of (b), grid losses, grid seeds, grid steps
    "full": ("default", 150, 150, ["mil_nce", "s2dtw", "soft_dtw"], [1, 2], 150),
    "quick": ("smoke", 6, 12, ["mil_nce", "s2dtw"], [1], 4),
}


def _overrides(profile: str, data_root: Path) -> list[str]:
    return [
        f"data.root={data_root}",
        "data.synth={render_videos: false}",
        "train.progress=log",
        "train.checkpoint_every=1000000",
        "data.num_workers=0",
    ]


def _env(path: str) -> dict:
    return {
        **os.environ,
        "VTTWINS_DATA_PATH": path,
        "PYTHONPATH": str(REPO),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "2"),
    }


def ensure_data(profile: str, data_root: Path) -> None:
    from vttwins.companion.config import load_config
    from vttwins.companion.experiments.runs import ensure_data as ensure

    ensure(load_config(profile, _overrides(profile, data_root)))


def run_wall(profile: str, data_root: Path, out: Path, steps: int, path: str) -> float:
    """(a): wall seconds of `python -m vttwins train` for `steps` steps, in a fresh process."""
    cmd = [
        sys.executable,
        "-m",
        "vttwins",
        "train",
        "--config",
        profile,
        *_overrides(profile, data_root),
        f"train.steps={steps}",
        f"output_dir={out}",
        f"train.log_every={steps}",
    ]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, env=_env(path), cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - t0


def step_ms(profile: str, data_root: Path, out: Path, steps: int, path: str) -> float:
    """(b): median ms of one loop step (data, model, loss, backward, Adam), after the first 3, in this process."""
    from vttwins.companion.config import load_config
    from vttwins.companion.training import fit

    os.environ["VTTWINS_DATA_PATH"] = path
    stamps = []
    cfg = load_config(
        profile,
        [*_overrides(profile, data_root), f"train.steps={steps}", f"output_dir={out}", "train.log_every=1000000"],
    )
    fit(cfg, callbacks=[lambda record: stamps.append(time.perf_counter())])
    return 1000 * statistics.median(b - a for a, b in zip(stamps[3:], stamps[4:]))


GRID_CODE = """
import json, sys, time
t0 = time.perf_counter()
from vttwins.companion import experiments as ex
from vttwins.companion.config import load_config
profile, overrides, losses, seeds, steps, root = json.loads(sys.argv[1])
base = load_config(profile, overrides + [f"train.steps={steps}", "train.epochs=null"])
jobs = ex.grid_jobs(base, ex.loss_cells(losses), seeds, root)
ex.run_jobs(jobs, ["youcook2", "crosstask"], {}, workers=1)
print(json.dumps({"wall_s": time.perf_counter() - t0, "runs": len(jobs)}))
"""


def grid_wall(profile: str, data_root: Path, root: Path, losses, seeds, steps: int, path: str) -> dict:
    """(c): wall seconds of the grid slice in a fresh process (imports, data, training and evaluation)."""
    arg = json.dumps([profile, _overrides(profile, data_root), losses, seeds, steps, str(root)])
    done = subprocess.run(
        [sys.executable, "-c", GRID_CODE, arg], check=True, env=_env(path), cwd=REPO, capture_output=True, text=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(size: str, work: Path) -> dict:
    profile, s, b_steps, losses, seeds, g_steps = SIZES[size]
    data_root = work / f"synth-{profile}-features"
    ensure_data(profile, data_root)
    step_ms(profile, data_root, work / "warmup", 6, "table")  # numba cache, first imports: not measured
    out: dict = {
        "size": size,
        "profile": profile,
        "steps": s,
        "grid": {"losses": losses, "seeds": seeds, "steps": g_steps},
    }
    for path in PATHS:
        one, two = (run_wall(profile, data_root, work / f"a-{path}-{n}", n, path) for n in (s, 2 * s))
        ms = step_ms(profile, data_root, work / f"b-{path}", b_steps, path)
        grid = grid_wall(profile, data_root, work / f"c-{path}", losses, seeds, g_steps, path)
        out[path] = {
            "run_s": one,
            "run_2x_s": two,
            "run_over_steps": one / max(two - one, 1e-9),
            "step_ms": ms,
            "grid_s": grid["wall_s"],
            "grid_runs": grid["runs"],
        }
    ref, new = out["reference"], out["table"]
    out["step_speedup"] = ref["step_ms"] / new["step_ms"]
    out["grid_speedup"] = ref["grid_s"] / new["grid_s"]
    return out


def markdown(r: dict) -> str:
    ref, new = r["reference"], r["table"]
    g = r["grid"]
    rows = [
        (
            "(a) run wall / its steps' time (target <= 1.5)",
            f"{ref['run_over_steps']:.2f}",
            f"{new['run_over_steps']:.2f}",
            "",
        ),
        (
            f"(a) wall of a {r['steps']}-step run (s)",
            f"{ref['run_s']:.1f}",
            f"{new['run_s']:.1f}",
            f"{ref['run_s'] / new['run_s']:.2f}x",
        ),
        (
            "(b) ms per feature-mode step in the loop (target >= 2x)",
            f"{ref['step_ms']:.1f}",
            f"{new['step_ms']:.1f}",
            f"{r['step_speedup']:.2f}x",
        ),
        (
            f"(c) notebook 02 slice: {len(g['losses'])} losses x {len(g['seeds'])} seeds, {g['steps']} steps (s)",
            f"{ref['grid_s']:.1f}",
            f"{new['grid_s']:.1f}",
            f"{r['grid_speedup']:.2f}x",
        ),
    ]
    lines = [
        f"# Study cost: per-item data path (reference) vs table path ({r['profile']} profile, {r['size']})",
        "",
        "Written by `benchmarks/bench_study.py`; both paths measured in the same run on this machine.",
        "",
        "| measure | reference | table | speed-up |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="smoke sizes, a check that the benchmark runs")
    p.add_argument(
        "--out",
        default=None,
        help="folder for study.{json,md} (default results/benchmarks, runs/bench/study-quick with --quick)",
    )
    args = p.parse_args(argv)
    size = "quick" if args.quick else "full"
    out_dir = Path(args.out) if args.out else REPO / ("runs/bench/study-quick" if args.quick else "results/benchmarks")
    work = REPO / "runs" / "bench" / f"study-{size}-work"
    if work.exists():
        import shutil

        for child in work.iterdir():
            if not child.name.startswith("synth-"):
                shutil.rmtree(child, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    result = measure(size, work)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "study.json").write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    (out_dir / "study.md").write_text(markdown(result))
    sys.stdout.write(markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
