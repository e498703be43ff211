"""Figures of the companion: loss curves, ablation bars and sweeps, alignment panels, benchmarks, data examples.

    from vttwins.companion import plots
    from vttwins.companion.results import save_figure
    fig = plots.world_bars(summary, ["yc2_t2v_R@10_mean", "crosstask_recall_mean"])
    save_figure(fig, "ablation_defaults", description="...")

Every function takes plain data (DataFrames, numpy arrays) and returns a matplotlib Figure; nothing here trains,
reads files or writes results, so the notebooks decide what is saved (inline in Jupyter, any backend elsewhere).
"""

from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
from matplotlib.ticker import FuncFormatter, NullFormatter, NullLocator
import numpy as np
import pandas as pd
import seaborn as sns

from vttwins import objectives


def _color(name: str, i: int) -> str:
    """An objective's registry colour (by name or label), else the i-th default colour."""
    return objectives.color(str(name), fallback=f"C{i % 10}")


def loss_curves(
    runs: dict, x: str = "step", y: str = "loss", title: str = "", *, log_b: dict[str, int] | None = None
) -> plt.Figure:
    """One panel per run label: losses of different objectives live on different scales, so they share no axis.

    runs: label -> metrics DataFrame (columns `x`, `y`), or label -> {seed label: DataFrame} (every seed of that
    run drawn on its panel). log_b: label -> batch B of a contrastive run: a labelled line at log B, the loss of a
    model that tells no pair apart (where a collapsed S2DTW run sits)."""
    fig, axes = plt.subplots(1, len(runs), figsize=(4.4 * len(runs), 3.4), squeeze=False)
    for i, (ax, (label, df)) in enumerate(zip(axes[0], runs.items())):
        seeds = df if isinstance(df, dict) else {"": df}
        for k, (seed, d) in enumerate(seeds.items()):
            color = _color(label, i) if len(seeds) == 1 else f"C{k % 10}"
            ax.plot(d[x], d[y], color=color, lw=0.8, alpha=0.6, label=f"{seed} per step".strip())
            if len(d) >= 10:  # a running mean makes the trend readable at small batches
                ax.plot(
                    d[x],
                    d[y].rolling(max(3, len(d) // 10), min_periods=1).mean(),
                    color=color,
                    lw=1.8,
                    label=f"{seed} running mean".strip(),
                )
        if log_b and label in log_b:
            ax.axhline(np.log(log_b[label]), color="k", ls="--", lw=1, label=f"log B = log {log_b[label]}")
        ax.set(xlabel=x, ylabel=f"{y} (lower is better)" if y == "loss" else y, title=label)
        ax.legend(fontsize=7, loc="upper right", framealpha=0.85)
        ax.grid(alpha=0.3)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def skip_share_curves(
    runs: dict[str, pd.DataFrame], x: str = "step", y: str = "skip_share", title: str = ""
) -> plt.Figure:
    """The collapse detector: one labelled line per run on one [0, 1] axis (a run that never skips is a line at
    0 beside the collapsing one, not a panel of its own)."""
    fig, ax = plt.subplots(figsize=(7.5, 3.4))
    for i, (label, df) in enumerate(runs.items()):
        ax.plot(df[x], df[y], color=f"C{i % 10}", lw=1.5, label=label, clip_on=False)
    ax.set_ylim(0, 1)
    ax.set(xlabel="training step", ylabel="skip share\n(1 = the path skips every positive pair)")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), title="run", title_fontsize=8)
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
        fig.colorbar(im, ax=ax_row[0], fraction=0.046, pad=0.02).set_label("cost -cos (green = good match)", fontsize=8)
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
    im = ax.imshow(E, cmap="Blues", vmin=0, vmax=1, aspect="auto", interpolation="nearest")
    ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.12 if weak else 0.02).set_label(
        "E: probability the pair is on the path", fontsize=8
    )
    _axes(
        ax,
        "soft alignment E (dark = on the path)" + ("\nbars: skip mass of each clip / caption" if weak else ""),
        pad=34.0 if weak else 6.0,
    )
    if not weak:
        return
    n, m = E.shape
    skip_x, skip_y = 1 - np.minimum(1, E.sum(axis=1)), 1 - np.minimum(1, E.sum(axis=0))
    ax.barh(
        np.arange(n),
        skip_x * 1.5,
        left=m - 0.5 + 0.2,
        height=0.7,
        color="#c0392b",
        clip_on=False,
        label="skip mass of a clip (right)",
    )
    ax.bar(
        np.arange(m),
        -skip_y * 1.5,
        bottom=-0.5 - 0.2,
        width=0.7,
        color="#e67e22",
        clip_on=False,
        label="skip mass of a caption (top)",
    )
    ax.legend(fontsize=6, loc="upper left", bbox_to_anchor=(0.0, -0.14), ncol=2, frameon=False)
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
        ax.plot(
            [j for _, j in misses],
            [i for i, _ in misses],
            "x",
            color="#c0392b",
            ms=8,
            mew=2,
            label="path, no true match",
        )
    if len(row.get("unmatched_x", [])):
        ax.plot(
            [m - 0.5 + 0.3] * len(row["unmatched_x"]),
            row["unmatched_x"],
            ">",
            color="#c0392b",
            ms=7,
            clip_on=False,
            label="skipped clip",
        )
    if len(row.get("unmatched_y", [])):
        ax.plot(
            row["unmatched_y"],
            [-0.5 - 0.3] * len(row["unmatched_y"]),
            "v",
            color="#e67e22",
            ms=7,
            clip_on=False,
            label="skipped caption",
        )
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
        ax.text(
            (s["start"] + s["end"]) / 2,
            0.78,
            f"{n}: {s['label']}",
            ha="center",
            va="center",
            fontsize=7,
            transform=ax.get_xaxis_transform(),
        )
    for n, (_, c) in enumerate(captions.iterrows()):
        y = 0.08 + 0.12 * (n % 4)
        filler = pd.isna(c["step"])
        color = "#95a5a6" if filler else f"C{int(c['step']) % 10}"
        ax.plot(
            [c["start"], c["end"]], [y, y], transform=ax.get_xaxis_transform(), lw=4, color=color, solid_capstyle="butt"
        )
        tag = "" if filler else f"[{int(c['step'])}] "
        ax.text(
            c["start"],
            y + 0.035,
            tag + str(c["text"])[:30],
            fontsize=6,
            transform=ax.get_xaxis_transform(),
            color="#7f8c8d" if filler else "#2c3e50",
        )
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
    ax.hist(step, bins=40, color="#2471a3", alpha=0.8, label=f"step captions (n={len(step)}, std {step.std():.1f} s)")
    ax.axvline(0, color="k", lw=1)
    ax.set(
        xlabel="caption time - step time (s)",
        ylabel="captions",
        title=title or f"weak alignment: offsets of narration; filler captions {100 * share:.0f}%",
    )
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def _impl_column(df: pd.DataFrame) -> str | None:
    return next((c for c in ("method", "impl", "model", "loss") if c in df), None)


def _case_labels(df: pd.DataFrame, impl: str | None) -> pd.Series:
    cols = [c for c in ("case", "what", "mode", "loss", "B", "batch", "shape") if c in df and c != impl]
    text = df[cols].map(lambda v: "" if (isinstance(v, float) and np.isnan(v)) or str(v) == "-" else str(v))
    return text.agg(lambda r: " ".join(v for v in r if v), axis=1)


def _time_column(df: pd.DataFrame) -> tuple[str, bool] | None:
    """(column, higher is better) of a benchmark's headline number."""
    for c in ("fwd_bwd_ms", "ms", "median_ms", "step_s", "time_ms", "fwd_ms"):
        if c in df:
            return c, False
    return ("steps_per_s", True) if "steps_per_s" in df else None


def benchmark_bars(name: str, df: pd.DataFrame, ax) -> None:
    """Horizontal bars of one benchmark, one colour per implementation (legend outside): the time relative to the
    first implementation of each case (the package's own, drawn as the line at 1) when the file compares
    implementations, else the headline time; log axis either way."""
    impl, value = _impl_column(df), _time_column(df)
    data = df.assign(case_label=_case_labels(df, impl), impl_label=df[impl].astype(str) if impl else name)
    if value is None:
        raise ValueError(f"benchmark {name!r} has no time column; columns {list(df.columns)}")
    column, higher = value
    data = data[pd.to_numeric(data[column], errors="coerce") > 0]
    compared = impl is not None and data.groupby("case_label")["impl_label"].nunique().max() > 1
    if compared:
        first = data.groupby("case_label", sort=False)[column].transform("first")
        data = data.assign(ratio=data[column].astype(float) / first)
        x, xlabel = "ratio", f"{column} relative to the case's first implementation (x, log)\nlower is faster"
    else:
        x, xlabel = column, f"{column} (log)\n" + ("higher is faster" if higher else "lower is faster")
    sns.barplot(
        data=data, y="case_label", x=x, hue="impl_label", orient="h", errorbar=None, ax=ax, palette="tab10", dodge=True
    )
    if compared:
        ax.axvline(1.0, color="k", lw=1, ls="--", label="reference implementation (= 1)")
    values = data[x].astype(float)
    if values.max() / values.min() > 3:  # a log axis only where the values span one
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
    else:
        xlabel = xlabel.replace(", log", "").replace(" (log)", "")
    ax.set_xlabel(xlabel, fontsize=8)
    ax.set_ylabel("case", fontsize=8)
    ax.tick_params(axis="y", labelsize=7)
    ax.set_title(name, fontsize=9)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), title="implementation", title_fontsize=7)


def benchmark_overview(benchmarks: dict[str, dict]) -> plt.Figure:
    """One panel per benchmark file (see `benchmark_bars`)."""
    if not benchmarks:
        raise ValueError("benchmarks is empty: no results/benchmarks/*.json to draw")
    heights = [
        max(2.2, 0.28 * _case_labels(b["records"], _impl_column(b["records"])).nunique() + 1.2)
        for b in benchmarks.values()
    ]
    fig, axes = plt.subplots(
        len(benchmarks), 1, figsize=(12, sum(heights)), squeeze=False, gridspec_kw={"height_ratios": heights}
    )
    for ax, (name, b) in zip(axes[:, 0], benchmarks.items()):
        benchmark_bars(name, b["records"], ax)
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
    left.set(
        xlabel="batch B (videos; B x B sequence pairs)",
        ylabel="ms, forward + backward",
        title="S2DTW contrastive loss vs batch",
    )
    _log_lines(right, df[df["kind"] == "soft_dtw"], "N", "Mcells_per_s")
    right.set(
        xlabel="sequence length N (N x N lattices; 1024: forward only)",
        ylabel="M lattice cells / s",
        title="soft-DTW vs peers (higher is faster)",
    )
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------------------------------- fair ablation
from vttwins.companion.figure_check import check_figure  # noqa: E402,F401  (re-exported: save_figure runs it)

# the comparison figures live in plots_compare; re-exported here (`name as name`) for the notebooks
from vttwins.companion.plots_compare import (  # noqa: E402
    METRIC_LABELS as METRIC_LABELS,
    intervals as intervals,
    knob_sweeps as knob_sweeps,
    learning_curves as learning_curves,
    metric_label as metric_label,
    registry_order as registry_order,
    world_bars as world_bars,
)


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
                ax.text(
                    j,
                    i,
                    f"{grid[i, j]:.0%}\nskip {cells.loc[(t, lr), 'skip']:.2f}",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if grid[i, j] > 0.5 else "black",
                )
        ax.set_xticks(range(len(lrs)), [f"{v:g}" for v in lrs], fontsize=8)
        ax.set_yticks(range(len(taus)), [f"{v:g}" for v in taus], fontsize=8)
        ax.set_xlabel("learning rate", fontsize=9)
        ax.set_ylabel("skip cost τ", fontsize=9)
        ax.set_title(f"{loss}\ntemperature {temp:g}", fontsize=9)
    fig.colorbar(im, ax=list(axes[0]), fraction=0.03, pad=0.02).set_label("share of seeds at loss = log B")
    fig.suptitle(title, fontsize=10, y=1.04)
    return fig
