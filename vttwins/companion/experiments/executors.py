"""Where the cells of a grid run: `grid.executor` = local (a process pool here), ray (a Ray cluster) or slurm
(submitit). One task per distinct run, named by its run-cache key; results travel through the runs folder.

    grid = load_config("default", ["grid.executor=ray", "grid.ray_address=auto"]).grid
    run_cells(train_one, jobs, keys, grid)       # -> None; each task writes its run into the shared runs folder

A task returns nothing the caller needs: every task writes its run (and evaluation) into the run cache, and the
caller reads the cache afterwards, the same files on every executor -- so a grid gives the same tables whichever
runs it, and a grid that stopped resumes with the cells whose runs are missing (the caller skips the others
before calling here). Outside this process a cell runs on one torch thread, as in the local pool. The cluster
executors need the runs and data folders on a filesystem every worker sees, and `vttwins` installed there
(docs/cluster.md).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
from pathlib import Path
from typing import Any, Callable, Sequence

from vttwins.companion.config import GridConfig
from vttwins.paths import REPO_ROOT

log = logging.getLogger(__name__)

# Cells share the machine, and OpenMP threads that spin while they wait (libgomp's default) take the cores of the
# other cells: numba's omp threading layer ran the fused S2DTW forward + backward (B = 16) in 15.6 ms instead of
# 1.1 ms with two one-thread processes on two cores, and in 1.5 ms with passive waiting; an S2DTW training step
# of a grid worker (default profile, 1 thread, beside a second worker) took 24.1 ms, 16.0 ms with passive waiting.
# Waiting changes no number.
# Set in the environment of the worker processes this module starts (before their OpenMP runtimes load).
WORKER_ENV = {"OMP_WAIT_POLICY": "passive"}


def _one_thread(fn: Callable[[Any], Any], item: Any) -> Any:
    """`fn(item)` on one torch thread (a cell outside the driver; several share a machine). A pool worker whose
    driver has died (a killed notebook kernel) starts no further cell: it raises instead of training on alone."""
    import multiprocessing

    import torch

    parent = multiprocessing.parent_process()  # the driver for the local pool; None under Ray and submitit
    if parent is not None and not parent.is_alive():
        raise RuntimeError(f"the grid's driver process {parent.pid} has exited; this cell is not started")
    torch.set_num_threads(1)
    return fn(item)


def run_cells(
    fn: Callable[[Any], Any],
    items: Sequence[Any],
    keys: Sequence[str],
    grid: GridConfig,
    in_process: bool | None = None,
) -> None:
    """Run `fn(item)` for every item on `grid.executor`, one task per item named by `keys` (its run-cache key);
    return when every task has finished, raising the first task's error.

    `fn` must be a module-level function (or a partial of one): it is pickled to worker processes or machines.
    `in_process` (local only): run in this process, one after another, on this process's threads; default:
    when `grid.workers` is 1.
    """
    if len(items) != len(keys):
        raise ValueError(f"run_cells: {len(items)} items but {len(keys)} keys")
    if not items:
        return
    log.info("running %d cells on %s", len(items), _describe(grid))
    if grid.executor == "local":
        _local(fn, items, grid.workers, grid.workers <= 1 if in_process is None else in_process)
    elif grid.executor == "ray":
        _ray(fn, items, keys, grid)
    elif grid.executor == "slurm":
        _slurm(functools.partial(_one_thread, fn), items, grid)
    else:
        raise ValueError(f"grid.executor must be local, ray or slurm, got {grid.executor!r}")


def _describe(grid: GridConfig) -> str:
    if grid.executor == "ray":
        return f"ray ({grid.ray_address or f'a local instance, {grid.workers} CPUs'})"
    if grid.executor == "slurm":
        return f"slurm (submitit {grid.slurm.cluster}, {grid.workers} at once)"
    return f"local ({grid.workers} processes)"


def _local(fn, items, workers: int, in_process: bool) -> None:
    """Today's pool: spawned processes of one thread each (fork after torch/OpenMP initialisation can deadlock)."""
    if in_process:
        for item in items:
            fn(item)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    task = functools.partial(_one_thread, fn)
    context = multiprocessing.get_context("spawn")
    with worker_env(), ProcessPoolExecutor(max_workers=max(1, workers), mp_context=context) as pool:
        list(pool.map(task, items))


@contextlib.contextmanager
def worker_env():
    """`WORKER_ENV` in os.environ while processes are spawned inside (they inherit it); a value the user set wins.
    This process's own OpenMP runtime read its environment when it loaded and is not affected."""
    added = {k: v for k, v in WORKER_ENV.items() if k not in os.environ}
    os.environ.update(added)
    try:
        yield
    finally:
        for k in added:
            os.environ.pop(k, None)


# ------------------------------------------------------------------------------------------- ray
def _ray_module():
    try:
        import ray
    except ImportError as err:
        raise ImportError("grid.executor=ray needs Ray: pip install 'vttwins[cluster]'") from err
    return ray


def ray_connect(grid: GridConfig) -> bool:
    """Join the Ray cluster at `grid.ray_address` ("auto": the one this machine belongs to), or start a local
    instance with `grid.workers` CPUs; True when this call connected, False when a connection was already open
    (made by the caller, who then also closes it)."""
    ray = _ray_module()
    if ray.is_initialized():
        return False
    if grid.ray_address:
        ray.init(address=grid.ray_address)
    else:  # a small local instance: no dashboard, a small object store (cells return nothing)
        ray.init(
            num_cpus=grid.workers,
            include_dashboard=False,
            object_store_memory=100 * 2**20,
            runtime_env={"env_vars": dict(WORKER_ENV)},
        )
    return True


def _ray(fn, items, keys, grid: GridConfig) -> None:
    ray = _ray_module()
    opened = ray_connect(grid)
    try:
        remote = ray.remote(num_cpus=1, max_retries=0)(_one_thread)  # ray.remote wants a function, not a partial
        refs = [remote.options(name=f"vttwins-{key}").remote(fn, item) for item, key in zip(items, keys)]
        ray.get(refs)
    finally:  # a local instance left running outlives the notebook's kernel and is killed with it, noisily
        if opened:
            ray.shutdown()


# ------------------------------------------------------------------------------------------- slurm
def slurm_executor(grid: GridConfig):
    """submitit's executor for `grid.slurm` (cluster slurm, or submitit's local / debug executors); a relative
    `grid.slurm.folder` is taken from the repository root."""
    try:
        import submitit
    except ImportError as err:
        raise ImportError("grid.executor=slurm needs submitit: pip install 'vttwins[cluster]'") from err
    s = grid.slurm
    folder = Path(s.folder) if Path(s.folder).is_absolute() else REPO_ROOT / s.folder  # notebooks: cwd notebooks/
    executor = submitit.AutoExecutor(folder=str(folder / "%j"), cluster=s.cluster)
    params = dict(
        name="vttwins-grid",
        timeout_min=s.time,
        cpus_per_task=s.cpus,
        gpus_per_node=s.gpus,
        slurm_array_parallelism=grid.workers,
    )
    if s.partition:
        params["slurm_partition"] = s.partition
    executor.update_parameters(**params)
    return executor


def _slurm(task, items, grid: GridConfig) -> None:
    executor = slurm_executor(grid)
    jobs = executor.map_array(task, list(items))
    log.info("submitted %d cells: %s", len(jobs), ", ".join(j.job_id for j in jobs[:4]) + (" ..." * (len(jobs) > 4)))
    errors = []
    for job in jobs:
        try:
            job.result()
        except Exception as err:  # wait for every cell: the finished ones are in the cache for a resume
            errors.append(err)
    if errors:
        raise errors[0]
