"""Write a whole SynthHowTo folder: `generate(out_dir, config, workers=None) -> SynthPaths`.

    python -m vttwins data synth --profile smoke --out data/synth/smoke

Output is a pure function of the config: every video is seeded on its own (videos.py) and the set files are
written in index order, so any number of worker processes gives identical bytes. `manifest.json` is written first
(the generator's claim on the folder), `meta.json` last (a complete folder); `ensure_synth` regenerates only a
folder it wrote itself whose settings changed (manifest.py).
"""

from __future__ import annotations

import contextlib
import json
import logging
import multiprocessing
import os
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from . import downstream, manifest
from .config import SynthConfig
from .paths import SynthPaths, synth_paths
from .readme import readme_text
from .videos import run_job, world_for

log = logging.getLogger(__name__)
GENERATOR_VERSION = 1


def _jobs(config: SynthConfig, paths: SynthPaths) -> list[tuple]:
    counts = {
        "howto": config.howto_videos,
        "youcook2": config.youcook2_videos,
        "msrvtt": config.msrvtt_videos,
        "crosstask": config.crosstask_videos,
        "action": config.action_clips_per_class * config.num_verbs,
    }
    return [(config, paths, kind, i) for kind, n in counts.items() for i in range(n)]


def _single_threaded_blas() -> contextlib.AbstractContextManager:
    """Per-video matrices are small: a multi-threaded BLAS only contends with the other workers (10x slower)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # optional: only speed depends on it
        return contextlib.nullcontext()
    return threadpool_limits(1)


def _worker_init() -> None:
    _single_threaded_blas()


def _run(jobs: list[tuple], workers: int, progress: bool) -> list[dict]:
    bar = tqdm(total=len(jobs), desc="synth", disable=not progress, unit="video")
    if workers <= 1:
        out = []
        with _single_threaded_blas():
            for job in jobs:
                out.append(run_job(job))
                bar.update()
    else:
        # fork where available: works from scripts without a __main__ guard and from notebooks; the workers
        # use numpy and PyAV only (never torch), so a parent's thread pools do not matter.
        methods = multiprocessing.get_all_start_methods()
        ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_worker_init) as pool:
            out = []
            for rec in pool.map(run_job, jobs, chunksize=4):
                out.append(rec)
                bar.update()
    bar.close()
    return out


def _stats(howto: list[dict]) -> dict:
    offsets = np.array([o for r in howto for o in r["offsets"]], dtype=np.float64)
    n_step = sum(r["n_step_captions"] for r in howto)
    n_filler = sum(r["n_filler"] for r in howto)
    n_steps = sum(r["n_steps"] for r in howto)
    return {
        "captions": n_step + n_filler + sum(r["n_empty"] for r in howto),
        "step_captions": n_step,
        "filler_captions": n_filler,
        "empty_captions": sum(r["n_empty"] for r in howto),
        "steps": n_steps,
        "filler_fraction": n_filler / max(n_step + n_filler, 1),
        "offset_mean": float(offsets.mean()) if offsets.size else 0.0,
        "offset_std": float(offsets.std()) if offsets.size else 0.0,
        "seconds": sum(r["duration"] for r in howto),
    }


def _prepare(paths: SynthPaths, config: SynthConfig, managed: bool) -> None:
    manifest.claim(paths, config, managed)  # raises, touching nothing, on a folder the generator did not write
    paths.meta.unlink(missing_ok=True)
    for sub in ("howto100m", "youcook2", "msrvtt", "crosstask", "actions"):  # never leave stale videos behind
        shutil.rmtree(paths.root / sub, ignore_errors=True)
    for folder in paths.folders():
        folder.mkdir(parents=True, exist_ok=True)


def generate(
    out_dir: str | Path,
    config: SynthConfig | None = None,
    workers: int | None = None,
    progress: bool | None = None,
    managed: bool = False,
) -> SynthPaths:
    """Generate SynthHowTo into `out_dir` (replacing a previous SynthHowTo there) and return its paths.

    `out_dir` must be empty, missing, or a folder this generator wrote (its `manifest.json`); anything else raises
    before a file is touched. `managed=True` marks the folder a cache `ensure_synth` may regenerate when the
    settings change; `False` (a folder made on request) is never replaced by `ensure_synth`.
    """
    config = config or SynthConfig()
    paths = synth_paths(out_dir)
    workers = (os.cpu_count() or 1) if workers is None else workers
    progress = sys.stderr.isatty() if progress is None else progress
    t0 = time.perf_counter()
    _prepare(paths, config, managed)
    world = world_for(config)
    paths.world.write_text(json.dumps(world.to_json(), indent=1))
    jobs = _jobs(config, paths)
    records = _run(jobs, workers, progress)
    by_kind: dict[str, list[dict]] = {}
    for job, rec in zip(jobs, records):
        by_kind.setdefault(job[2], []).append(rec)
    downstream.write_howto(paths, by_kind.get("howto", []))
    downstream.write_youcook2(paths, by_kind.get("youcook2", []))
    downstream.write_msrvtt(paths, by_kind.get("msrvtt", []))
    downstream.write_crosstask(paths, world, by_kind.get("crosstask", []))
    downstream.write_actions(paths, config, by_kind.get("action", []))
    counts = _counts(by_kind)
    paths.readme.write_text(readme_text(config, counts))
    meta = {"generator_version": GENERATOR_VERSION, "config": config.to_dict(), "counts": counts}
    paths.meta.write_text(json.dumps(meta, indent=1, sort_keys=True))  # last: marks a complete folder
    log.info(
        "SynthHowTo: %d videos in %s (%.1f s, %d workers)", len(jobs), paths.root, time.perf_counter() - t0, workers
    )
    return paths


def _counts(by_kind: dict[str, list[dict]]) -> dict:
    yc, ct = by_kind.get("youcook2", []), by_kind.get("crosstask", [])
    return {
        "howto_videos": len(by_kind.get("howto", [])),
        "howto": _stats(by_kind.get("howto", [])),
        "youcook2_videos": len(yc),
        "youcook2_pairs": sum(len(r["rows"]) for r in yc),
        "msrvtt_videos": len(by_kind.get("msrvtt", [])),
        "crosstask_videos": len(ct),
        "crosstask_val_videos": sum(r["split"] == "val" for r in ct),
        "crosstask_segments": sum(len(r["segments"]) for r in ct),
        "action_clips": len(by_kind.get("action", [])),
        "action_classes": len({r["action"] for r in by_kind.get("action", [])}),
    }


def _is_current(paths: SynthPaths, config: SynthConfig) -> bool:
    try:
        meta = json.loads(paths.meta.read_text())
    except (OSError, ValueError):
        return False
    return meta.get("config") == config.to_dict() and meta.get("generator_version") == GENERATOR_VERSION


@contextlib.contextmanager
def _folder_lock(root: Path):
    """An exclusive lock on `<root>.lock` (POSIX), so concurrent ensure_synth calls generate only once."""
    root.parent.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # not POSIX: no locking
        yield
        return
    with open(root.parent / f".{root.name}.lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def ensure_synth(
    out_dir: str | Path,
    config: SynthConfig | None = None,
    workers: int | None = None,
    regenerate: bool = True,
    managed: bool = True,
) -> SynthPaths:
    """Paths of SynthHowTo in `out_dir`, generated when missing; see `manifest.py` for when it may be replaced.

    A folder of other settings is regenerated (at WARNING) only if `ensure_synth` wrote it (`managed`) and
    `regenerate` is true; a folder the user made, or any folder with `regenerate=False`, raises ValueError instead.
    """
    config = config or SynthConfig()
    paths = synth_paths(out_dir)
    if _is_current(paths, config) and manifest.decide(paths, config, True, regenerate) == "current":
        return paths
    with _folder_lock(paths.root):
        if manifest.decide(paths, config, _is_current(paths, config), regenerate) == "current":
            return paths  # another process generated it while we waited
        return generate(out_dir, config, workers=workers, managed=managed)
