"""The study's cost, this checkout vs the code issue 20 measured, side by side in one run (issue 20, "runs that
cost their compute"):

    .venv/bin/python benchmarks/bench_study.py            # default profile -> results/benchmarks/study.{json,md}
    .venv/bin/python benchmarks/bench_study.py --quick    # smoke sizes -> runs/bench/study-quick/ (a check it runs)
    .venv/bin/python benchmarks/bench_study.py --reference REV   # another reference revision

"reference" is the package exactly as it was at a git revision (default `34e4840`, the main that issue 20 measured),
exported with `git archive` into `runs/bench/ref-<rev>/` and run from there with this checkout's .venv; "now" is this
checkout. Every measurement runs in a fresh process of its own, so both sides pay their own imports:

(a) one feature-mode run as a user starts it (`python -m vttwins train`): its wall time over the time of its training
    steps, measured as t(S steps) / (t(2S) - t(S)) (target <= 1.5); and the same for a run in a warm process (a grid
    worker that has trained before), which is what a study pays per run. Both sides must train bit-identical weights:
    the table says whether the two S-step models are equal.
(b) ms per feature-mode step inside the loop (median of the per-step times after the first 3; target: reference /
    now >= 2);
(c) a small fixed slice of notebook 02's grid (the same cells both ways: losses x seeds, trained and evaluated on
    YouCook2 and CrossTask) from a fresh process: in a pool of 2 one-thread worker processes as notebook 02 runs
    it (target: ratio >= 3), and in the one process.

The SynthHowTo used is generated features-only into runs/bench/ (videos are not needed). Each side is warmed once
before it is measured (numba's on-disk cache of each source tree, the page cache). Run it alone on an idle machine:
the numbers are wall times.

Where a run's start-up went (`python -X importtime`, cProfile; torch 2.13.0+cpu, 2 cores): `import torch` ~1.3-1.7 s;
constructing `torch.optim.Adam` imported `torch._dynamo` (~1.8 s, as much as torch itself: `Optimizer.__init__` is
wrapped by `torch._disable_dynamo`) -- gone since the loop uses `training.optim.Adam` (bit-identical, tested); numba
imports ~0.45 s and loading its cached S2DTW kernels on the first step ~0.7 s; pandas ~0.2 s (caption reading). With
S = 150 steps of ~13 ms, import torch alone is ~0.7 S-step times, so (a) from a fresh process cannot reach 1.5 at
this step time; the warm-process column is the study's per-run overhead.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
REFERENCE = "34e4840"  # main when issue 20 was filed and measured
SIZES = {  # profile, steps S of (a), steps of (b), grid losses, grid seeds, grid steps
    "full": ("default", 150, 150, ["mil_nce", "s2dtw", "soft_dtw"], [1, 2], 150),
    "quick": ("smoke", 6, 12, ["mil_nce", "s2dtw"], [1], 4),
}
IMPORTS = """
import os, vttwins
if os.path.isdir(os.path.join(vttwins.__path__[0], "companion")):  # this checkout's layout
    from vttwins.companion import experiments as ex
    from vttwins.companion.config import load_config
    from vttwins.companion.training import fit
else:  # before the companion moved under vttwins.companion (the editable install would answer for it otherwise)
    from vttwins import experiments as ex
    from vttwins.config import load_config
    from vttwins.training import fit
"""
WARM_CODE = (
    IMPORTS
    + """
import json, statistics, sys, time
profile, overrides, steps, out = json.loads(sys.argv[1])
def run(n, name, stamps=None):
    cfg = load_config(profile, overrides + [f"train.steps={n}", f"output_dir={out}/{name}", "train.log_every=1000000"])
    t0 = time.perf_counter()
    fit(cfg, callbacks=[lambda record: stamps.append(time.perf_counter())] if stamps is not None else ())
    return time.perf_counter() - t0
run(6, "warmup")
stamps = []
one = run(steps, "one", stamps)
two = run(2 * steps, "two")
print(json.dumps({"step_ms": 1000 * statistics.median(b - a for a, b in zip(stamps[3:], stamps[4:])),
                  "warm_run_s": one, "warm_run_2x_s": two}))
"""
)
GRID_CODE = (
    IMPORTS
    + """
import json, sys, time
t0 = time.perf_counter()
profile, overrides, losses, seeds, steps, root, workers = json.loads(sys.argv[1])
base = load_config(profile, overrides + [f"train.steps={steps}", "train.epochs=null"])
jobs = ex.grid_jobs(base, ex.loss_cells(losses), seeds, root)
ex.run_jobs(jobs, ["youcook2", "crosstask"], {}, workers=workers)
print(json.dumps({"wall_s": time.perf_counter() - t0, "runs": len(jobs)}))
"""
)

PROFILE_CODE = """
import json, sys, torch
from torch.profiler import ProfilerActivity, profile, record_function, schedule
from vttwins.companion.config import load_config
from vttwins.companion.training import fit, loop, optim
profile_name, overrides, steps, out = json.loads(sys.argv[1])
def ranged(name, fn):
    def inner(*args, **kwargs):
        with record_function(name):
            return fn(*args, **kwargs)
    return inner
loop.TrainStep.forward = ranged("phase: forward (model + loss)", loop.TrainStep.forward)
torch.Tensor.backward = ranged("phase: backward", torch.Tensor.backward)
optim.Adam.step = ranged("phase: optimizer (Adam)", optim.Adam.step)
active = steps - 10
prof = profile(activities=[ProfilerActivity.CPU], schedule=schedule(wait=5, warmup=5, active=active))
cfg = load_config(profile_name, overrides + [f"train.steps={steps}", f"output_dir={out}", "train.log_every=1000000"])
prof.start()
fit(cfg, callbacks=[lambda record: prof.step()])
prof.stop()
rows = prof.key_averages()
total = {r.key: r.cpu_time_total / 1000 / active for r in rows}
self_ms = {r.key: r.self_cpu_time_total / 1000 / active for r in rows}
step = next(v for k, v in total.items() if k.startswith("ProfilerStep"))
phases = {k: v for k, v in total.items() if k.startswith("phase: ")}
phases["phase: data (DataLoader: gather, tokens)"] = sum(v for k, v in total.items() if k.startswith("enumerate(DataLoader)"))
phases["phase: rest (loop, logging, callbacks)"] = step - sum(phases.values())
ops = sorted(((k, v) for k, v in self_ms.items() if not k.startswith(("phase: ", "ProfilerStep", "enumerate("))),
             key=lambda kv: -kv[1])[:8]
print(json.dumps({"step_ms": step, "phases": phases, "ops": ops}))
"""


def _overrides(data_root: Path) -> list[str]:
    return [
        f"data.root={data_root}",
        "data.synth.render_videos=false",
        "train.progress=log",
        "train.checkpoint_every=1000000",
        "data.num_workers=0",
    ]


def export_reference(rev: str) -> Path:
    """The package and configs at git revision `rev`, extracted once into runs/bench/ref-<rev>/."""
    dest = REPO / "runs" / "bench" / f"ref-{rev}"
    if (dest / "vttwins" / "__init__.py").exists():
        return dest
    dest.mkdir(parents=True, exist_ok=True)
    try:
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", rev, "vttwins", "configs"], check=True, capture_output=True
        ).stdout
    except (OSError, subprocess.CalledProcessError) as err:
        raise SystemExit(f"--reference {rev!r}: cannot export it with git archive ({err})") from err
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest


def _python(src: Path, args: list[str]) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(src), "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "2")}
    env.pop("VTTWINS_DATA_PATH", None)
    done = subprocess.run([sys.executable, *args], env=env, cwd=src, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{src}: python {' '.join(args[:3])[:80]} failed:\n{done.stderr[-3000:]}")
    return done


def ensure_data(profile: str, data_root: Path) -> None:
    from vttwins.companion.config import load_config
    from vttwins.companion.experiments.runs import ensure_data as ensure

    ensure(load_config(profile, _overrides(data_root)))


def run_wall(src: Path, profile: str, data_root: Path, out: Path, steps: int) -> float:
    """(a): wall seconds of `python -m vttwins train` for `steps` steps, in a fresh process."""
    cmd = ["-m", "vttwins", "train", "--config", profile, *_overrides(data_root)]
    cmd += [f"train.steps={steps}", f"output_dir={out}", f"train.log_every={steps}"]
    t0 = time.perf_counter()
    _python(src, cmd)
    return time.perf_counter() - t0


def warm(src: Path, profile: str, data_root: Path, out: Path, steps: int) -> dict:
    """(a) in a warm process and (b): one process trains 6 steps, then `steps` (per-step stamps), then 2 x `steps`."""
    done = _python(src, ["-c", WARM_CODE, json.dumps([profile, _overrides(data_root), steps, str(out)])])
    return json.loads(done.stdout.strip().splitlines()[-1])


def grid_wall(src: Path, profile: str, data_root: Path, root: Path, losses, seeds, steps: int, workers: int) -> dict:
    """(c): wall seconds of the grid slice in a fresh process (imports, data, training and evaluation), run in
    this process (workers=1) or in a pool of `workers` one-thread processes (notebook 02: 2)."""
    arg = json.dumps([profile, _overrides(data_root), losses, seeds, steps, str(root), workers])
    return json.loads(_python(src, ["-c", GRID_CODE, arg]).stdout.strip().splitlines()[-1])


def step_profile(profile: str, data_root: Path, out: Path, steps: int) -> dict:
    """(b) where a step's time goes (this checkout): torch.profiler over the loop, by phase and by op (ms/step)."""
    arg = json.dumps([profile, _overrides(data_root), steps, str(out)])
    return json.loads(_python(REPO, ["-c", PROFILE_CODE, arg]).stdout.strip().splitlines()[-1])


def same_weights(a: Path, b: Path) -> bool:
    import torch

    one, two = (torch.load(p / "model.pt", map_location="cpu", weights_only=False)["model"] for p in (a, b))
    return one.keys() == two.keys() and all(torch.equal(one[k], two[k]) for k in one)


def measure(size: str, work: Path, reference: str) -> dict:
    profile, s, b_steps, losses, seeds, g_steps = SIZES[size]
    data_root = work / f"synth-{profile}-features"
    ensure_data(profile, data_root)
    sides = {"reference": export_reference(reference), "now": REPO}
    out: dict = {"size": size, "profile": profile, "steps": s, "reference_rev": reference}
    out["grid"] = {"losses": losses, "seeds": seeds, "steps": g_steps}
    for side, src in sides.items():  # numba's cache of each tree, the page cache: not measured
        run_wall(src, profile, data_root, work / f"warmup-{side}", 2)
    for side, src in sides.items():
        one, two = (run_wall(src, profile, data_root, work / f"a-{side}-{n}", n) for n in (s, 2 * s))
        w = warm(src, profile, data_root, work / f"b-{side}", b_steps)
        grid = grid_wall(src, profile, data_root, work / f"c-{side}", losses, seeds, g_steps, 1)
        pool = grid_wall(src, profile, data_root, work / f"c2-{side}", losses, seeds, g_steps, 2)
        out[side] = {
            "run_s": one,
            "run_2x_s": two,
            "run_over_steps": one / max(two - one, 1e-9),
            "warm_run_over_steps": w["warm_run_s"] / max(w["warm_run_2x_s"] - w["warm_run_s"], 1e-9),
            **w,
            "grid_s": grid["wall_s"],
            "grid_runs": grid["runs"],
            "grid2_s": pool["wall_s"],
        }
    out["profile_now"] = step_profile(profile, data_root, work / "profile-now", max(b_steps, 20))
    out["same_weights"] = same_weights(work / f"a-reference-{s}", work / f"a-now-{s}")
    out["step_speedup"] = out["reference"]["step_ms"] / out["now"]["step_ms"]
    out["grid_speedup"] = out["reference"]["grid_s"] / out["now"]["grid_s"]
    out["grid2_speedup"] = out["reference"]["grid2_s"] / out["now"]["grid2_s"]
    return out


def markdown(r: dict) -> str:
    ref, new, g, s = r["reference"], r["now"], r["grid"], r["steps"]
    rows = [
        ("(a) run wall / its steps' time, fresh process (target <= 1.5)", "run_over_steps", "{:.2f}", ""),
        (f"(a) wall of a {s}-step run, fresh process (s)", "run_s", "{:.1f}", "x"),
        ("(a) run wall / its steps' time, warm process", "warm_run_over_steps", "{:.2f}", ""),
        (f"(a) wall of a {s}-step run, warm process (s)", "warm_run_s", "{:.2f}", "x"),
        ("(b) ms per feature-mode step in the loop (target >= 2x)", "step_ms", "{:.1f}", "x"),
        (f"(c) notebook 02 slice: {len(g['losses'])} losses x {len(g['seeds'])} seeds, {g['steps']} steps, "
         "2 worker processes as in notebook 02 (s) (target >= 3x)", "grid2_s", "{:.1f}", "x"),
        ("(c) the same slice in one process (s)", "grid_s", "{:.1f}", "x"),
    ]  # fmt: skip
    lines = [
        f"# Study cost: the code at {r['reference_rev']} (reference) vs this checkout ({r['profile']} profile, "
        f"{r['size']})",
        "",
        "Written by `benchmarks/bench_study.py`; both sides measured in the same run on this machine, each in fresh "
        f"processes. The two {s}-step runs trained bit-identical weights: **{'yes' if r['same_weights'] else 'NO'}**.",
        "",
        "| measure | reference | now | speed-up |",
        "|---|---:|---:|---:|",
    ]
    for label, key, fmt, ratio in rows:
        speed = f"{ref[key] / new[key]:.2f}x" if ratio else ""
        lines.append(f"| {label} | {fmt.format(ref[key])} | {fmt.format(new[key])} | {speed} |")
    prof = r.get("profile_now")
    if prof:
        lines += [
            "",
            f"Where a step of this checkout goes (torch.profiler, {prof['step_ms']:.1f} ms/step under the profiler; "
            "CPU time, ms/step):",
            "",
            "| phase | ms | | op (self time) | ms |",
            "|---|---:|---|---|---:|",
        ]
        phases = sorted(prof["phases"].items(), key=lambda kv: -kv[1])
        for i in range(max(len(phases), len(prof["ops"]))):
            a = (phases[i][0].removeprefix("phase: "), f"{phases[i][1]:.2f}") if i < len(phases) else ("", "")
            b = (prof["ops"][i][0], f"{prof['ops'][i][1]:.2f}") if i < len(prof["ops"]) else ("", "")
            lines.append(f"| {a[0]} | {a[1]} | | {b[0]} | {b[1]} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="smoke sizes, a check that the benchmark runs")
    p.add_argument("--reference", default=REFERENCE, help=f"git revision of the reference side (default {REFERENCE})")
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
        for child in work.iterdir():
            if not child.name.startswith("synth-"):
                shutil.rmtree(child, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    result = measure(size, work, args.reference)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "study.json").write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    (out_dir / "study.md").write_text(markdown(result))
    sys.stdout.write(markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
