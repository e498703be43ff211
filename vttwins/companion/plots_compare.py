"""Figures that compare groups (objectives, worlds, knob levels, implementations), drawn with seaborn.

    fig = world_bars(table_a, ["yc2_t2v_R@10", "pair_precision"], runs=runs_a, reference=truth_reference)
    fig = knob_sweeps(knob_table, ["yc2_t2v_R@10"], {"offset_std": "caption time shift std (s)"}, runs=knob_runs)

Error bars are `vttwins.companion.stats.mean_interval` over the per-seed `runs` (the same bootstrap as the
tables' intervals), asymmetric and inside the metric's natural range; without `runs` no bar is drawn. Colours are
the objective registry's; reference lines (chance, untrained) carry labels; legends sit outside the data.
Re-exported by `vttwins.companion.plots`.
"""

from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.lines import Line2D

from vttwins import objectives
from vttwins.companion.stats import mean_interval

METRIC_LABELS = {  # axis label and whether lower is better, per ablation / truth column
    "yc2_t2v_R@10": ("YouCook2 text→video R@10 (%)", False),
    "yc2_t2v_MedR": ("YouCook2 median rank", True),
    "crosstask_recall": ("CrossTask step recall (%)", False),
    "crosstask_ordered": ("CrossTask ordered recall (%)", False),
    "crosstask_ctr": ("CrossTask CTR accuracy (%)", False),
    "pair_precision": ("hard-path pair precision vs truth (%)", False),
    "pair_recall": ("hard-path pair recall vs truth (%)", False),
    "skip_caption_recall": ("filler captions skipped (recall, %)", False),
    "skip_clip_recall": ("unnarrated clips skipped (recall, %)", False),
}
REFERENCES = {"chance": ("k", "--"), "untrained": ("#7f8c8d", ":")}  # row label -> line colour, style
NOISIER_WHEN_LOWER = ("narrate_prob",)  # knobs whose lower value is the noisier world (drawn right to left)


def metric_label(metric: str, chance: float | None = None) -> str:
    """Axis label with its direction ("higher is better") and, for a chance R@10, the candidate count."""
    label, lower = METRIC_LABELS.get(metric, (metric, False))
    if "R@10" in metric and chance:
        label = label.replace("(%)", f"(%, {int(round(1000.0 / chance))} candidates)")
    return label + ("\nlower is better" if lower else "\nhigher is better")


def _percent(metric: str) -> bool:
    return "%" in METRIC_LABELS.get(metric, ("", False))[0]


def _color(name: str, i: int) -> str:
    return objectives.color(str(name), fallback=f"C{i % 10}")


def registry_order(names) -> list[str]:
    """Objectives in registry order (clip baselines, then DTW components added one by one); others last."""
    rank = {objectives.label(n): i for i, n in enumerate(objectives.names())}
    return sorted(dict.fromkeys(names), key=lambda n: (rank.get(n, len(rank)), str(n)))


def intervals(runs: pd.DataFrame, by: Sequence[str], metric: str) -> pd.DataFrame:
    """Per group of `by`: mean, 95 % interval over seeds (bootstrap SE, t) (`stats.mean_interval`) and n of `metric`;
    a percent metric's interval is clipped to [0, 100]. One seed: the interval is the point."""
    rows = []
    for key, g in runs.dropna(subset=[metric]).groupby(list(by), sort=False):
        values = g[metric].to_numpy(dtype=float)
        low, high = mean_interval(values) if len(values) > 1 else (values[0], values[0])
        if _percent(metric):
            low, high = max(low, 0.0), min(high, 100.0)
        key = key if isinstance(key, tuple) else (key,)
        rows.append({**dict(zip(by, key)), "mean": float(values.mean()), "low": low, "high": high, "n": len(values)})
    return pd.DataFrame(rows, columns=[*by, "mean", "low", "high", "n"])


def _references(
    summary: pd.DataFrame, reference: pd.DataFrame | None, chance: dict | None, world, metric: str
) -> dict[str, float]:
    """{"chance": value, "untrained": value} for one world and metric, from the tables' rows or `chance`."""
    out = {}
    for frame in (summary, reference):
        if frame is None or metric not in frame and f"{metric}_mean" not in frame:
            continue
        col = f"{metric}_mean" if f"{metric}_mean" in frame else metric
        for label in REFERENCES:
            sel = frame[(frame["loss"] == label) & (frame.get("world", world) == world)][col].dropna()
            if len(sel) and label not in out:
                out[label] = float(sel.iloc[0])
    if "chance" not in out and chance and metric in chance and np.isfinite(chance[metric]):
        out["chance"] = float(chance[metric])
    return out


def _bar_panel(ax, stats: pd.DataFrame, names: list[str], refs: dict[str, float], metric: str) -> None:
    palette = {n: _color(n, i) for i, n in enumerate(names)}
    sns.barplot(
        data=stats,
        x="mean",
        y="loss",
        hue="loss",
        order=names,
        hue_order=names,
        palette=palette,
        orient="h",
        errorbar=None,
        legend=False,
        ax=ax,
        edgecolor="k",
        linewidth=0.4,
    )
    has = stats.set_index("loss").reindex(names)
    y = np.arange(len(names))
    ok = has["n"].fillna(0) > 1
    ax.errorbar(
        has["mean"][ok],
        y[ok.to_numpy()],
        xerr=[(has["mean"] - has["low"])[ok], (has["high"] - has["mean"])[ok]],
        fmt="none",
        ecolor="k",
        capsize=2,
        lw=1,
    )
    for label, value in refs.items():
        color, style = REFERENCES[label]
        ax.axvline(value, color=color, ls=style, lw=1.2)
    top = np.nanmax([float(has["high"].max()), float(has["mean"].max()), *refs.values(), 0.0]) * 1.08
    if top > 0:
        ax.set_xlim(0, min(top, 100.0) if _percent(metric) else top)
    else:  # all zero (nothing skipped anywhere): say so on the metric's own range, not on a -0.04..0.04 axis
        ax.set_xlim(0, 100.0 if _percent(metric) else 1.0)
        ax.text(
            0.5, 0.5, "0 for every objective", transform=ax.transAxes, ha="center", va="center", fontsize=9, color="0.3"
        )
    ax.grid(axis="x", alpha=0.3)


def world_bars(
    summary: pd.DataFrame,
    metrics: Sequence[str],
    chance: dict[str, float] | None = None,
    title: str = "",
    *,
    runs: pd.DataFrame | None = None,
    reference: pd.DataFrame | None = None,
) -> plt.Figure:
    """One row of panels per world, one column per metric: a bar per trained objective (registry colour and
    order), the 95 % bootstrap interval over the seeds of `runs` (per-run rows: world, loss, metric columns),
    chance and untrained lines from the table's `chance` rows, `reference` (ablation_truth_reference) or `chance`.

    summary: an ablation table ((a) or (b)): world, loss, `<metric>_mean`; rows `chance`/`untrained` are references.
    """
    objectives_only = summary[~summary["loss"].isin(list(REFERENCES))]
    names, worlds = registry_order(objectives_only["loss"]), list(dict.fromkeys(summary["world"]))
    fig, axes = plt.subplots(
        len(worlds),
        len(metrics),
        squeeze=False,
        sharey=True,
        figsize=(3.4 * len(metrics) + 1.8, (0.3 * len(names) + 1.3) * len(worlds) + 0.8),
    )
    for r, world in enumerate(worlds):
        for ax, metric in zip(axes[r], metrics):
            if runs is not None:
                stats = intervals(runs[runs["world"] == world], ["loss"], metric)
            else:
                part = objectives_only[objectives_only["world"] == world]
                stats = pd.DataFrame({"loss": part["loss"], "mean": part[f"{metric}_mean"], "n": 1})
                stats["low"] = stats["high"] = stats["mean"]
            refs = _references(summary, reference, chance, world, metric)
            _bar_panel(ax, stats[stats["loss"].isin(names)], names, refs, metric)
            ax.set_xlabel(metric_label(metric, refs.get("chance") if "R@10" in metric else None), fontsize=8)
            ax.set_ylabel(f"trained objective\n({world} world)" if ax is axes[r][0] else "", fontsize=8)
            ax.set_title(f"{world} world", fontsize=8)
    handles = [Line2D([], [], color=c, ls=s, label=f"{k} (table row)") for k, (c, s) in REFERENCES.items()]
    handles.append(
        Line2D(
            [],
            [],
            color="k",
            marker="|",
            ls="-",
            label="95 % interval over seeds (bootstrap SE, t)" if runs is not None else "no per-seed runs: no interval",
        )
    )
    fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=8, frameon=False)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0.05, 1, 0.97))
    return fig


def _knob_levels(part: pd.DataFrame, knob: str) -> list[float]:
    return sorted(part["level"].unique(), reverse=knob in NOISIER_WHEN_LOWER)


def knob_sweeps(
    summary: pd.DataFrame,
    metrics: Sequence[str],
    knob_labels: dict[str, str],
    chance: dict[str, float] | None = None,
    title: str = "",
    *,
    runs: pd.DataFrame | None = None,
) -> plt.Figure:
    """One row per narration knob, one column per metric: a point per objective and level (no lines: a few
    levels are no trend), its 95 % bootstrap interval over the seeds of `runs` (rows: loss, knob, level, seed,
    metrics); every knob axis runs towards more noise on the right; the legend sits outside, on the right."""
    knobs, names = list(dict.fromkeys(summary["knob"])), registry_order(summary["loss"])
    fig, axes = plt.subplots(
        len(knobs), len(metrics), figsize=(3.6 * len(metrics) + 2.6, 2.9 * len(knobs)), squeeze=False
    )
    width = 0.7 / max(len(names), 1)
    for ax_row, knob in zip(axes, knobs):
        part = summary[summary["knob"] == knob]
        levels = _knob_levels(part, knob)
        for ax, metric in zip(ax_row, metrics):
            if runs is not None:
                stats = intervals(runs[runs["knob"] == knob], ["loss", "level"], metric)
            else:
                stats = part.rename(columns={f"{metric}_mean": "mean"}).assign(low=np.nan, high=np.nan)
            for i, name in enumerate(names):
                s = stats[stats["loss"] == name]
                x = np.array([levels.index(v) for v in s["level"]]) + (i - (len(names) - 1) / 2) * width
                yerr = [s["mean"] - s["low"], s["high"] - s["mean"]] if runs is not None else None
                ax.errorbar(x, s["mean"], yerr=yerr, fmt="o", ms=4, capsize=2, color=_color(name, i), label=name)
            if chance and metric in chance:
                ax.axhline(chance[metric], color="k", ls="--", lw=1, label="chance")
            ax.set_xticks(range(len(levels)), [f"{v:g}" for v in levels])
            ax.set_xlim(-0.6, len(levels) - 0.4)
            ax.set_xlabel(f"{knob_labels.get(knob, knob)}\n(→ more noise)", fontsize=8)
            ax.set_ylabel(metric_label(metric, (chance or {}).get(metric) if "R@10" in metric else None), fontsize=8)
            _clip_percent_y(ax, metric)
            ax.grid(axis="y", alpha=0.3)
    return _finish(fig, axes, title, intervals=runs is not None)


def learning_curves(runs: pd.DataFrame, metrics: Sequence[str], title: str = "") -> plt.Figure:
    """Validation metrics against training steps, one line per objective (a learning curve is a trend), each point
    the mean with its 95 % interval over the seeds of `runs` (rows: loss, steps, seed, metrics); steps on a log2
    axis, points of different objectives nudged apart so their intervals do not hide each other."""
    names = registry_order(runs["loss"])
    steps = sorted(runs["steps"].unique())
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics) + 2.4, 3.4), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        stats = intervals(runs, ["loss", "steps"], metric)
        for i, name in enumerate(names):
            s = stats[stats["loss"] == name].sort_values("steps")
            x = s["steps"].to_numpy(dtype=float) * 2 ** ((i - (len(names) - 1) / 2) * 0.04)
            ax.errorbar(
                x,
                s["mean"],
                yerr=[s["mean"] - s["low"], s["high"] - s["mean"]],
                fmt="-o",
                ms=4,
                capsize=2,
                lw=1.2,
                color=_color(name, i),
                label=name,
            )
        ax.set_xscale("log", base=2)
        ax.set_xticks(steps, [f"{v:g}" for v in steps])
        ax.minorticks_off()
        ax.set_xlabel("training steps (log scale)", fontsize=8)
        ax.set_ylabel(metric_label(metric, None), fontsize=8)
        _clip_percent_y(ax, metric)
        ax.grid(axis="y", alpha=0.3)
    return _finish(fig, axes, title, intervals=True)


def _clip_percent_y(ax, metric: str) -> None:
    """A percentage's y axis stops at its natural range 0..100 (autoscale margins would push it past)."""
    if _percent(metric):
        low, high = ax.get_ylim()
        ax.set_ylim(max(low, 0.0), min(high, 100.0))


def _finish(fig, axes, title: str, intervals: bool) -> plt.Figure:
    """The objectives' legend outside the data on the right, the title, a tight layout."""
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(
        handles,
        labels,
        loc="center left",
        bbox_to_anchor=(1.0, 0.5),
        fontsize=8,
        title="trained objective" + ("\n(95 % interval over seeds)" if intervals else ""),
        title_fontsize=8,
    )
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
