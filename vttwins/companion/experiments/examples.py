"""Data and alignment examples for the figures: SynthHowTo counts, example videos, held-out alignment panels.

summary = data_summary(paths)                       # quantity / value rows from meta.json
ex = example_video(paths, 0, frames=8)              # frames, true steps and narration of one video
rows, stats = alignment_rows(model, tokenizer, config, videos)   # for plots.alignment_panels
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import torch

from vttwins import objectives
from vttwins.alignment import hard_path, pairwise_cost, s2dtw, soft_alignment
from vttwins.alignment.lattice import smooth_forward
from vttwins.companion.config import Config
from vttwins.data.features import feature_window, load_features
from vttwins.companion.synth import synth_paths
from vttwins.companion.training.builders import synth_config

# figure label -> objective whose alignment flags the panel reads (docs/method.md §3): DTW and soft-DTW on C, S2DTW on
# the weak lattice. The flags come from the objective registry (the one table); the labels stay the figures' own.
METHODS = {"DTW": "dtw", "soft-DTW": "soft_dtw", "S2DTW": "s2dtw"}
_READOUT_GAMMA = 0.1  # gamma of the soft readouts (the loss default); a `hard` member is read at gamma = 0


def method_options(label: str) -> dict:
    """{gamma, smooth, weak} of the figure method `label` (a key of METHODS), from its objective's flags."""
    flags = objectives.get(METHODS[label]).alignment
    return {"gamma": 0.0 if flags.get("hard") else _READOUT_GAMMA, "smooth": flags["smooth"], "weak": flags["weak"]}


# ------------------------------------------------------------------------------------------- 00_data
def data_summary(paths) -> pd.DataFrame:
    """`meta.json` counts and measured narration noise of a SynthHowTo folder as [quantity, value] rows."""
    if paths is None:
        raise ValueError(
            "00_data draws SynthHowTo's ground truth (true steps, caption offsets); this profile points "
            "at real data (data.video_list_csv is set), which has none: skip 00_data "
            "(python -m vttwins reproduce --only 01_pretrain ...)"
        )
    meta = json.loads(Path(paths.meta).read_text())
    rows = []
    for key, value in sorted(meta["counts"].items()):
        if isinstance(value, dict):
            rows += [(f"{key}.{k}", float(v)) for k, v in sorted(value.items()) if isinstance(v, (int, float))]
        elif isinstance(value, (int, float)):
            rows.append((key, float(value)))
    noise = meta["config"]["noise"]
    rows += [(f"config.noise.{k}", float(v)) for k, v in sorted(noise.items()) if isinstance(v, (int, float))]
    return pd.DataFrame(rows, columns=["quantity", "value"])


def read_annotation(paths, video_id: str) -> dict:
    return json.loads((Path(paths.howto_annotations) / f"{video_id}.json").read_text())


def howto_ids(paths) -> list[str]:
    return pd.read_csv(paths.howto_csv, dtype={"video_id": str})["video_id"].tolist()


def example_video(paths, index: int, frames: int = 8) -> dict:
    """Keyword arguments of `plots.weak_alignment_example` for the `index`-th pretraining video."""
    from vttwins.data.video import read_clip  # deferred: av

    vid = howto_ids(paths)[index]
    ann = read_annotation(paths, vid)
    duration = float(ann["duration"])
    fps = frames / duration
    clip = read_clip(Path(paths.howto_videos) / f"{vid}.mp4", 0.0, num_frames=frames, fps=fps, size=None)
    steps = pd.DataFrame([{"start": s["start"], "end": s["end"], "label": s["name"]} for s in ann["steps"]])
    captions = pd.DataFrame(
        [
            {
                "start": c["start"],
                "end": c["end"],
                "text": c["text"] or "(empty)",
                "step": c["step"] if c["kind"] == "step" else np.nan,
            }
            for c in ann["captions"]
        ]
    )
    return {
        "frames": clip.permute(1, 2, 3, 0).numpy(),
        "frame_times": list(np.arange(frames) / fps),
        "steps": steps,
        "captions": captions,
        "duration": duration,
        "title": f"{vid}: true steps (top) vs. narration (bottom; grey = filler)",
    }


def caption_offsets(paths) -> pd.DataFrame:
    """Per caption of every pretraining video: kind (step / filler / empty) and offset from its step (s)."""
    rows = []
    for vid in howto_ids(paths):
        for c in read_annotation(paths, vid)["captions"]:
            rows.append({"video_id": vid, "kind": c["kind"], "offset": float(c.get("offset") or 0.0)})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------------------- 07_alignment_paths
def heldout_videos(config: Config, n: int, out_dir: str | Path):
    """`n` narrated videos of the config's SynthHowTo world that training never saw: indices after the last
    pretraining video, written features-only (captions, features, annotations) -> SynthPaths of `out_dir`."""
    from vttwins.companion.synth.videos import make_howto  # deferred: av

    scfg = dataclasses.replace(synth_config(config), render_videos=False)
    paths = synth_paths(out_dir)
    for folder in (paths.howto_captions, paths.howto_features, paths.howto_annotations):
        folder.mkdir(parents=True, exist_ok=True)
    records = [make_howto(scfg, paths, scfg.howto_videos + i) for i in range(n)]
    pd.DataFrame({"video_id": [r["video_id"] for r in records]}).to_csv(paths.howto_csv, index=False)
    return paths


def embed_sequences(model, tokenizer, paths, video_id: str, n_clips: int, window: int):
    """First `n_clips` non-empty captions of a video, one feature window at each caption's start, embedded."""
    ann = read_annotation(paths, video_id)
    caps = [c for c in ann["captions"] if c["text"]][:n_clips]
    feats = load_features(Path(paths.howto_features) / f"{video_id}.mp4.npy")
    x = torch.from_numpy(np.stack([feature_window(feats, c["start"], window) for c in caps]))
    with torch.no_grad():
        v = model.encode_video(x.float(), normalize=True).double()
        t = model.encode_text(tokenizer([c["text"] for c in caps]), normalize=True).double()
    return v, t, caps, ann


def step_truth(caps: list[dict], ann: dict, window: int) -> np.ndarray:
    """(clip, caption) pairs that share a true step: the step under clip k's window vs. caption j's step."""

    def step_at(t):
        for i, s in enumerate(ann["steps"]):
            if s["start"] <= t < s["end"]:
                return i
        return None

    clip_steps = [step_at(math.floor(c["start"]) + window / 2) for c in caps]
    cap_steps = [c["step"] if c["kind"] == "step" else None for c in caps]
    return np.array([[a is not None and a == b for b in cap_steps] for a in clip_steps])


_MODELS = {"before": "untrained", "after": "S2DTW-trained"}  # stage -> the model the readouts are taken on


def alignment_rows(
    model,
    tokenizer,
    paths,
    video_ids: Sequence[str],
    stage: str,
    n_clips: int = 8,
    window: int = 4,
    smooth_gamma: float = 0.1,
    tau: float = 0.5,
) -> tuple[list[dict], pd.DataFrame]:
    """Panels (for plots.alignment_panels) and hard-path statistics of DTW, soft-DTW and S2DTW per video."""
    rows, stats = [], []
    for vid in video_ids:
        v, t, caps, ann = embed_sequences(model, tokenizer, paths, vid, n_clips, window)
        truth = step_truth(caps, ann, window)
        for label in METHODS:
            o = method_options(label)
            row, stat = alignment_row(
                v,
                t,
                truth,
                f"{vid} · readout: {label} on the {_MODELS.get(stage, stage)} model",
                gamma=o["gamma"],
                smooth=o["smooth"],
                weak=o["weak"],
                smooth_gamma=smooth_gamma,
                tau=tau,
            )
            rows.append(row)
            stats.append({"video_id": vid, "stage": stage, "method": label, **stat})
    return rows, pd.DataFrame(stats)


def alignment_row(
    v: torch.Tensor,
    t: torch.Tensor,
    truth: np.ndarray,
    label: str,
    gamma: float,
    smooth: bool,
    weak: bool,
    smooth_gamma: float = 0.1,
    tau: float = 0.5,
) -> tuple[dict, dict]:
    """One panel row (plots.alignment_panels) and its hard-path statistics for embedded clips `v (N, D)` and
    captions `t (M, D)` under one alignment setting; `truth (N, M)` bool marks pairs that share a true step."""
    x, y = v[None], t[None]
    cost = pairwise_cost(x, y)[0]
    opts = {"smooth_gamma": smooth_gamma, "tau": tau, "smooth": smooth, "weak": weak}
    al = soft_alignment(x, y, gamma=gamma, **opts)
    path = hard_path(x, y, **opts)[0]
    pairs = [tuple(map(int, p)) for p in path.pairs]
    smoothed = smooth_forward(cost[None], smooth_gamma)[0][0].numpy() if smooth else None
    row = {
        "label": label,
        "cost": cost.numpy(),
        "smoothed": smoothed,
        "E": (al.lattice if al.lattice is not None else al.real)[0].numpy(),
        "E_real": al.real[0].numpy(),
        "weak": weak,
        "path": pairs,
        "unmatched_x": path.unmatched_x.tolist(),
        "unmatched_y": path.unmatched_y.tolist(),
        "truth": truth,
    }
    hits = sum(bool(truth[i, j]) for i, j in pairs)
    counts = path_counts(truth, pairs, path.unmatched_x.tolist(), path.unmatched_y.tolist())
    stat = {
        "matched_pairs": len(pairs),
        "precision": hits / max(len(pairs), 1),
        "true_pairs": int(truth.sum()),
        "skipped_clips": len(path.unmatched_x),
        "skipped_captions": len(path.unmatched_y),
        **{f"n_{k}": v for k, v in counts.items()},
    }
    return row, stat


def alignment_summary(stats: pd.DataFrame) -> pd.DataFrame:
    """Micro-averaged truth scores (percent, `truth.rates`) per stage x method over every video of `stats`."""
    rows = []
    for (stage, method), g in stats.groupby(["stage", "method"], sort=False):
        counts = g[[c for c in g if c.startswith("n_")]].rename(columns=lambda c: c[2:])
        rows.append({"stage": stage, "method": method, **rates(counts)})
    return pd.DataFrame(rows)


def constant_cosine_s2dtw(cosines: Sequence[float], n: int = 8) -> pd.DataFrame:
    """S2DTW (released defaults, float64) when every clip/caption pair has cosine c (docs/method.md §3 reference)."""
    out = []
    for c in cosines:
        x = torch.zeros(1, n, 2, dtype=torch.float64)
        x[..., 0] = 1.0
        y = torch.zeros(1, n, 2, dtype=torch.float64)
        y[..., 0], y[..., 1] = c, math.sqrt(max(0.0, 1 - c * c))
        out.append({"cosine": float(c), "s2dtw": float(s2dtw(x, y)[0])})
    return pd.DataFrame(out)


def path_counts(truth: np.ndarray, pairs, unmatched_x, unmatched_y) -> dict[str, int]:
    """Counts of one video: predicted/true/hit pairs and skipped captions/clips. `truth (N, M)` bool."""
    pairs = {tuple(map(int, p)) for p in pairs}
    true_pairs = {tuple(p) for p in np.argwhere(truth)}
    skip_y, true_skip_y = set(map(int, unmatched_y)), set(np.flatnonzero(~truth.any(axis=0)).tolist())
    skip_x, true_skip_x = set(map(int, unmatched_x)), set(np.flatnonzero(~truth.any(axis=1)).tolist())
    return {
        "pairs": len(pairs),
        "true_pairs": len(true_pairs),
        "pair_hits": len(pairs & true_pairs),
        "skip_y": len(skip_y),
        "true_skip_y": len(true_skip_y),
        "skip_y_hits": len(skip_y & true_skip_y),
        "skip_x": len(skip_x),
        "true_skip_x": len(true_skip_x),
        "skip_x_hits": len(skip_x & true_skip_x),
        "cells": int(truth.size),
    }


def percent(hits: int, total: int) -> float:
    return 100.0 * hits / total if total else float("nan")


def rates(counts: pd.DataFrame) -> dict[str, float]:
    """Micro-averaged precision/recall (percent) over videos from `path_counts` rows."""
    s = counts.sum()
    return {
        "pair_precision": percent(s.pair_hits, s.pairs),
        "pair_recall": percent(s.pair_hits, s.true_pairs),
        "skip_caption_precision": percent(s.skip_y_hits, s.skip_y),
        "skip_caption_recall": percent(s.skip_y_hits, s.true_skip_y),
        "skip_clip_precision": percent(s.skip_x_hits, s.skip_x),
        "skip_clip_recall": percent(s.skip_x_hits, s.true_skip_x),
        "videos": int(len(counts)),
    }
