"""experiments.tuning + ablation.tuning_table: equal trial counts, own knobs per objective, determinism, edges."""

import math
import types

import numpy as np
import pandas as pd
import pytest

from vttwins import objectives
from vttwins.companion.experiments import ablation, tuning

ALL = list(objectives.names())
BASE = {"gamma": 0.1, "smooth_gamma": 0.1, "tau": 0.5}


def test_every_objective_gets_the_same_number_of_trials_over_its_own_knobs():
    trials = tuning.draw_trials(ALL, 12, seed=0, base=BASE)
    assert trials.groupby("loss").size().to_dict() == {objectives.label(n): 12 for n in ALL}
    own = {n: {k.key for k in tuning.knobs_for(n)} for n in ALL}
    assert own["mil_nce"] == own["clip_nce"] == own["dtw"] == {"temperature", "normalize"}  # hard DTW: no gamma
    assert own["soft_dtw"] == {"temperature", "normalize", "gamma"}
    assert own["s2dtw_smooth_only"] == {"temperature", "normalize", "gamma", "smooth_gamma"}
    assert own["s2dtw_weak_only"] == {"temperature", "normalize", "gamma", "tau"}
    assert own["s2dtw"] == own["s2dtw_tda"] == set(tuning.KEYS)
    for name in ALL:  # a knob the objective lacks is never set, one it has always is
        rows = trials[trials.loss == objectives.label(name)]
        for key in tuning.KEYS:
            assert rows[key].notna().all() == (key in own[name]) and rows[key].isna().all() == (key not in own[name])


def test_trial_zero_is_the_objectives_own_defaults_and_draws_stay_in_range():
    trials = tuning.draw_trials(["mil_nce", "clip_nce", "s2dtw"], 40, seed=3, base=BASE)
    first = trials[trials.trial == 0].set_index("loss")
    assert (first.loc["MIL-NCE", "temperature"], first.loc["MIL-NCE", "normalize"]) == (1.0, False)
    assert first.loc["clip InfoNCE", "temperature"] == 0.07
    assert first.loc["S2DTW", ["gamma", "smooth_gamma", "tau"]].tolist() == [0.1, 0.1, 0.5]
    drawn = trials[trials.trial > 0]
    for k in tuning.SEARCH_SPACE:
        values = drawn[k.key].dropna()
        if k.scale == "log":  # rounded to 3 significant digits: the edge itself may be hit
            assert values.between(k.low * 0.999, k.high * 1.001).all(), k.key
        else:
            assert set(values) == set(k.choices), k.key  # 39 coin flips show both sides


def test_same_seed_same_trials_other_seed_other_trials():
    a = tuning.draw_trials(["s2dtw", "mil_nce"], 12, seed=7, base=BASE)
    b = tuning.draw_trials(["s2dtw", "mil_nce"], 12, seed=7, base=BASE)
    c = tuning.draw_trials(["s2dtw", "mil_nce"], 12, seed=8, base=BASE)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)
    # an objective's trials do not depend on which other objectives are tuned alongside it
    alone = tuning.draw_trials(["s2dtw"], 12, seed=7, base=BASE)
    pd.testing.assert_frame_equal(alone, a[a.loss == "S2DTW"].reset_index(drop=True))
    with pytest.raises(ValueError, match="n_trials"):
        tuning.draw_trials(["s2dtw"], 0, seed=7, base=BASE)


def test_trial_cells_override_exactly_the_objectives_knobs():
    trials = tuning.draw_trials(["mil_nce", "soft_dtw"], 2, seed=0, base=BASE)
    cells = tuning.trial_cells(trials)
    assert cells[0] == (
        {"loss": "MIL-NCE", "round": 0, "trial": 0, "temperature": 1.0, "normalize": False},
        {"loss.name": "mil_nce", "loss.temperature": 1.0, "loss.normalize": False},
    )
    labels, overrides = cells[3]
    assert set(overrides) == {"loss.name", "loss.temperature", "loss.normalize", "loss.gamma"}
    assert overrides["loss.gamma"] == labels["gamma"] == trials.loc[3, "gamma"]


def _row(loss, **values):
    return pd.Series(
        {"loss": loss, "round": 0, "trial": 0, "extension": "", **{k: np.nan for k in tuning.KEYS}, **values}
    )


def test_edge_detection_on_the_log_scale_by_hand():
    # temperature range 0.03..3: log10 spans 2 decades; the outer 10 % are 0.2 decades -> below 0.03 * 10**0.2
    lo_edge, hi_edge = 0.03 * 10**0.2, 3.0 / 10**0.2  # 0.0475, 1.89
    assert tuning.edge_knobs(_row("MIL-NCE", temperature=1.0, normalize=True)) == []
    assert tuning.edge_knobs(_row("MIL-NCE", temperature=hi_edge * 1.01, normalize=True)) == [("temperature", "high")]
    assert tuning.edge_knobs(_row("MIL-NCE", temperature=hi_edge * 0.99, normalize=True)) == []
    assert tuning.edge_knobs(_row("MIL-NCE", temperature=lo_edge * 0.99, normalize=True)) == [("temperature", "low")]
    both = _row("S2DTW", temperature=1.0, normalize=True, gamma=0.011, smooth_gamma=0.1, tau=1.95)
    assert tuning.edge_knobs(both) == [("gamma", "low"), ("tau", "high")]


def test_extension_redraws_only_the_edge_knob_in_the_widened_part():
    row = _row("S2DTW", temperature=2.9, normalize=False, gamma=0.1, smooth_gamma=0.1, tau=0.5)
    more = tuning.extension_trials(row, 5, seed=0, first_trial=12)
    assert list(more.trial) == [12, 13, 14, 15, 16] and set(more["round"]) == {1}
    assert more.temperature.between(3.0, 30.0).all()  # the part the range gained
    assert (more[["gamma", "smooth_gamma", "tau"]] == [0.1, 0.1, 0.5]).all().all() and not more.normalize.any()
    assert set(more.extension) == {"temperature 0.03-3 -> 0.03-30"}
    assert tuning.extension_trials(row.copy().replace({2.9: 1.0}), 5, seed=0).empty  # not at an edge: nothing


def _fake_runs(score):
    """A stand-in for ablation._runs: one row per (world, cell, seed) with metrics = score(labels)."""

    def runs(setup, cells, seeds, root, tasks, split, eval_changes, workers, grid=None):
        assert split == "val"
        rows = []
        for w in setup:
            for labels, _ in cells[w] if isinstance(cells, dict) else cells:
                for s in seeds:
                    v = score(labels)
                    rows.append(
                        {"world": w, **labels, "seed": s, "run": "r", **{m: v for m in ablation.ABLATION_METRICS}}
                    )
        return pd.DataFrame(rows)

    return runs


def test_tuning_table_chooses_the_best_and_extends_a_choice_at_the_edge(monkeypatch):
    setup = {"default": types.SimpleNamespace(config=types.SimpleNamespace(loss=types.SimpleNamespace(**BASE)))}
    # val score rises with temperature for MIL-NCE (the best trial sits at the high edge), falls for S2DTW
    monkeypatch.setattr(
        ablation,
        "_runs",
        _fake_runs(lambda lab: math.log(lab["temperature"]) * (1 if lab["loss"] == "MIL-NCE" else -1)),
    )
    table = ablation.tuning_table(setup, ["mil_nce", "s2dtw"], 12, 3, 0, [1, 2], root=None, tasks=[])
    rounds = table.groupby(["loss", "round"]).size().to_dict()
    assert rounds[("MIL-NCE", 0)] == rounds[("S2DTW", 0)] == 12
    chosen = table[table.chosen].set_index("loss")
    assert len(chosen) == 2 and set(table.n_seeds) == {2}
    mil = table[table.loss == "MIL-NCE"]
    assert chosen.loc["MIL-NCE", "temperature"] == mil.temperature.max()  # the best over both rounds
    s2 = table[table.loss == "S2DTW"]
    assert chosen.loc["S2DTW", "temperature"] == s2.temperature.min()
    # seed 0 draws MIL-NCE up to 2.59 (> 3 / 10**0.2: high edge) and S2DTW down to 0.0396 (< 0.03 * 10**0.2: low)
    assert rounds[("MIL-NCE", 1)] == rounds[("S2DTW", 1)] == 3 and set(chosen["round"]) == {1}
    assert mil[mil["round"] == 1].temperature.between(3.0, 30.0).all()
    assert s2[s2["round"] == 1].temperature.between(0.003, 0.03).all()
    assert set(mil.loc[mil["round"] == 1, "extension"]) == {"temperature 0.03-3 -> 0.03-30"}
    cells = tuning.chosen_cells(table)
    assert [c[0]["loss"] for c in cells["default"]] == ["MIL-NCE", "S2DTW"]
    assert cells["default"][0][1]["loss.temperature"] == chosen.loc["MIL-NCE", "temperature"]


def test_tuning_table_without_an_edge_choice_has_one_round_and_defaults_win_ties(monkeypatch):
    setup = {"default": types.SimpleNamespace(config=types.SimpleNamespace(loss=types.SimpleNamespace(**BASE)))}
    monkeypatch.setattr(ablation, "_runs", _fake_runs(lambda lab: -abs(math.log(lab["temperature"]))))
    table = ablation.tuning_table(setup, ["mil_nce"], 6, 3, 0, [1], root=None, tasks=[])
    assert list(table["round"]) == [0] * 6 and table.chosen.sum() == 1
    assert table[table.chosen].trial.item() == 0  # temperature 1.0, its own default, scores best (0)
    monkeypatch.setattr(ablation, "_runs", _fake_runs(lambda lab: 1.0))
    tied = ablation.tuning_table(setup, ["mil_nce"], 6, 3, 0, [1], root=None, tasks=[])
    assert tied[tied.chosen].trial.item() == 0


def test_profiles_give_claim_cells_five_seeds_and_keep_smoke_tiny():
    from vttwins.companion import pipeline

    default = pipeline.profile_notebook_params("default")["02_ablation_dtw_variants"]
    smoke = pipeline.profile_notebook_params("smoke")["02_ablation_dtw_variants"]
    assert default["seeds"] >= 5 and default["curve_seeds"] >= 5 and default["tune_trials"] >= 12
    assert pipeline.notebook_defaults("02_ablation_dtw_variants") == default  # the stored cell is the default
    assert smoke["seeds"] <= 2 and smoke["curve_seeds"] <= 2 and smoke["tune_trials"] <= 2
    for profile in ("smoke", "default", "paper"):  # every curve objective is tuned (select_cells needs its cell)
        p = pipeline.profile_notebook_params(profile)["02_ablation_dtw_variants"]
        assert set(p["curve_losses"]) <= set(p["losses"]) and 1 in p["curve_factors"], profile
