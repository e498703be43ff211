"""The notebooks' tables of each task, from the long table of `experiments.model_scores` (COLUMNS + `model`).

    table = retrieval_table(long)                 # model, direction, R@1, R@5, R@10, MedR, MeanR
    mean, per_task = crosstask_tables(long)       # CrossTask: mean over tasks, and per task
    table = action_table(long)                    # model, protocol, split1..3, mean

The registry (`registry.py`) names one of these per task (`Task.table`).
"""

from __future__ import annotations

import pandas as pd

RETRIEVAL_METRICS = ["R@1", "R@5", "R@10", "MedR", "MeanR"]


def retrieval_table(long: pd.DataFrame) -> pd.DataFrame:
    """model, direction (t2v / v2t), R@1, R@5, R@10 (percent), MedR, MeanR."""
    wide = long.pivot_table(index=["model", "variant"], columns="metric", values="value", aggfunc="first")
    wide = wide.reset_index().rename(columns={"variant": "direction"})
    return wide[["model", "direction", *RETRIEVAL_METRICS]]


def crosstask_tables(long: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(mean over tasks: model, protocol, metric, value, chance; per task: model, protocol, task, value, chance)."""
    long = long.assign(split=long["split"].astype(str))
    mean = long[long["split"] == "mean"][["model", "variant", "metric", "value", "chance"]]
    per_task = long[(long["split"] != "mean") & (long["model"] != "chance")]
    per_task = per_task[["model", "variant", "split", "value", "chance"]].rename(columns={"split": "task"})
    return mean.rename(columns={"variant": "protocol"}), per_task.rename(columns={"variant": "protocol"})


def action_table(long: pd.DataFrame) -> pd.DataFrame:
    """model, protocol (linear / zero_shot), split1..3, mean (top-1 percent)."""
    wide = long.pivot_table(index=["model", "variant"], columns="split", values="value", aggfunc="first")
    wide = wide.reset_index().rename(columns={"variant": "protocol"})
    splits = [c for c in wide.columns if str(c).startswith("split")] + ["mean"]
    return wide[["model", "protocol", *splits]]
