"""HowTo100M captions in any of the three real layouts (docs/formats.md), validated and cleaned.

    store = CaptionStore("captions/")            # per-video <vid>.json or <vid>.csv
    store = CaptionStore("raw_caption.json")     # one big {video_id: {...}} JSON, loaded once, lazily
    caps = store.get("AbCdEfGhIjK")              # {"start": float64 (n,), "end": (n,), "text": [str] * n}

`get` drops captions whose text is empty or whitespace only (ASR silence; NaN in a CSV counts as empty), and
captions with impossible times (start > end, negative, or beyond `MAX_SECONDS`) with a warning naming the file;
it keeps everything else as is (order, overlaps, repeats). Missing files raise FileNotFoundError; a malformed file (bad
JSON/CSV, missing keys, unequal lengths, non-numeric times) raises DataFileError naming it.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import DataFileError, missing

log = logging.getLogger("vttwins.data")
MAX_SECONDS = 1e6  # no narrated video is 11 days long: such a time is a unit mix-up (ms, frames) or garbage


def _validate(raw, path, video_id: str) -> dict:
    if not isinstance(raw, dict) or not {"start", "end", "text"} <= set(raw):
        raise DataFileError(path, f"captions of {video_id} must be a dict with start, end, text")
    start, end, text = raw["start"], raw["end"], raw["text"]
    if not all(isinstance(x, (list, tuple, np.ndarray)) for x in (start, end, text)):
        raise DataFileError(path, f"captions of {video_id}: start, end, text must be lists")
    if not len(start) == len(end) == len(text):
        raise DataFileError(path, f"captions of {video_id}: start/end/text lengths differ "
                                  f"({len(start)}, {len(end)}, {len(text)})")
    try:
        s, e = np.asarray(start, dtype=np.float64), np.asarray(end, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise DataFileError(path, f"captions of {video_id}: non-numeric times ({err})") from err
    if not (np.isfinite(s).all() and np.isfinite(e).all()):
        raise DataFileError(path, f"captions of {video_id}: non-finite times")
    return {"start": s, "end": e, "text": list(text)}


def bad_times(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Mask of captions whose times cannot be real: start > end, negative, or beyond MAX_SECONDS."""
    return (start > end) | (start < 0) | (end > MAX_SECONDS)


def clean_captions(caps: dict, source=None, warn: bool = True) -> dict:
    """Drop empty / whitespace-only / non-string (NaN) texts, and impossible times (warning naming `source`)."""
    bad = bad_times(caps["start"], caps["end"])
    if bad.any() and warn:
        first = int(np.flatnonzero(bad)[0])
        log.warning("%s: dropping %d caption(s) with impossible times (start > end, negative or > %.0e s), "
                    "first: #%d start=%g end=%g", source or "captions", int(bad.sum()), MAX_SECONDS, first,
                    caps["start"][first], caps["end"][first])
    keep = [i for i, t in enumerate(caps["text"]) if isinstance(t, str) and t.strip() and not bad[i]]
    return {"start": caps["start"][keep], "end": caps["end"][keep], "text": [caps["text"][i] for i in keep]}


def _read_json(path: Path):
    try:
        with open(path) as f:
            return json.load(f)
    except (ValueError, UnicodeDecodeError) as err:
        raise DataFileError(path, f"malformed JSON ({err})") from err


def _read_csv(path: Path, video_id: str) -> dict:
    try:
        df = pd.read_csv(path, keep_default_na=False, dtype={"text": str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as err:
        raise DataFileError(path, f"malformed CSV ({err})") from err
    absent = {"start", "end", "text"} - set(df.columns)
    if absent:
        raise DataFileError(path, f"CSV needs columns start,end,text; missing {sorted(absent)}")
    return _validate({"start": df["start"].tolist(), "end": df["end"].tolist(), "text": df["text"].tolist()},
                     path, video_id)


class CaptionStore:
    """Caption lookup by video id over a caption folder (per-video JSON/CSV) or one big JSON file."""

    def __init__(self, caption_root: str | Path):
        self.root = Path(caption_root)
        self._big: dict | None = None
        self._warned: set[str] = set()
        if not self.root.exists():
            raise missing(self.root, "caption_root")

    def path_of(self, video_id: str) -> Path:
        if self.root.is_file():
            return self.root
        js = self.root / f"{video_id}.json"
        csv = self.root / f"{video_id}.csv"
        return csv if (not js.exists() and csv.exists()) else js

    def raw(self, video_id: str) -> dict:
        """Validated captions, empty texts included."""
        path = self.path_of(video_id)
        if self.root.is_file():
            if self._big is None:
                big = _read_json(path)
                if not isinstance(big, dict):
                    raise DataFileError(path, "expected {video_id: {start, end, text}}")
                self._big = big
            if video_id not in self._big:
                raise DataFileError(path, f"no captions for video {video_id}")
            return _validate(self._big[video_id], path, video_id)
        if not path.is_file():
            raise missing(path, "caption file (.json or .csv)")
        if path.suffix == ".csv":
            return _read_csv(path, video_id)
        return _validate(_read_json(path), path, video_id)

    def get(self, video_id: str) -> dict:
        warn = video_id not in self._warned  # once per video, not once per epoch
        self._warned.add(video_id)
        return clean_captions(self.raw(video_id), self.path_of(video_id), warn)

    def __getstate__(self):  # DataLoader workers re-read the big JSON lazily instead of pickling it
        return {"root": self.root, "_big": None, "_warned": set()}
