"""Zero-shot text<->video retrieval: YouCook2 validation clips and MSR-VTT 1k-A (docs/method.md §8).

    from vttwins.companion.evaluation import retrieval
    df = retrieval(model, synth_paths("data/synth/smoke"), protocol="youcook2", tokenizer=tok)

Per clip: `youcook2_windows` windows (YouCook2: starts linspace(start, max(start, end - L - 0.4)); MSR-VTT:
`msrvtt_windows` evenly over the whole video at `msrvtt_fps`), video embedding = mean of the window embeddings,
caption <= `max_words` words, score = dot product. Reported both ways: t2v (a caption ranks the clips) and v2t.
Exact duplicates count as positives (a clip with the same video and interval for t2v, a caption with the same
tokens for v2t): they score identically, and the pessimistic tie rule would otherwise punish the model for
them. Chance: a uniformly random ranking with the same candidates and positives (`chance.retrieval_chance`).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from vttwins.data import read_msrvtt_csv, read_youcook2_csv

from . import chance, metrics
from .common import (
    dataset_path,
    encode_text,
    guarded,
    make_table,
    resolve_mode,
    resolve_model,
    video_embedding,
    with_items,
)
from .config import EvalConfig
from .windows import WindowSource, even_starts, youcook2_starts

log = logging.getLogger(__name__)

PROTOCOLS = ("youcook2", "msrvtt")
KS = (1, 5, 10)


def read_pairs(dataset, protocol: str, config: EvalConfig) -> pd.DataFrame:
    """The clip/caption pairs: columns video_id, subdir, start, end, text (start/end NaN = whole video)."""
    if protocol == "youcook2":
        df = read_youcook2_csv(dataset_path(dataset, "youcook2", "csv"))
        pairs = pd.DataFrame(
            {
                "video_id": df["video_id"].astype(str),
                "subdir": df["task"].astype(str),
                "start": df["start"].astype(float),
                "end": df["end"].astype(float),
                "text": df["text"].astype(str),
            }
        )
    else:
        df = read_msrvtt_csv(dataset_path(dataset, "msrvtt", "csv"))
        pairs = pd.DataFrame(
            {
                "video_id": df["video_id"].astype(str),
                "subdir": None,
                "start": np.nan,
                "end": np.nan,
                "text": df["text"].astype(str),
            }
        )
    if config.max_clips is not None:
        pairs = pairs.iloc[: config.max_clips]
    return pairs.reset_index(drop=True)


def _source(dataset, protocol: str, mode: str, config: EvalConfig) -> WindowSource:
    fps = config.msrvtt_fps if protocol == "msrvtt" else config.fps
    return WindowSource(
        config,
        mode,
        videos=dataset_path(dataset, protocol, "videos", required=mode == "pixel"),
        features=dataset_path(dataset, protocol, "features", required=mode == "feature"),
        fps=fps,
    )


def _clip_embedding(model, src: WindowSource, row, protocol: str, config: EvalConfig) -> np.ndarray:
    if protocol == "youcook2":
        starts = youcook2_starts(row.start, row.end, config.youcook2_windows, src.clip_seconds)
    else:
        starts = even_starts(src.duration(row.video_id, row.subdir), config.msrvtt_windows, src.clip_seconds)
    return video_embedding(model, src.windows(row.video_id, starts, row.subdir), config)


def retrieval_scores(model, dataset, protocol: str = "youcook2", tokenizer=None, config: EvalConfig | None = None):
    """-> (scores (Q, Q) caption x clip, pairs DataFrame of the kept rows, tokens (Q, L))."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")
    config = config or EvalConfig()
    model, tokenizer = resolve_model(model, tokenizer)
    src = _source(dataset, protocol, resolve_mode(model, config), config)
    pairs = read_pairs(dataset, protocol, config)
    videos, keep = [], []
    for i, row in enumerate(pairs.itertuples(index=False)):
        emb = guarded(
            config, f"{protocol} clip {row.video_id}", lambda: _clip_embedding(model, src, row, protocol, config)
        )
        if emb is not None:
            videos.append(emb)
            keep.append(i)
    if not keep:
        raise ValueError(f"no {protocol} clip could be read")
    pairs = pairs.iloc[keep].reset_index(drop=True)
    texts = encode_text(model, tokenizer, pairs["text"].tolist(), config, what=protocol)
    tokens = np.asarray(tokenizer(pairs["text"].tolist(), max_words=config.max_words))
    return texts @ np.stack(videos).T, pairs, tokens


def duplicate_masks(pairs: pd.DataFrame, tokens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(t2v positives, v2t positives): same clip (video, start, end) / same caption tokens; diagonal included."""
    clip_key = np.array([f"{v}|{s!r}|{e!r}" for v, s, e in zip(pairs["video_id"], pairs["start"], pairs["end"])])
    same_clip = clip_key[:, None] == clip_key[None, :]
    tok_key = np.array([t.tobytes() for t in np.ascontiguousarray(tokens)], dtype=object)
    same_text = tok_key[:, None] == tok_key[None, :]
    return same_clip, same_text


def retrieval(
    model, dataset, protocol: str = "youcook2", tokenizer=None, config: EvalConfig | None = None
) -> pd.DataFrame:
    """R@1/5/10 (percent), MedR and MeanR, text->video and video->text, each with its chance level."""
    config = config or EvalConfig()
    scores, pairs, tokens = retrieval_scores(model, dataset, protocol, tokenizer, config)
    t2v_pos, v2t_pos = duplicate_masks(pairs, tokens)
    split = "val" if protocol == "youcook2" else "test"
    rows, items = [], []
    for variant, s, pos in (("t2v", scores, t2v_pos), ("v2t", scores.T, v2t_pos)):
        ranks = metrics.retrieval_ranks(s, pos)
        values = metrics.rank_summary(ranks, KS)
        ch = chance.retrieval_chance(s.shape[1], pos.sum(axis=1), s.shape[0], KS)
        rows += [
            dict(
                task="retrieval",
                protocol=protocol,
                variant=variant,
                metric=m,
                split=split,
                value=v,
                chance=ch[m],
                n=s.shape[0],
            )
            for m, v in values.items()
        ]
        items.append(rank_items(ranks, query_ids(pairs), protocol, variant, split))
    return with_items(make_table(rows), pd.concat(items, ignore_index=True))


def query_ids(pairs: pd.DataFrame) -> list[str]:
    """One id per kept pair (a query of t2v, a candidate caption of v2t): position, video and interval."""
    return [
        f"{i:05d}:{v}@{s!r}-{e!r}" for i, (v, s, e) in enumerate(zip(pairs["video_id"], pairs["start"], pairs["end"]))
    ]


def rank_items(ranks: np.ndarray, ids: list[str], protocol: str, variant: str, split: str) -> pd.DataFrame:
    """Per-query R@k (0 or 100) for k in KS and the rank itself (MeanR), weight 1: their means are the table's R@k
    and MeanR as rank_summary computes them. MedR, a median, has no per-item form."""
    r = np.asarray(ranks, dtype=np.float64)
    scores = {f"R@{k}": 100.0 * (r <= k) for k in KS} | {"MeanR": r}
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "task": "retrieval",
                    "protocol": protocol,
                    "variant": variant,
                    "metric": metric,
                    "split": split,
                    "item": ids,
                    "score": score,
                    "weight": 1.0,
                }
            )
            for metric, score in scores.items()
        ],
        ignore_index=True,
    )
