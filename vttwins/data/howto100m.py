"""HowTo100M pretraining items: n consecutive captions and one clip inside each, in pixel or feature mode.

    ds = HowToPretrainDataset(paths.howto_csv, paths.howto_captions, feature_root=paths.howto_features)
    ds.set_epoch(3); item = ds[0]            # {"features": (8, 4, 1024), "text": [...8 str], "start", "end", ...}
    loader = DataLoader(ds, batch_size=16, collate_fn=collate_pretrain)

Sampling (released code, docs/formats.md): empty captions are dropped; a start index is drawn uniformly so that n
consecutive captions fit (a video with fewer than n captions uses all of them and repeats the last); clip k starts
at an integer second drawn uniformly from [floor(start_k), floor(max(start_k, end_k - clip_seconds))]. Pixel mode
reads `num_frames` at `fps` from there (frames past the end of the video are padded with 1, as released; see
video.py); feature mode takes `feature_window` rows from floor(clip start) (edge-padded past the end).
Captions with no known words are kept: with a tokenizer they become all-padding rows (as released). A video whose
captions are all empty is a bad item (the released code would crash there). All randomness of item i comes from
`numpy.random.default_rng([seed, epoch, i])` (a replacement for a skipped item draws from
`[seed, epoch, i, 1]` and loads with `[seed, epoch, i, 2, j]`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset

from .captions import CaptionStore
from .errors import SKIPPABLE, DataFileError, ErrorPolicy, NoUsableItemError, log, missing
from .features import feature_path, feature_window, load_features, video_stem
from .video import find_video, read_clip


def read_howto_csv(path: str | Path) -> pd.DataFrame:
    """[video_id, video_path] from a HowTo100M video list (column `video_path`; extra columns are ignored).

    An unreadable (not UTF-8, bad quoting), empty or header-only list is a DataFileError naming it; a video listed
    twice is kept once, with a warning (it would otherwise be drawn twice as often)."""
    path = Path(path)
    if not path.is_file():
        raise missing(path, "video list CSV")
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as err:
        raise DataFileError(path, f"unreadable video list CSV ({type(err).__name__}: {err})".replace("\n", " ")) \
            from err
    df.columns = [str(c).strip() for c in df.columns]  # `video_id , video_path` is benign: spaces around names
    if "video_path" not in df.columns:
        raise DataFileError(path, f"expected a column 'video_path', got {list(df.columns)}")
    paths = df["video_path"].str.strip()
    paths = paths[paths != ""]
    if paths.empty:
        raise DataFileError(path, "no videos listed (column 'video_path' is empty)")
    ids = paths.map(video_stem)
    dup = ids.duplicated()
    if dup.any():
        log.warning("%s: %d duplicate video(s) listed, kept once (first: %s)", path, int(dup.sum()),
                    ids[dup].iloc[0])
    return pd.DataFrame({"video_id": ids[~dup], "video_path": paths[~dup]}).reset_index(drop=True)


def sample_indices(n_captions: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """n consecutive caption indices from a uniform start; fewer than n captions -> all, then the last repeated."""
    if n_captions < 1:
        raise ValueError("no captions to sample from")
    if n_captions >= n:
        first = int(rng.integers(0, n_captions - n + 1))
        return np.arange(first, first + n)
    return np.minimum(np.arange(n), n_captions - 1)


def sample_clip_starts(starts: np.ndarray, ends: np.ndarray, clip_seconds: float, rng) -> np.ndarray:
    """Integer clip starts, uniform in [floor(start_k), floor(max(start_k, end_k - clip_seconds))]."""
    lo = np.floor(starts).astype(np.int64)
    hi = np.maximum(np.floor(np.maximum(starts, ends - clip_seconds)).astype(np.int64), lo)
    return np.array([int(rng.integers(a, b + 1)) for a, b in zip(lo, hi)], dtype=np.int64)


class HowToPretrainDataset(Dataset):
    """One item per video of the list. Mode: "feature" when `feature_root` is given, else "pixel"."""

    def __init__(self, video_list_csv, caption_root, video_root=None, feature_root=None, n_clips: int = 8,
                 clip_seconds: float = 3.2, num_frames: int = 32, fps: float = 10.0, size: int = 224,
                 crop: str = "random", hflip: float = 0.5, feature_window: int = 4,
                 tokenizer: Callable | None = None, max_words: int = 20, on_error: str = "skip", seed: int = 1,
                 resize: int | None = None, pad: str = "ones", feature_dim: int | None = None):
        if video_root is None and feature_root is None:
            raise ValueError("give video_root (pixel mode) or feature_root (feature mode)")
        self.videos = read_howto_csv(video_list_csv)
        self.captions = CaptionStore(caption_root)
        self.video_root = Path(video_root) if video_root is not None else None
        self.feature_root = Path(feature_root) if feature_root is not None else None
        self.mode = "feature" if feature_root is not None else "pixel"
        self.n_clips, self.clip_seconds = n_clips, clip_seconds
        self.num_frames, self.fps, self.size, self.crop, self.hflip = num_frames, fps, size, crop, hflip
        self.resize, self.pad = resize, pad
        self.feature_window, self.feature_dim = feature_window, feature_dim  # a file of another width: bad item
        self.tokenizer, self.max_words = tokenizer, max_words
        self.policy = ErrorPolicy(on_error)
        self.seed, self.epoch = seed, 0
        self._bad: set[int] = set()
        self._late_warned: set[str] = set()

    @property
    def skipped(self) -> list[tuple[str, str]]:
        return self.policy.skipped

    @property
    def on_error(self) -> str:
        return self.policy.on_error

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.videos)

    def __getitem__(self, index: int) -> dict:
        index = int(index)
        # Candidates: the item itself, then replacements from their own stream. A candidate's randomness depends
        # only on (seed, epoch, index, candidate), so an item is the same whether or not its bad files were
        # already known (skipped without decoding) when it was asked for.
        replacements = np.random.default_rng([self.seed, self.epoch, index, 1])
        j = index
        for _ in range(self.policy.max_tries):
            if j not in self._bad:
                key = [self.seed, self.epoch, index] if j == index else [self.seed, self.epoch, index, 2, j]
                try:
                    item = self._load(j, np.random.default_rng(key))
                    item["index"] = index
                    return item
                except SKIPPABLE as err:
                    self.policy.record(err, type(self).__name__)  # raises under on_error="raise"
                    self._bad.add(j)
            if len(self._bad) >= len(self):
                break
            j = int(replacements.integers(len(self)))
        raise NoUsableItemError(f"{type(self).__name__}: no usable item after {self.policy.max_tries} tries "
                                f"({len(self._bad)} of {len(self)} videos broken); last skipped: {self.skipped[-3:]}")

    def video_data(self, i: int) -> tuple[str, dict, np.ndarray | None]:
        """(video id, cleaned captions, features (S, F) float32 or None in pixel mode) of video `i`: what an item
        of it samples from. Raises one of `errors.SKIPPABLE` for a bad file (the caller decides to skip)."""
        vid, rel = self.videos.at[i, "video_id"], self.videos.at[i, "video_path"]
        caps = self.captions.get(vid)
        if not caps["text"]:
            raise DataFileError(self.captions.path_of(vid), f"no usable captions for video {vid}")
        feats = None
        if self.mode == "feature":
            path = feature_path(self.feature_root, rel)
            feats = load_features(path, self.feature_dim)
            caps = self._within_features(caps, feats.shape[0], vid, path)
        return vid, caps, feats

    def _load(self, i: int, rng: np.random.Generator) -> dict:
        vid, caps, feats = self.video_data(i)
        rel = self.videos.at[i, "video_path"]
        idx = sample_indices(len(caps["text"]), self.n_clips, rng)
        start, end = caps["start"][idx], caps["end"][idx]
        clip_starts = sample_clip_starts(start, end, self.clip_seconds, rng)
        texts = [caps["text"][j] for j in idx]
        item = {"start": torch.from_numpy(start.astype(np.float32)), "end": torch.from_numpy(end.astype(np.float32)),
                "clip_start": torch.from_numpy(clip_starts.astype(np.float32)), "video_id": vid}
        if feats is not None:
            item["features"] = torch.from_numpy(np.stack([feature_window(feats, s, self.feature_window)
                                                          for s in clip_starts]))
        else:
            path = find_video(self.video_root, rel)
            item["video"] = torch.stack([
                read_clip(path, float(s), self.num_frames, self.fps, self.size, crop=self.crop,
                          hflip=bool(rng.random() < self.hflip), resize=self.resize, rng=rng, pad=self.pad)
                for s in clip_starts])
        if self.tokenizer is not None:
            item["tokens"] = torch.as_tensor(self.tokenizer(texts, max_words=self.max_words), dtype=torch.int64)
        else:
            item["text"] = texts
        return item


    def _within_features(self, caps: dict, seconds: int, vid: str, path) -> dict:
        """Drop captions starting after the features end (their clips would be pure edge padding), warning once
        per video; all of them late -> a bad item (the captions belong to another, longer video)."""
        late = caps["start"] >= seconds
        if not late.any():
            return caps
        source = self.captions.path_of(vid)
        if late.all():
            raise DataFileError(source, f"every caption starts after the end of {path} ({seconds} s of features)")
        if vid not in self._late_warned:
            self._late_warned.add(vid)
            log.warning("%s: dropping %d caption(s) that start after the end of %s (%d s of features)", source,
                        int(late.sum()), path, seconds)
        keep = np.flatnonzero(~late)
        return {"start": caps["start"][keep], "end": caps["end"][keep], "text": [caps["text"][j] for j in keep]}


def collate_pretrain(items: list[dict]) -> dict:
    """Stack tensors along a new batch axis; `text` becomes a list of lists, `video_id` a list."""
    out = {}
    for key in items[0]:
        values = [it[key] for it in items]
        if isinstance(values[0], torch.Tensor):
            shapes = {tuple(v.shape) for v in values}
            if len(shapes) > 1:  # the datasets check widths; name the videos rather than torch.stack's message
                raise ValueError(f"collate_pretrain: '{key}' shapes differ across the batch: "
                                 f"{ {it.get('video_id', '?'): tuple(it[key].shape) for it in items} }")
            out[key] = torch.stack(values)
        elif key == "index":
            out[key] = torch.tensor(values, dtype=torch.int64)
        else:
            out[key] = values
    return out
