"""The S2DTW collapse (issue 12): where the log-B plateau happens, and why, from each run's metrics.jsonl.

    cells = phase_cells([2e-4, 1e-3], [0.1, 0.5], [0.1, 1.0])          # lr x tau x temperature
    dirs = train_jobs(grid_jobs(base, cells, [1, 2], "runs/x/collapse"), grid=base.grid)   # no evaluation
    table = plateau_table(dirs, batch_size=16)                          # plateaued?, skip share, spread

A run has *plateaued* when the mean |loss - log B| over the last half of its logged steps is under `tol`: every
pair of the batch is then equally far, which with S2DTW means the lattice skips every content cell (the loss's
`skip_share` -- share of positive-pair cells costlier than the skip cost tau -- near 1) and the distances have no
spread (`distance_spread` near 0). Both come from the loss's collapse detector, logged per step.
"""

from __future__ import annotations

import itertools
import logging
import math
from pathlib import Path
from typing import Sequence

import pandas as pd

from vttwins import objectives
from vttwins.companion.config import GridConfig, config_from_dict

from .executors import run_cells
from .grids import Job
from .runs import ensure_data, ensure_run, find_run, read_metrics, run_key

log = logging.getLogger(__name__)


def phase_cells(
    lrs: Sequence[float], taus: Sequence[float], temperatures: Sequence[float], losses: Sequence[str] = ("s2dtw",)
) -> list[tuple[dict, dict]]:
    """One cell per objective x lr x tau x temperature."""
    cells = []
    for name, lr, tau, temp in itertools.product(losses, lrs, taus, temperatures):
        obj = objectives.get(name)
        cells.append(
            (
                {"loss": obj.label, "lr": float(lr), "tau": float(tau), "temperature": float(temp)},
                {"loss.name": obj.name, "optim.lr": float(lr), "loss.tau": float(tau), "loss.temperature": float(temp)},
            )
        )
    return cells


def _train(job: Job) -> str:
    import torch

    torch.set_num_threads(1)
    return str(ensure_run(config_from_dict(job.config), job.runs_root, job.name))


def train_jobs(jobs: Sequence[Job], workers: int = 1, grid: GridConfig | None = None) -> list[tuple[dict, Path]]:
    """Train every job (cached like any grid run), no evaluation -> [(labels, run_dir)], on `grid.executor`
    (without `grid`: a local pool of `workers` processes); only runs missing from the cache are submitted."""
    grid = grid if grid is not None else GridConfig(workers=workers)
    configs = [config_from_dict(j.config) for j in jobs]
    for cfg in {c.data.root: c for c in configs}.values():
        ensure_data(cfg)  # once, before workers could race to write it
    todo = {}  # run key -> the first job that trains it
    for job, cfg in zip(jobs, configs):
        if find_run(cfg, job.runs_root) is None:
            todo.setdefault(run_key(cfg), job)
    log.info("%d collapse runs, %d to train", len(jobs), len(todo))
    run_cells(_train, list(todo.values()), list(todo), grid, in_process=grid.workers <= 1)
    dirs = [find_run(cfg, job.runs_root) for job, cfg in zip(jobs, configs)]
    if any(d is None for d in dirs):
        raise FileNotFoundError(
            f"runs finished on grid.executor={grid.executor} are not in {jobs[0].runs_root}: is "
            "the runs folder on a filesystem every worker shares? (docs/cluster.md)"
        )
    return [(j.labels, d) for j, d in zip(jobs, dirs)]


def plateau_row(metrics: pd.DataFrame, batch_size: int, tol: float = 0.01) -> dict:
    """Plateau flag and detector read-outs of one run's metrics (columns step, loss, skip_share, ...)."""
    late = metrics.iloc[len(metrics) // 2 :]
    gap = float((late["loss"] - math.log(batch_size)).abs().mean())
    row = {"final_loss": float(metrics["loss"].iloc[-1]), "gap_to_logB": gap, "plateau": gap < tol}
    for col in ("skip_share", "distance_spread", "cosine_max"):
        row[f"late_{col}"] = float(late[col].mean()) if col in late else float("nan")
    return row


def plateau_table(runs: Sequence[tuple[dict, Path]], batch_size: int, tol: float = 0.01) -> pd.DataFrame:
    """One row per run: its labels + `plateau_row`."""
    return pd.DataFrame([{**labels, **plateau_row(read_metrics(d), batch_size, tol)} for labels, d in runs])
