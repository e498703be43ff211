"""Notebooks 03-06 train at 02's tuned settings over several seeds: the settings read back, the mean over seeds."""

import logging

import pandas as pd
import pytest

from vttwins.companion.config import load_config
from vttwins.companion.experiments import downstream


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
        return pd.DataFrame(
            [
                dict(
                    task="retrieval",
                    protocol="youcook2",
                    variant="t2v",
                    metric="R@10",
                    split="test",
                    value=value,
                    chance=3.0,
                )
            ]
        )

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
