"""Notebooks 03-06 train at 02's tuned settings over several seeds: the settings read back, the mean over seeds."""

import logging

import pandas as pd
import pytest

from vttwins.companion.config import load_config
from vttwins.companion.experiments import downstream

R10_ROW = dict(task="retrieval", protocol="youcook2", variant="t2v", metric="R@10", split="test")


def _tuning(tmp_path):
    rows = [
        dict(
            world="default",
            loss="S2DTW",
            round=0,
            trial=0,
            extension="",
            temperature=1.0,
            normalize=True,
            gamma=0.1,
            smooth_gamma=0.1,
            tau=0.5,
            chosen=False,
        ),
        dict(
            world="default",
            loss="S2DTW",
            round=1,
            trial=12,
            extension="tau x10",
            temperature=1.75,
            normalize=True,
            gamma=0.0012,
            smooth_gamma=0.004,
            tau=3.23,
            chosen=True,
        ),
        dict(
            world="default",
            loss="MIL-NCE",
            round=0,
            trial=8,
            extension="",
            temperature=0.284,
            normalize=False,
            gamma=None,
            smooth_gamma=None,
            tau=None,
            chosen=True,
        ),
        dict(
            world="seed4242",
            loss="MIL-NCE",
            round=0,
            trial=3,
            extension="",
            temperature=9.0,
            normalize=True,
            gamma=None,
            smooth_gamma=None,
            tau=None,
            chosen=True,
        ),
    ]
    pd.DataFrame(rows).to_csv(tmp_path / "ablation_tuning.csv", index=False)
    return tmp_path


def test_tuned_settings_are_the_chosen_rows_of_the_first_world(tmp_path, caplog):
    got = downstream.tuned_settings(_tuning(tmp_path))
    assert got["s2dtw"] == {
        "loss.name": "s2dtw",
        "loss.temperature": 1.75,
        "loss.normalize": True,
        "loss.gamma": 0.0012,
        "loss.smooth_gamma": 0.004,
        "loss.tau": 3.23,
    }
    assert got["mil_nce"] == {"loss.name": "mil_nce", "loss.temperature": 0.284, "loss.normalize": False}
    assert downstream.tuned_settings(tmp_path, "seed4242")["mil_nce"]["loss.temperature"] == 9.0
    with caplog.at_level(logging.WARNING):
        assert downstream.tuned_settings(tmp_path / "nowhere") == {}
    assert "run notebook 02 first" in caplog.text


def test_scores_are_the_mean_over_seeds_of_runs_at_the_tuned_settings(tmp_path, monkeypatch):
    trained = []

    def ensure_run(config, root, name):
        trained.append((name, config.loss.name, config.loss.temperature, config.train.seed))
        return f"{name}"

    def evaluate(run, tasks, changes, untrained=False):
        seed = int(run.rsplit("-s", 1)[1])
        value = 0.0 if untrained else 10.0 * seed + (5.0 if "mil_nce" in run else 0.0)
        return pd.DataFrame([dict(R10_ROW, value=value, chance=3.0)])

    monkeypatch.setattr(downstream, "ensure_run", ensure_run)
    monkeypatch.setattr(downstream, "evaluate", evaluate)
    cfg = load_config("smoke")
    settings = downstream.tuned_settings(_tuning(tmp_path))
    long = downstream.model_scores(
        cfg, tmp_path, ["untrained", "mil_nce", "s2dtw"], "youcook2", seeds=[1, 2, 3], settings=settings
    )
    by = long.set_index("model")
    assert by.loc["S2DTW", "value"] == pytest.approx(20.0) and by.loc["MIL-NCE", "value"] == pytest.approx(25.0)
    assert by.loc["untrained", "value"] == 0.0 and by.loc["chance", "value"] == 3.0
    assert by.loc["S2DTW", "n_seeds"] == 3 and len(long) == 4
    assert ("mil_nce-tuned-s2", "mil_nce", 0.284, 2) in trained and ("s2dtw-tuned-s3", "s2dtw", 1.75, 3) in trained


def test_a_variant_registered_after_import_is_a_pretrained_run(tmp_path, monkeypatch):
    """grids.SHORT / LOSS_VARIANTS read the objective registry when called, not once at import."""
    from vttwins import objectives
    from vttwins.companion.experiments import grids

    trained = []
    monkeypatch.setattr(
        downstream, "ensure_run", lambda config, root, name: trained.append((name, config.loss.name)) or name
    )
    cfg = load_config("smoke")
    with pytest.raises(ValueError, match="unknown"):
        downstream.pretrained_run(cfg, tmp_path, "toy_late")
    objectives.register(
        objectives.Objective(
            "toy_late", "toy late", "#000000", objectives.build_sequence, alignment={"smooth": False, "weak": True}
        )
    )
    try:
        assert grids.SHORT["toy_late"] == "toy late" and grids.LOSS_VARIANTS["toy late"] == {"loss.name": "toy_late"}
        assert list(grids.SHORT)[-1] == "toy_late" and len(grids.SHORT) == len(objectives.names())
        assert downstream.pretrained_run(cfg, tmp_path, "toy_late") == "toy_late"
        assert trained == [("toy_late", "toy_late")]
    finally:
        objectives.unregister("toy_late")
    assert "toy_late" not in grids.SHORT


def _by_seed(values_a, values_b, seeds_a=None, seeds_b=None):
    """model_scores_by_seed-shaped rows: two metrics of one task, the second with no variant (NaN)."""
    rows = []
    for model, values, seeds in (("S2DTW", values_a, seeds_a), ("MIL-NCE", values_b, seeds_b)):
        for seed, v in zip(seeds or range(1, len(values) + 1), values):
            rows.append(dict(R10_ROW, value=v, chance=3.8, n=266, model=model, seed=seed))
            medr = dict(metric="MedR", variant=float("nan"), value=100.0 - v, chance=133.5)
            rows.append(dict(R10_ROW, n=266, model=model, seed=seed, **medr))
    chance = pd.DataFrame(rows[:2]).assign(model="chance", value=lambda d: d["chance"]).drop(columns="seed")
    return pd.concat([pd.DataFrame(rows), chance], ignore_index=True)


def test_model_effects_pair_by_seed_and_keep_rows_without_a_variant():
    # a - b = +2 on every shared seed: the interval is [2, 2] (no variation) and p = 0, by hand
    long = _by_seed([12.0, 15.0, 11.0], [10.0, 13.0, 9.0])
    eff = downstream.model_effects(long.sample(frac=1.0, random_state=0))  # row order must not matter
    assert list(eff.columns) == list(downstream.EFFECTS_COLUMNS)
    r10 = eff[eff["metric"] == "R@10"].iloc[0]
    assert (r10["a"], r10["b"], r10["variant"], r10["n_seeds"]) == ("S2DTW", "MIL-NCE", "t2v", 3)
    assert (r10["diff"], r10["low"], r10["high"], r10["p"]) == (2.0, 2.0, 2.0, 0.0)
    assert r10["effect"] == "+2.0 [+2.0, +2.0]" and not r10["unresolved"]
    medr = eff[eff["metric"] == "MedR"].iloc[0]  # the NaN variant is a key like any other, not dropped
    assert medr["variant"] == "" and medr["diff"] == -2.0
    # seeds paired by number: b's extra seed 4 is left out; differences 5, -1, 2 -> mean 2, an interval around it
    long = _by_seed([15.0, 9.0, 12.0], [10.0, 10.0, 10.0, 50.0], seeds_b=[1, 2, 3, 4])
    r10 = downstream.model_effects(long).query("metric == 'R@10'").iloc[0]
    assert r10["n_seeds"] == 3 and r10["diff"] == pytest.approx(2.0)
    assert r10["low"] < 2.0 < r10["high"] and r10["unresolved"] and 0.0 < r10["p"] <= 1.0
    one = downstream.model_effects(_by_seed([12.0], [10.0])).iloc[0]  # one seed: a difference, no interval
    assert one["diff"] == 2.0 and pd.isna(one["low"]) and pd.isna(one["p"]) and one["unresolved"]
    assert one["effect"] == "+2.0 (no interval: 1 seed)"


def test_model_effects_name_what_is_wrong():
    long = _by_seed([12.0, 15.0], [10.0, 13.0])
    with pytest.raises(ValueError, match="b='clip InfoNCE' is not a model"):
        downstream.model_effects(long, "S2DTW", "clip InfoNCE")
    with pytest.raises(ValueError, match="same model"):
        downstream.model_effects(long, "S2DTW", "S2DTW")
    with pytest.raises(ValueError, match="one row per seed"):
        downstream.model_effects(long.drop(columns="seed"))
    means = downstream.mean_over_seeds(long)  # the notebooks' table input: one row per model and number
    r10 = means[(means["model"] == "S2DTW") & (means["metric"] == "R@10")].iloc[0]
    assert r10["value"] == 13.5 and r10["n_seeds"] == 2


def _items(scores_a, scores_b, seeds=(1, 2, 3)):
    """model_items_by_seed-shaped rows of R@10 (t2v): the same per-item scores at every seed."""
    rows = []
    for model, scores in (("S2DTW", scores_a), ("MIL-NCE", scores_b)):
        for seed in seeds:
            for i, score in enumerate(scores):
                rows.append(dict(R10_ROW, item=f"q{i}", score=score, weight=1.0, model=model, seed=seed))
    return pd.DataFrame(rows)


def test_model_effects_resample_test_items_when_given():
    # every seed: S2DTW finds query 0 that MIL-NCE misses, the 3 other queries alike -> R@10 75 vs 50 at each seed
    a, b = [100.0, 100.0, 0.0, 100.0], [0.0, 100.0, 0.0, 100.0]
    long = _by_seed([75.0] * 3, [50.0] * 3)
    seeds_only = downstream.model_effects(long).query("metric == 'R@10'").iloc[0]
    assert (seeds_only["low"], seeds_only["high"], seeds_only["resampled"]) == (25.0, 25.0, "seeds")
    eff = downstream.model_effects(long, items=_items(a, b))
    r10 = eff.query("metric == 'R@10'").iloc[0]
    # the seeds agree exactly, but the +25 rests on one query of four: resampling the queries widens the interval
    assert r10["diff"] == 25.0 and r10["resampled"] == "seeds+items" and r10["n_items"] == 4
    assert r10["low"] < 25.0 < r10["high"] and r10["unresolved"]
    medr = eff.query("metric == 'MedR'").iloc[0]  # no per-item scores for MedR: seeds only
    assert medr["resampled"] == "seeds" and medr["n_items"] == 0
    # a run without per-item scores (seed 3 of MIL-NCE) -> that number falls back to seeds only, never half-paired
    partial = _items(a, b)
    partial = partial[~((partial["model"] == "MIL-NCE") & (partial["seed"] == 3))]
    assert downstream.model_effects(long, items=partial).query("metric == 'R@10'").iloc[0]["resampled"] == "seeds"
    with pytest.raises(ValueError, match=r"items has no column\(s\) \['weight'\]"):
        downstream.model_effects(long, items=_items(a, b).drop(columns="weight"))


def test_model_items_by_seed_label_each_run_and_skip_runs_without_items(tmp_path, monkeypatch):
    calls = []

    def evaluate_items(run, tasks, changes, untrained=False):
        calls.append((run, tuple(tasks), untrained))
        if run == "mil_nce-s2":  # an evaluation cached before per-item scores existed
            return None
        return pd.DataFrame([dict(R10_ROW, item="q0", score=100.0, weight=1.0, hits=1, total=1)])

    monkeypatch.setattr(downstream, "ensure_run", lambda config, root, name: name)
    monkeypatch.setattr(downstream, "evaluate_items", evaluate_items)
    items = downstream.model_items_by_seed(
        load_config("smoke"), tmp_path, ["untrained", "mil_nce"], "youcook2", seeds=[1, 2]
    )
    assert sorted(zip(items["model"], items["seed"])) == [("MIL-NCE", 1), ("untrained", 1), ("untrained", 2)]
    assert ("s2dtw-s1", ("youcook2",), True) in calls and ("mil_nce-s2", ("youcook2",), False) in calls
    none = downstream.model_items_by_seed(load_config("smoke"), tmp_path, ["mil_nce"], "youcook2", seeds=[2])
    assert none.empty and {"item", "score", "weight", "model", "seed"} <= set(none.columns)
