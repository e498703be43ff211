"""CrossTask: the official release layout and the flattened VT-TWINS CSV.

    ct = read_crosstask("crosstask_release/")   # tasks, videos [task, video_id, url, split], annotations
    df = read_crosstask_flat(path)              # [task_id, video_id, start, end, text]

Official layout: `tasks_primary.txt` (blocks of 6 lines: id, title, url, number of steps, comma-separated steps,
blank), `videos.csv` / `videos_val.csv` (no header: task,video_id,url), `annotations/<task>_<video_id>.csv`
(no header: step (1-based), start, end). Task ids never contain "_", video ids may.

An annotation whose step is not one of its task's steps, or whose times are impossible, is a DataFileError naming
the file and line; an annotation file of a task that `tasks_primary.txt` does not list is dropped with a warning
(the release ships related tasks' videos, never scored) and counted in `annotations.attrs["unknown_task_files"]`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ._csv import check_times, drop_duplicates, log, numeric, read_table
from .errors import DataFileError, missing
from .features import shared_reads_enabled


@dataclass(frozen=True)
class CrossTaskTask:
    title: str
    steps: list[str]


@dataclass(frozen=True)
class CrossTaskData:
    tasks: dict[str, CrossTaskTask]
    videos: pd.DataFrame  # [task, video_id, url, split]
    annotations: pd.DataFrame  # [task, video_id, step, start, end]


def read_tasks(path: str | Path) -> dict[str, CrossTaskTask]:
    path = Path(path)
    if not path.is_file():
        raise missing(path)
    lines = [line.rstrip("\r") for line in path.read_text().split("\n")]
    tasks, i = {}, 0
    while i < len(lines):
        if not lines[i].strip():
            i += 1
            continue
        block = lines[i:i + 5]
        try:
            task_id, title, _url, n, steps = block[0].strip(), block[1].strip(), block[2], int(block[3]), block[4]
        except (ValueError, IndexError) as err:
            raise DataFileError(path, f"bad task block at line {i + 1} ({err})") from err
        names = [s.strip() for s in steps.split(",")]
        if len(names) != n:
            raise DataFileError(path, f"task {task_id}: {n} steps announced, {len(names)} listed")
        tasks[task_id] = CrossTaskTask(title=title, steps=names)
        i += 5
    return tasks


def _videos(root: Path) -> pd.DataFrame:
    frames = []
    for name, split in (("videos.csv", "train"), ("videos_val.csv", "val")):
        if (root / name).is_file():
            # one of the two lists may be empty (a small set with no validation videos); not both
            df = read_table(root / name, ["task", "video_id", "url"], header=False,
                            names=["task", "video_id", "url"], dtype=str, allow_empty=True)
            frames.append(drop_duplicates(df, root / name).assign(split=split))
    if not frames:
        raise FileNotFoundError(f"neither videos.csv nor videos_val.csv in {root}")
    videos = pd.concat(frames, ignore_index=True)
    if videos.empty:
        raise DataFileError(root / "videos.csv", "no rows in videos.csv nor in videos_val.csv "
                            "(expected task,video_id,url)")
    return videos


def _annotation_file(path: Path, tasks: dict[str, CrossTaskTask]) -> pd.DataFrame:
    # an empty file is a video with no annotated step (data.formats writes one for every listed video)
    df = read_table(path, ["step", "start", "end"], header=False, names=["step", "start", "end"], allow_empty=True)
    df = check_times(numeric(numeric(df, ["step"], path, int), ["start", "end"], path), path, header=False)
    n_steps = len(tasks[path.stem.partition("_")[0]].steps)
    bad = (df["step"] < 1) | (df["step"] > n_steps)
    if bad.any():
        pos = int(bad.to_numpy().nonzero()[0][0])
        raise DataFileError(path, f"line {pos + 1}: step {df['step'].iloc[pos]} is not one of the task's "
                                  f"{n_steps} steps (1-based, tasks_primary.txt)")
    return drop_duplicates(df, path)


def _annotations(root: Path, tasks: dict[str, CrossTaskTask]) -> pd.DataFrame:
    frames, unknown = [], []
    for path in sorted((root / "annotations").glob("*.csv")):
        task, _, vid = path.stem.partition("_")
        if task not in tasks:
            unknown.append(path.name)
            continue
        frames.append(_annotation_file(path, tasks).assign(task=task, video_id=vid))
    if unknown:
        log.warning("%s: ignoring %d annotation file(s) of tasks not in tasks_primary.txt (first: %s)",
                    root / "annotations", len(unknown), unknown[0])
    cols = ["task", "video_id", "step", "start", "end"]
    out = pd.concat(frames, ignore_index=True)[cols] if frames else pd.DataFrame(columns=cols)
    out.attrs["unknown_task_files"] = len(unknown)
    return out


def read_crosstask(root: str | Path) -> CrossTaskData:
    """The CrossTask release under `root`. Read once per process and state of its files (every run of a grid
    evaluates on the same set); each call returns its own copies of the tables."""
    root = Path(root)
    if not root.is_dir():
        raise missing(root, "CrossTask root")
    key = tuple(sorted((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in root.rglob("*") if f.is_file()))
    if not shared_reads_enabled() or key not in _READ:
        tasks = read_tasks(root / "tasks_primary.txt")
        data = CrossTaskData(tasks=tasks, videos=_videos(root), annotations=_annotations(root, tasks))
        if not shared_reads_enabled():
            return data
        _READ.clear()  # one release at a time: the evaluation of a grid reads one
        _READ[key] = data
    data = _READ[key]
    return CrossTaskData(tasks=dict(data.tasks), videos=data.videos.copy(), annotations=data.annotations.copy())


_READ: dict[tuple, CrossTaskData] = {}


def read_crosstask_flat(path: str | Path) -> pd.DataFrame:
    """Released VT-TWINS CSV `end,start,task_id,text,video_id`; videos at `<root>/videos/<task_id>/<video_id>.mp4`."""
    df = read_table(path, ["end", "start", "task_id", "text", "video_id"],
                    dtype={"task_id": str, "video_id": str, "text": str})
    df = check_times(numeric(df, ["start", "end"], path), path)
    return drop_duplicates(df[["task_id", "video_id", "start", "end", "text"]].reset_index(drop=True), path)
