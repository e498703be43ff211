"""Public writers of every layout the loaders read, from plain records (dicts) or DataFrames (docs/formats.md).

    from vttwins.data import formats
    formats.write_features("d/howto100m/features", "vid1", feats)                # (seconds, D) -> vid1.mp4.npy
    formats.write_captions("d/howto100m/captions", "vid1", [0.0, 4.2], [4.0, 9.1], ["crack eggs", "whisk"])
    formats.write_howto_list("d/howto100m/videos.csv", [{"video_id": "vid1", "video_path": "vid1.mp4"}])
    formats.write_youcook2("d/youcook2/validation_youcook.csv", rows)            # end, start, task, text, video_id
    formats.write_msrvtt("d/msrvtt/MSRVTT_JSFUSION_test.csv", rows)              # key, vid_key, video_id, sentence
    formats.write_crosstask("d/crosstask/crosstask_release", tasks, videos, segments, flat_csv="d/ct_flat.csv")
    formats.write_actions("d/actions/hmdb_style.csv", rows, splits_dir="d/actions/splits")   # HMDB layout

SynthHowTo writes its sets through these same functions (vttwins.companion.synth), so every test of the generated
data is a test of them. Every text file is UTF-8 with LF line ends. The record of each layout (keys, units, split
names, 1-based steps) is in docs/data.md §5 with one worked example per layout. Each writer checks its input (missing columns, wrong shapes, non-finite features) and
raises ValueError naming the argument and what was expected; nothing is written then.
"""
from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np

PathLike = str | os.PathLike


def _records(rows, required: Sequence[str], what: str) -> list[dict]:
    """A DataFrame or iterable of mappings -> list of dicts, each with every `required` key."""
    if hasattr(rows, "to_dict"):
        rows = rows.to_dict("records")
    out = [dict(r) for r in rows]
    for n, r in enumerate(out):
        missing = [k for k in required if k not in r]
        if missing:
            raise ValueError(f"{what}: row {n} lacks {missing}; expected keys {list(required)}, got {sorted(r)}")
    return out


def _csv(path: PathLike, header: Sequence[str] | None, rows: Iterable[Sequence]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:  # LF line ends, like every other file written here
        w = csv.writer(f, lineterminator="\n")
        if header is not None:
            w.writerow(header)
        w.writerows(rows)
    return path


def save_features(path: PathLike, features) -> Path:
    """Save one video's features, (seconds, D) float32 with seconds >= 1 and finite values, as `.npy`."""
    arr = np.asarray(features)
    if arr.ndim != 2 or arr.shape[0] < 1 or not np.issubdtype(arr.dtype, np.number):
        raise ValueError(f"features for {path}: expected a numeric (seconds, dim) array, got shape {arr.shape} "
                         f"dtype {arr.dtype}")
    arr = arr.astype(np.float32, copy=False)
    if not np.isfinite(arr).all():
        raise ValueError(f"features for {path}: contain NaN or Inf")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    np.save(path, arr)
    return Path(path)


def write_features(folder: PathLike, video_id: str, features) -> Path:
    """`<folder>/<video_id>.mp4.npy`: the public HowTo100M S3D layout (one vector per second of video)."""
    return save_features(Path(folder) / f"{video_id}.mp4.npy", features)


def write_captions(folder: PathLike, video_id: str, start: Sequence[float], end: Sequence[float],
                   text: Sequence[str]) -> Path:
    """`<folder>/<video_id>.json` = {"start": [...], "end": [...], "text": [...]} (seconds; one entry per ASR line)."""
    start, end, text = list(start), list(end), [str(t) for t in text]
    if not len(start) == len(end) == len(text):
        raise ValueError(f"captions of {video_id}: start, end and text differ in length "
                         f"({len(start)}, {len(end)}, {len(text)})")
    path = Path(folder) / f"{video_id}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="\n") as f:
        json.dump({"start": start, "end": end, "text": text}, f)
    return path


def write_howto_list(path: PathLike, rows, extra: Sequence[str] = ()) -> Path:
    """The pretraining video list: columns video_id, video_path (relative to data.video_root / the feature
    file's stem), then `extra` columns (real lists carry more; the loaders read only video_path)."""
    recs = _records(rows, ["video_id", "video_path", *extra], "write_howto_list")
    cols = ["video_id", "video_path", *extra]
    return _csv(path, cols, ([r[c] for c in cols] for r in recs))


YOUCOOK2_COLUMNS = ["end", "start", "task", "text", "video_id"]  # the released column order


def write_youcook2(path: PathLike, rows) -> Path:
    """YouCook2 retrieval CSV: one clip per row (start/end seconds; `task` = recipe id = the video's folder)."""
    recs = _records(rows, YOUCOOK2_COLUMNS, "write_youcook2")
    return _csv(path, YOUCOOK2_COLUMNS, ([r[c] for c in YOUCOOK2_COLUMNS] for r in recs))


def write_youcook2_json(path: PathLike, rows, durations: Mapping[str, float], subset: str = "validation") -> Path:
    """`youcookii_annotations_trainval.json` ({"database": {video_id: {duration, subset, recipe_type,
    annotations: [{segment, id, sentence}]}}}) from the CSV rows, videos in first-appearance order."""
    database: dict[str, dict] = {}
    for r in _records(rows, YOUCOOK2_COLUMNS, "write_youcook2_json"):
        vid = r["video_id"]
        if vid not in database:
            if vid not in durations:
                raise ValueError(f"write_youcook2_json: no duration for video {vid!r}")
            database[vid] = {"duration": float(durations[vid]), "subset": subset, "recipe_type": r["task"],
                             "annotations": []}
        ann = database[vid]["annotations"]
        ann.append({"segment": [r["start"], r["end"]], "id": len(ann), "sentence": r["text"]})
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="\n") as f:
        json.dump({"database": database}, f, indent=1)
    return Path(path)


def write_msrvtt(path: PathLike, rows) -> Path:
    """MSR-VTT JSFusion test CSV: key, vid_key, video_id, sentence (one caption per video)."""
    cols = ["key", "vid_key", "video_id", "sentence"]
    recs = _records(rows, cols, "write_msrvtt")
    return _csv(path, cols, ([r[c] for c in cols] for r in recs))


def write_crosstask(root: PathLike, tasks, videos, segments, flat_csv: PathLike | None = None) -> Path:
    """The CrossTask release under `root` (+ the flat CSV that CTR reads, when `flat_csv` is given).

    tasks: task_id, title, url, steps (list of step names); videos: task_id, video_id, url, split ("train" |
    "val"); segments: task_id, video_id, step (1-based index into the task's steps), start, end (seconds),
    text (the step name, for the flat CSV). A video without segments gets no annotation file (the reader refuses an
    empty one; an unannotated video is listed but not evaluated).
    """
    root = Path(root)
    tasks = _records(tasks, ["task_id", "title", "url", "steps"], "write_crosstask tasks")
    videos = _records(videos, ["task_id", "video_id", "url", "split"], "write_crosstask videos")
    segments = _records(segments, ["task_id", "video_id", "step", "start", "end", "text"], "write_crosstask segments")
    bad = sorted({v["split"] for v in videos} - {"train", "val"})
    if bad:
        raise ValueError(f"write_crosstask videos: split must be 'train' or 'val', got {bad}")
    (root / "annotations").mkdir(parents=True, exist_ok=True)
    with open(root / "tasks_primary.txt", "w", newline="\n") as f:
        for t in tasks:
            f.write(f"{t['task_id']}\n{t['title']}\n{t['url']}\n{len(t['steps'])}\n{','.join(t['steps'])}\n\n")
    for name, split in (("videos.csv", "train"), ("videos_val.csv", "val")):
        _csv(root / name, None, ([v["task_id"], v["video_id"], v["url"]] for v in videos if v["split"] == split))
    by_video: dict[tuple, list[dict]] = {}
    for s in segments:
        by_video.setdefault((str(s["task_id"]), str(s["video_id"])), []).append(s)
    flat = []
    for v in videos:
        segs = by_video.get((str(v["task_id"]), str(v["video_id"])), [])
        if not segs:
            continue
        _csv(root / "annotations" / f"{v['task_id']}_{v['video_id']}.csv", None,
             ([s["step"], f"{s['start']:.2f}", f"{s['end']:.2f}"] for s in segs))
        flat += [[f"{s['end']:.2f}", f"{s['start']:.2f}", v["task_id"], s["text"], v["video_id"]] for s in segs]
    if flat_csv is not None:
        _csv(flat_csv, ["end", "start", "task_id", "text", "video_id"], flat)
    return root


def write_actions(path: PathLike, rows, splits_dir: PathLike | None = None, dataset: str = "hmdb") -> Path:
    """Action CSV `video_id,label,split1,split2,split3` (split codes 1 train, 2 test, 0 unused).

    HMDB: label `<action>_test` (a bare `<action>` gets the suffix), videos at `<action>/<video_id>`;
    `splits_dir` also gets the official `<action>_test_split{1,2,3}.txt`. UCF: label = 1-based class index and
    video_id = `<Class>/<file>`; `splits_dir` gets classInd.txt, trainlist0k.txt and testlist0k.txt.
    """
    if dataset not in ("hmdb", "ucf"):
        raise ValueError(f"write_actions: dataset must be 'hmdb' or 'ucf', got {dataset!r}")
    cols = ["video_id", "label", "split1", "split2", "split3"]
    recs = _records(rows, cols, "write_actions")
    bad = sorted({int(r[s]) for r in recs for s in cols[2:]} - {0, 1, 2})
    if bad:
        raise ValueError(f"write_actions: split codes must be 0, 1 or 2, got {bad}")
    if dataset == "hmdb":
        recs = [{**r, "label": str(r["label"]) if str(r["label"]).endswith("_test") else f"{r['label']}_test"}
                for r in recs]
    _csv(path, cols, ([r["video_id"], r["label"], *(int(r[s]) for s in cols[2:])] for r in recs))
    if splits_dir is not None:
        (_hmdb_splits if dataset == "hmdb" else _ucf_splits)(Path(splits_dir), recs)
    return Path(path)


def _hmdb_splits(folder: Path, recs: list[dict]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for label in sorted({r["label"] for r in recs}):
        for s in (1, 2, 3):
            with open(folder / f"{label}_split{s}.txt", "w", newline="\n") as f:
                for r in recs:
                    if r["label"] == label:
                        f.write(f"{r['video_id']} {int(r[f'split{s}'])}\n")


def _ucf_splits(folder: Path, recs: list[dict]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    classes = sorted({(int(r["label"]), str(r["video_id"]).split("/")[0]) for r in recs})
    (folder / "classInd.txt").write_text("".join(f"{i} {name}\n" for i, name in classes), newline="\n")
    for s in (1, 2, 3):
        (folder / f"trainlist0{s}.txt").write_text(
            "".join(f"{r['video_id']} {int(r['label'])}\n" for r in recs if int(r[f"split{s}"]) == 1), newline="\n")
        (folder / f"testlist0{s}.txt").write_text(
            "".join(f"{r['video_id']}\n" for r in recs if int(r[f"split{s}"]) == 2), newline="\n")
