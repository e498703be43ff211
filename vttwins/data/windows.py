"""Fixed windows of videos for the evaluations: item i = every window of entry i, in pixel or feature mode.

    starts = linspace_starts(90.0, 102.0, n=10)               # YouCook2: linspace(s, max(s, e - 3.2 - 0.4), 10)
    ds = WindowDataset([{"video": path, "features": fpath, "starts": starts}, ...], mode="feature")
    ds[0]["features"]                                         # (10, 4, 1024)

Entries name a video file (pixel mode) and/or a feature file (feature mode) and the window start times.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from .errors import SKIPPABLE, ErrorPolicy
from .features import feature_window, load_features
from .video import read_clip


def linspace_starts(start: float, end: float, n: int, clip_seconds: float = 3.2, margin: float = 0.4) -> np.ndarray:
    """n window starts evenly spaced in [start, max(start, end - clip_seconds - margin)] (METHOD.md §8)."""
    return np.linspace(start, max(start, end - clip_seconds - margin), n)


class WindowDataset(Dataset):
    """Items {"video": uint8 (K, 3, T, S, S)} or {"features": float32 (K, W, F)}, plus "index".

    With on_error="skip" a bad entry yields {"index": i, "error": (file, reason)} instead of data (evaluations
    must not silently replace a test item); with "raise" (default) it raises naming the file.
    """

    def __init__(self, entries: list[dict], mode: str = "feature", num_frames: int = 32, fps: float = 10.0,
                 size: int = 224, crop: str = "center", resize: int | None = None, feature_window: int = 4,
                 on_error: str = "raise", pad: str = "ones"):
        if mode not in ("pixel", "feature"):
            raise ValueError(f"mode must be 'pixel' or 'feature', got {mode!r}")
        key = "video" if mode == "pixel" else "features"
        for n, e in enumerate(entries):
            if e.get(key) is None or "starts" not in e:
                raise ValueError(f"entry {n} needs {key!r} and 'starts' in {mode} mode, got keys {sorted(e)}")
        self.entries, self.mode = entries, mode
        self.num_frames, self.fps, self.size, self.crop, self.resize, self.pad = num_frames, fps, size, crop, resize, pad
        self.feature_window = feature_window
        self.policy = ErrorPolicy(on_error)

    @property
    def skipped(self) -> list[tuple[str, str]]:
        return self.policy.skipped

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, i: int) -> dict:
        e = self.entries[i]
        try:
            if self.mode == "feature":
                feats = load_features(Path(e["features"]))
                data = np.stack([feature_window(feats, s, self.feature_window) for s in e["starts"]])
                return {"features": torch.from_numpy(data), "index": i}
            clips = [read_clip(e["video"], float(s), self.num_frames, self.fps, self.size, crop=self.crop,
                               resize=self.resize, pad=self.pad) for s in e["starts"]]
            return {"video": torch.stack(clips), "index": i}
        except SKIPPABLE as err:
            self.policy.record(err, type(self).__name__)
            return {"index": i, "error": self.policy.skipped[-1]}
