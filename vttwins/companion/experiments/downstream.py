"""The pretrained models of a profile and their downstream tables (notebooks 03-06).

run_dir = pretrained_run(config, runs_dir, "s2dtw")              # 01_pretrain's run, trained once
long = model_scores(config, runs_dir, ["untrained", "mil_nce", "s2dtw"], "youcook2")
table = retrieval_table(long)                                    # model, direction, R@1 ... MeanR
table = task_table(long, "youcook2")                             # the same, through the task registry
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Sequence

import pandas as pd

from vttwins import objectives
from vttwins.companion.config import Config, config_from_dict, replace
from vttwins.companion.evaluation.common import ITEM_COLUMNS, KEYS
from vttwins.companion.outputs import EFFECTS_COLUMNS
from vttwins.companion.benchmarks.registry import get as get_task
from vttwins.companion.evaluation.run import training_clip_shape
from vttwins.companion.evaluation.tables import action_table, crosstask_tables, retrieval_table  # noqa: F401 (re-exported)

from . import tuning
from .grids import LOSS_VARIANTS, SHORT
from .runs import ensure_run, evaluate, evaluate_items

log = logging.getLogger(__name__)


def pretrained_run(
    config: Config,
    runs_dir: str | os.PathLike,
    loss: str,
    seed: int | None = None,
    settings: dict[str, dict] | None = None,
) -> Path:
    """The profile's pretraining with `loss` (the profile's data, model and schedule; only the loss changes), at
    training seed `seed` (None: the profile's) and with `settings[loss]` (overrides, e.g. 02's tuned choice) when
    given. Without seed and settings it is 01's run, trained once and shared."""
    label = SHORT.get(loss, loss)
    if label not in LOSS_VARIANTS:
        raise ValueError(f"unknown loss {loss!r}; choose from {sorted(SHORT)}")
    name = objectives.get(loss).name
    overrides = {**LOSS_VARIANTS[label], **(settings or {}).get(name, {})}
    if seed is not None:
        overrides["train.seed"] = int(seed)
    tag = f"{loss}-tuned" if (settings or {}).get(name) else loss
    return ensure_run(
        replace(config, overrides), Path(runs_dir) / "pretrain", tag if seed is None else f"{tag}-s{seed}"
    )


def tuned_settings(tables_dir: str | os.PathLike, world: str | None = None) -> dict[str, dict]:
    """{objective name: overrides} that notebook 02 chose on the validation split (its `ablation_tuning` table; the
    first world unless `world` is given), as printed there (4 decimals). {} with a warning when 02 has not run: the
    downstream notebooks then fall back to each objective's documented defaults."""
    path = Path(tables_dir) / "ablation_tuning.csv"
    if not path.is_file():
        log.warning("%s is missing (run notebook 02 first): the documented defaults are used", path)
        return {}
    cells = tuning.chosen_cells(pd.read_csv(path))
    if not cells:
        raise ValueError(f"{path}: no row is flagged chosen")
    picked = cells[world] if world is not None else next(iter(cells.values()))
    return {overrides["loss.name"]: overrides for _, overrides in picked}


def model_scores(
    config: Config,
    runs_dir: str | os.PathLike,
    models: Sequence[str],
    task: str,
    eval_changes: dict | None = None,
    seeds: Sequence[int] | None = None,
    settings: dict[str, dict] | None = None,
) -> pd.DataFrame:
    """Long table of one evaluation task for each model (`untrained` = the S2DTW run's initial model), plus
    `model = "chance"` rows holding the computed chance level of every metric. With `seeds`, every model is trained
    at each seed and `value` is the mean over them (`n_seeds` says how many; `model_scores_by_seed` keeps them)."""
    return mean_over_seeds(model_scores_by_seed(config, runs_dir, models, task, eval_changes, seeds, settings))


def mean_over_seeds(long: pd.DataFrame) -> pd.DataFrame:
    """`model_scores` from `model_scores_by_seed`: `value` the mean over the seeds, `n_seeds` how many (a table
    without a `seed` column is returned as it is)."""
    if "seed" not in long:
        return long
    keys = [*KEYS, "model"]
    mean = (
        long.groupby(keys, sort=False, dropna=False)
        .agg(value=("value", "mean"), chance=("chance", "first"), n_seeds=("seed", "nunique"))
        .reset_index()
    )
    rest = [c for c in long.columns if c not in (*mean.columns, "seed")]
    return mean.merge(long.drop_duplicates(keys)[keys + rest], on=keys, how="left")


def model_scores_by_seed(
    config: Config,
    runs_dir: str | os.PathLike,
    models: Sequence[str],
    task: str,
    eval_changes: dict | None = None,
    seeds: Sequence[int] | None = None,
    settings: dict[str, dict] | None = None,
) -> pd.DataFrame:
    """`model_scores` before the mean: one row per model, seed and number (column `seed` when `seeds` is given)."""
    frames = []
    for name, seed, run in _model_runs(config, runs_dir, models, seeds, settings):
        df = evaluate(run, [task], eval_changes, untrained=name == "untrained")
        frames.append(df.assign(model=SHORT.get(name, name), **({} if seed is None else {"seed": seed})))
    long = pd.concat(frames, ignore_index=True)
    chance = long.drop_duplicates(KEYS).assign(model="chance", value=lambda d: d["chance"])
    return pd.concat([long, chance], ignore_index=True)


def _model_runs(config, runs_dir, models: Sequence[str], seeds: Sequence[int] | None, settings: dict | None):
    """(model name, seed or None, run folder) for each seed and model (`untrained` scores the S2DTW run's start)."""
    for seed in list(seeds) if seeds else [None]:
        for name in models:
            yield name, seed, pretrained_run(config, runs_dir, "s2dtw" if name == "untrained" else name, seed, settings)


def model_items_by_seed(
    config: Config,
    runs_dir: str | os.PathLike,
    models: Sequence[str],
    task: str,
    eval_changes: dict | None = None,
    seeds: Sequence[int] | None = None,
    settings: dict[str, dict] | None = None,
) -> pd.DataFrame:
    """The per-item scores behind `model_scores_by_seed`'s numbers (same arguments): one row per model, seed and
    test item (query, video), columns `vttwins.companion.evaluation.common.ITEM_COLUMNS` + model (+ seed), read
    from the evaluation caches (evaluating first where one is missing). Numbers whose evaluator keeps no per-item
    scores (MedR, the per-task CrossTask rows) have no rows; `model_effects` resamples seeds only for
    them."""
    frames = []
    for name, seed, run in _model_runs(config, runs_dir, models, seeds, settings):
        items = evaluate_items(run, [task], eval_changes, untrained=name == "untrained")
        if items is not None:
            frames.append(items.assign(model=SHORT.get(name, name), **({} if seed is None else {"seed": seed})))
    columns = [*ITEM_COLUMNS, "model", *([] if not seeds else ["seed"])]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def model_effects(
    by_seed: pd.DataFrame,
    a: str = "S2DTW",
    b: str = "MIL-NCE",
    items: pd.DataFrame | None = None,
    n_boot: int = 4000,
) -> pd.DataFrame:
    """Model `a` minus model `b` for every number of a downstream table, paired by training seed.

    by_seed: `model_scores_by_seed` rows (with `seed`; models by their table names, e.g. "S2DTW", "MIL-NCE").
    items: `model_items_by_seed` rows (the same models, seeds and task). A number whose per-item scores exist for
    every run of a and b is resampled over seeds AND test items (queries, videos: the test set is a sample too),
    the others over seeds only; `resampled` says which and `n_items` how many items.
    Each row: `diff` = the mean of a - b over the seeds both were trained at, its 95 % paired-bootstrap interval
    (`low`, `high`; `vttwins.companion.experiments.effects`, NaN with one seed), the raw two-sided `p` (not
    corrected over the rows: this describes one benchmark; the verdicts are in CLAIMS.md) and `effect` as
    printed. MedR and MeanR are ranks: lower is better, so there a negative `diff` favours `a`.
    """
    from . import effects  # deferred: scipy

    if "seed" not in by_seed:
        raise ValueError("model_effects needs one row per seed: model_scores_by_seed(..., seeds=[...])")
    known = sorted(set(by_seed["model"]) - {"chance"})
    for name, model in (("a", a), ("b", b)):
        if model not in known:
            raise ValueError(f"{name}={model!r} is not a model of the table; it has {known}")
    if a == b:
        raise ValueError(f"a and b are the same model {a!r}")
    groups = [k for k in KEYS if k != "metric"] + ["measure"]
    runs = _keyed(by_seed[by_seed["model"].isin([a, b])], groups)
    per_number = {}
    if items is not None and len(items):
        missing = [c for c in ("model", "seed", *KEYS, "item", "score", "weight") if c not in items]
        if missing:
            raise ValueError(f"items has no column(s) {missing}: pass model_items_by_seed(...) rows")
        mine = _keyed(items[items["model"].isin([a, b])], groups).assign(metric="value")
        per_number = {key: g for key, g in mine.groupby(groups, sort=False)}
    frames = []
    for key, g in runs.groupby(groups, sort=False):
        eff = effects.paired_effects(g, b, ["value"], by=(), label="model", items=per_number.get(key), n_boot=n_boot)
        frames.append(eff.assign(**dict(zip(groups, key))))
    out = pd.concat(frames, ignore_index=True)  # not empty: a and b have rows
    out = out.drop(columns=["metric"]).rename(columns={"measure": "metric", "model": "a", "reference": "b"})
    alone = out["low"].isna()  # fewer than 2 shared seeds: a difference without an interval
    out.loc[alone, "effect"] = out.loc[alone, "diff"].map(lambda d: f"{d:+.1f} (no interval: 1 seed)")
    return out[list(EFFECTS_COLUMNS)].reset_index(drop=True)


def _keyed(rows: pd.DataFrame, groups: Sequence[str]) -> pd.DataFrame:
    """`rows` with `metric` renamed `measure`, a missing key ("" for NaN: e.g. no variant) and a `run` id per
    model and seed, so that scores and per-item scores of one number pair up."""
    rows = rows.rename(columns={"metric": "measure"})
    rows = rows.assign(**{k: rows[k].astype(object).where(rows[k].notna(), "").astype(str) for k in groups})
    seeds = rows["seed"].astype(float).astype(int).astype(str)  # float in by_seed (its chance rows have no seed)
    return rows.assign(run=rows["model"].astype(str) + "/s" + seeds)


def task_table(long: pd.DataFrame, task: str):
    """The notebook table(s) of a registered task (`Task.table` of vttwins.companion.benchmarks.registry) from `long`."""
    return get_task(task).tabulate(long)


PIXEL_ROWS = [
    ("youcook2", "t2v", "R@1"),
    ("youcook2", "t2v", "R@10"),
    ("youcook2", "t2v", "MeanR"),
    ("crosstask", "standard", "recall"),
    ("crosstask", "ordered", "recall"),
    ("crosstask", "ctr", "accuracy"),
]


def pixel_run_table(run_dir: str | os.PathLike, eval_changes: dict | None = None) -> pd.DataFrame:
    """A pixel-mode run against its own untrained model and chance: benchmark, variant, metric, trained,
    untrained, chance (YouCook2 text->video retrieval; CrossTask standard and ordered recall and CTR, mean over
    tasks).

    The windows are decoded at the run's own clip shape (its data.num_frames, fps and size), not the eval
    defaults (32 frames, 10 fps, 224 px) that a pixel model trained on smaller clips was never shown;
    `eval_changes` (EvalConfig fields) goes on top.
    """
    import json

    cfg = config_from_dict(json.loads((Path(run_dir) / "config.json").read_text()))
    if cfg.model.mode != "pixel":
        raise ValueError(f"pixel_run_table: {run_dir} is a {cfg.model.mode}-mode run, not a pixel-mode one")
    changes = {**training_clip_shape(cfg), **(eval_changes or {})}
    tasks = sorted({benchmark for benchmark, _, _ in PIXEL_ROWS})  # the task names are the protocols here
    trained, untrained = (evaluate(run_dir, tasks, changes, untrained=u) for u in (False, True))
    both = trained.merge(untrained[[*KEYS, "value"]], on=KEYS, suffixes=("", "_untrained"))
    rows = []
    for benchmark, variant, metric in PIXEL_ROWS:
        sel = both[(both.protocol == benchmark) & (both.variant == variant) & (both.metric == metric)]
        if benchmark == "crosstask":
            sel = sel[sel["split"].astype(str) == "mean"]
        if len(sel) != 1:
            raise ValueError(f"pixel_run_table: expected one {benchmark}/{variant}/{metric} row, found {len(sel)}")
        r = sel.iloc[0]
        rows.append(
            {
                "benchmark": benchmark,
                "variant": variant,
                "metric": metric,
                "trained": float(r["value"]),
                "untrained": float(r["value_untrained"]),
                "chance": float(r["chance"]),
            }
        )
    return pd.DataFrame(rows)
