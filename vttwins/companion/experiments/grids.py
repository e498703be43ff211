"""Grids of runs: losses x seeds, gamma/tau sweeps, narration-noise sweeps; long records -> mean ± std tables.

jobs = grid_jobs(base, loss_cells(["mil_nce", "s2dtw"]), seeds=[1, 2, 3], runs_root="runs/x/ablation")
records = run_jobs(jobs, tasks=["youcook2", "crosstask"], grid=config.grid)  # one row per (run, metric)
summary = summarize(wide(records), by=["loss"])                          # <metric>_mean, _std, n_seeds
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from vttwins import objectives
from vttwins.companion.config import Config, GridConfig, config_from_dict, config_to_dict, replace
from vttwins.companion.training.builders import synth_config

from . import progress
from .executors import run_cells
from .runs import (
    ensure_data,
    ensure_run,
    evaluate,
    evaluate_items,
    evaluation_cache,
    find_run,
    read_evaluation,
    run_key,
)

log = logging.getLogger(__name__)


class _RegistryView(Mapping):
    """A read-only mapping rebuilt from the objective registry at every access, so a variant registered after this
    module was imported is in it too (`make()` -> the current dict)."""

    def __init__(self, make):
        self._make = make

    def __getitem__(self, key):
        return self._make()[key]

    def __iter__(self):
        return iter(self._make())

    def __len__(self) -> int:
        return len(self._make())

    def __repr__(self) -> str:
        return repr(self._make())


def _loss_variants() -> dict[str, dict[str, Any]]:
    return {objectives.label(n): {"loss.name": n} for n in objectives.names()}


def _short() -> dict[str, str]:
    return {n: objectives.label(n) for n in objectives.names()}


# Live views of the objective registry (vttwins.objectives): LOSS_VARIANTS = table label -> its `loss.name`
# override, SHORT = objective name -> table label, both in registration order.
LOSS_VARIANTS: Mapping[str, dict[str, Any]] = _RegistryView(_loss_variants)
SHORT: Mapping[str, str] = _RegistryView(_short)
# Named metrics: column name -> (task, protocol, variant, metric, split) of the evaluation tables.
ABLATION_METRICS = {  # R@1 over a few hundred YouCook2-style candidates sits at chance at CPU scale: R@10, MedR
    "yc2_t2v_R@10": ("retrieval", "youcook2", "t2v", "R@10", "val"),
    "yc2_t2v_MedR": ("retrieval", "youcook2", "t2v", "MedR", "val"),
    "crosstask_recall": ("step_localization", "crosstask", "standard", "recall", "mean"),
    "crosstask_ordered": ("step_localization", "crosstask", "ordered", "recall", "mean"),
    "crosstask_ctr": ("step_localization", "crosstask", "ctr", "accuracy", "mean"),
}


# ------------------------------------------------------------------------------------------- grids
@dataclasses.dataclass
class Job:
    """One cell x seed of a grid: what to train, where, and the labels its records carry."""

    labels: dict[str, Any]
    config: dict  # config_to_dict of the run's config (picklable for worker processes)
    runs_root: str
    name: str
    eval_config: dict | None = None  # config_to_dict of the data to evaluate on (None = the run's own)


def loss_cells(names: Iterable[str]) -> list[tuple[dict, dict]]:
    """[(labels, overrides)] for objective names (`s2dtw`, `mil_nce`, ..., `s2dtw_tda`) or their table labels.

    The override is `loss.name` alone: the objective's derived keys take its own defaults (vttwins.objectives)."""
    return [({"loss": objectives.get(n).label}, {"loss.name": objectives.get(n).name}) for n in names]


def sweep_cells(key: str, values: Sequence[float], column: str, loss: str = "S2DTW") -> list[tuple[dict, dict]]:
    """One cell per value of a config key (e.g. `loss.gamma`) on top of a loss variant."""
    return [({column: float(v)}, {"loss.name": objectives.get(loss).name, key: float(v)}) for v in values]


KNOBS = {  # one-knob narration sweeps: knob -> (NoiseConfig field, axis label)
    "offset_std": ("offset_std", "caption time shift std (s)"),
    "filler_rate": ("filler_rate", "filler caption rate"),
    "narrate_prob": ("narrate_prob", "probability a step is narrated"),
}


def knob_cells(base: Config, knob: str, values: Sequence[float], losses: Iterable[str]) -> list[tuple[dict, dict]]:
    """Cells of a one-knob narration sweep: each value of `knob` (a key of KNOBS) regenerates the pretraining
    SynthHowTo features-only into its own folder with every OTHER noise knob at the base world's value; a value
    equal to the base reuses the base data. Evaluate on the base downstream sets (`eval_base=` in `grid_jobs`)."""
    if knob not in KNOBS:
        raise ValueError(f"unknown noise knob {knob!r}; choose from {', '.join(KNOBS)}")
    field = KNOBS[knob][0]
    noise = _world_noise(base)
    cells = []
    for value in values:
        data = {}
        if float(value) != float(noise[field]):
            synth = {**base.data.synth, "render_videos": False, "noise": {**noise, field: float(value)}}
            data = {"data.root": f"{base.data.root}-{knob}-{float(value):g}", "data.synth": synth}
        for loss in losses:
            obj = objectives.get(loss)
            cells.append(({"loss": obj.label, "knob": knob, "level": float(value)}, {"loss.name": obj.name, **data}))
    return cells


def _world_noise(base: Config) -> dict:
    """The narration-noise settings (NoiseConfig fields) of the config's SynthHowTo world."""
    return dataclasses.asdict(synth_config(base).noise)


def knob_base_levels(base: Config) -> dict[str, float]:
    """The world's own value of every knob of KNOBS (the level a one-knob sweep starts from)."""
    noise = _world_noise(base)
    return {knob: float(noise[field]) for knob, (field, _) in KNOBS.items()}


def knob_effects(
    knob_table: pd.DataFrame,
    base_levels: dict[str, float],
    metrics: Sequence[str],
    runs: pd.DataFrame | None = None,
    items: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """With `runs` (the per-run wide table of the sweep: loss, knob, level, seed, run, metrics): the paired
    differences of `effects.paired_knob_effects` (same seed, knob at the world's value vs moved, with a bootstrap
    interval; `items` adds the test items to the bootstrap). Without: the summary form below (kept for callers).

    Per objective and knob, the change of each metric from the world's level to every other level of the sweep
    (`summarize` rows of `knob_table`: loss, knob, level): `delta_<m>_mean` = mean at the level - mean at the base,
    `delta_<m>_std` = sqrt(std_level^2 + std_base^2) (the spread of a difference of two seed means), and
    `delta_<m>_unresolved` when |change| is below that spread, or there is no spread (one seed): a change the seeds
    do not resolve."""
    if runs is not None:
        from .effects import paired_knob_effects  # deferred: scipy

        return paired_knob_effects(runs, base_levels, metrics, items)
    rows = []
    for (loss, knob), g in knob_table.groupby(["loss", "knob"], sort=False):
        base = g[np.isclose(g["level"], base_levels[knob])]
        if base.empty:
            raise ValueError(
                f"knob {knob!r}: the sweep of {loss!r} has no row at the world's level "
                f"{base_levels[knob]:g} (levels {sorted(g['level'])})"
            )
        b = base.iloc[0]
        for _, r in g[~np.isclose(g["level"], base_levels[knob])].iterrows():  # (metric names hold "@")
            row = {
                "loss": loss,
                "knob": knob,
                "from": float(b["level"]),
                "to": float(r["level"]),
                "n_seeds": int(min(r["n_seeds"], b["n_seeds"])),
            }
            for m in metrics:
                delta = r[f"{m}_mean"] - b[f"{m}_mean"]
                spread = float(np.hypot(r[f"{m}_std"], b[f"{m}_std"]))
                row.update(
                    {
                        f"delta_{m}_mean": delta,
                        f"delta_{m}_std": spread,
                        f"delta_{m}_unresolved": not bool(abs(delta) >= spread),
                    }
                )  # one seed: no spread
            rows.append(row)
    return pd.DataFrame(rows)


def noise_cells(base: Config, levels: Sequence[Sequence[float]], losses: Iterable[str]) -> list[tuple[dict, dict]]:
    """Cells of the joint (offset_std, filler_rate) sweep (kept for callers; the notebooks use `knob_cells`):
    each level regenerates the pretraining SynthHowTo features-only; a level equal to the base reuses it."""
    scfg = synth_config(base)
    noise = dataclasses.asdict(scfg.noise)
    cells = []
    for offset, filler in levels:
        if (float(offset), float(filler)) == (scfg.noise.offset_std, scfg.noise.filler_rate):
            data = {}
        else:
            synth = {
                **base.data.synth,
                "render_videos": False,
                "noise": {**noise, "offset_std": float(offset), "filler_rate": float(filler)},
            }
            data = {"data.root": f"{base.data.root}-noise-o{offset:g}-f{filler:g}", "data.synth": synth}
        for loss in losses:
            obj = objectives.get(loss)
            cells.append(
                (
                    {"loss": obj.label, "offset_std": float(offset), "filler_rate": float(filler)},
                    {"loss.name": obj.name, **data},
                )
            )
    return cells


def grid_jobs(
    base: Config,
    cells: Sequence[tuple[dict, dict]],
    seeds: Sequence[int],
    runs_root: str | os.PathLike,
    eval_base: Config | None = None,
) -> list[Job]:
    """Every (cell, seed): the base config with the cell's overrides and `train.seed = seed`."""
    jobs = []
    for labels, overrides in cells:
        for seed in seeds:
            cfg = replace(base, {**overrides, "train.seed": int(seed)})
            slug = "-".join(f"{k}-{v}" if isinstance(v, float) else str(v) for k, v in labels.items()).lower()
            name = "".join(c if c.isalnum() else "_" for c in slug) + f"-s{seed}"
            jobs.append(
                Job(
                    {**labels, "seed": int(seed)},
                    config_to_dict(cfg),
                    str(runs_root),
                    name,
                    config_to_dict(eval_base) if eval_base is not None else None,
                )
            )
    return jobs


def _run_job(job: Job, tasks: Sequence[str], eval_changes: dict, threads: int | None) -> pd.DataFrame:
    if threads:
        import torch

        torch.set_num_threads(threads)
    cfg = config_from_dict(job.config)
    run_dir = ensure_run(cfg, job.runs_root, job.name)
    dataset = config_from_dict(job.eval_config) if job.eval_config else None
    df = evaluate(run_dir, tasks, eval_changes, dataset_config=dataset)
    return df.assign(run=run_dir.name)


def _job_items(job: Job, tasks: Sequence[str], eval_changes: dict) -> pd.DataFrame | None:
    run_dir = ensure_run(config_from_dict(job.config), job.runs_root, job.name)
    dataset = config_from_dict(job.eval_config) if job.eval_config else None
    items = evaluate_items(run_dir, tasks, eval_changes, dataset_config=dataset)
    return None if items is None else items.assign(run=run_dir.name)


def job_items(
    jobs: Sequence[Job],
    tasks: Sequence[str],
    eval_changes: dict | None = None,
    metrics: dict[str, tuple] = ABLATION_METRICS,
) -> pd.DataFrame:
    """Per-item scores of the jobs' evaluations (run after `run_jobs`: read from the eval caches), named like
    `wide`'s columns: run, metric, item, score, weight. Runs evaluated before per-item scores existed are left
    out (the effects then fall back to seeds only for them)."""
    frames = {}
    for job in _distinct(jobs).values():
        items = _job_items(job, tasks, dict(eval_changes or {}))
        if items is not None:
            frames[items["run"].iloc[0]] = items
    out = []
    for name, (task, protocol, variant, metric, split) in metrics.items():
        for items in frames.values():
            sel = items[
                (items.task == task)
                & (items.protocol == protocol)
                & (items.variant == variant)
                & (items.metric == metric)
                & (items.split.astype(str) == split)
            ]
            out.append(sel[["run", "item", "score", "weight"]].assign(metric=name))
    cols = ["run", "metric", "item", "score", "weight"]
    return pd.concat(out, ignore_index=True)[cols] if out else pd.DataFrame(columns=cols)


def _distinct(jobs: Sequence[Job]) -> dict[str, Job]:
    """Jobs that train and evaluate the same thing (e.g. the gamma = 0.1 cell and the S2DTW cell) run once."""
    out: dict[str, Job] = {}
    for job in jobs:
        cfg = config_from_dict(job.config)
        data = cfg.data.root
        if job.eval_config is not None:  # another data set, or a val/test split of it (eval.paths)
            other = config_from_dict(job.eval_config)
            data = f"{other.data.root}{sorted(dict(getattr(other.eval, 'paths', None) or {}).items())}"
        key = f"{run_key(cfg)}@{data}"  # same training, evaluated on the same data
        out.setdefault(key, job)
        job.labels["_key"] = key
    progress.announce_plan((key.split("@")[0], job.name, job.runs_root) for key, job in out.items())
    return out


def _ensure_datasets(jobs: Iterable[Job]) -> None:
    """Generate each data set once, here, before worker processes could race to write the same folder."""
    roots = {}
    for job in jobs:
        for plain in (job.config, job.eval_config):
            if plain is not None:
                cfg = config_from_dict(plain)
                roots.setdefault(cfg.data.root, cfg)
    for cfg in roots.values():
        ensure_data(cfg)


def _cell(jobs: Sequence[Job], tasks: Sequence[str], eval_changes: dict) -> None:
    """One grid task: train the run these jobs share (one run-cache key) and evaluate it on each job's data, into
    the run cache (threads: set by the executor)."""
    for job in jobs:
        _run_job(job, tasks, eval_changes, None)


def _cached(job: Job, tasks: Sequence[str], eval_changes: dict) -> pd.DataFrame | None:
    """The job's evaluation table when its run is finished and evaluated in the cache, else None."""
    run_dir = find_run(config_from_dict(job.config), job.runs_root)
    if run_dir is None:
        return None
    dataset = config_from_dict(job.eval_config) if job.eval_config else None
    cache = evaluation_cache(run_dir, tasks, eval_changes, dataset_config=dataset)
    return read_evaluation(cache).assign(run=run_dir.name) if cache.is_file() else None


def run_jobs(
    jobs: Sequence[Job],
    tasks: Sequence[str],
    eval_changes: dict | None = None,
    workers: int = 1,
    grid: GridConfig | None = None,
) -> pd.DataFrame:
    """Train and evaluate every job (cached; identical jobs once) on `grid.executor` (docs/cluster.md); without
    `grid`, in a local pool of `workers` processes of one thread each (1 = in this process). Only the cells
    missing from the run cache are submitted, so a grid that stopped resumes where it was.
    Returns the long table: the job's labels + `vttwins.companion.evaluation.COLUMNS` + `run`."""
    eval_changes = dict(eval_changes or {})
    grid = grid if grid is not None else GridConfig(workers=workers)
    distinct = _distinct(jobs)
    _ensure_datasets(distinct.values())
    todo: dict[str, list[Job]] = {}  # run key -> the jobs still missing that train it (evaluated on their data)
    for job in distinct.values():
        if _cached(job, tasks, eval_changes) is None:
            todo.setdefault(run_key_of(job), []).append(job)
    log.info(
        "%d grid cells x seeds, %d distinct runs, %d runs to train or evaluate", len(jobs), len(distinct), len(todo)
    )
    run_cells(
        functools.partial(_cell, tasks=tasks, eval_changes=eval_changes),
        list(todo.values()),
        list(todo),
        grid,
        in_process=grid.workers <= 1 or len(distinct) <= 1,
    )  # as before: a pool for 2+ runs only
    by_key = {key: _cached(job, tasks, eval_changes) for key, job in distinct.items()}
    missing = [key for key, frame in by_key.items() if frame is None]
    if missing:
        raise FileNotFoundError(
            f"{len(missing)} cells finished on grid.executor={grid.executor} but their runs are "
            f"not in {distinct[missing[0]].runs_root}: is the runs folder on a filesystem every "
            "worker shares? (docs/cluster.md)"
        )
    out = []
    for job in jobs:
        labels = {k: v for k, v in job.labels.items() if k != "_key"}
        frame = by_key[job.labels["_key"]]
        out.append(frame.drop(columns=[c for c in frame.columns if c in _all_labels(jobs)]).assign(**labels))
    return pd.concat(out, ignore_index=True)


def run_key_of(job: Job) -> str:
    """The run-cache key of a job (names its task on every executor)."""
    return run_key(config_from_dict(job.config))


def _all_labels(jobs: Sequence[Job]) -> set[str]:
    return {k for job in jobs for k in job.labels if k != "_key"}


def select(runs: pd.DataFrame, present: Sequence[str] = (), absent: Sequence[str] = ()) -> pd.DataFrame:
    """Rows of a grid's wide table whose label columns `present` are set and `absent` are unset (NaN/missing)."""
    mask = pd.Series(True, index=runs.index)
    for c in present:
        mask &= runs[c].notna() if c in runs else False
    for c in absent:
        if c in runs:
            mask &= runs[c].isna()
    return runs[mask]


# ------------------------------------------------------------------------------------------- tables
def wide(records: pd.DataFrame, metrics: dict[str, tuple] = ABLATION_METRICS) -> pd.DataFrame:
    """One row per run (its labels), one column per named metric; chance levels in `<metric>_chance`."""
    label_cols = [
        c
        for c in records.columns
        if c not in ("task", "protocol", "variant", "metric", "split", "value", "chance", "n")
    ]
    out = None
    for name, (task, protocol, variant, metric, split) in metrics.items():
        sel = records[
            (records.task == task)
            & (records.protocol == protocol)
            & (records.variant == variant)
            & (records.metric == metric)
            & (records.split.astype(str) == split)
        ]
        if sel.empty:
            raise ValueError(f"no evaluation rows for metric {name!r} = {(task, protocol, variant, metric, split)}")
        part = sel[label_cols + ["value", "chance"]].rename(columns={"value": name, "chance": f"{name}_chance"})
        out = part if out is None else out.merge(part, on=label_cols, how="outer")
    return out.reset_index(drop=True)


def summarize(table: pd.DataFrame, by: Sequence[str], metrics: Sequence[str] | None = None) -> pd.DataFrame:
    """Mean and sample std over seeds of each metric per group -> `<metric>_mean`, `<metric>_std`, `n_seeds`
    (a `by` column that is NaN for some rows, e.g. a knob one objective lacks, groups those rows together)."""
    metrics = list(
        metrics
        or [
            c
            for c in table.columns
            if c not in (*by, "seed", "run") and not c.endswith("_chance") and pd.api.types.is_numeric_dtype(table[c])
        ]
    )
    groups = table.groupby(list(by), sort=False, dropna=False)  # a label unset for some rows (NaN) is a group too
    out = groups.size().rename("n_seeds").reset_index()
    for m in metrics:
        stats = groups[m].agg(["mean", "std"]).rename(columns={"mean": f"{m}_mean", "std": f"{m}_std"})
        out = out.merge(stats.reset_index(), on=list(by))
    return out


def chance_levels(table: pd.DataFrame, metrics: Sequence[str]) -> dict[str, float]:
    """The (computed) chance level of each metric, averaged over runs."""
    return {m: float(np.mean(table[f"{m}_chance"])) for m in metrics if f"{m}_chance" in table}


def mean_std_table(summary: pd.DataFrame, by: Sequence[str], metrics: Sequence[str], digits: int = 1) -> pd.DataFrame:
    """Presentation form: one `mean ± std` string column per metric (the numeric form stays in the csv)."""
    out = summary[list(by) + ["n_seeds"]].copy()
    for m in metrics:
        out[m] = [
            f"{a:.{digits}f} ± {b:.{digits}f}" for a, b in zip(summary[f"{m}_mean"], summary[f"{m}_std"].fillna(0.0))
        ]
    return out
