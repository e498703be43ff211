"""Convergence of the ablation: validation metrics vs training length, and whether the orderings survive it.

    runs = curve_runs(world, tuned_cells, factors=[1, 2, 4], seeds=[1, 2, 3, 4, 5], root=root, tasks=tasks)
    curve = curve_table(runs, ["yc2_t2v_R@10", "crosstask_recall"])     # mean/std per objective x length
    order = ordering_table(runs, ["yc2_t2v_R@10", "crosstask_recall"])  # paired a - b at the shortest and longest

Each length is its own run (train.steps = factor x the base steps, with its own warm-up and cosine schedule),
not a checkpoint of the longest one: the shortest row is then exactly the reported configuration. Metrics are on
the world's VAL split (the test split stays for the reported tables). The ordering of two objectives at a length
is the paired difference over shared seeds (`stats.paired_difference`); `agrees` says whether its sign at the
longest length is the sign at the shortest.
"""

from __future__ import annotations

import itertools
from typing import Sequence

import numpy as np
import pandas as pd

from vttwins import objectives

from vttwins.companion import stats

from .grids import grid_jobs, run_jobs, summarize, wide

KEYS = ["world", "loss", "factor", "steps"]


def curve_cells(cells: Sequence[tuple[dict, dict]], factors: Sequence[int], base_steps: int) -> list[tuple[dict, dict]]:
    """Every cell at every length: labels gain `factor` and `steps`, overrides `train.steps = factor * base`."""
    if not base_steps or int(base_steps) < 1:
        raise ValueError(f"base_steps must be a positive step count (set train.steps), got {base_steps!r}")
    bad = [f for f in factors if int(f) != f or int(f) < 1]
    if bad or not factors:
        raise ValueError(f"factors must be positive integers, got {list(factors)}")
    out = []
    for labels, overrides in cells:
        for f in sorted({int(f) for f in factors}):
            steps = int(f) * int(base_steps)
            out.append(({**labels, "factor": int(f), "steps": steps}, {**overrides, "train.steps": steps}))
    return out


def select_cells(cells: Sequence[tuple[dict, dict]], names: Sequence[str]) -> list[tuple[dict, dict]]:
    """The cells of objectives `names` (`loss.name`s or labels), in the order of `names`; ValueError naming any
    objective that has no cell (e.g. a curve objective that was not tuned)."""
    by_label = {labels["loss"]: (labels, overrides) for labels, overrides in cells}
    wanted = [objectives.get(n).label for n in names]
    missing = [n for n, label in zip(names, wanted) if label not in by_label]
    if missing:
        raise ValueError(
            f"curve_losses {missing} have no tuned cell (tuned: {sorted(by_label)}); list them in `losses` too"
        )
    return [by_label[label] for label in wanted]


def curve_runs(world, cells, factors, seeds, root, tasks, eval_changes=None, workers=1, grid=None) -> pd.DataFrame:
    """Wide table (one row per objective x length x seed) of `cells` (e.g. the tuned ones) trained on `world`
    (an `ablation.World`) at each length, scored on its val split; `grid`: where the runs go (docs/cluster.md)."""
    labelled = [
        ({"world": world.name, **labels}, overrides)
        for labels, overrides in curve_cells(cells, factors, world.config.train.steps)
    ]
    jobs = grid_jobs(world.config, labelled, seeds, root, eval_base=world.val)
    return wide(run_jobs(jobs, tasks, eval_changes, workers=workers, grid=grid))


def curve_table(runs: pd.DataFrame, metrics: Sequence[str]) -> pd.DataFrame:
    """Mean/std over seeds per world x objective x length (`grids.summarize` columns)."""
    return summarize(runs, KEYS, list(metrics))


def _per_seed(runs: pd.DataFrame, world: str, loss: str, factor: int, metric: str, seeds) -> np.ndarray:
    sel = runs[(runs.world == world) & (runs.loss == loss) & (runs.factor == factor)].set_index("seed")
    return sel.loc[list(seeds), metric].to_numpy(dtype=float)


def _sign(x: float, tol: float = 1e-9) -> int:
    """-1, 0 or 1, with |x| <= tol a tie (a difference of equal means is rounding noise, not an ordering)."""
    return 0 if abs(x) <= tol else (1 if x > 0 else -1)


def ordering_table(runs: pd.DataFrame, metrics: Sequence[str], n_boot: int = 4000) -> pd.DataFrame:
    """Per world, pair of objectives (a before b in the runs' order) and metric: the paired difference a - b over
    their shared seeds at the shortest and at the longest length, the interval and p at the longest, and
    `agrees`: the sign of the difference at the longest length is the sign at the shortest (a tie counts as its
    own sign up to rounding, so a difference that appears or vanishes does not agree)."""
    lo, hi = int(runs.factor.min()), int(runs.factor.max())
    rows = []
    for world, part in runs.groupby("world", sort=False):
        steps = part.groupby("factor")["steps"].first()
        for a, b in itertools.combinations(list(dict.fromkeys(part["loss"])), 2):
            seeds = sorted(
                set.intersection(
                    *(set(part[(part.loss == x) & (part.factor == f)].seed) for x in (a, b) for f in (lo, hi))
                )
            )
            if not seeds:
                raise ValueError(f"world {world!r}: {a!r} and {b!r} share no seed at factors {lo} and {hi}")
            for m in metrics:
                short, long = (
                    stats.paired_difference(
                        _per_seed(part, world, a, f, m, seeds), _per_seed(part, world, b, f, m, seeds), n_boot=n_boot
                    )
                    for f in (lo, hi)
                )
                rows.append(
                    {
                        "world": world,
                        "loss_a": a,
                        "loss_b": b,
                        "metric": m,
                        "n_seeds": len(seeds),
                        "steps_short": int(steps[lo]),
                        "steps_long": int(steps[hi]),
                        "diff_short": short.diff,
                        "diff_long": long.diff,
                        "low_long": long.low,
                        "high_long": long.high,
                        "p_long": long.p,
                        "resolved_long": long.resolved,
                        "agrees": _sign(short.diff) == _sign(long.diff),
                    }
                )
    return pd.DataFrame(rows)
