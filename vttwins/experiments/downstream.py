"""The pretrained models of a profile and their downstream tables (notebooks 03-06).

    run_dir = pretrained_run(config, runs_dir, "s2dtw")              # 01_pretrain's run, trained once
    long = model_scores(config, runs_dir, ["untrained", "mil_nce", "s2dtw"], "youcook2")
    table = retrieval_table(long)                                    # model, direction, R@1 ... MeanR
    table = task_table(long, "youcook2")                             # the same, through the task registry
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import pandas as pd

from vttwins.config import Config, replace
from vttwins.evaluation.common import KEYS
from vttwins.evaluation.registry import get as get_task
from vttwins.evaluation.tables import action_table, crosstask_tables, retrieval_table  # noqa: F401 (re-exported)

from .grids import LOSS_VARIANTS, SHORT
from .runs import ensure_run, evaluate


def pretrained_run(config: Config, runs_dir: str | os.PathLike, loss: str) -> Path:
    """The profile's pretraining with `loss` (the profile's data, model and schedule; only the loss changes)."""
    label = SHORT.get(loss, loss)
    if label not in LOSS_VARIANTS:
        raise ValueError(f"unknown loss {loss!r}; choose from {sorted(SHORT)}")
    return ensure_run(replace(config, LOSS_VARIANTS[label]), Path(runs_dir) / "pretrain", loss)


def model_scores(config: Config, runs_dir: str | os.PathLike, models: Sequence[str], task: str,
                 eval_changes: dict | None = None) -> pd.DataFrame:
    """Long table of one evaluation task for each model (`untrained` = the S2DTW run's initial model), plus
    `model = "chance"` rows holding the computed chance level of every metric."""
    frames = []
    for name in models:
        if name == "untrained":
            df = evaluate(pretrained_run(config, runs_dir, "s2dtw"), [task], eval_changes, untrained=True)
        else:
            df = evaluate(pretrained_run(config, runs_dir, name), [task], eval_changes)
        frames.append(df.assign(model=SHORT.get(name, name)))
    long = pd.concat(frames, ignore_index=True)
    chance = long.drop_duplicates(KEYS).assign(model="chance", value=lambda d: d["chance"])
    return pd.concat([long, chance], ignore_index=True)


def task_table(long: pd.DataFrame, task: str):
    """The notebook table(s) of a registered task (`Task.table` of vttwins.evaluation.registry) from `long`."""
    return get_task(task).tabulate(long)


PIXEL_ROWS = [("youcook2", "t2v", "R@1"), ("youcook2", "t2v", "R@10"), ("youcook2", "t2v", "MeanR"),
              ("crosstask", "standard", "recall"), ("crosstask", "ordered", "recall"), ("crosstask", "ctr", "accuracy")]


def pixel_run_table(run_dir: str | os.PathLike, eval_changes: dict | None = None) -> pd.DataFrame:
    """A pixel-mode run against its own untrained model and chance: benchmark, variant, metric, trained,
    untrained, chance (YouCook2 text->video retrieval; CrossTask standard and ordered recall and CTR, mean over
    tasks).

    The windows are decoded at the run's own clip shape (its data.num_frames, fps and size), not the eval
    defaults (32 frames, 10 fps, 224 px) that a pixel model trained on smaller clips was never shown;
    `eval_changes` (EvalConfig fields) goes on top.
    """
    import json

    from vttwins.config import config_from_dict
    from vttwins.evaluation.run import training_clip_shape

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
        rows.append({"benchmark": benchmark, "variant": variant, "metric": metric, "trained": float(r["value"]),
                     "untrained": float(r["value_untrained"]), "chance": float(r["chance"])})
    return pd.DataFrame(rows)
