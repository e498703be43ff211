"""Checks of the pretraining inputs before anything runs: one row per finding, read from a sample of the files.

    rows = check_pretraining(video_list_csv, caption_root, feature_root=f, mode="feature", sample=20)
    print(format_rows(rows))        # set, item, status, count, width, path, detail

A row's status is "ok", "missing" (a required file or folder is not there) or "error" (it is there but cannot be
read as the loaders read it: the message names the file and what was expected). The downstream sets are checked
by `vttwins.evaluation.check` (it knows each task's reader); `python -m vttwins data check` runs both.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .captions import CaptionStore
from .features import feature_path, load_features
from .howto100m import read_howto_csv
from .video import find_video

COLUMNS = ["set", "item", "status", "count", "width", "path", "detail"]
PROBLEMS = ("missing", "error")
# what a reader raises on a bad file: FileNotFoundError/OSError, DataFileError/ValueError, a missing column
READ_ERRORS = (OSError, ValueError, KeyError)


def row(set_: str, item: str, status: str, path=None, count=None, width=None, detail: str = "") -> dict:
    return {"set": set_, "item": item, "status": status, "count": count, "width": width,
            "path": None if path is None else str(path), "detail": detail}


def sample_ids(ids, sample: int) -> list:
    """Up to `sample` entries spread evenly over `ids` (first and last included), in order."""
    ids = list(ids)
    if len(ids) <= sample:
        return ids
    return [ids[i] for i in np.unique(np.linspace(0, len(ids) - 1, sample).round().astype(int))]


def check_pretraining(video_list_csv, caption_root, feature_root=None, video_root=None, mode: str = "feature",
                      sample: int = 20) -> list[dict]:
    """Rows for the pretraining list, its captions and its features (feature mode) or videos (pixel mode)."""
    if mode not in ("feature", "pixel"):
        raise ValueError(f"mode must be 'feature' or 'pixel', got {mode!r}")
    rows = []
    try:
        videos = read_howto_csv(video_list_csv)
    except READ_ERRORS as err:
        return [row("pretraining", "video list (data.video_list_csv)", _status(err), video_list_csv, detail=str(err))]
    rows.append(row("pretraining", "video list (data.video_list_csv)", "ok", video_list_csv, len(videos)))
    picked = sample_ids(zip(videos["video_id"].astype(str), videos["video_path"].astype(str)), sample)
    rows.append(_captions(caption_root, [v for v, _ in picked]))
    if mode == "feature":
        rows.append(_media("features (data.feature_root)", feature_root, picked,
                           lambda root, rel: load_features(feature_path(root, rel)).shape[1]))
    else:
        rows.append(_media("videos (data.video_root)", video_root, picked, lambda root, rel: find_video(root, rel)
                           and None))
    return rows


def _status(err: Exception) -> str:
    return "missing" if isinstance(err, FileNotFoundError) else "error"


def _captions(caption_root, ids: list[str]) -> dict:
    item = "captions (data.caption_root)"
    try:
        store = CaptionStore(caption_root)
    except READ_ERRORS as err:
        return row("pretraining", item, _status(err), caption_root, detail=str(err))
    bad, lines = [], 0
    for vid in ids:
        try:
            lines += len(store.get(vid)["text"])
        except READ_ERRORS as err:
            bad.append(str(err))
    r = sample_row("pretraining", item, caption_root, len(ids), set(), bad)
    r["detail"] = r["detail"].replace("files readable", f"videos have captions ({lines} lines)")
    return r


def _media(item: str, root, picked: list[tuple[str, str]], read) -> dict:
    if root is None or not Path(root).is_dir():
        return row("pretraining", item, "missing", root, detail="folder not set or not found")
    widths, bad = set(), []
    for _, rel in picked:
        try:
            widths.add(read(root, rel))
        except READ_ERRORS as err:
            bad.append(str(err))
    return sample_row("pretraining", item, root, len(picked), widths, bad)


def sample_row(set_: str, item: str, path, n: int, widths: set, bad: list[str]) -> dict:
    """The row of `n` sampled files: widths seen, problems (up to 3 quoted, each naming its file)."""
    widths = {w for w in widths if w is not None}
    problems = ([f"feature widths differ across files: {sorted(widths)}"] if len(widths) > 1 else []) + bad
    status = "ok" if not problems else ("error" if len(bad) == n or len(widths) > 1 else "warning")
    detail = f"{n - len(bad)}/{n} sampled files readable"
    if problems:
        detail += "; " + " | ".join(problems[:3]) + (f" | ... ({len(problems) - 3} more)" if len(problems) > 3 else "")
    return row(set_, item, status, path, n - len(bad), min(widths) if widths else None, detail)


def format_rows(rows: list[dict]) -> str:
    """A fixed-width text table of `rows` (the `data check` report)."""
    import pandas as pd
    df = pd.DataFrame([[("" if r[c] is None else r[c]) for c in COLUMNS] for r in rows], columns=COLUMNS, dtype=object)
    with pd.option_context("display.width", 200, "display.max_colwidth", 90, "display.max_rows", 500):
        return df.to_string(index=False)
