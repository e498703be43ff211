"""experiments.convergence: one run per length, hand-made orderings that hold or flip with length."""

import types

import pandas as pd
import pytest

from vttwins.companion.experiments import convergence


def test_curve_cells_scale_train_steps_and_keep_the_tuned_overrides():
    cells = [({"loss": "S2DTW", "tau": 0.3}, {"loss.name": "s2dtw", "loss.tau": 0.3})]
    out = convergence.curve_cells(cells, [4, 1, 2], base_steps=150)
    assert [c[0]["steps"] for c in out] == [150, 300, 600] and [c[0]["factor"] for c in out] == [1, 2, 4]
    assert out[2][1] == {"loss.name": "s2dtw", "loss.tau": 0.3, "train.steps": 600}
    assert cells[0][0] == {"loss": "S2DTW", "tau": 0.3}  # the caller's cells are not modified
    with pytest.raises(ValueError, match="base_steps"):
        convergence.curve_cells(cells, [1, 2], base_steps=None)
    with pytest.raises(ValueError, match="factors"):
        convergence.curve_cells(cells, [1, 1.5], base_steps=10)


def _runs(values):
    """values: {(loss, factor): [per-seed metric]} -> a wide runs table (world w, steps = 10 x factor)."""
    rows = [
        {"world": "w", "loss": loss, "factor": f, "steps": 10 * f, "seed": s + 1, "m": v}
        for (loss, f), vs in values.items()
        for s, v in enumerate(vs)
    ]
    return pd.DataFrame(rows)


def test_ordering_that_holds_and_one_that_flips():
    runs = _runs(
        {
            ("A", 1): [10, 11, 12, 13, 14],
            ("A", 4): [20, 21, 22, 23, 24],
            ("B", 1): [5, 6, 7, 8, 9],
            ("B", 4): [25, 26, 27, 28, 29],
            ("C", 1): [0, 1, 2, 3, 4],
            ("C", 4): [0, 1, 2, 3, 4],
        }
    )
    order = convergence.ordering_table(runs, ["m"], n_boot=500).set_index(["loss_a", "loss_b"])
    ab, ac, bc = order.loc[("A", "B")], order.loc[("A", "C")], order.loc[("B", "C")]
    assert (ab.diff_short, ab.diff_long) == (5.0, -5.0) and not ab.agrees  # A beat B at 1x, loses at 4x
    assert (ac.diff_short, ac.diff_long) == (10.0, 20.0) and ac.agrees and ac.resolved_long
    assert bc.agrees and ab.low_long == ab.high_long == -5.0  # a constant paired difference: a point interval
    assert (ab.steps_short, ab.steps_long, ab.n_seeds) == (10, 40, 5)


def test_ordering_uses_only_the_shared_seeds_and_refuses_none():
    runs = _runs({("A", 1): [1, 2, 3], ("A", 2): [1, 2, 3], ("B", 1): [0, 0], ("B", 2): [0, 0]})
    assert convergence.ordering_table(runs, ["m"], n_boot=100).n_seeds.tolist() == [2]
    runs.loc[runs.loss == "B", "seed"] += 10
    with pytest.raises(ValueError, match="share no seed"):
        convergence.ordering_table(runs, ["m"], n_boot=100)


def test_curve_runs_trains_each_length_on_the_world_and_scores_val(monkeypatch):
    seen = {}
    monkeypatch.setattr(convergence, "run_jobs", lambda jobs, *a, **k: seen.setdefault("jobs", jobs) and None)
    monkeypatch.setattr(convergence, "wide", lambda records: "wide")
    from vttwins.companion.config import load_config

    base = load_config("smoke", ["train.steps=3"])
    val = load_config("smoke", ["eval.max_clips=7"])
    world = types.SimpleNamespace(name="w", config=base, val=val)
    cells = [({"loss": "S2DTW"}, {"loss.name": "s2dtw"})]
    assert convergence.curve_runs(world, cells, [1, 4], [1, 2], "root", ["youcook2"]) == "wide"
    jobs = seen["jobs"]
    assert sorted((j.labels["steps"], j.labels["seed"]) for j in jobs) == [(3, 1), (3, 2), (12, 1), (12, 2)]
    assert {j.config["train"]["steps"] for j in jobs} == {3, 12} and {j.labels["world"] for j in jobs} == {"w"}
    assert all(j.eval_config["eval"]["max_clips"] == 7 for j in jobs)


def test_select_cells_by_name_or_label_and_names_a_missing_one():
    cells = [({"loss": "MIL-NCE"}, {"loss.name": "mil_nce"}), ({"loss": "S2DTW"}, {"loss.name": "s2dtw"})]
    assert convergence.select_cells(cells, ["s2dtw", "MIL-NCE"]) == [cells[1], cells[0]]
    with pytest.raises(ValueError, match=r"curve_losses \['clip_nce'\] have no tuned cell"):
        convergence.select_cells(cells, ["s2dtw", "clip_nce"])


def test_a_tie_up_to_rounding_does_not_agree_with_an_ordering():
    # (0.1 - 0.3 + 0.2 - 0.0) / 2 is 1.4e-17 in floating point: equal means, not "A ahead"
    runs = _runs({("A", 1): [0.1, 0.2], ("A", 4): [5.0, 5.0], ("B", 1): [0.3, 0.0], ("B", 4): [1.0, 1.0]})
    row = convergence.ordering_table(runs, ["m"], n_boot=100).iloc[0]
    assert 0 < row.diff_short < 1e-12 and row.diff_long == 4.0 and not row.agrees
    tie = _runs({("A", 1): [1.0, 2.0], ("A", 4): [3.0, 3.0], ("B", 1): [2.0, 1.0], ("B", 4): [3.0, 3.0]})
    assert convergence.ordering_table(tie, ["m"], n_boot=100).iloc[0].agrees  # a tie at both lengths
