"""The tuning budget of the ablation: the same number of seeded random-search trials for every objective, each
over ITS OWN knobs (read from the objective registry), and one extension round for a choice at a range's edge.

    space = knobs_for("s2dtw")                        # temperature, normalize, gamma, smooth_gamma, tau
    trials = draw_trials(["mil_nce", "s2dtw"], 12, seed=0, base=config.loss)   # trial 0 = the objective's defaults
    cells = trial_cells(trials)                       # grid cells (labels, overrides) of `grids.grid_jobs`
    edge_knobs(chosen_row)                            # [("temperature", "high")] when it sits at the edge
    more = extension_trials(chosen_row, 4, seed=0)    # that knob redrawn in the widened part of its range

The search space lives here and only here (`SEARCH_SPACE`). The ranges are this companion's choice (the paper
tunes nothing it reports): wide enough to hold every released value (temperature 0.07 and 1; gamma, smoothing
gamma 0.1; tau 0.5) with room on both sides. A log knob is drawn log-uniformly; `normalize` is a fair coin.
A chosen value in the outermost `EDGE` share of a log range (on the log scale) means the range may have cut the
optimum off: `extension_trials` widens that side by `FACTOR` and redraws the knob there (one round, stated in the
tuning table's `extension` column).
"""

from __future__ import annotations

import dataclasses
import math
import zlib
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from vttwins import objectives

EDGE = 0.1  # share of a log range (on the log scale) at each end that counts as "at the edge"
FACTOR = 10.0  # an extension round widens the edge's side by this factor


@dataclasses.dataclass(frozen=True)
class Knob:
    """One tuned loss key: its `loss.<key>` name (also the table column), range and scale, and which objectives
    have it (`applies(objective) -> bool`). `scale` is "log" (low, high > 0) or "choice" (`choices`)."""

    key: str
    applies: Callable[[objectives.Objective], bool]
    scale: str = "log"
    low: float = 0.0
    high: float = 0.0
    choices: tuple = ()
    help: str = ""

    def draw(self, rng: np.random.Generator, low: float | None = None, high: float | None = None) -> Any:
        """One value: log-uniform in [low, high] (default: the knob's range) or uniform over `choices`."""
        if self.scale == "choice":
            return self.choices[int(rng.integers(len(self.choices)))]
        lo, hi = math.log(low or self.low), math.log(high or self.high)
        return _round(math.exp(rng.uniform(lo, hi)))


def _round(value: float) -> float:
    """Three significant digits: readable labels and run names, the same value on every machine."""
    return float(f"{value:.3g}")


def _weak(o) -> bool:
    return o.sequence and bool(o.alignment.get("weak"))


def _soft(o) -> bool:
    return o.sequence and not o.alignment.get("hard")


def _smooth(o) -> bool:
    return o.sequence and bool(o.alignment.get("smooth"))


SEARCH_SPACE: tuple[Knob, ...] = (
    Knob("temperature", lambda o: True, "log", 0.03, 3.0, help="softmax temperature of the contrastive loss"),
    Knob("normalize", lambda o: True, "choice", choices=(True, False), help="L2-normalised embeddings or raw dots"),
    Knob("gamma", _soft, "log", 0.01, 1.0, help="soft-min smoothing of the DTW recursion (not hard DTW)"),
    Knob("smooth_gamma", _smooth, "log", 0.01, 1.0, help="gamma of the local cost smoothing (smoothing objectives)"),
    Knob("tau", _weak, "log", 0.05, 2.0, help="skip cost of the weak-alignment lattice (weak objectives)"),
)
KEYS = tuple(k.key for k in SEARCH_SPACE)
TRIAL_COLUMNS = ("loss", "round", "trial", "extension", *KEYS)  # a trial table's columns


def knob(key: str) -> Knob:
    for k in SEARCH_SPACE:
        if k.key == key:
            return k
    raise ValueError(f"unknown tuning knob {key!r}; choose from {', '.join(KEYS)}")


def knobs_for(name: str) -> tuple[Knob, ...]:
    """The knobs objective `name` (a `loss.name` or label) has, in `SEARCH_SPACE` order."""
    obj = objectives.get(name)
    return tuple(k for k in SEARCH_SPACE if k.applies(obj))


def _rng(seed: int, name: str, round_: int) -> np.random.Generator:
    # why crc32: a stable per-objective stream (Python's hash() of a str changes between processes)
    return np.random.default_rng([int(seed), zlib.crc32(name.encode()), int(round_)])


def default_trial(name: str, base) -> dict[str, Any]:
    """The objective's own settings of its knobs: registry defaults (temperature, normalize), else `base` (a
    LossConfig or a mapping with gamma, smooth_gamma, tau)."""
    obj = objectives.get(name)
    get = base.get if isinstance(base, dict) else lambda key: getattr(base, key)
    return {k.key: obj.defaults[k.key] if k.key in obj.defaults else get(k.key) for k in knobs_for(name)}


def draw_trials(names: Sequence[str], n_trials: int, seed: int, base) -> pd.DataFrame:
    """`n_trials` trials per objective (the same number for all): trial 0 its own defaults, then `n_trials - 1`
    seeded random draws over its own knobs. Columns: loss (label), round (0), trial, extension (""), then one
    column per knob in `KEYS` (NaN where the objective has no such knob). Same arguments -> same table."""
    if int(n_trials) < 1:
        raise ValueError(f"n_trials must be >= 1, got {n_trials}")
    rows = []
    for name in names:
        obj = objectives.get(name)
        rng = _rng(seed, obj.name, 0)
        rows.append({"loss": obj.label, "round": 0, "trial": 0, "extension": "", **default_trial(name, base)})
        for t in range(1, int(n_trials)):
            rows.append(
                {
                    "loss": obj.label,
                    "round": 0,
                    "trial": t,
                    "extension": "",
                    **{k.key: k.draw(rng) for k in knobs_for(name)},
                }
            )
    return _frame(rows)


def _frame(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    for key in TRIAL_COLUMNS:
        if key not in df:
            df[key] = np.nan
    return df[list(TRIAL_COLUMNS)]


def _present(row) -> dict[str, Any]:
    """The knob values a trial row sets (its objective's knobs), as plain Python values."""
    out = {}
    for k in knobs_for(row["loss"]):
        value = row[k.key]
        out[k.key] = bool(value) if k.scale == "choice" else float(value)
    return out


def trial_cells(trials: pd.DataFrame) -> list[tuple[dict, dict]]:
    """Grid cells (labels, overrides) of trial rows: labels loss, round, trial and the knob values; overrides
    `loss.name` and `loss.<knob>` for each knob the objective has."""
    cells = []
    for _, row in trials.iterrows():
        values = _present(row)
        labels = {"loss": row["loss"], "round": int(row["round"]), "trial": int(row["trial"]), **values}
        cells.append(
            (labels, {"loss.name": objectives.get(row["loss"]).name, **{f"loss.{k}": v for k, v in values.items()}})
        )
    return cells


def edge_knobs(row) -> list[tuple[str, str]]:
    """[(knob, "low" | "high")] for each log knob of the row's objective whose value lies in the outermost `EDGE`
    of its range on the log scale (or outside it)."""
    out = []
    for k in knobs_for(row["loss"]):
        if k.scale != "log":
            continue
        where = (math.log(float(row[k.key])) - math.log(k.low)) / (math.log(k.high) - math.log(k.low))
        if where <= EDGE:
            out.append((k.key, "low"))
        elif where >= 1.0 - EDGE:
            out.append((k.key, "high"))
    return out


def extension_trials(row, n_trials: int, seed: int, first_trial: int = 0) -> pd.DataFrame:
    """Round 1 for a chosen trial `row` at an edge: `n_trials` trials that keep its other knobs and redraw each
    edge knob log-uniformly in the part its range gains when that side is widened by `FACTOR`; empty when
    nothing is at an edge. Trials are numbered from `first_trial`; `extension` says what was widened."""
    edges = edge_knobs(row)
    if not edges or int(n_trials) < 1:
        return _frame([])
    rng = _rng(seed, objectives.get(row["loss"]).name, 1)
    spans = {
        key: (knob(key).high, knob(key).high * FACTOR) if side == "high" else (knob(key).low / FACTOR, knob(key).low)
        for key, side in edges
    }
    text = "; ".join(
        f"{key} {knob(key).low:g}-{knob(key).high:g} -> {min(knob(key).low, lo):g}-{max(knob(key).high, hi):g}"
        for key, (lo, hi) in spans.items()
    )
    rows = []
    for t in range(int(n_trials)):
        values = {**_present(row), **{key: knob(key).draw(rng, lo, hi) for key, (lo, hi) in spans.items()}}
        rows.append({"loss": row["loss"], "round": 1, "trial": first_trial + t, "extension": text, **values})
    return _frame(rows)


def chosen_cells(table: pd.DataFrame) -> dict[str, list[tuple[dict, dict]]]:
    """Per world, the grid cells of the rows flagged `chosen` in a tuning table (labels: loss and its knobs)."""
    out: dict[str, list] = {}
    for (labels, overrides), world in zip(trial_cells(table[table["chosen"]]), table.loc[table["chosen"], "world"]):
        keep = {k: v for k, v in labels.items() if k not in ("round", "trial")}
        out.setdefault(world, []).append((keep, overrides))
    return out
