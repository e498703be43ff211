"""Checks of the pretraining inputs before anything runs: one row per finding, every file named.

    rows = check_pretraining(video_list_csv, caption_root, feature_root=f, mode="feature", feature_dim=1024)
    print(format_rows(rows))        # set, item, status, count, width, path, detail

What is cheap is checked for every listed video: its caption file (valid JSON/CSV, start/end/text of equal length,
numeric times, at least one usable caption), its feature file's existence, width, dtype and length from the .npy
header alone (`features.feature_header`: a truncated file shows in its size, no array is loaded), the caption
times against the feature length; in pixel mode every video file's existence. What needs the array or the
decoder is checked on a stated sample (`sample` files evenly over the list): feature values (NaN, Inf, absurd
magnitudes) and, in pixel mode, that the container opens.

A row's status is "ok", "warning" (kept, but worth knowing: training drops those captions), "missing" (a required
file or folder is not there) or "error" (a file cannot be used as the loaders use it); "missing" and "error" are
`PROBLEMS`. The detail names up to `SHOWN` bad files with their reasons and counts the rest. The downstream sets
are checked by `vttwins.companion.evaluation.check` (it knows each task's reader); `python -m vttwins data check` runs both.
"""
from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

import numpy as np

from .captions import CaptionStore, clean_captions
from .features import feature_header, feature_path, load_features
from .howto100m import read_howto_csv
from .video import find_video, probe_video

log = logging.getLogger(__name__)
COLUMNS = ["set", "item", "status", "count", "width", "path", "detail"]
PROBLEMS = ("missing", "error")
SHOWN = 3  # bad files quoted per row
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


def quote(problems: list[str]) -> str:
    """The first SHOWN problems joined with " | ", and how many more there are."""
    more = len(problems) - SHOWN
    return " | ".join(problems[:SHOWN]) + (f" | ... ({more} more)" if more > 0 else "")


def files_row(set_: str, item: str, path, n: int, bad: list[str], what: str, width=None, extra: str = "",
              warnings: list[str] = (), per_file: bool = True) -> dict:
    """The row of `n` files all checked: "error" naming the bad ones, else "warning" or "ok". per_file: each bad
    entry is one file a run under on_error="skip" can drop (`gate`)."""
    detail = f"{n - len(bad)}/{n} {what}" + (f"; {extra}" if extra else "")
    if bad:
        detail += "; " + quote(bad)
    elif warnings:
        detail += "; " + quote(list(warnings))
    status = "error" if bad else ("warning" if warnings else "ok")
    return {**row(set_, item, status, path, max(n - len(bad), 0), width, detail), "files": per_file}


def odd_widths(widths: dict[str, int]) -> tuple[int | None, list[str]]:
    """(the most common width, "file: width W, most files have M" for every other file) of {file: width}."""
    if not widths:
        return None, []
    common = Counter(widths.values()).most_common(1)[0][0]
    return common, [f"{f}: feature width {w}, most files have {common}" for f, w in widths.items() if w != common]


def feature_headers(paths: dict, dim: int | None) -> tuple[dict, dict, dict]:
    """Headers of every feature file {key: path}: ({key: seconds}, {key: width}, {bad key: problem naming the file}).

    With `dim` every width must equal it; without, every file must have the width most files have."""
    seconds, widths, bad = {}, {}, {}
    for key, path in paths.items():
        try:
            seconds[key], widths[key] = feature_header(path, dim)
        except READ_ERRORS as err:
            bad[key] = str(err)
    common, _ = odd_widths(widths)
    bad.update({k: f"{paths[k]}: feature width {w}, most files have {common}" for k, w in widths.items()
                if w != common})
    return seconds, widths, bad


def feature_values(paths: list, sample: int) -> list[str]:
    """Problems of the values (NaN, Inf, absurd) of `sample` files of `paths`, loaded (header-good files only)."""
    bad = []
    for path in sample_ids(paths, sample):
        try:
            load_features(path)
        except READ_ERRORS as err:
            bad.append(str(err))
    return bad


def check_pretraining(video_list_csv, caption_root, feature_root=None, video_root=None, mode: str = "feature",
                      sample: int = 20, feature_dim: int | None = None) -> list[dict]:
    """Rows for the pretraining list, its captions, and its features (feature mode) or videos (pixel mode)."""
    if mode not in ("feature", "pixel"):
        raise ValueError(f"mode must be 'feature' or 'pixel', got {mode!r}")
    try:
        videos = read_howto_csv(video_list_csv)
    except READ_ERRORS as err:
        return [row("pretraining", "video list (data.video_list_csv)", _status(err), video_list_csv, detail=str(err))]
    rows = [row("pretraining", "video list (data.video_list_csv)", "ok", video_list_csv, len(videos))]
    listed = dict(zip(videos["video_id"].astype(str), videos["video_path"].astype(str)))
    cap_row, starts = _captions(caption_root, list(listed))
    rows.append(cap_row)
    if mode == "feature":
        rows += _features(feature_root, listed, starts, caption_root, sample, feature_dim)
    else:
        rows.append(_videos(video_root, listed, sample))
    return rows


def _status(err: Exception) -> str:
    return "missing" if isinstance(err, FileNotFoundError) else "error"


def _captions(caption_root, ids: list[str]) -> tuple[dict, dict]:
    """(row of every video's captions, {video: (first, last) caption start} of the readable ones)."""
    item = "captions (data.caption_root)"
    try:
        store = CaptionStore(caption_root)
    except READ_ERRORS as err:
        return row("pretraining", item, _status(err), caption_root, detail=str(err)), {}
    bad, lines, starts, dropped = [], 0, {}, 0
    for vid in ids:
        try:
            raw = store.raw(vid)
        except READ_ERRORS as err:
            bad.append(str(err))
            continue
        caps = clean_captions(raw, warn=False)
        dropped += len(raw["text"]) - len(caps["text"])
        if not caps["text"]:
            bad.append(f"{store.path_of(vid)}: no usable caption for video {vid} (all empty or impossible times)")
            continue
        lines += len(caps["text"])
        starts[vid] = (float(caps["start"].min()), float(caps["start"].max()))
    note = f"{lines} captions" + (f", {dropped} empty or with impossible times (dropped by training)" if dropped
                                  else "")
    return files_row("pretraining", item, caption_root, len(ids), bad, "videos have valid captions", extra=note), \
        starts


def _features(root, listed: dict, starts: dict, caption_root, sample: int, dim: int | None) -> list[dict]:
    item = "features (data.feature_root)"
    if root is None or not Path(root).is_dir():
        return [row("pretraining", item, "missing", root, detail="folder not set or not found")]
    paths = {vid: feature_path(root, rel) for vid, rel in listed.items()}
    seconds, widths, bad_keys = feature_headers(paths, dim)
    width, _ = odd_widths(widths)
    good = [paths[v] for v in seconds if v not in bad_keys]
    bad = list(bad_keys.values()) + feature_values(good, sample)
    extra = f"values of {min(sample, len(good))} sampled files loaded"
    rows = [files_row("pretraining", item, root, len(paths), bad, "feature files complete (.npy headers)", width,
                      extra)]
    late, all_late = [], []
    store = CaptionStore(caption_root) if starts else None
    for vid, (first, last) in starts.items():
        if vid in seconds and last >= seconds[vid]:
            where = f"{store.path_of(vid)}: caption(s) start after the end of {paths[vid]} ({seconds[vid]} s)"
            (all_late if first >= seconds[vid] else late).append(where)
    rows.append(files_row("pretraining", "caption times vs feature length", caption_root, len(starts), all_late,
                          "videos have captions inside their features", warnings=late,
                          extra=f"{len(late)} with some captions past the end (training drops those)"
                          if late else ""))
    return rows


def _videos(root, listed: dict, sample: int) -> dict:
    item = "videos (data.video_root)"
    if root is None or not Path(root).is_dir():
        return row("pretraining", item, "missing", root, detail="folder not set or not found")
    found, bad = [], []
    for rel in listed.values():
        try:
            found.append(find_video(root, rel))
        except READ_ERRORS as err:
            bad.append(str(err))
    picked = sample_ids(found, sample)
    for path in picked:
        try:
            probe_video(path)
        except READ_ERRORS as err:
            bad.append(f"{path}: {err}")
    return files_row("pretraining", item, root, len(listed), bad, "video files found",
                     extra=f"{len(picked)} sampled containers opened")


def problems(rows: list[dict]) -> list[dict]:
    return [r for r in rows if r["status"] in PROBLEMS]


def gate(rows: list[dict], on_error: str, command: str) -> None:
    """Stop `command` with a ValueError listing the problems of `rows` (what `train` and `evaluate` run before
    their first step or task). Under on_error="skip" a row of bad files that leaves usable ones (`files` rows) is a
    WARNING instead: the run skips those files and counts them."""
    bad = problems(rows)
    if on_error == "skip":
        tolerated = [r for r in bad if r.get("files") and r["count"]]
        for r in tolerated:
            log.warning("%s: %s %s: bad files will be skipped (on_error=skip): %s", command, r["set"], r["item"],
                        r["detail"])
        bad = [r for r in bad if r not in tolerated]
    if bad:
        raise ValueError(f"{command}: broken inputs, nothing was run (`python -m vttwins data check` shows the full "
                         "table): " + " || ".join(f"{r['set']} {r['item']}: {r['detail']}" for r in bad))


def check_for_training(paths: dict, mode: str, on_error: str, feature_dim: int | None = None,
                       sample: int = 2) -> list[dict]:
    """`train`'s check of its resolved pretraining paths ({video_list_csv, caption_root, feature_root,
    video_root}) before the first step: the rows of `data check`, then `gate` (ValueError on broken inputs)."""
    rows = check_pretraining(paths["video_list_csv"], paths["caption_root"], paths.get("feature_root"),
                             paths.get("video_root"), mode, sample, feature_dim if mode == "feature" else None)
    gate(rows, on_error, "train")
    return rows


def format_rows(rows: list[dict]) -> str:
    """A fixed-width text table of `rows` (the `data check` report)."""
    import pandas as pd
    df = pd.DataFrame([[("" if r[c] is None else r[c]) for c in COLUMNS] for r in rows], columns=COLUMNS, dtype=object)
    with pd.option_context("display.width", 250, "display.max_colwidth", 160, "display.max_rows", 500):
        return df.to_string(index=False)
