"""Paired effects for the ablation tables: every objective against a reference objective, per world and metric.

    runs = pd.read_csv("results/tables/ablation_runs.csv")               # one row per run: run, world, loss, seed, ...
    eff = paired_effects(runs[runs.table == "tuned"], "S2DTW", ["yc2_t2v_R@10"])    # one row per world x loss x metric
    eff = paired_effects(..., items=items)                              # seeds AND test items resampled
    flags = unresolved_vs_best(summary, runs, ["world"], metrics)       # `<m>_unresolved` from paired intervals

Every difference is `vttwins.companion.stats.paired_difference` over the seeds both objectives share (seed s of
one paired with seed s of the other: same data order and initial weights). With per-item scores (`items`: the long
table of `vttwins.companion.evaluation.items`: run, metric, item, score, weight) the bootstrap also resamples the test items
(queries, videos); without them it resamples seeds only, and the `resampled` column says which. `unresolved` is
True when the 95 % interval contains 0. `holm_column` adds Holm-adjusted p-values over a family of rows.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from vttwins.companion.stats import Effect, holm, paired_difference

__all__ = [
    "EFFECT_COLUMNS",
    "compare",
    "effect_row",
    "holm_column",
    "paired_effects",
    "paired_knob_effects",
    "score_matrix",
    "unresolved_vs_best",
]

EFFECT_COLUMNS = ("diff", "low", "high", "p", "n_seeds", "n_items", "resampled", "unresolved", "effect")


def score_matrix(
    runs: pd.DataFrame, metric: str, seeds: Sequence[int], items: pd.DataFrame | None = None, seed_col: str = "seed"
) -> tuple[np.ndarray, np.ndarray | None]:
    """(S,) per-seed values of `metric` in `runs` (one row per seed), or (S, I) per-item scores and (I,) weights
    when `items` holds that metric for every run (items sorted by id, the same for every seed)."""
    rows = runs.drop_duplicates(seed_col).set_index(seed_col).loc[list(seeds)]
    if items is None or items.empty:
        return rows[metric].to_numpy(dtype=float), None
    mine = items[items["metric"] == metric]
    by_run = {r: g.sort_values("item") for r, g in mine.groupby("run")}
    missing = [r for r in rows["run"] if r not in by_run]
    if missing:
        raise ValueError(f"items: no per-item {metric!r} scores for runs {missing[:3]}")
    frames = [by_run[r] for r in rows["run"]]
    ids = frames[0]["item"].tolist()
    if any(f["item"].tolist() != ids for f in frames):
        raise ValueError(f"items: the runs of {metric!r} score different test items; they cannot be paired")
    return np.stack([f["score"].to_numpy(float) for f in frames]), frames[0]["weight"].to_numpy(float)


def effect_row(eff: Effect, resampled: str, digits: int = 1) -> dict:
    """The EFFECT_COLUMNS of one paired difference."""
    return {
        "diff": eff.diff,
        "low": eff.low,
        "high": eff.high,
        "p": eff.p,
        "n_seeds": eff.n_seeds,
        "n_items": eff.n_items,
        "resampled": resampled,
        "unresolved": not eff.resolved,
        "effect": eff.text(digits),
    }


def _has_items(items: pd.DataFrame | None, metric: str, *runs: pd.DataFrame) -> bool:
    """True when `items` holds `metric` for every run of `runs` (their `run` column, read only when items exist)."""
    if items is None or items.empty:
        return False
    run_ids = {r for rows in runs for r in rows["run"]}
    return run_ids <= set(items.loc[items["metric"] == metric, "run"])


def compare(
    a: pd.DataFrame,
    b: pd.DataFrame,
    metric: str,
    items: pd.DataFrame | None = None,
    seed_col: str = "seed",
    n_boot: int = 4000,
) -> dict | None:
    """EFFECT_COLUMNS of `a - b` (two objectives' run rows) over their shared seeds; None when they share none or
    a value is missing."""
    seeds = sorted(set(a[seed_col]) & set(b[seed_col]))
    if not seeds:
        return None
    use = items if _has_items(items, metric, a, b) else None
    xa, w = score_matrix(a, metric, seeds, use, seed_col)
    xb, _ = score_matrix(b, metric, seeds, use, seed_col)
    if not (np.isfinite(xa).all() and np.isfinite(xb).all()):
        return None
    eff = paired_difference(xa, xb, item_weights=w, n_boot=n_boot)
    return effect_row(eff, "seeds+items" if use is not None else "seeds")


def paired_effects(
    runs: pd.DataFrame,
    reference: str,
    metrics: Sequence[str],
    by: Sequence[str] = ("world",),
    label: str = "loss",
    items: pd.DataFrame | None = None,
    seed_col: str = "seed",
    n_boot: int = 4000,
) -> pd.DataFrame:
    """Per group `by` and metric, every `label` value against `reference` (its rows vs the reference's rows).

    runs : one row per run (columns `by`, `label`, `seed_col`, `run` when `items` is given, and the metrics).
    Returns columns by + [label, reference, metric] + EFFECT_COLUMNS (diff = objective - reference).
    """
    for col in (*by, label, seed_col, *metrics):
        if col not in runs:
            raise ValueError(f"runs has no column {col!r} (columns: {list(runs.columns)})")
    out = []
    for key, g in runs.groupby(list(by), sort=False) if by else [((), runs)]:
        key = key if isinstance(key, tuple) else (key,)
        ref = g[g[label] == reference]
        if ref.empty:
            raise ValueError(f"reference {reference!r} has no runs in group {dict(zip(by, key))}")
        for name, rows in g[g[label] != reference].groupby(label, sort=False):
            for m in metrics:
                row = compare(rows, ref, m, items, seed_col, n_boot)
                if row is not None:
                    out.append({**dict(zip(by, key)), label: name, "reference": reference, "metric": m, **row})
    return pd.DataFrame(out, columns=[*by, label, "reference", "metric", *EFFECT_COLUMNS])


def holm_column(effects: pd.DataFrame, p_col: str = "p", out_col: str = "p_holm") -> pd.DataFrame:
    """`effects` plus Holm-adjusted p-values over all its rows (the family = the rows given)."""
    out = effects.copy()
    out[out_col] = holm(out[p_col].to_numpy(float)) if len(out) else []
    return out


def unresolved_vs_best(
    summary: pd.DataFrame,
    runs: pd.DataFrame,
    by: Sequence[str],
    metrics: Sequence[str],
    lower_is_better: Sequence[str] = (),
    label: str = "loss",
    items: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """`summary` (one row per group x `label`, `<m>_mean` columns) plus, per metric, `<m>_unresolved` (True where
    the paired 95 % interval of the row minus the group's best row contains 0; the best row itself is False) and
    `<m>_vs_best` (the paired effect, text). Replaces an earlier one-std rule."""
    out = summary.copy()
    for m in metrics:
        flags = pd.Series(False, index=out.index)
        text = pd.Series("", index=out.index, dtype=object)
        for key, g in out.groupby(list(by), sort=False):
            if g[f"{m}_mean"].isna().all():
                continue
            best = g[f"{m}_mean"].idxmin() if m in lower_is_better else g[f"{m}_mean"].idxmax()
            mine = runs
            for col, v in zip(by, key if isinstance(key, tuple) else (key,)):
                mine = mine[mine[col] == v]
            ref = mine[mine[label] == g.loc[best, label]]
            for i in g.index.drop(best):
                row = compare(mine[mine[label] == g.loc[i, label]], ref, m, items)
                flags[i] = True if row is None else bool(row["unresolved"])
                text[i] = "" if row is None else row["effect"]
        out[f"{m}_unresolved"] = flags
        out[f"{m}_vs_best"] = text
    return out


def paired_knob_effects(
    knob_runs: pd.DataFrame, base_levels: dict[str, float], metrics: Sequence[str], items: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Per objective and knob, each metric at every other level minus at the world's level, paired by seed.

    knob_runs : one row per run (columns loss, knob, level, seed, run, metrics). Returns loss, knob, from, to,
    n_seeds and per metric `delta_<m>_mean` (mean paired difference), `delta_<m>_std` (sample std of the per-seed
    differences; NaN with one seed), `delta_<m>_low`/`_high` (95 % paired-bootstrap interval) and
    `delta_<m>_unresolved` (the interval contains 0, or fewer than 2 shared seeds).
    """
    rows = []
    for (loss, knob), g in knob_runs.groupby(["loss", "knob"], sort=False):
        at_base = np.isclose(g["level"].astype(float), base_levels[knob])
        base = g[at_base]
        if base.empty:
            raise ValueError(
                f"knob {knob!r}: the runs of {loss!r} have no level at the world's value "
                f"{base_levels[knob]:g} (levels {sorted(set(g['level']))})"
            )
        for level, moved in g[~at_base].groupby("level", sort=False):
            seeds = sorted(set(moved["seed"]) & set(base["seed"]))
            row = {
                "loss": loss,
                "knob": knob,
                "from": float(base_levels[knob]),
                "to": float(level),
                "n_seeds": len(seeds),
            }
            for m in metrics:
                eff = compare(moved, base, m, items)
                per_seed = score_matrix(moved, m, seeds)[0] - score_matrix(base, m, seeds)[0] if seeds else []
                std = float(np.std(per_seed, ddof=1)) if len(seeds) > 1 else float("nan")
                row.update(
                    {
                        f"delta_{m}_mean": np.nan if eff is None else eff["diff"],
                        f"delta_{m}_std": std,
                        f"delta_{m}_low": np.nan if eff is None else eff["low"],
                        f"delta_{m}_high": np.nan if eff is None else eff["high"],
                        f"delta_{m}_unresolved": eff is None or len(seeds) < 2 or bool(eff["unresolved"]),
                    }
                )
            rows.append(row)
    return pd.DataFrame(rows)
