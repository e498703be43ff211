"""vttwins.companion.experiments bookkeeping without training: run keys, grid cells, dedup, long -> wide -> mean ± std."""

import numpy as np
import pandas as pd
import pytest

from vttwins.companion import experiments as ex
from vttwins.companion.config import load_config


def _records():
    rows = []
    for loss, base in (("MIL-NCE", 10.0), ("S2DTW", 20.0)):
        for seed in (1, 2, 3):
            for metric, split, value in (("R@10", "val", base + seed), ("MedR", "val", 100 - seed)):
                rows.append(
                    {
                        "task": "retrieval",
                        "protocol": "youcook2",
                        "variant": "t2v",
                        "metric": metric,
                        "split": split,
                        "value": value,
                        "chance": 4.0,
                        "n": 266,
                        "loss": loss,
                        "seed": seed,
                        "run": f"{loss}-{seed}",
                    }
                )
    return pd.DataFrame(rows)


METRICS = {
    "r10": ("retrieval", "youcook2", "t2v", "R@10", "val"),
    "medr": ("retrieval", "youcook2", "t2v", "MedR", "val"),
}


def test_wide_summarize_and_mean_std():
    runs = ex.wide(_records(), METRICS)
    assert len(runs) == 6 and {"r10", "r10_chance", "medr"} <= set(runs.columns)
    summary = ex.summarize(runs, ["loss"], ["r10", "medr"])
    s2 = summary.set_index("loss").loc["S2DTW"]
    assert s2["n_seeds"] == 3 and s2["r10_mean"] == pytest.approx(22.0) and s2["r10_std"] == pytest.approx(1.0)
    assert ex.chance_levels(runs, ["r10"]) == {"r10": 4.0}
    shown = ex.mean_std_table(summary, ["loss"], ["r10"])
    assert list(shown["r10"]) == ["12.0 ± 1.0", "22.0 ± 1.0"]
    with pytest.raises(ValueError, match="R@5"):
        ex.wide(_records(), {"r5": ("retrieval", "youcook2", "t2v", "R@5", "val")})


def test_select_by_present_and_absent_labels():
    runs = pd.DataFrame({"loss": ["a", "b", None], "gamma": [np.nan, np.nan, 0.1], "offset_std": [np.nan, 4.0, np.nan]})
    assert list(ex.select(runs, present=["loss"], absent=["offset_std"])["loss"]) == ["a"]
    assert len(ex.select(runs, present=["gamma"])) == 1 and ex.select(runs, present=["tau"]).empty


def test_run_key_ignores_where_a_run_logs_but_not_what_it_trains():
    base = load_config("smoke")
    moved = ex.runs.replace(base, {"train.output_dir": "elsewhere", "train.log_every": 7})
    assert ex.run_key(base) == ex.run_key(moved)
    assert ex.run_key(base) != ex.run_key(ex.runs.replace(base, {"loss.gamma": 0.5}))


def test_grid_cells_and_identical_jobs_run_once(tmp_path):
    base = load_config("smoke")
    cells = ex.loss_cells(["s2dtw", "mil_nce"]) + ex.sweep_cells("loss.gamma", [0.1, 1.0], "gamma")
    jobs = ex.grid_jobs(base, cells, [1, 2], tmp_path)
    assert len(jobs) == 8 and len({j.name for j in jobs}) == 8
    assert len(ex.grids._distinct(jobs)) == 6  # gamma = 0.1 is the S2DTW cell
    with pytest.raises(ValueError, match="nosuchloss"):
        ex.loss_cells(["nosuchloss"])


def test_noise_cells_regenerate_features_only_and_reuse_the_base_level():
    base = load_config("smoke")
    cells = ex.noise_cells(base, [[4.0, 0.2], [8.0, 0.4]], ["s2dtw"])
    (same_labels, same), (noisy_labels, noisy) = cells
    assert "data.root" not in same and same_labels["offset_std"] == 4.0
    assert noisy["data.synth"]["render_videos"] is False and noisy["data.synth"]["noise"]["filler_rate"] == 0.4
    assert noisy["data.root"].endswith("-noise-o8-f0.4")


def test_pixel_run_table_refuses_a_feature_run(tmp_path):
    import json

    from vttwins.companion.config import config_to_dict

    (tmp_path / "config.json").write_text(json.dumps(config_to_dict(load_config("smoke"))))
    with pytest.raises(ValueError, match="feature-mode run, not a pixel-mode one"):
        ex.pixel_run_table(tmp_path)
