"""YouCook2 validation clips: the flattened CSV (`end,start,task,text,video_id`) or the official JSON.

    df = read_youcook2_csv(path)    # [video_id, task, start, end, text]; videos at <root>/<task>/<video_id>.mp4
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ._csv import check_times, drop_duplicates, log, numeric, read_table, row_number
from .errors import DataFileError, missing

COLUMNS = ["video_id", "task", "start", "end", "text"]


def read_youcook2_csv(path: str | Path) -> pd.DataFrame:
    df = read_table(path, ["end", "start", "task", "text", "video_id"], dtype={"task": str, "video_id": str,
                                                                                   "text": str})
    df = check_times(numeric(df, ["start", "end"], path), path)
    warn_empty_text(df, path)
    return drop_duplicates(df[COLUMNS].reset_index(drop=True), path)


def warn_empty_text(df: pd.DataFrame, path, header: bool = True) -> None:
    """One WARNING naming the file and the first line when sentences are empty: they are kept (the clip stays a
    candidate) but embed as padding only, so they rank the clips at random."""
    empty = df["text"].astype(str).str.strip() == ""
    if empty.any():
        pos = int(empty.to_numpy().nonzero()[0][0])
        log.warning("%s: %d empty sentence(s), first at line %d: kept, but they embed as padding only", path,
                    int(empty.sum()), row_number(df, pos, header))


def read_youcook2_json(path: str | Path, subset: str | None = "validation") -> pd.DataFrame:
    """One row per annotated segment of the videos in `subset` (None: all subsets)."""
    path = Path(path)
    if not path.is_file():
        raise missing(path)
    try:
        database = json.loads(path.read_text())["database"]
        rows = [{"video_id": vid, "task": str(v["recipe_type"]), "start": float(a["segment"][0]),
                 "end": float(a["segment"][1]), "text": a["sentence"]}
                for vid, v in database.items() if subset is None or v.get("subset") == subset
                for a in v["annotations"]]
    except (ValueError, KeyError, TypeError, IndexError) as err:
        raise DataFileError(path, f"not a YouCook2 annotation JSON ({type(err).__name__}: {err})") from err
    if not rows:
        raise DataFileError(path, f"no annotated segments in subset {subset!r}")
    return drop_duplicates(check_times(pd.DataFrame(rows, columns=COLUMNS), path, header=False), path)
