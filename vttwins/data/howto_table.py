"""Feature-mode pretraining data held once per process, and whole batches gathered from it by fancy indexing.

    table = feature_table(dataset)                  # a HowToPretrainDataset in feature mode; cached per process
    fast = TableDataset(dataset, table, tokenizer)  # DataLoader(fast, batch_sampler=..., collate_fn=fast.collate)
    batch = fast.__getitems__([3, 17, 5])           # == collate_pretrain([dataset[i] for i in (3, 17, 5)])

Why: the per-item path (`HowToPretrainDataset.__getitem__`) re-reads a video's `.npy` features and caption file
for every item of every batch, 2,400 times in a 150-step run, and every run of a grid in the same process reads
them again. Here every video's features are stacked into one float32 array (`rows`, with per-video offsets and
lengths), its cleaned captions into flat arrays, and the tokens of every caption are computed once per vocabulary.
A batch draws exactly what the per-item path draws (`numpy.random.default_rng([seed, epoch, index])`, then
`sample_indices` and `sample_clip_starts`, scalar draws in the same order) and gathers the windows with the same
edge padding, so its tensors are bit-identical (tests/test_data_howto_table.py compares them).

The table is keyed by the files it was read from (path, mtime, size of every feature and caption file), so a
regenerated data set is read again. Tables are kept least-recently-used within `VTTWINS_TABLE_CACHE_MB` (default
2048). `VTTWINS_DATA_PATH=reference` turns the table path off, and the other per-process reads with it
(`features.load_features_shared`, `training.builders.caption_texts`): the per-item path is the reference; the study
benchmark measures both. A data set with any bad file (under `data.on_error=skip`) uses the per-item path, which
skips and replaces bad items as documented in `howto100m.py`.
"""
from __future__ import annotations

import hashlib
import logging
import os
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from .errors import SKIPPABLE
from .features import feature_path, shared_reads_enabled
from .howto100m import HowToPretrainDataset, sample_clip_starts, sample_indices

log = logging.getLogger("vttwins.data")
CACHE_ENV = "VTTWINS_TABLE_CACHE_MB"


@dataclass
class FeatureTable:
    """Every video of a feature-mode data set in flat arrays.

    rows: (sum S_v, F) float32, the features of video v at rows[offsets[v] : offsets[v] + lengths[v]];
    cap_first, cap_count: (V,) int64, video v's cleaned captions are cap_start/cap_end/texts[first : first + count]
    (cap_start, cap_end: float64, as `CaptionStore.get` returns them).
    """
    video_ids: list[str]
    rows: np.ndarray
    offsets: np.ndarray
    lengths: np.ndarray
    cap_first: np.ndarray
    cap_count: np.ndarray
    cap_start: np.ndarray
    cap_end: np.ndarray
    texts: list[str]
    tokens: dict = field(default_factory=dict)  # (vocabulary digest, max_words) -> (n captions, max_words) int64

    @property
    def nbytes(self) -> int:
        return int(self.rows.nbytes + sum(t.nbytes for t in self.tokens.values()))

    def token_table(self, tokenizer, max_words: int) -> np.ndarray:
        """(n captions, max_words) int64: every caption tokenised once per vocabulary (rows are independent)."""
        digest = hashlib.sha256("\n".join(tokenizer.words).encode()).hexdigest()
        key = (digest, bool(getattr(tokenizer, "lowercase", True)), int(max_words))
        if key not in self.tokens:
            self.tokens[key] = tokenizer(self.texts, max_words=max_words).numpy()
        return self.tokens[key]


def build_table(dataset: HowToPretrainDataset) -> FeatureTable:
    """Read every video of `dataset` (feature mode) through `dataset.video_data`; a bad file raises (SKIPPABLE)."""
    if dataset.mode != "feature":
        raise ValueError(f"build_table needs a feature-mode dataset, got mode={dataset.mode!r}")
    ids, feats, starts, ends, texts = [], [], [], [], []
    for i in range(len(dataset)):
        vid, caps, rows = dataset.video_data(i)
        ids.append(vid)
        feats.append(rows)
        starts.append(caps["start"])
        ends.append(caps["end"])
        texts += caps["text"]
    lengths = np.array([f.shape[0] for f in feats], dtype=np.int64)
    counts = np.array([len(s) for s in starts], dtype=np.int64)
    return FeatureTable(ids, np.concatenate(feats).astype(np.float32, copy=False),
                        np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64), lengths,
                        np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64), counts,
                        np.concatenate(starts), np.concatenate(ends), texts)


# ------------------------------------------------------------------------------------------- per-process cache
_TABLES: "OrderedDict[tuple, FeatureTable]" = OrderedDict()


def _stat(path: Path) -> tuple[str, int, int]:
    try:
        st = path.stat()
    except OSError:
        return str(path), -1, -1
    return str(path), st.st_mtime_ns, st.st_size


def table_key(dataset: HowToPretrainDataset) -> tuple:
    """What the table of `dataset` depends on: its video list, feature width and every file's (path, mtime, size)."""
    files = [_stat(feature_path(dataset.feature_root, rel)) for rel in dataset.videos["video_path"]]
    files += [_stat(dataset.captions.path_of(vid)) for vid in dataset.videos["video_id"]]
    return (str(Path(dataset.feature_root).resolve()), str(dataset.captions.root.resolve()), dataset.feature_dim,
            tuple(dataset.videos["video_id"]), tuple(dataset.videos["video_path"]), tuple(files))


def feature_table(dataset: HowToPretrainDataset) -> FeatureTable:
    """The table of `dataset`, read once per process and per state of its files (least recently used dropped
    first beyond `VTTWINS_TABLE_CACHE_MB`)."""
    key = table_key(dataset)
    if key in _TABLES:
        _TABLES.move_to_end(key)
        return _TABLES[key]
    table = build_table(dataset)
    _TABLES[key] = table
    budget = float(os.environ.get(CACHE_ENV, "2048")) * 2**20
    while len(_TABLES) > 1 and sum(t.nbytes for t in _TABLES.values()) > budget:
        _TABLES.popitem(last=False)
    log.debug("feature table of %s: %d videos, %.0f MB", dataset.feature_root, len(table.video_ids),
              table.nbytes / 2**20)
    return table


def clear_cache() -> None:
    _TABLES.clear()


def table_path_enabled() -> bool:
    """False when `VTTWINS_DATA_PATH=reference` (the per-item path); `table` or unset: the table path."""
    return shared_reads_enabled()


# ------------------------------------------------------------------------------------------- batches
class TableDataset(Dataset):
    """`dataset` (feature mode, with a tokenizer) whose batches come from its table: `__getitems__(indices)`
    returns the collated batch {start, end, clip_start: (B, n) float32, video_id: [str], features: (B, n, W, F)
    float32, tokens: (B, n, max_words) int64, index: (B,) int64}, equal to `collate_pretrain` of the items."""

    def __init__(self, dataset: HowToPretrainDataset, table: FeatureTable, tokenizer):
        if dataset.mode != "feature" or tokenizer is None:
            raise ValueError("TableDataset needs a feature-mode dataset with a tokenizer")
        self.base, self.table = dataset, table
        self.token_rows = table.token_table(tokenizer, dataset.max_words)

    def __len__(self) -> int:
        return len(self.base)

    def set_epoch(self, epoch: int) -> None:
        self.base.set_epoch(epoch)

    @property
    def skipped(self) -> list:
        return self.base.skipped

    def __getitem__(self, index: int) -> dict:
        return self.base[index]

    @staticmethod
    def collate(batch: dict) -> dict:
        """`__getitems__` already returns the batch."""
        return batch

    def _draw(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """Caption rows (n,) into the flat caption arrays and integer clip starts (n,) of item `index`: the draws
        of `HowToPretrainDataset._load`, from the same generator in the same order."""
        b, t = self.base, self.table
        rng = np.random.default_rng([b.seed, b.epoch, index])
        first = int(t.cap_first[index])
        caps = first + sample_indices(int(t.cap_count[index]), b.n_clips, rng)
        return caps, sample_clip_starts(t.cap_start[caps], t.cap_end[caps], b.clip_seconds, rng)

    def __getitems__(self, indices) -> dict:
        t, window = self.table, self.base.feature_window
        index = np.array([int(i) for i in indices], dtype=np.int64)
        drawn = [self._draw(int(i)) for i in index]
        caps = np.stack([c for c, _ in drawn])                   # (B, n)
        clip_starts = np.stack([s for _, s in drawn])            # (B, n) int64
        last = (t.lengths[index] - 1)[:, None, None]
        rows = np.clip(clip_starts[:, :, None] + np.arange(window), 0, last) + t.offsets[index][:, None, None]
        return {"start": torch.from_numpy(t.cap_start[caps].astype(np.float32)),
                "end": torch.from_numpy(t.cap_end[caps].astype(np.float32)),
                "clip_start": torch.from_numpy(clip_starts.astype(np.float32)),
                "video_id": [t.video_ids[i] for i in index],
                "features": torch.from_numpy(t.rows[rows]),           # (B, n, W, F)
                "tokens": torch.from_numpy(self.token_rows[caps]),     # (B, n, max_words)
                "index": torch.from_numpy(index)}


def table_dataset(dataset: HowToPretrainDataset, tokenizer) -> Dataset:
    """`TableDataset` of `dataset` when the table path applies (feature mode, a tokenizer, `VTTWINS_DATA_PATH`
    not `reference`, every file readable); otherwise `dataset` itself (the per-item reference path)."""
    if dataset.mode != "feature" or tokenizer is None or not table_path_enabled():
        return dataset
    try:
        table = feature_table(dataset)
    except SKIPPABLE as err:
        log.info("per-item data path (a bad file in the data set, handled under data.on_error=%s): %s",
                 dataset.on_error, err)
        return dataset
    return TableDataset(dataset, table, tokenizer)
