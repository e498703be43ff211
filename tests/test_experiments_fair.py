"""experiments.fair / truth / knob_cells: splits partition, hand-counted truth scores, one knob moves at a time."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vttwins.companion.config import load_config
from vttwins.companion.experiments import fair, grids, truth

REPO = Path(__file__).resolve().parent.parent
SMOKE_DATA = REPO / "data" / "synth" / "smoke"


def test_halves_partition_ids_deterministically():
    ids = [f"v{i}" for i in (5, 1, 3, 2, 4, 1)]
    val, test = fair._half(ids, "val"), fair._half(list(reversed(ids)), "test")
    assert val | test == set(ids) and not val & test and val == {"v1", "v3", "v5"}
    with pytest.raises(ValueError, match="split"):
        fair._half(ids, "train")


def test_write_split_partitions_youcook2_and_crosstask_by_video(tmp_path):
    from vttwins.data import read_crosstask
    from vttwins.companion.synth import PROFILES, ensure_synth, synth_paths

    paths = synth_paths(SMOKE_DATA)
    if not paths.youcook2_csv.is_file():  # a fresh clone: generate the smoke set here instead of skipping
        paths = ensure_synth(tmp_path / "smoke", PROFILES["smoke"])
    parts = {s: fair.write_split(paths, s, tmp_path / s) for s in fair.SPLITS}
    yc2 = {s: pd.read_csv(p["youcook2_csv"], dtype={"video_id": str}) for s, p in parts.items()}
    full = pd.read_csv(paths.youcook2_csv, dtype={"video_id": str})
    assert len(yc2["val"]) + len(yc2["test"]) == len(full)
    assert not set(yc2["val"].video_id) & set(yc2["test"].video_id)
    ct = {s: set(read_crosstask(p["crosstask_root"]).videos.query("split == 'val'").video_id) for s, p in parts.items()}
    assert ct["val"] and ct["test"] and not ct["val"] & ct["test"]
    assert ct["val"] | ct["test"] == set(read_crosstask(paths.crosstask_root).videos.video_id)


def test_truth_counts_match_a_hand_count():
    truth_m = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 0]], dtype=bool)  # clip 2 and caption 2 are true skips
    counts = truth.path_counts(truth_m, pairs=[(0, 0), (1, 2)], unmatched_x=[2], unmatched_y=[1])
    r = truth.rates(pd.DataFrame([counts]))
    assert r["pair_precision"] == 50.0 and r["pair_recall"] == 50.0  # (0,0) right, (1,2) wrong; (1,1) missed
    assert r["skip_clip_precision"] == 100.0 and r["skip_clip_recall"] == 100.0
    assert r["skip_caption_precision"] == 0.0 and r["skip_caption_recall"] == 0.0  # skipped 1, truth is 2


def test_knob_cells_move_one_noise_knob_only():
    base = load_config("smoke")
    cells = grids.knob_cells(base, "filler_rate", [0.2, 0.4], ["s2dtw", "mil_nce"])
    assert [c[0]["level"] for c in cells] == [0.2, 0.2, 0.4, 0.4]
    same, moved = cells[0][1], cells[2][1]
    assert "data.root" not in same  # the base value reuses the base world
    from vttwins.companion.training.builders import synth_config
    import dataclasses

    before = dataclasses.asdict(synth_config(base).noise)
    after = moved["data.synth"]["noise"]
    assert {k for k in before if before[k] != after[k]} == {"filler_rate"}
    with pytest.raises(ValueError, match="unknown noise knob"):
        grids.knob_cells(base, "loudness", [1.0], ["s2dtw"])


def test_transfer_cells_gives_untuned_worlds_the_source_worlds_settings():
    cells = {"default": [({"loss": "S2DTW", "temperature": 0.1}, {"loss.temperature": 0.1})]}
    out = fair.transfer_cells(cells, ["default", "seed4242"], "default")
    assert out == {"default": cells["default"], "seed4242": cells["default"]}
    both = {**cells, "seed4242": [({"loss": "S2DTW", "temperature": 1.0}, {"loss.temperature": 1.0})]}
    assert fair.transfer_cells(both, ["default", "seed4242"], "default")["seed4242"] == both["seed4242"]
    with pytest.raises(ValueError, match="tune_worlds: 'seed4242' was not tuned"):
        fair.transfer_cells(cells, ["default", "seed4242"], "seed4242")


def test_knob_effects_are_differences_from_the_worlds_level_by_hand():
    knob_table = pd.DataFrame(
        {
            "loss": ["S2DTW"] * 3,
            "knob": ["offset_std"] * 3,
            "level": [4.0, 8.0, 0.0],
            "n_seeds": [2, 2, 2],
            "a@1_mean": [20.0, 14.0, 21.0],
            "a@1_std": [3.0, 4.0, 0.5],
        }
    )  # names as the real ones
    eff = grids.knob_effects(knob_table, {"offset_std": 4.0}, ["a@1"])
    assert list(eff["to"]) == [8.0, 0.0] and set(eff["from"]) == {4.0}
    assert eff["delta_a@1_mean"].tolist() == [-6.0, 1.0]
    assert eff["delta_a@1_std"].tolist() == pytest.approx([5.0, (9 + 0.25) ** 0.5])
    assert eff["delta_a@1_unresolved"].tolist() == [False, True]  # |-6| >= 5: resolved; |1| < 3.04: not
    one_seed = grids.knob_effects(knob_table.assign(**{"a@1_std": np.nan}), {"offset_std": 4.0}, ["a@1"])
    assert one_seed["delta_a@1_unresolved"].all()  # no spread, nothing resolved
    with pytest.raises(ValueError, match="no row at the world's level 2"):
        grids.knob_effects(knob_table, {"offset_std": 2.0}, ["a@1"])


def test_ablation_tables_get_one_chance_row_per_world():
    from vttwins.companion.experiments import ablation, truth

    summary = pd.DataFrame(
        {
            "world": ["w1", "w2"],
            "loss": ["S2DTW", "S2DTW"],
            "temperature": [0.1, 1.0],
            "n_seeds": [3, 3],
            "yc2_t2v_R@10_mean": [20.0, 30.0],
            "yc2_t2v_R@10_std": [1.0, 2.0],
            "pair_precision_mean": [40.0, 50.0],
            "pair_precision_std": [1.0, 1.0],
            "yc2_t2v_R@10_unresolved": [False, True],
        }
    )
    runs = pd.DataFrame({"world": ["w1", "w1", "w2"], "yc2_t2v_R@10_chance": [7.0, 8.0, 5.0]})
    reference = pd.DataFrame(
        {
            "world": ["w1", "w1", "w2"],
            "loss": ["chance", "untrained", "chance"],
            **{c: [18.0, 51.0, 15.0] for c in truth.COLUMNS},
        }
    )
    out = ablation.with_chance_rows(summary, runs, reference)
    assert list(out.columns) == list(summary.columns) and len(out) == 4
    chance = out[out["loss"] == "chance"].set_index("world")
    assert chance.loc["w1", "yc2_t2v_R@10_mean"] == 7.5 and chance.loc["w2", "yc2_t2v_R@10_mean"] == 5.0
    assert chance.loc["w1", "pair_precision_mean"] == 18.0 and chance.loc["w2", "pair_precision_mean"] == 15.0
    assert (chance["n_seeds"] == 0).all() and chance["yc2_t2v_R@10_std"].isna().all()
    assert not chance["yc2_t2v_R@10_unresolved"].any() and chance["temperature"].isna().all()
