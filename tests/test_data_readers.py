"""Readers of the real downstream and caption formats, on small hand-written fixtures in the real layouts."""

from __future__ import annotations

import json

import numpy as np
import pytest

from test_data_common import FIXTURES
from vttwins.data import (
    DataFileError,
    find_video,
    read_action_csv,
    read_crosstask,
    read_crosstask_flat,
    read_hmdb_splits,
    read_msrvtt_csv,
    read_ucf_splits,
    read_youcook2_csv,
    read_youcook2_json,
)
from vttwins.data.captions import CaptionStore


def test_youcook2_csv_odd_column_order_and_json():
    df = read_youcook2_csv(FIXTURES / "youcook2_val.csv")
    assert list(df.columns) == ["video_id", "task", "start", "end", "text"]
    assert df.iloc[0].tolist() == ["AbCdEfGhIjK", "113", 90.0, 102.0, "spread butter on the bread"]
    assert df.iloc[1].text == "cut the bread, then toast it" and df.iloc[2].video_id == "x_Y-z012345"
    js = read_youcook2_json(FIXTURES / "youcookii_annotations_trainval.json")
    assert js.equals(df[df.video_id == "AbCdEfGhIjK"].reset_index(drop=True))
    assert len(read_youcook2_json(FIXTURES / "youcookii_annotations_trainval.json", subset=None)) == 3


def test_msrvtt_csv():
    df = read_msrvtt_csv(FIXTURES / "msrvtt_test.csv")
    assert list(df.columns) == ["key", "vid_key", "video_id", "text"]
    assert df.iloc[1].tolist() == ["ret1", "msr7020", "video7020", "a woman talks, then sings"]


def test_crosstask_official_and_flat():
    ct = read_crosstask(FIXTURES / "crosstask")
    assert ct.tasks["23521"].title == "Make Jello Shots" and len(ct.tasks["23521"].steps) == 6
    assert ct.tasks["59684"].steps == ["cut shelve", "assemble shelve", "sand shelve"]
    assert ct.videos.groupby("split").size().to_dict() == {"train": 2, "val": 1}
    a = ct.annotations.set_index(["task", "video_id", "step"])
    assert a.loc[("23521", "abc_def-123", 5)].tolist() == [20.0, 31.0]  # video id with "_" and "-"
    assert len(ct.annotations) == 5 and ct.annotations.step.dtype.kind == "i"
    flat = read_crosstask_flat(FIXTURES / "crosstask_flat.csv")
    assert flat.iloc[0].tolist() == ["23521", "abc_def-123", 10.5, 14.25, "pour water"]


def test_hmdb_csv_and_split_files_agree():
    csv = read_action_csv(FIXTURES / "hmdb.csv", "hmdb")
    assert csv.label.tolist() == ["brush_hair", "brush_hair", "catch"] and csv.label_index.tolist() == [0, 0, 1]
    assert csv.equals(read_hmdb_splits(FIXTURES / "hmdb_splits"))


def test_ucf_csv_and_split_files_agree():
    csv = read_action_csv(FIXTURES / "ucf.csv", "ucf")
    assert csv.label.tolist() == ["ApplyEyeMakeup", "YoYo"] and csv.label_index.tolist() == [0, 1]
    assert csv.equals(read_ucf_splits(FIXTURES / "ucf_splits"))


def test_caption_layouts_agree():
    per_json = CaptionStore(FIXTURES / "captions").get("vidjson0001")
    big = CaptionStore(FIXTURES / "raw_caption.json").get("vidjson0001")
    assert per_json["text"] == ["first we take the dough", "and roll it out thin", "and roll it out thin"]  # "" dropped
    assert big["text"] == per_json["text"][:2] and np.allclose(big["start"], [12.3, 15.9])
    csv = CaptionStore(FIXTURES / "captions").get("vidcsv00001")
    assert csv["text"] == ["hello everyone", "today, we make bread"] and np.allclose(csv["end"], [4.5, 9.25])


@pytest.mark.parametrize(
    "content, match",
    [
        ("{not json", "malformed JSON"),
        (json.dumps({"start": [1.0], "end": [2.0]}), "start, end, text"),
        (json.dumps({"start": [1.0, 2.0], "end": [2.0], "text": ["a", "b"]}), "lengths differ"),
        (json.dumps({"start": ["x"], "end": [2.0], "text": ["a"]}), "non-numeric"),
        (json.dumps([1, 2]), "must be a dict"),
    ],
)
def test_malformed_caption_files_name_the_file(tmp_path, content, match):
    (tmp_path / "vid.json").write_text(content)
    with pytest.raises(DataFileError, match=match) as err:
        CaptionStore(tmp_path).get("vid")
    assert err.value.path == str(tmp_path / "vid.json")


def test_missing_caption_file_and_video_in_big_json(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothere"):
        CaptionStore(tmp_path).get("nothere")
    with pytest.raises(DataFileError, match="no captions for video nothere"):
        CaptionStore(FIXTURES / "raw_caption.json").get("nothere")


def test_bad_reader_inputs_name_the_file(tmp_path):
    bad = tmp_path / "yc.csv"
    bad.write_text("start,task,text,video_id\n1,2,a,b\n")
    with pytest.raises(DataFileError, match=r"yc\.csv.*missing columns \['end'\]"):
        read_youcook2_csv(bad)
    bad.write_text("end,start,task,text,video_id\nten,2,a,b,c\n")
    with pytest.raises(DataFileError, match="'end' must be numeric"):
        read_youcook2_csv(bad)
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        read_msrvtt_csv(tmp_path / "nope.csv")
    (tmp_path / "tasks_primary.txt").write_text("1\nT\nu\n3\na,b\n\n")
    with pytest.raises(DataFileError, match="3 steps announced, 2 listed"):
        read_crosstask(tmp_path)
    with pytest.raises(ValueError, match="dataset must be"):
        read_action_csv(FIXTURES / "hmdb.csv", "kinetics")


def test_find_video_resolves_extensions(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "vid.webm").write_bytes(b"x")
    assert find_video(tmp_path, "a/vid.mp4") == tmp_path / "a" / "vid.webm"
    assert find_video(tmp_path, "a/vid") == tmp_path / "a" / "vid.webm"
    with pytest.raises(FileNotFoundError, match="missing"):
        find_video(tmp_path, "missing.mp4")


def test_crosstask_read_once_per_state_of_its_files(tmp_path, monkeypatch):
    """A grid's evaluations share one read; a changed annotation is read again; callers get their own copies."""
    import os
    import shutil
    from vttwins.data import crosstask as ct

    root = tmp_path / "ct"
    shutil.copytree(FIXTURES / "crosstask", root)
    monkeypatch.setattr(ct, "_READ", {})
    first = read_crosstask(root)
    first.annotations.loc[:, "start"] = -1.0  # a caller's edit stays its own
    second = read_crosstask(root)
    assert (second.annotations["start"] >= 0).all() and len(ct._READ) == 1
    ann = sorted((root / "annotations").glob("*.csv"))[0]
    ann.write_text("1,0.0,1.0\n")
    os.utime(ann, ns=(10**18, 10**18))
    third = read_crosstask(root)
    task, _, vid = ann.stem.partition("_")
    rows = third.annotations[third.annotations["video_id"] == vid]
    assert rows[["step", "start", "end"]].values.tolist() == [[1, 0.0, 1.0]]
    monkeypatch.setenv("VTTWINS_DATA_PATH", "reference")  # the benchmark's reference: no sharing
    assert read_crosstask(root).annotations.equals(third.annotations)


def test_ordered_chance_is_computed_once_and_equals_the_reference(monkeypatch):
    import numpy as np
    from vttwins.companion.evaluation import chance

    rng = np.random.default_rng(3)
    videos = [("t1", rng.random((12, 3)) > 0.7), ("t2", rng.random((9, 4)) > 0.6)]
    monkeypatch.setattr(chance, "_ORDERED", {})
    shared = chance.ordered_crosstask_chance(videos, draws=20)
    calls = []
    monkeypatch.setattr(chance, "_ordered_chance", lambda *a: calls.append(a))
    assert chance.ordered_crosstask_chance(iter(videos), draws=20) == shared and not calls
    monkeypatch.undo()
    monkeypatch.setenv("VTTWINS_DATA_PATH", "reference")
    assert chance.ordered_crosstask_chance(videos, draws=20) == shared
