"""`data check`: a good set passes; each kind of defect is one row naming its file, and the command exits 1."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from test_data_common import TINY
from vttwins.config import config_from_dict
from vttwins.data.check import check_pretraining, format_rows
from vttwins.data.synth import generate
from vttwins.evaluation import EvalConfig
from vttwins.evaluation.check import check_config, check_downstream, cli_main, preflight
from vttwins.models import Tokenizer

SMALL = TINY.replace(howto_videos=3, youcook2_videos=2, msrvtt_videos=2, crosstask_videos=2,
                     action_clips_per_class=2, render_videos=False)


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("good"), SMALL, workers=1)


@pytest.fixture()
def bad(good, tmp_path):
    root = tmp_path / "bad"
    shutil.copytree(good.root, root)
    from vttwins.data.synth import synth_paths
    return synth_paths(root)


def _real_config(p, **eval_paths):
    """A real-data config naming the files of a SynthHowTo folder `p` (as a user's own set would be named)."""
    paths = {k: str(v) for k, v in vars(p).items() if k.split("_")[0] in ("youcook2", "msrvtt", "crosstask",
                                                                           "action")}
    paths = {k: v for k, v in paths.items() if k not in ("youcook2_json", "action_splits")}
    return config_from_dict({"data": {"video_list_csv": str(p.howto_csv), "caption_root": str(p.howto_captions),
                                      "feature_root": str(p.howto_features)},
                             "train": {"steps": 1}, "eval": {"paths": {**paths, **eval_paths}}})


def _status(rows, set_, item):
    return [r["status"] for r in rows if r["set"] == set_ and r["item"].startswith(item)]


def test_a_good_set_has_no_problem(good, capsys):
    rows = check_config(_real_config(good))
    assert {r["status"] for r in rows} <= {"ok", "warning"}, format_rows(rows)
    assert [r["width"] for r in rows if r["item"].startswith("features")] == [1024]
    assert {r["set"] for r in rows} == {"pretraining", "youcook2", "msrvtt", "crosstask", "action"}
    preflight({k: v for k, v in vars(good).items()}, ["youcook2", "msrvtt", "crosstask", "action"], "feature",
              EvalConfig())  # does not raise


def test_each_pretraining_defect_is_named(bad):
    ok = check_pretraining(bad.howto_csv, bad.howto_captions, bad.howto_features, sample=5)
    assert [r["status"] for r in ok] == ["ok", "ok", "ok"]
    assert check_pretraining(bad.root / "nope.csv", bad.howto_captions, bad.howto_features)[0]["status"] == "missing"
    (bad.root / "wrong.csv").write_text("id\nx\n")
    malformed = check_pretraining(bad.root / "wrong.csv", bad.howto_captions, bad.howto_features)
    assert malformed[0]["status"] == "error" and "video_path" in malformed[0]["detail"]
    assert check_pretraining(bad.howto_csv, bad.howto_captions, None)[2]["status"] == "missing"
    feats = sorted(bad.howto_features.glob("*.npy"))
    np.save(feats[0], np.zeros((5, 512), np.float32))              # another width
    np.save(feats[1], np.full((5, 1024), np.nan, np.float32))      # NaN
    r = check_pretraining(bad.howto_csv, bad.howto_captions, bad.howto_features)[2]
    assert r["status"] == "error" and "widths differ" in r["detail"] and "NaN" in r["detail"]
    caps = sorted(bad.howto_captions.glob("*.json"))
    for c in caps:
        c.write_text("{not json")
    r = check_pretraining(bad.howto_csv, bad.howto_captions, bad.howto_features)[1]
    assert r["status"] == "error" and caps[0].name in r["detail"]


def test_each_downstream_defect_is_named(bad):
    data = {k: v for k, v in vars(bad).items()}
    tok = Tokenizer(["w"])
    data["msrvtt_features"] = bad.root / "gone"                                  # a missing folder
    (bad.root / "yc.csv").write_text("this,is\nnot,youcook2\n")                  # malformed annotations
    data["youcook2_csv"] = bad.root / "yc.csv"
    from vttwins.evaluation import TASKS
    cfg = EvalConfig(crosstask_split=None)  # every annotated video (a 2-video set may have none in "val")
    vid = TASKS["crosstask"].items(data, cfg)[0]["video_id"].iloc[0]
    first = next(bad.crosstask_features.glob(f"{vid}*.npy"))
    first.unlink()                                                               # one missing feature file
    rows = check_downstream(data, ["youcook2", "msrvtt", "crosstask", "action"], "feature", cfg, tokenizer=tok)
    assert _status(rows, "msrvtt", "inputs") == ["missing"] and "gone" in rows[1]["detail"]
    assert _status(rows, "youcook2", "annotations") == ["error"]
    ct = [r for r in rows if r["set"] == "crosstask" and r["item"] == "crosstask_features"][0]
    assert ct["status"] in ("warning", "error") and first.stem.split(".")[0] in ct["detail"]
    assert _status(rows, "action", "vocabulary") == ["error"]                   # no word of it is known
    with pytest.raises(ValueError, match="msrvtt_features"):
        preflight(data, ["msrvtt"], "feature", EvalConfig())
    with pytest.raises(ValueError, match="crosstask_features"):
        preflight(data, ["crosstask"], "feature", cfg, sample=50)
    preflight(data, ["crosstask"], "feature", EvalConfig(crosstask_split=None, on_error="skip"), sample=50)  # skip tolerates a bad file


def test_cli_exit_status(good, bad, tmp_path, capsys, monkeypatch):
    import yaml
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({"data": {"video_list_csv": str(good.howto_csv),
                                            "caption_root": str(good.howto_captions),
                                            "feature_root": str(good.howto_features)}, "train": {"steps": 1},
                                   "eval": {"paths": {"youcook2_csv": str(good.youcook2_csv),
                                                      "youcook2_features": str(good.youcook2_features)},
                                            "tasks": ["youcook2"]}}))
    assert cli_main(["--config", str(cfg)]) == 0
    assert "all inputs found" in capsys.readouterr().out
    assert cli_main(["--config", str(cfg), f"data.feature_root={tmp_path / 'nope'}"]) == 1
    assert "nope" in capsys.readouterr().out
