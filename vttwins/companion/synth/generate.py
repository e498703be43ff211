"""Write a whole SynthHowTo folder: `generate(out_dir, config, workers=None) -> SynthPaths`.

    python -m vttwins data synth --profile smoke --out data/synth/smoke

Output is a pure function of the config: every video is seeded on its own (videos.py) and the set files are
written in index order, so any number of worker processes gives identical bytes. `manifest.json` is written first
(the generator's claim on the folder), `meta.json` last (a complete folder); `ensure_synth` regenerates only a
folder it wrote itself whose settings changed (manifest.py).

The pretraining videos (HowTo100M-style) are SynthHowTo's own; every downstream split comes from the benchmark
registry (`vttwins.companion.benchmarks.registry.synth_splits()`: each `Task.synth`, in registry order), so a
benchmark with its own split needs no edit here.
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

from vttwins.companion.benchmarks.registry import synth_splits
from vttwins.companion.benchmarks.split import HOWTO_SEED_CODE, SynthSplit, resolve

from . import downstream, manifest
from .config import SynthConfig
from .paths import SynthPaths, synth_paths
from .readme import readme_text
from .videos import make_howto, run_job, world_for

log = logging.getLogger(__name__)
GENERATOR_VERSION = 1


def _check_splits(splits: list[SynthSplit]) -> None:
    """Folders and seed codes must be unique (a shared seed code would give two splits the same videos)."""
    for attr, taken in (("folder", {"howto100m"}), ("seed_code", {HOWTO_SEED_CODE})):
        for split in splits:
            value = getattr(split, attr)
            if value in taken:
                raise ValueError(f"SynthSplit.{attr} {value!r} of split {split.folder!r} is already taken")
            taken.add(value)


def _jobs(config: SynthConfig, paths: SynthPaths, splits: list[SynthSplit]) -> list[tuple]:
    """(config, paths, kind, index, make): the HowTo videos, then each split's items (kind = its folder)."""
    jobs = [(config, paths, "howto", i, make_howto) for i in range(config.howto_videos)]
    for split in splits:
        n = int(resolve(split.count)(config))
        jobs += [(config, paths, split.folder, i, split.make) for i in range(n)]
    return jobs


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


def _prepare(paths: SynthPaths, config: SynthConfig, managed: bool, splits: list[SynthSplit]) -> None:
    manifest.claim(paths, config, managed)  # raises, touching nothing, on a folder the generator did not write
    paths.meta.unlink(missing_ok=True)
    for sub in ("howto100m", *(s.folder for s in splits)):  # never leave stale videos behind
        shutil.rmtree(paths.root / sub, ignore_errors=True)
    for folder in paths.folders() + [getattr(paths, name) for s in splits for name in s.folders]:
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
    splits = synth_splits()
    _check_splits(splits)
    paths = synth_paths(out_dir)
    workers = (os.cpu_count() or 1) if workers is None else workers
    progress = sys.stderr.isatty() if progress is None else progress
    t0 = time.perf_counter()
    _prepare(paths, config, managed, splits)
    world = world_for(config)
    paths.world.write_text(json.dumps(world.to_json(), indent=1))
    jobs = _jobs(config, paths, splits)
    records = _run(jobs, workers, progress)
    by_kind: dict[str, list[dict]] = {}
    for job, rec in zip(jobs, records):
        by_kind.setdefault(job[2], []).append(rec)
    howto = by_kind.get("howto", [])
    downstream.write_howto(paths, howto)
    counts = {"howto_videos": len(howto), "howto": _stats(howto)}
    for split in splits:
        resolve(split.write)(paths, config, world, by_kind.get(split.folder, []))
        counts.update(resolve(split.summary)(by_kind.get(split.folder, [])))
    paths.readme.write_text(readme_text(config, counts, "".join(s.readme for s in splits)))
    meta = {"generator_version": GENERATOR_VERSION, "config": config.to_dict(), "counts": counts}
    paths.meta.write_text(json.dumps(meta, indent=1, sort_keys=True))  # last: marks a complete folder
    log.info(
        "SynthHowTo: %d videos in %s (%.1f s, %d workers)", len(jobs), paths.root, time.perf_counter() - t0, workers
    )
    return paths


def _is_current(paths: SynthPaths, config: SynthConfig) -> bool:
    try:
        meta = json.loads(paths.meta.read_text())
    except (OSError, ValueError):
        return False
    if meta.get("config") != config.to_dict() or meta.get("generator_version") != GENERATOR_VERSION:
        return False
    # a benchmark registered after this folder was made has no split here yet: not complete for this registry
    return all((paths.root / s.folder).is_dir() for s in synth_splits())


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
