"""MSR-VTT 1k-A test list: CSV `key,vid_key,video_id,sentence` -> [key, vid_key, video_id, text]."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ._csv import drop_duplicates, read_table


def read_msrvtt_csv(path: str | Path) -> pd.DataFrame:
    df = read_table(path, ["key", "vid_key", "video_id", "sentence"], dtype=str)
    df = df.rename(columns={"sentence": "text"})[["key", "vid_key", "video_id", "text"]].reset_index(drop=True)
    return drop_duplicates(df, path)
