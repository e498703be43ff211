"""Paired effects of the ablation tables against hand-computed cases (vttwins.companion.experiments.effects)."""

import numpy as np
import pandas as pd
import pytest

from vttwins.companion.experiments import effects, grids


def _runs():
    # world w: B = A + 5 on every seed (a clear effect); C = A + (+1, -1, +1, -1, 0) (no effect on average)
    a = [10.0, 20.0, 30.0, 40.0, 50.0]
    rows = []
    for s, v in enumerate(a, start=1):
        rows += [
            {"world": "w", "loss": "A", "seed": s, "run": f"a{s}", "m": v},
            {"world": "w", "loss": "B", "seed": s, "run": f"b{s}", "m": v + 5},
            {"world": "w", "loss": "C", "seed": s, "run": f"c{s}", "m": v + [1, -1, 1, -1, 0][s - 1]},
        ]
    return pd.DataFrame(rows)


def test_known_difference_is_found_and_zero_difference_is_not():
    eff = effects.paired_effects(_runs(), "A", ["m"]).set_index("loss")
    assert eff.loc["B", "diff"] == pytest.approx(5.0) and eff.loc["B", "low"] == pytest.approx(5.0)
    assert not eff.loc["B", "unresolved"] and eff.loc["B", "resampled"] == "seeds"
    assert eff.loc["C", "diff"] == pytest.approx(0.0) and eff.loc["C", "unresolved"]
    assert eff.loc["C", "low"] < 0 < eff.loc["C", "high"]
    assert set(eff["n_seeds"]) == {5} and set(eff["reference"]) == {"A"}


def test_only_shared_seeds_are_paired():
    runs = _runs()
    runs = runs[~((runs.loss == "B") & (runs.seed == 5))]
    eff = effects.paired_effects(runs, "A", ["m"]).set_index("loss")
    assert eff.loc["B", "n_seeds"] == 4


def test_items_are_resampled_and_their_weighted_mean_is_the_metric():
    runs = _runs()[lambda d: d.loss.isin(["A", "B"])]
    items = []
    for r in runs.itertuples():  # two items, weights 1 and 3: metric = (x1 + 3 x2) / 4 = r.m when x1 = x2 = r.m
        for item, w, delta in (("q1", 1.0, -2.0), ("q2", 3.0, 2.0 / 3.0)):
            items.append({"run": r.run, "metric": "m", "item": item, "score": r.m + delta, "weight": w})
    eff = effects.paired_effects(runs, "A", ["m"], items=pd.DataFrame(items)).iloc[0]
    assert eff["resampled"] == "seeds+items" and eff["n_items"] == 2
    assert eff["diff"] == pytest.approx(5.0)


def test_unresolved_vs_best_uses_the_paired_interval():
    runs = _runs()
    summary = grids.summarize(runs, ["world", "loss"], ["m"])
    flags = effects.unresolved_vs_best(summary, runs, ["world"], ["m"]).set_index("loss")
    # the std rule would call every row unresolved (std ~ 15.8 >> 5); pairing resolves A and C against B
    assert not flags.loc["B", "m_unresolved"] and not flags.loc["A", "m_unresolved"]
    assert flags.loc["C", "m_vs_best"].startswith("-")


def test_knob_effects_with_runs_are_paired_by_seed():
    rows = []
    for s, base in ((1, 20.0), (2, 30.0), (3, 40.0)):
        rows += [
            {"loss": "S2DTW", "knob": "offset_std", "level": 4.0, "seed": s, "run": f"b{s}", "a@1": base},
            {"loss": "S2DTW", "knob": "offset_std", "level": 8.0, "seed": s, "run": f"m{s}", "a@1": base - 6},
        ]
    runs = pd.DataFrame(rows)
    eff = grids.knob_effects(None, {"offset_std": 4.0}, ["a@1"], runs=runs).iloc[0]
    assert eff["delta_a@1_mean"] == pytest.approx(-6.0) and eff["delta_a@1_std"] == pytest.approx(0.0)
    assert eff["delta_a@1_high"] == pytest.approx(-6.0) and not eff["delta_a@1_unresolved"]
    one = grids.knob_effects(None, {"offset_std": 4.0}, ["a@1"], runs=runs[runs.seed == 1]).iloc[0]
    assert one["delta_a@1_unresolved"] and np.isnan(one["delta_a@1_std"])
    with pytest.raises(ValueError, match="no level at the world's value 2"):
        grids.knob_effects(None, {"offset_std": 2.0}, ["a@1"], runs=runs)


def test_missing_reference_or_column_is_an_error():
    with pytest.raises(ValueError, match="reference 'Z'"):
        effects.paired_effects(_runs(), "Z", ["m"])
    with pytest.raises(ValueError, match="no column 'x'"):
        effects.paired_effects(_runs(), "A", ["x"])


def test_holm_column_matches_hand_calculation():
    out = effects.holm_column(pd.DataFrame({"p": [0.01, 0.04, 0.03]}))
    assert out["p_holm"].tolist() == pytest.approx([0.03, 0.06, 0.06])
