"""A reader's check of a matplotlib figure before it is saved: labels, legends, natural ranges, what was trained.

    problems = check_figure(fig)      # [] when readable; else one line per problem, naming the panel
    save_figure(fig, "ablation_tuned")  # runs the check: logs a warning naming the figure (raises when strict)

What counts as a panel: every Axes with its axis on, except colour bars. The rules (issue 22):

- x and y labels on every panel (or on a panel it shares that axis with);
- more than one series (lines, bar groups, point sets) -> a legend (the panel's or the figure's) or direct labels;
- an axis whose label says percent ("%") stays within [0, 100]; one that says "share" or "probability" within
  [0, 1] (a symmetric error bar must not push a recall below 0);
- a title about a model (it says model, before, after, stage or uses the row separator ·) that names an alignment
  method (DTW, soft-DTW, S2DTW) says whether that is the trained objective or a readout ("trained", "readout",
  "untrained", "before training"): "DTW · after" reads as a model trained with DTW.
"""

from __future__ import annotations

import re

_METHOD = re.compile(r"(?<![\w-])(soft-DTW|S2DTW|DTW)(?![\w-])")
_TRAINED = ("trained", "readout", "read out", "untrained", "before training", "objective")
_MODEL = re.compile(r"model|before|after|stage|·")  # the title is about a model, not a benchmark of a routine
_TOL = 1e-6


def _panels(fig) -> list:
    return [ax for ax in fig.axes if ax.axison and not hasattr(ax, "_colorbar")]


def _label(ax, axis: str) -> str:
    """The axis label, or that of a panel sharing this axis (a shared y is named once, on the first column)."""
    shared = ax.get_shared_x_axes() if axis == "x" else ax.get_shared_y_axes()
    for other in [ax, *shared.get_siblings(ax)]:
        text = (other.get_xlabel() if axis == "x" else other.get_ylabel()).strip()
        if text:
            return text
    return ""


def _series(ax) -> int:
    """Data series on a panel: lines of 2+ points or labelled ones, bar groups, scatter/point collections."""
    lines = [ln for ln in ax.get_lines() if len(ln.get_xdata()) > 1 or not ln.get_label().startswith("_")]
    bars = [c for c in ax.containers if c.__class__.__name__ == "BarContainer"]
    points = [c for c in ax.collections if c.__class__.__name__ == "PathCollection"]
    return len(lines) + len(bars) + len(points)


def _has_legend(ax, fig) -> bool:
    return ax.get_legend() is not None or bool(fig.legends) or len(ax.texts) > 0


def _categorical(axis) -> bool:
    """Ticks placed at positions with text labels (levels, objectives): the limits are positions, not values."""
    from matplotlib.ticker import FixedLocator

    fmt = axis.get_major_formatter()
    labelled = fmt.__class__.__name__ in ("FixedFormatter", "StrCategoryFormatter") or (
        fmt.__class__.__name__ == "FuncFormatter" and isinstance(axis.get_major_locator(), FixedLocator)
    )
    return labelled


def _range(label: str) -> tuple[float, float] | None:
    if "%" in label:
        return 0.0, 100.0
    if re.search(r"\b(share|probability)\b", label):
        return 0.0, 1.0
    return None


def _limits(name: str, axis: str, label: str, lim: tuple[float, float]) -> list[str]:
    natural = _range(label)
    if natural is None:
        return []
    lo, hi = sorted(lim)
    if lo < natural[0] - _TOL or hi > natural[1] + _TOL:
        return [
            f"{name}: {axis} axis runs {lo:.3g}..{hi:.3g}, past the natural range {natural[0]:g}..{natural[1]:g}"
            f" of {label!r}"
        ]
    return []


def check_figure(fig) -> list[str]:
    """Problems a reader would hit in `fig` (a matplotlib Figure), one line each naming the panel; [] when none."""
    problems = []
    for k, ax in enumerate(_panels(fig)):
        title = ax.get_title() or ax.get_title(loc="left")
        name = f"panel {k}" + (f" ({title.splitlines()[0]!r})" if title else "")
        xlabel, ylabel = _label(ax, "x"), _label(ax, "y")
        if not xlabel:
            problems.append(f"{name}: no x label")
        if not ylabel:
            problems.append(f"{name}: no y label")
        if _series(ax) > 1 and not _has_legend(ax, fig):
            problems.append(f"{name}: {_series(ax)} series and neither a legend nor direct labels")
        if not _categorical(ax.xaxis):
            problems += _limits(name, "x", xlabel, ax.get_xlim())
        if not _categorical(ax.yaxis):
            problems += _limits(name, "y", ylabel, ax.get_ylim())
        if _METHOD.search(title) and _MODEL.search(title) and not any(w in title.lower() for w in _TRAINED):
            problems.append(f"{name}: the title names an alignment method but not whether it was trained or read out")
    return problems
