"""Figures of the companion: loss curves, ablation bars and sweeps, alignment panels, benchmarks, data examples.

    from vttwins import plots
    from vttwins.results import save_figure
    fig = plots.world_bars(summary, ["yc2_t2v_R@10_mean", "crosstask_recall_mean"])
    save_figure(fig, "ablation_defaults", description="...")

Every function takes plain data (DataFrames, numpy arrays) and returns a matplotlib Figure; nothing here trains,
reads files or writes results, so the notebooks decide what is saved (inline in Jupyter, any backend elsewhere).
"""
from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
from matplotlib.ticker import NullLocator
import numpy as np
import pandas as pd

from vttwins import objectives

def _color(name: str, i: int) -> str:
    """An objective's registry colour (by name or label), else the i-th default colour."""
    return objectives.color(str(name), fallback=f"C{i % 10}")


def loss_curves(runs: dict[str, pd.DataFrame], x: str = "step", y: str = "loss", title: str = "") -> plt.Figure:
    """One panel per run (label -> metrics DataFrame with columns `x`, `y`): losses of different objectives
    live on different scales, so they are not drawn on one axis."""
    fig, axes = plt.subplots(1, len(runs), figsize=(4.2 * len(runs), 3.2), squeeze=False)
    for i, (ax, (label, df)) in enumerate(zip(axes[0], runs.items())):
        ax.plot(df[x], df[y], color=_color(label, i), lw=1.2)
        if len(df) >= 10:  # a running mean makes the trend readable at small batches
            ax.plot(df[x], df[y].rolling(max(3, len(df) // 10), min_periods=1).mean(), color="k", lw=1)
        ax.set(xlabel=x, ylabel=y, title=label)
        ax.grid(alpha=0.3)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def alignment_panels(rows: Sequence[dict], title: str = "") -> plt.Figure:
    """One row per (video, method, stage), three panels a reader of the paper can check against the truth:
    the cost (green = good match), the soft alignment E on clip x caption axes with the skip mass of each clip and
    caption as marginal bars (weak lattice only), and the hard path drawn over the true step match.

    Each dict: `label`; `cost (N, M)`; `E_real (N, M)` (E on the real cells); `weak` bool; `path` list of (clip,
    caption) pairs; `unmatched_x`, `unmatched_y` index lists; `truth (N, M)` boolean (clip and caption share a
    true step). Skip mass of clip i = 1 - min(1, sum_j E[i, j]) (the probability it is matched to no caption,
    approximately: a clip may match several captions).
    """
    fig, axes = plt.subplots(len(rows), 3, figsize=(12.5, 3.5 * len(rows)), squeeze=False)
    for ax_row, row in zip(axes, rows):
        cost = np.asarray(row["cost"])
        im = ax_row[0].imshow(cost, cmap="RdYlGn_r", vmin=-1, vmax=1, aspect="auto", interpolation="nearest")
        fig.colorbar(im, ax=ax_row[0], fraction=0.046, pad=0.02).set_label("cost -cos (green = good match)",
                                                                           fontsize=8)
        _axes(ax_row[0], f"{row['label']}\ncost C = -<clip, caption>")
        _soft(ax_row[1], np.asarray(row["E_real"]), bool(row.get("weak")))
        _path(ax_row[2], cost.shape, row)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def _axes(ax, title: str, pad: float = 6.0) -> None:
    ax.set_title(title, fontsize=9, pad=pad)
    ax.set_xlabel("caption", fontsize=9)
    ax.set_ylabel("clip", fontsize=9)
    ax.tick_params(labelsize=8)


def _soft(ax, E: np.ndarray, weak: bool) -> None:
    ax.imshow(E, cmap="Blues", vmin=0, vmax=1, aspect="auto", interpolation="nearest")
    _axes(ax, "soft alignment E (dark = on the path)" + ("\nbars: skip mass of each clip / caption" if weak else ""),
          pad=34.0 if weak else 6.0)
    if not weak:
        return
    n, m = E.shape
    skip_x, skip_y = 1 - np.minimum(1, E.sum(axis=1)), 1 - np.minimum(1, E.sum(axis=0))
    ax.barh(np.arange(n), skip_x * 1.5, left=m - 0.5 + 0.2, height=0.7, color="#c0392b", clip_on=False)
    ax.bar(np.arange(m), -skip_y * 1.5, bottom=-0.5 - 0.2, width=0.7, color="#e67e22", clip_on=False)
    ax.set_xlim(-0.5, m - 0.5)
    ax.set_ylim(n - 0.5, -0.5)


def _path(ax, shape: tuple[int, int], row: dict) -> None:
    """The hard path over the truth: grey = the clip and caption share a true step; o = path on a true match,
    x = path off it; skipped clips / captions marked on the margins (legend only when something is skipped)."""
    n, m = shape
    truth = np.asarray(row["truth"], dtype=float)
    ax.imshow(truth, cmap="Greys", vmin=0, vmax=2.5, aspect="auto", interpolation="nearest")
    hits = [(i, j) for i, j in row["path"] if truth[i, j]]
    misses = [(i, j) for i, j in row["path"] if not truth[i, j]]
    if hits:
        ax.plot([j for _, j in hits], [i for i, _ in hits], "o", color="#1e8449", ms=8, label="path, true match")
    if misses:
        ax.plot([j for _, j in misses], [i for i, _ in misses], "x", color="#c0392b", ms=8, mew=2,
                label="path, no true match")
    if len(row.get("unmatched_x", [])):
        ax.plot([m - 0.5 + 0.3] * len(row["unmatched_x"]), row["unmatched_x"], ">", color="#c0392b", ms=7,
                clip_on=False, label="skipped clip")
    if len(row.get("unmatched_y", [])):
        ax.plot(row["unmatched_y"], [-0.5 - 0.3] * len(row["unmatched_y"]), "v", color="#e67e22", ms=7,
                clip_on=False, label="skipped caption")
    ax.set_xlim(-0.5, m - 0.5)
    ax.set_ylim(n - 0.5, -0.5)
    _axes(ax, "hard path over the true step match (grey)", pad=16.0 if len(row.get("unmatched_y", [])) else 6.0)
    ax.legend(fontsize=7, loc="lower left", framealpha=0.8)


def weak_alignment_examples(examples: Sequence[dict], title: str = "") -> plt.Figure:
    """Per video: a row of frames above a timeline of its true step segments and its (shifted, noisy) captions.

    Each dict: `frames` uint8 (K, H, W, 3), `frame_times` (K,), `steps` [start, end, label], `captions`
    [start, end, text, step] (the step a caption narrates, NaN for filler), `duration`, `title`.
    """
    k = max(len(e["frames"]) for e in examples)
    fig = plt.figure(figsize=(max(9, 1.3 * k), 4.2 * len(examples)))
    grid = fig.add_gridspec(2 * len(examples), k, height_ratios=[1, 1.7] * len(examples))
    for r, e in enumerate(examples):
        for i, (frame, t) in enumerate(zip(e["frames"], e["frame_times"])):
            ax = fig.add_subplot(grid[2 * r, i])
            ax.imshow(frame)
            ax.set_title(f"{t:.0f} s", fontsize=7)
            ax.axis("off")
        _timeline(fig.add_subplot(grid[2 * r + 1, :]), e)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def _timeline(ax, e: dict) -> None:
    steps, captions = e["steps"], e["captions"]
    for n, (_, s) in enumerate(steps.iterrows()):
        ax.axvspan(s["start"], s["end"], ymin=0.6, ymax=0.95, color=f"C{n % 10}", alpha=0.45)
        ax.text((s["start"] + s["end"]) / 2, 0.78, f"{n}: {s['label']}", ha="center", va="center", fontsize=7,
                transform=ax.get_xaxis_transform())
    for n, (_, c) in enumerate(captions.iterrows()):
        y = 0.08 + 0.12 * (n % 4)
        filler = pd.isna(c["step"])
        color = "#95a5a6" if filler else f"C{int(c['step']) % 10}"
        ax.plot([c["start"], c["end"]], [y, y], transform=ax.get_xaxis_transform(), lw=4, color=color,
                solid_capstyle="butt")
        tag = "" if filler else f"[{int(c['step'])}] "
        ax.text(c["start"], y + 0.035, tag + str(c["text"])[:30], fontsize=6, transform=ax.get_xaxis_transform(),
                color="#7f8c8d" if filler else "#2c3e50")
    ax.set_xlim(0, e["duration"])
    ax.set_ylim(0, 1)
    ax.set_yticks([0.25, 0.78], ["narration (ASR)", "true steps"], fontsize=8)
    ax.set_xlabel("seconds", fontsize=8)
    ax.set_title(e.get("title", ""), fontsize=8)


def offset_histogram(offsets: pd.DataFrame, title: str = "") -> plt.Figure:
    """Histogram of caption-minus-step offsets (s) of the narrated captions, with the filler share in the legend."""
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    step = offsets[offsets["kind"] == "step"]["offset"]
    share = float((offsets["kind"] == "filler").mean())
    ax.hist(step, bins=40, color="#2471a3", alpha=0.8,
            label=f"step captions (n={len(step)}, std {step.std():.1f} s)")
    ax.axvline(0, color="k", lw=1)
    ax.set(xlabel="caption time - step time (s)", ylabel="captions", title=title or
           f"weak alignment: offsets of narration; filler captions {100 * share:.0f}%")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def _label_column(df: pd.DataFrame) -> str:
    for c in ("case", "impl", "what", "name", "model"):
        if c in df:
            return c
    return next(c for c in df.columns if df[c].dtype == object)


def _time_column(df: pd.DataFrame) -> str | None:
    for c in ("fwd_bwd_ms", "ms", "median_ms", "step_s", "time_ms", "fwd_ms"):
        if c in df:
            return c
    return next((c for c in df.columns if "ms" in c and pd.api.types.is_numeric_dtype(df[c])), None)


def benchmark_bars(name: str, df: pd.DataFrame, ax) -> None:
    """A horizontal bar per record of one benchmark: its time column against its label column (log scale)."""
    label, value = _label_column(df), _time_column(df)
    if value is None:
        ax.axis("off")
        ax.text(0.5, 0.5, f"{name}: no time column", ha="center")
        return
    extra = [c for c in ("mode", "loss", "B", "batch", "n", "N", "shape") if c in df and c != label]
    names = [" ".join(str(v) for v in row) for row in df[[label, *extra]].itertuples(index=False, name=None)]
    ax.barh(range(len(df)), df[value].astype(float), color=[f"C{i % 10}" for i in range(len(df))])
    ax.set_yticks(range(len(df)), names, fontsize=6)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel(value, fontsize=8)
    ax.set_title(name, fontsize=9)
    ax.grid(axis="x", alpha=0.3)


def benchmark_overview(benchmarks: dict[str, dict]) -> plt.Figure:
    """One panel of bars per benchmark file (see `benchmark_bars`)."""
    names = list(benchmarks) or ["(no benchmark files)"]
    heights = [max(2.5, 0.22 * len(benchmarks[n]["records"])) if n in benchmarks else 2.5 for n in names]
    fig, axes = plt.subplots(len(names), 1, figsize=(8, sum(heights) + 0.5), squeeze=False,
                             gridspec_kw={"height_ratios": heights})
    for ax, name in zip(axes[:, 0], names):
        if name in benchmarks:
            benchmark_bars(name, benchmarks[name]["records"], ax)
        else:
            ax.axis("off")
            ax.text(0.5, 0.5, name, ha="center")
    fig.tight_layout()
    return fig


def _log_lines(ax, df: pd.DataFrame, x: str, y: str) -> None:
    """One line per method of `y` against `x` on log-log axes, ticks at the measured x values."""
    df = df.dropna(subset=[x])
    for i, (method, g) in enumerate(df.groupby("method", sort=True)):
        g = g.sort_values(x)
        ax.plot(g[x], g[y], marker="o", label=method, color=f"C{i % 10}")
    ticks = sorted(df[x].unique())
    ax.set(xscale="log", yscale="log")
    ax.set_xticks(ticks, [str(int(t)) for t in ticks])
    ax.xaxis.set_minor_locator(NullLocator())


def alignment_benchmark(df: pd.DataFrame, title: str = "") -> plt.Figure:
    """Left: the contrastive loss, ms vs batch B (all B x B pairs of 8 x 8 sequences). Right: plain soft-DTW,
    lattice cells per second vs side length N, per implementation (higher is faster). `df` from
    `experiments.benchmarks.alignment_shapes`."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8))
    _log_lines(left, df[df["kind"] == "loss"], "B", "ms")
    left.set(xlabel="batch B (videos; B x B sequence pairs)", ylabel="ms, forward + backward",
             title="S2DTW contrastive loss vs batch")
    _log_lines(right, df[df["kind"] == "soft_dtw"], "N", "Mcells_per_s")
    right.set(xlabel="sequence length N (N x N lattices; 1024: forward only)", ylabel="M lattice cells / s",
              title="soft-DTW vs peers (higher is faster)")
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------------------------------- fair ablation
METRIC_LABELS = {  # axis label and whether lower is better, per ablation / truth column
    "yc2_t2v_R@10": ("YouCook2 text→video R@10 (%)", False), "yc2_t2v_MedR": ("YouCook2 median rank", True),
    "crosstask_recall": ("CrossTask step recall (%)", False), "crosstask_ordered": ("CrossTask ordered recall (%)", False),
    "crosstask_ctr": ("CrossTask CTR accuracy (%)", False),
    "pair_precision": ("hard-path pair precision vs truth (%)", False),
    "pair_recall": ("hard-path pair recall vs truth (%)", False),
    "skip_caption_recall": ("filler captions skipped (recall, %)", False),
    "skip_clip_recall": ("unnarrated clips skipped (recall, %)", False),
}


def _metric_label(metric: str) -> str:
    label, lower = METRIC_LABELS.get(metric, (metric, False))
    return label + ("\n(lower is better)" if lower else "")


def _registry_order(names) -> list[str]:
    """Objectives in registry order (clip baselines, then DTW components added one by one); others last."""
    rank = {objectives.label(n): i for i, n in enumerate(objectives.names())}
    return sorted(dict.fromkeys(names), key=lambda n: (rank.get(n, len(rank)), str(n)))


def world_bars(summary: pd.DataFrame, metrics: Sequence[str], chance: dict[str, float] | None = None,
               title: str = "") -> plt.Figure:
    """Horizontal bars: one panel per metric, objectives down the y axis (registry order), one bar per world
    (mean ± std over seeds); a hatched bar is within one std of its world's best (`<metric>_unresolved`)."""
    worlds = list(dict.fromkeys(summary["world"]))
    names = _registry_order(summary["loss"])
    fig, axes = plt.subplots(1, len(metrics), figsize=(3.3 * len(metrics) + 1.6, 0.45 * len(names) + 1.6),
                             squeeze=False, sharey=True)
    height = 0.8 / len(worlds)
    for ax, metric in zip(axes[0], metrics):
        for k, world in enumerate(worlds):
            rows = summary[summary["world"] == world].set_index("loss").reindex(names)
            y = np.arange(len(names)) + (k - (len(worlds) - 1) / 2) * height
            unresolved = rows.get(f"{metric}_unresolved", pd.Series(False, index=rows.index)).fillna(False)
            ax.barh(y, rows[f"{metric}_mean"], height, xerr=rows[f"{metric}_std"].fillna(0), capsize=2,
                    color=[_color(n, i) for i, n in enumerate(names)], alpha=1.0 if k == 0 else 0.55,
                    hatch=None, edgecolor="k", linewidth=0.4, label=str(world))
            for yi, flag in zip(y, unresolved):
                if flag:
                    ax.text(0, yi, " ~", va="center", fontsize=8)
        if chance and metric in chance:
            ax.axvline(chance[metric], color="k", ls="--", lw=1, label="chance")
        ax.set_xlabel(_metric_label(metric), fontsize=9)
        ax.grid(axis="x", alpha=0.3)
        ax.invert_yaxis()
    axes[0][0].set_yticks(range(len(names)), names, fontsize=9)
    axes[0][-1].legend(fontsize=8, title="world (pale: 2nd)", title_fontsize=8, loc="lower right")
    fig.suptitle(title + "\n'~': within one std of the world's best (unresolved)", fontsize=10)
    fig.tight_layout()
    return fig


def knob_sweeps(summary: pd.DataFrame, metrics: Sequence[str], knob_labels: dict[str, str],
                chance: dict[str, float] | None = None, title: str = "") -> plt.Figure:
    """One row per narration knob (x = its value), one column per metric, one line per objective."""
    knobs = list(dict.fromkeys(summary["knob"]))
    fig, axes = plt.subplots(len(knobs), len(metrics), figsize=(3.8 * len(metrics) + 1.5, 3.0 * len(knobs)),
                             squeeze=False)
    for ax_row, knob in zip(axes, knobs):
        part = summary[summary["knob"] == knob]
        for ax, metric in zip(ax_row, metrics):
            for i, name in enumerate(_registry_order(part["loss"])):
                df = part[part["loss"] == name].sort_values("level")
                ax.errorbar(df["level"], df[f"{metric}_mean"], yerr=df[f"{metric}_std"].fillna(0), marker="o",
                            capsize=3, color=_color(name, i), label=name, lw=1.4)
            if chance and metric in chance:
                ax.axhline(chance[metric], color="k", ls="--", lw=1, label="chance")
            ax.set(xlabel=knob_labels.get(knob, knob), ylabel=_metric_label(metric))
            ax.grid(alpha=0.3)
    axes[0][-1].legend(fontsize=7, loc="best")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def phase_diagram(table: pd.DataFrame, title: str = "") -> plt.Figure:
    """Share of seeds stuck at the log-B plateau (and the late skip share) per lr x tau cell; one panel per
    objective x temperature. Dark = collapsed."""
    panels = list(table.groupby(["loss", "temperature"], sort=False))
    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels) + 0.8, 3.2), squeeze=False)
    for ax, ((loss, temp), df) in zip(axes[0], panels):
        cells = df.groupby(["tau", "lr"]).agg(plateau=("plateau", "mean"), skip=("late_skip_share", "mean"))
        taus, lrs = sorted(df["tau"].unique()), sorted(df["lr"].unique())
        grid = np.array([[cells.loc[(t, lr), "plateau"] for lr in lrs] for t in taus], dtype=float)
        im = ax.imshow(grid, cmap="Reds", vmin=0, vmax=1, origin="lower", aspect="auto")
        for i, t in enumerate(taus):
            for j, lr in enumerate(lrs):
                ax.text(j, i, f"{grid[i, j]:.0%}\nskip {cells.loc[(t, lr), 'skip']:.2f}", ha="center",
                        va="center", fontsize=8, color="white" if grid[i, j] > 0.5 else "black")
        ax.set_xticks(range(len(lrs)), [f"{v:g}" for v in lrs], fontsize=8)
        ax.set_yticks(range(len(taus)), [f"{v:g}" for v in taus], fontsize=8)
        ax.set_xlabel("learning rate", fontsize=9)
        ax.set_ylabel("skip cost τ", fontsize=9)
        ax.set_title(f"{loss}\ntemperature {temp:g}", fontsize=9)
    fig.colorbar(im, ax=list(axes[0]), fraction=0.03, pad=0.02).set_label("share of seeds at loss = log B")
    fig.suptitle(title, fontsize=10, y=1.04)
    return fig
