"""`data check`: a good set passes; each kind of defect is one row naming its file, and the command exits 1."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from test_data_common import TINY
from vttwins.companion.config import config_from_dict
from vttwins.data.check import check_pretraining, format_rows
from vttwins.data.features import feature_header
from vttwins.companion.synth import generate
from vttwins.companion.evaluation import EvalConfig
from vttwins.companion.evaluation.check import check_config, check_downstream, cli_main, preflight
from vttwins.models import Tokenizer

SMALL = TINY.replace(
    howto_videos=3,
    youcook2_videos=2,
    msrvtt_videos=2,
    crosstask_videos=2,
    action_clips_per_class=2,
    render_videos=False,
)


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("good"), SMALL, workers=1)


@pytest.fixture()
def bad(good, tmp_path):
    root = tmp_path / "bad"
    shutil.copytree(good.root, root)
    from vttwins.companion.synth import synth_paths

    return synth_paths(root)


def _real_config(p, **eval_paths):
    """A real-data config naming the files of a SynthHowTo folder `p` (as a user's own set would be named)."""
    paths = {k: str(v) for k, v in vars(p).items() if k.split("_")[0] in ("youcook2", "msrvtt", "crosstask", "action")}
    paths = {k: v for k, v in paths.items() if k not in ("youcook2_json", "action_splits")}
    return config_from_dict(
        {
            "data": {
                "video_list_csv": str(p.howto_csv),
                "caption_root": str(p.howto_captions),
                "feature_root": str(p.howto_features),
            },
            "train": {"steps": 1},
            "eval": {"paths": {**paths, **eval_paths}},
        }
    )


def _status(rows, set_, item):
    return [r["status"] for r in rows if r["set"] == set_ and r["item"].startswith(item)]


def test_a_good_set_has_no_problem(good, capsys):
    rows = check_config(_real_config(good))
    assert {r["status"] for r in rows} <= {"ok", "warning"}, format_rows(rows)
    assert [r["width"] for r in rows if r["item"].startswith("features")] == [1024]
    assert {r["set"] for r in rows} == {"pretraining", "youcook2", "msrvtt", "crosstask", "action"}
    preflight(
        {k: v for k, v in vars(good).items()}, ["youcook2", "msrvtt", "crosstask", "action"], "feature", EvalConfig()
    )  # does not raise


def test_each_pretraining_defect_is_named(bad):
    ok = check_pretraining(bad.howto_csv, bad.howto_captions, bad.howto_features, sample=5)
    assert [r["status"] for r in ok] == ["ok", "ok", "ok", "ok"], format_rows(ok)
    assert check_pretraining(bad.root / "nope.csv", bad.howto_captions, bad.howto_features)[0]["status"] == "missing"
    (bad.root / "wrong.csv").write_text("id\nx\n")
    malformed = check_pretraining(bad.root / "wrong.csv", bad.howto_captions, bad.howto_features)
    assert malformed[0]["status"] == "error" and "video_path" in malformed[0]["detail"]
    assert check_pretraining(bad.howto_csv, bad.howto_captions, None)[2]["status"] == "missing"
    feats = sorted(bad.howto_features.glob("*.npy"))
    np.save(feats[0], np.zeros((5, 512), np.float32))  # another width
    np.save(feats[1], np.full((5, 1024), np.nan, np.float32))  # NaN
    r = check_pretraining(bad.howto_csv, bad.howto_captions, bad.howto_features)[2]
    assert r["status"] == "error" and f"{feats[0]}: feature width 512, most files have 1024" in r["detail"]
    assert "NaN" in r["detail"] and feats[1].name in r["detail"]
    r = check_pretraining(bad.howto_csv, bad.howto_captions, bad.howto_features, feature_dim=1024)[2]
    assert f"{feats[0]}: feature width 512, expected 1024" in r["detail"]
    caps = sorted(bad.howto_captions.glob("*.json"))
    for c in caps:
        c.write_text("{not json")
    r = check_pretraining(bad.howto_csv, bad.howto_captions, bad.howto_features)[1]
    assert r["status"] == "error" and caps[0].name in r["detail"] and r["count"] == 0


def test_truncated_npy_and_ragged_captions_are_found_in_every_file_without_loading_arrays(bad, monkeypatch):
    """The last of the listed files, with no array loaded at all (sample=0): headers and captions are complete."""
    import vttwins.data.check as check
    from vttwins.data.features import feature_header

    feats = sorted(bad.howto_features.glob("*.npy"))
    data = feats[-1].read_bytes()
    feats[-1].write_bytes(data[: len(data) - 100])  # the header still reads; the data are short
    with pytest.raises(ValueError, match="truncated .npy"):
        feature_header(feats[-1])
    caps = sorted(bad.howto_captions.glob("*.json"))
    doc = json.loads(caps[-1].read_text())
    caps[-1].write_text(json.dumps({**doc, "text": doc["text"][:-1]}))  # start/end/text of unequal length
    monkeypatch.setattr(check, "load_features", lambda *a, **k: pytest.fail("an array was loaded"))
    rows = check_pretraining(bad.howto_csv, bad.howto_captions, bad.howto_features, sample=0)
    cap, feat = rows[1], rows[2]
    assert cap["status"] == "error" and caps[-1].name in cap["detail"] and "lengths differ" in cap["detail"]
    assert feat["status"] == "error" and feats[-1].name in feat["detail"] and "truncated" in feat["detail"]


def test_feature_header_agrees_with_the_array(tmp_path):
    path = tmp_path / "f.npy"
    for arr in (np.zeros((7, 3), np.float32), np.zeros((1, 5), np.float64), np.asfortranarray(np.ones((4, 2)))):
        np.save(path, arr)
        assert feature_header(path) == arr.shape
    for arr, needle in (
        (np.zeros((7, 3), np.int64), "dtype int64"),
        (np.zeros(3, np.float32), "shape"),
        (np.zeros((0, 3), np.float32), "seconds >= 1"),
        (np.array(["a"]), "shape"),
    ):
        np.save(path, arr)
        with pytest.raises(ValueError, match=needle):
            feature_header(path)
    np.save(path, np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="width 3, expected 4"):
        feature_header(path, dim=4)
    path.write_text("not numpy")
    with pytest.raises(ValueError, match="unreadable .npy header"):
        feature_header(path)


def test_each_downstream_defect_is_named(bad):
    data = {k: v for k, v in vars(bad).items()}
    tok = Tokenizer(["w"])
    data["msrvtt_features"] = bad.root / "gone"  # a missing folder
    (bad.root / "yc.csv").write_text("this,is\nnot,youcook2\n")  # malformed annotations
    data["youcook2_csv"] = bad.root / "yc.csv"
    from vttwins.companion.evaluation import TASKS

    cfg = EvalConfig(crosstask_split=None)  # every annotated video (a 2-video set may have none in "val")
    vid = TASKS["crosstask"].items(data, cfg)[0]["video_id"].iloc[0]
    first = next(bad.crosstask_features.glob(f"{vid}*.npy"))
    first.unlink()  # one missing feature file
    rows = check_downstream(data, ["youcook2", "msrvtt", "crosstask", "action"], "feature", cfg, tokenizer=tok)
    assert _status(rows, "msrvtt", "inputs") == ["missing"] and "gone" in rows[1]["detail"]
    assert _status(rows, "youcook2", "annotations") == ["error"]
    ct = [r for r in rows if r["set"] == "crosstask" and r["item"] == "crosstask_features"][0]
    assert ct["status"] in ("warning", "error") and first.stem.split(".")[0] in ct["detail"]
    assert _status(rows, "action", "vocabulary") == ["error"]  # no word of it is known
    with pytest.raises(ValueError, match="msrvtt_features"):
        preflight(data, ["msrvtt"], "feature", EvalConfig())
    with pytest.raises(ValueError, match="crosstask_features"):
        preflight(data, ["crosstask"], "feature", cfg, sample=50)
    preflight(
        data, ["crosstask"], "feature", EvalConfig(crosstask_split=None, on_error="skip"), sample=50
    )  # skip tolerates a bad file


def test_cli_exit_status(good, bad, tmp_path, capsys, monkeypatch):
    import yaml

    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "data": {
                    "video_list_csv": str(good.howto_csv),
                    "caption_root": str(good.howto_captions),
                    "feature_root": str(good.howto_features),
                },
                "train": {"steps": 1},
                "eval": {
                    "paths": {"youcook2_csv": str(good.youcook2_csv), "youcook2_features": str(good.youcook2_features)},
                    "tasks": ["youcook2"],
                },
            }
        )
    )
    assert cli_main(["--config", str(cfg)]) == 0
    assert "all inputs found" in capsys.readouterr().out
    assert cli_main(["--config", str(cfg), f"data.feature_root={tmp_path / 'nope'}"]) == 1
    assert "nope" in capsys.readouterr().out


# ------------------------------------------------------------------------------------------- issue 23: done-when cases
def _yaml(tmp_path, p, tasks=None, **extra_paths) -> str:
    """A user's data YAML (no train keys) naming the pretraining files and every downstream set but MSR-VTT."""
    import yaml

    paths = {
        k: str(getattr(p, k))
        for k in (
            "youcook2_csv",
            "youcook2_features",
            "crosstask_root",
            "crosstask_flat_csv",
            "crosstask_features",
            "action_csv",
            "action_features",
        )
    }
    doc = {
        "base": "default",
        "data": {
            "video_list_csv": str(p.howto_csv),
            "caption_root": str(p.howto_captions),
            "feature_root": str(p.howto_features),
        },
        "model": {"feature_dim": 1024},
        "eval": {"paths": {**paths, **extra_paths}, "crosstask_split": None},
    }
    if tasks:
        doc["eval"]["tasks"] = tasks
    path = tmp_path / "my.yaml"
    path.write_text(yaml.safe_dump(doc))
    return str(path)


def _run_check(capsys, *argv) -> tuple[int, str]:
    capsys.readouterr()
    code = cli_main(list(argv))
    return code, capsys.readouterr().out


def test_a_set_without_msrvtt_passes_and_msrvtt_is_skipped(bad, tmp_path, capsys):
    code, out = _run_check(capsys, "--config", _yaml(tmp_path, bad))
    assert code == 0, out
    assert "skipped, not configured: msrvtt" in out
    msr = [ln for ln in out.splitlines() if ln.strip().startswith("msrvtt")]
    assert len(msr) == 1 and "skipped" in msr[0] and "evaluate skips it" in msr[0]
    code, out = _run_check(capsys, "--config", _yaml(tmp_path, bad), "--tasks", "msrvtt")  # asked for: a problem
    assert code == 1 and "missing" in out


def _first(folder, pattern="*.npy"):
    return sorted(folder.rglob(pattern))[0]


@pytest.mark.parametrize("defect", ["missing_file", "all_512", "one_512", "truncated", "segment_beyond"])
def test_each_downstream_defect_fails_data_check_naming_the_file(defect, bad, tmp_path, capsys):
    if defect == "missing_file":
        gone = _first(bad.action_features)
        gone.unlink()
        named, needle = (
            gone.parent,
            f"feature file for '{gone.name.split('_')[0]}/{gone.name[: -len('.npy')]}' not found",
        )
    elif defect == "all_512":
        for f in bad.action_features.rglob("*.npy"):
            np.save(f, np.load(f)[:, :512])
        named, needle = bad.action_features, ".mp4.npy: feature width 512, expected 1024"
    elif defect == "one_512":
        named = sorted(bad.youcook2_features.rglob("*.npy"))[-1]
        np.save(named, np.load(named)[:, :512])
        needle = "feature width 512, expected 1024"
    elif defect == "truncated":
        named = sorted(bad.crosstask_features.rglob("*.npy"))[-1]
        named.write_bytes(named.read_bytes()[:-64])
        needle = "truncated .npy"
    else:  # a YouCook2 segment at 290-300 s of a video a few seconds long, on line 3 of the CSV
        named = bad.youcook2_csv
        lines = named.read_text().splitlines()
        cells = lines[2].split(",")
        lines[2] = ",".join(["300", "290", *cells[2:]])
        named.write_text("\n".join(lines) + "\n")
        needle = "line 3: segment 290-300 s"
    code, out = _run_check(capsys, "--config", _yaml(tmp_path, bad), "--sample", "1")
    assert code == 1 and str(named) in out and needle in out, out


def test_evaluate_and_train_refuse_the_same_broken_input_before_starting(bad, tmp_path, caplog):
    """The check `evaluate` runs first is data check's: a missing feature file stops it before any task."""
    data = {k: v for k, v in vars(bad).items()}
    named = _first(bad.youcook2_features)
    named.unlink()
    with pytest.raises(ValueError, match=named.name.split(".")[0]):
        preflight(data, ["msrvtt", "youcook2"], "feature", EvalConfig(), feature_dim=1024)
    # under on_error=skip the bad file is only a warning (the evaluation drops it), unless none is left
    preflight(data, ["youcook2"], "feature", EvalConfig(on_error="skip"), feature_dim=1024)
    for f in bad.youcook2_features.rglob("*.npy"):
        f.unlink()
    with pytest.raises(ValueError, match="youcook2_features"):
        preflight(data, ["youcook2"], "feature", EvalConfig(on_error="skip"), feature_dim=1024)
    from vttwins.data.check import check_for_training

    paths = {"video_list_csv": bad.howto_csv, "caption_root": bad.howto_captions, "feature_root": bad.howto_features}
    check_for_training(paths, "feature", "skip", 1024)  # a good set passes
    with pytest.raises(ValueError, match="width 1024, expected 2048"):  # every file unusable: refused
        check_for_training(paths, "feature", "skip", 2048)
    np.save(_first(bad.howto_features), np.zeros((3, 8), np.float32))
    with caplog.at_level("WARNING"):
        check_for_training(paths, "feature", "skip", 1024)  # one bad file: skipped, said so
    assert "will be skipped" in caplog.text and _first(bad.howto_features).name in caplog.text
    with pytest.raises(ValueError, match=_first(bad.howto_features).name):
        check_for_training(paths, "feature", "raise", 1024)


def test_data_check_needs_no_training_keys_and_takes_overrides_after_tasks(good, tmp_path, capsys):
    import yaml

    cfg = tmp_path / "data_only.yaml"  # no `base:`, no train.steps: the code defaults, said in the log
    cfg.write_text(
        yaml.safe_dump(
            {
                "data": {
                    "video_list_csv": str(good.howto_csv),
                    "caption_root": str(good.howto_captions),
                    "feature_root": str(good.howto_features),
                }
            }
        )
    )
    code, out = _run_check(
        capsys,
        "--config",
        str(cfg),
        "--tasks",
        "youcook2",
        f"eval.paths.youcook2_csv={good.youcook2_csv}",
        f"eval.paths.youcook2_features={good.youcook2_features}",
    )
    assert code == 0, out
    code, out = _run_check(
        capsys,
        "--tasks",
        "youcook2",
        f"eval.paths.youcook2_csv={good.youcook2_csv}",
        "--config",
        str(cfg),
        f"eval.paths.youcook2_features={tmp_path / 'nope'}",
    )
    assert code == 1 and "nope" in out


def test_training_check_runs_once_per_state_of_the_files(tmp_path, monkeypatch):
    """A grid worker does not re-read every header for each run; a changed or added file is checked again."""
    import os
    import vttwins.data.check as data_check
    from vttwins.companion.config import load_config
    from vttwins.companion.training import builders

    feats, caps = tmp_path / "features", tmp_path / "captions"
    feats.mkdir(), caps.mkdir()
    (feats / "a.npy").write_bytes(b"x")
    (caps / "a.json").write_text("{}")
    (tmp_path / "videos.csv").write_text("video_id,video_path\na,a.mp4\n")
    paths = {
        "video_list_csv": tmp_path / "videos.csv",
        "caption_root": caps,
        "video_root": None,
        "feature_root": feats,
        "dict_path": None,
    }
    calls = []
    monkeypatch.setattr(data_check, "check_for_training", lambda *a: calls.append(a))
    monkeypatch.setattr(builders, "_CHECKED", {})
    cfg = load_config("smoke")
    builders.check_data(cfg, paths)
    builders.check_data(cfg, paths)
    assert len(calls) == 1
    os.utime(feats / "a.npy", ns=(1, 1))  # the same file, another state
    builders.check_data(cfg, paths)
    (caps / "b.json").write_text("{}")  # a new file
    builders.check_data(cfg, paths)
    assert len(calls) == 3
