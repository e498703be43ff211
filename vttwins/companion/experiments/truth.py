"""Alignment against the truth: does a trained model's S2DTW lattice match clips to the captions of their step and
skip filler captions and unnarrated clips? (the paper's weak-alignment claim, docs/method.md §3, scored directly)

    heldout = examples.heldout_videos(config, 40, "data/synth/default-heldout")   # never trained on
    row = score_run(run_dir, heldout)                  # micro-averaged over every held-out video
    chance = chance_row(heldout)

Every model is scored with the same scorer -- the hard (gamma = 0) path of the released S2DTW lattice (smoothing,
skip cost `tau`) on cosine costs of its clip and caption embeddings -- so the columns compare what the embeddings
learned, not which alignment an objective trains with. Clips sit at the first `n_clips` non-empty captions' starts
(`examples.embed_sequences`); the truth of (clip, caption) is "the step under the clip's window is the caption's step".
A caption no clip shares a step with (filler, or its step has no clip) should be skipped; so should a clip whose
step no caption narrates.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from vttwins.alignment import hard_path
from vttwins.companion.evaluation.run import initial_model
from vttwins.companion.training import load_trained

from .examples import embed_sequences, howto_ids, path_counts, percent, rates, read_annotation, step_truth

COLUMNS = (
    "pair_precision",
    "pair_recall",
    "skip_caption_precision",
    "skip_caption_recall",
    "skip_clip_precision",
    "skip_clip_recall",
)


def score_model(
    model,
    tokenizer,
    paths,
    video_ids: Sequence[str] | None = None,
    n_clips: int = 8,
    window: int = 4,
    smooth_gamma: float = 0.1,
    tau: float = 0.5,
) -> dict[str, float]:
    """Hard-path precision/recall of clip-caption pairs and of skips against the truth, over `video_ids` (all
    videos of `paths` when None)."""
    rows = []
    for vid in video_ids if video_ids is not None else howto_ids(paths):
        v, t, caps, ann = embed_sequences(model, tokenizer, paths, vid, n_clips, window)
        path = hard_path(v[None], t[None], smooth_gamma=smooth_gamma, tau=tau)[0]
        rows.append(
            path_counts(
                step_truth(caps, ann, window), path.pairs.tolist(), path.unmatched_x.tolist(), path.unmatched_y.tolist()
            )
        )
    return rates(pd.DataFrame(rows))


def chance_row(paths, video_ids: Sequence[str] | None = None, n_clips: int = 8, window: int = 4) -> dict:
    """Precision of a uniformly random pair / skip (the base rates of the truth); recall has no chance level."""
    rows = []
    for vid in video_ids if video_ids is not None else howto_ids(paths):
        ann = read_annotation(paths, vid)
        caps = [c for c in ann["captions"] if c["text"]][:n_clips]
        truth = step_truth(caps, ann, window)
        rows.append(
            {
                "hit": truth.sum(),
                "cells": truth.size,
                "sy": (~truth.any(0)).sum(),
                "m": truth.shape[1],
                "sx": (~truth.any(1)).sum(),
                "n": truth.shape[0],
            }
        )
    s = pd.DataFrame(rows).sum()
    return {
        "pair_precision": percent(s.hit, s.cells),
        "pair_recall": float("nan"),
        "skip_caption_precision": percent(s.sy, s.m),
        "skip_caption_recall": float("nan"),
        "skip_clip_precision": percent(s.sx, s.n),
        "skip_clip_recall": float("nan"),
        "videos": int(len(rows)),
    }


def truth_matrices(
    paths, video_ids: Sequence[str] | None = None, n_clips: int = 8, window: int = 4
) -> list[np.ndarray]:
    """The (clip, caption) truth `(N, M)` bool of every video, as `score_model` builds it (no model needed)."""
    out = []
    for vid in video_ids if video_ids is not None else howto_ids(paths):
        ann = read_annotation(paths, vid)
        out.append(step_truth([c for c in ann["captions"] if c["text"]][:n_clips], ann, window))
    return out


def score_run(run_dir: str | os.PathLike, paths, untrained: bool = False, **kwargs) -> dict[str, float]:
    """`score_model` of a finished run (or of its initial model with `untrained`), cached in the run folder."""
    import json

    run_dir = Path(run_dir)
    cache = run_dir / "eval" / f"truth-{'untrained' if untrained else 'trained'}-{Path(paths.root).name}.json"
    if cache.is_file():
        return json.loads(cache.read_text())
    model, tokenizer, config = load_trained(run_dir)
    if untrained:
        model = initial_model(config, tokenizer)
    row = score_model(model.eval(), tokenizer, paths, window=config.model.feature_window, **kwargs)
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(row))
    return row
