"""Public writers (vttwins.data.formats): each round-trips through the loader of its layout; bad input raises.

SynthHowTo writes through the same functions, so test_data_synth tests them on generated data as well."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vttwins.data import (
    load_features,
    read_action_csv,
    read_crosstask,
    read_crosstask_flat,
    read_hmdb_splits,
    read_howto_csv,
    read_msrvtt_csv,
    read_ucf_splits,
    read_youcook2_csv,
    read_youcook2_json,
)
from vttwins.data import formats
from vttwins.data.captions import CaptionStore
from vttwins.data.features import feature_path


def test_howto_features_captions_and_list(tmp_path):
    feats = np.arange(12, dtype=np.float64).reshape(3, 4)
    formats.write_features(tmp_path / "f", "vid1", feats)
    assert np.array_equal(load_features(feature_path(tmp_path / "f", "vid1.mp4")), feats.astype(np.float32))
    formats.write_captions(tmp_path / "c", "vid1", [0.0, 2.5], [2.0, 4.0], ["crack eggs", "whisk"])
    caps = CaptionStore(tmp_path / "c").get("vid1")
    assert list(caps["text"]) == ["crack eggs", "whisk"] and np.allclose(caps["start"], [0.0, 2.5])
    formats.write_howto_list(
        tmp_path / "v.csv",
        pd.DataFrame({"video_id": ["vid1"], "video_path": ["vid1.mp4"], "duration": [3]}),
        extra=["duration"],
    )
    assert read_howto_csv(tmp_path / "v.csv").values.tolist() == [["vid1", "vid1.mp4"]]
    with pytest.raises(ValueError, match="NaN"):
        formats.write_features(tmp_path / "f", "bad", np.full((2, 3), np.nan))
    with pytest.raises(ValueError, match=r"\(seconds, dim\)"):
        formats.write_features(tmp_path / "f", "bad", np.zeros(5))
    with pytest.raises(ValueError, match="differ in length"):
        formats.write_captions(tmp_path / "c", "bad", [0.0], [1.0, 2.0], ["x"])
    assert not (tmp_path / "f" / "bad.mp4.npy").exists()


def test_youcook2_and_msrvtt(tmp_path):
    rows = [
        {"video_id": "yc1", "task": "101", "start": 2, "end": 9, "text": "add salt"},
        {"video_id": "yc1", "task": "101", "start": 10, "end": 14, "text": "stir"},
    ]
    formats.write_youcook2(tmp_path / "yc.csv", rows)
    df = read_youcook2_csv(tmp_path / "yc.csv")
    assert df[["video_id", "start", "end", "text"]].values.tolist() == [
        ["yc1", 2, 9, "add salt"],
        ["yc1", 10, 14, "stir"],
    ]
    formats.write_youcook2_json(tmp_path / "yc.json", rows, {"yc1": 20.0})
    assert len(read_youcook2_json(tmp_path / "yc.json")) == 2
    with pytest.raises(ValueError, match="no duration"):
        formats.write_youcook2_json(tmp_path / "x.json", rows, {})
    formats.write_msrvtt(
        tmp_path / "m.csv", [{"key": "ret0", "vid_key": "msr0", "video_id": "video0", "sentence": "a cat"}]
    )
    assert read_msrvtt_csv(tmp_path / "m.csv")[["video_id", "text"]].values.tolist() == [["video0", "a cat"]]
    with pytest.raises(ValueError, match="lacks \\['text'\\]"):
        formats.write_youcook2(tmp_path / "z.csv", [{"video_id": "a", "task": "1", "start": 0, "end": 1}])


def test_crosstask_with_flat_csv(tmp_path):
    tasks = [{"task_id": "777", "title": "make it", "url": "http://x", "steps": ["cut a", "stir b"]}]
    videos = [
        {"task_id": "777", "video_id": "v1", "url": "u", "split": "val"},
        {"task_id": "777", "video_id": "v2", "url": "u", "split": "train"},
    ]
    segs = [{"task_id": "777", "video_id": "v1", "step": 2, "start": 3.0, "end": 6.5, "text": "stir b"}]
    formats.write_crosstask(tmp_path / "ct", tasks, videos, segs, flat_csv=tmp_path / "flat.csv")
    data = read_crosstask(tmp_path / "ct")
    assert list(data.tasks["777"].steps) == ["cut a", "stir b"]
    assert sorted(data.videos["video_id"]) == ["v1", "v2"]
    assert data.annotations[["video_id", "step"]].values.tolist() == [["v1", 2]]
    assert not (tmp_path / "ct" / "annotations" / "777_v2.csv").exists()  # no segments: no (empty) file
    flat = read_crosstask_flat(tmp_path / "flat.csv")
    assert flat[["video_id", "text"]].values.tolist() == [["v1", "stir b"]] and float(flat["end"][0]) == 6.5
    with pytest.raises(ValueError, match="split"):
        formats.write_crosstask(tmp_path / "x", tasks, [{**videos[0], "split": "test"}], [])


@pytest.mark.parametrize("dataset", ["hmdb", "ucf"])
def test_actions_csv_and_official_splits_agree(tmp_path, dataset):
    if dataset == "hmdb":
        rows = [
            {"video_id": f"{a}_{i}.avi", "label": a, "split1": 1 + (i % 2), "split2": 1, "split3": 2 - (i % 2)}
            for a in ("brush_hair", "cartwheel")
            for i in range(3)
        ]
    else:
        rows = [
            {"video_id": f"{c}/v_{c}_{i}.avi", "label": k, "split1": 1 + (i % 2), "split2": 1, "split3": 2}
            for k, c in ((1, "ApplyEyeMakeup"), (2, "Archery"))
            for i in range(3)
        ]
    formats.write_actions(tmp_path / "a.csv", rows, splits_dir=tmp_path / "splits", dataset=dataset)
    from_csv = read_action_csv(tmp_path / "a.csv", dataset=dataset).sort_values("video_id").reset_index(drop=True)
    reader = read_hmdb_splits if dataset == "hmdb" else read_ucf_splits
    from_splits = reader(tmp_path / "splits").sort_values("video_id").reset_index(drop=True)
    cols = (
        ["video_id", "label", "label_index", "split1"]
        if dataset == "hmdb"
        else ["video_id", "label_index", "split1", "split2"]
    )
    pd.testing.assert_frame_equal(from_csv[cols], from_splits[cols], check_dtype=False)
    with pytest.raises(ValueError, match="0, 1 or 2"):
        formats.write_actions(tmp_path / "b.csv", [{**rows[0], "split1": 3}], dataset=dataset)


def test_every_writer_writes_lf_line_ends(tmp_path):
    """Every text file the writers make ends its lines with LF (CRLF from csv.writer's default before)."""
    formats.write_captions(tmp_path / "caps", "v1", [0.0], [2.0], ["a b"])
    formats.write_howto_list(tmp_path / "videos.csv", [{"video_id": "v1", "video_path": "v1.mp4"}])
    yc = [{"video_id": "v1", "task": "101", "start": 0, "end": 2, "text": "a b"}]
    formats.write_youcook2(tmp_path / "yc.csv", yc)
    formats.write_youcook2_json(tmp_path / "yc.json", yc, {"v1": 5.0})
    formats.write_msrvtt(tmp_path / "m.csv", [{"key": "k", "vid_key": "m", "video_id": "v1", "sentence": "a"}])
    formats.write_crosstask(
        tmp_path / "ct",
        [{"task_id": "7", "title": "t", "url": "u", "steps": ["a", "b"]}],
        [{"task_id": "7", "video_id": "v1", "url": "u", "split": "val"}],
        [{"task_id": "7", "video_id": "v1", "step": 1, "start": 0.0, "end": 1.0, "text": "a"}],
        flat_csv=tmp_path / "flat.csv",
    )
    for dataset, label in (("hmdb", "jump"), ("ucf", 1)):
        formats.write_actions(
            tmp_path / f"{dataset}.csv",
            [{"video_id": "C/v.avi", "label": label, "split1": 1, "split2": 2, "split3": 0}],
            splits_dir=tmp_path / f"{dataset}_splits",
            dataset=dataset,
        )
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(written) >= 20
    crlf = [str(p) for p in written if b"\r" in p.read_bytes()]
    assert not crlf
    assert (tmp_path / "videos.csv").read_bytes() == b"video_id,video_path\nv1,v1.mp4\n"


def test_the_worked_examples_of_docs_data_md_write_what_it_says(tmp_path, monkeypatch):
    """docs/data.md §5: every ```python block runs, and the files it quotes hold exactly the quoted lines."""
    import re
    from pathlib import Path

    section = (Path(__file__).parent.parent / "docs" / "data.md").read_text()
    section = section[section.index("## 5.") : section.index("## 6.")]
    monkeypatch.chdir(tmp_path)
    for block in re.findall(r"```python\n(.*?)```", section, re.S):
        exec(block, {"formats": formats, "feats": np.zeros((60, 32), np.float32)})  # noqa: S102 -- the docs' code
    expect = {
        "d/videos.csv": "video_id,video_path\nvid1,vid1.mp4\n",
        "d/yc.csv": "end,start,task,text,video_id\n9,2,101,add salt,yc1\n",
        "d/msrvtt.csv": "key,vid_key,video_id,sentence\nret0,msr0,video0,a cat\n",
        "d/ct/videos_val.csv": "777,v1,-\n",
        "d/ct/annotations/777_v1.csv": "2,3.00,6.50\n",
        "d/ct_flat.csv": "end,start,task_id,text,video_id\n6.50,3.00,777,stir b,v1\n",
        "d/hmdb.csv": "video_id,label,split1,split2,split3\nbrush_hair_1.avi,brush_hair_test,1,2,0\n",
        "d/ct/tasks_primary.txt": "777\nmake it\n-\n2\ncut a,stir b\n\n",
    }
    assert {k: (tmp_path / k).read_text() for k in expect} == expect
    assert load_features(tmp_path / "d/features/vid1.mp4.npy").shape == (60, 32)
