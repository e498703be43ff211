"""CrossTask step localization, both protocols of docs/method.md §8.

    from vttwins.companion.evaluation import step_localization
    df = step_localization(model, synth_paths("data/synth/smoke"), tokenizer=tok)

(a) standard (Zhukov et al. 2019, as MIL-NCE reports it): every second t of a video is scored against every step
    of its task (window centred on t + 0.5); `standard` predicts each step at its argmax second, `ordered`
    decodes the steps in task order with `vttwins.alignment.hard_path` (hard DTW, no smoothing, no weak lattice,
    cost = minus the per-step standardised score) and takes each step's best second inside its aligned stretch. A step is recalled when its
    second falls in one of its ground-truth intervals (seconds floor(start) .. ceil(end) - 1). Recall per task =
    recalled / annotated steps pooled over the task's videos; the `mean` row averages the tasks.
(b) VT-TWINS "CTR": one window at each ground-truth segment's start (the flattened CSV), classified among its task's
    step texts by argmax (pessimistic ties); accuracy per task, averaged. Oracle boundaries: not comparable to (a).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import torch

from vttwins.alignment import hard_path
from vttwins.data import read_crosstask, read_crosstask_flat

from . import chance, metrics
from .common import (
    dataset_path,
    encode_text,
    encode_windows,
    guarded,
    item_table,
    make_table,
    maybe_normalize,
    resolve_mode,
    resolve_model,
    warn_missing_words,
    with_items,
)
from .config import EvalConfig
from .windows import WindowSource, centered_starts, floor_seconds

log = logging.getLogger(__name__)


def _source(dataset, mode: str, config: EvalConfig) -> WindowSource:
    return WindowSource(
        config,
        mode,
        videos=dataset_path(dataset, "crosstask", "videos", required=mode == "pixel"),
        features=dataset_path(dataset, "crosstask", "features", required=mode == "feature"),
    )


def annotated_videos(data, config: EvalConfig) -> pd.DataFrame:
    """Annotated videos of the chosen split (task, video_id), in file order."""
    ann = data.annotations[["task", "video_id"]].astype(str).drop_duplicates()
    vids = data.videos.astype({"task": str, "video_id": str})
    if config.crosstask_split is not None and "split" in vids.columns:
        vids = vids[vids["split"].astype(str) == config.crosstask_split]
    out = ann.merge(vids[["task", "video_id"]], on=["task", "video_id"])
    out = out[out["task"].isin([str(t) for t in data.tasks])]
    unknown = _unannotated(vids, ann, data, config)
    if config.max_videos is not None:
        out = out.iloc[: config.max_videos]
    out = out.reset_index(drop=True)
    out.attrs["unannotated"] = len(unknown)
    return out


def _unannotated(vids: pd.DataFrame, ann: pd.DataFrame, data, config: EvalConfig) -> list[str]:
    """Videos listed for the evaluated split (of a task in tasks_primary.txt) without any annotation: skipped,
    counted, and named in one WARNING (a wrong id or a missing annotation file, never a scored video)."""
    if config.crosstask_split is None:
        return []  # "every annotated video": a listed video without annotation is simply not one of them
    listed = vids[vids["task"].isin([str(t) for t in data.tasks])][["task", "video_id"]].drop_duplicates()
    known = set(zip(ann["task"], ann["video_id"]))
    unknown = [f"{t}_{v}" for t, v in zip(listed["task"], listed["video_id"]) if (t, v) not in known]
    if unknown:
        log.warning(
            "crosstask: skipping %d video(s) of split %r listed without an annotation file (first: %s); "
            "they are not scored",
            len(unknown),
            config.crosstask_split,
            ", ".join(unknown[:3]),
        )
    return unknown


def _second_embeddings(model, src: WindowSource, task: str, vid: str, config: EvalConfig) -> np.ndarray:
    """(T, E): one embedding per second (computed every `crosstask_stride` seconds and repeated)."""
    duration = src.duration(vid, task)
    t_len = floor_seconds(duration)
    seconds = np.arange(0, t_len, config.crosstask_stride)
    x = src.windows(vid, centered_starts(seconds, src.clip_seconds, duration), task)
    emb = maybe_normalize(encode_windows(model, x, config), config)
    return np.repeat(emb, config.crosstask_stride, axis=0)[:t_len]


def ordered_path(emb: np.ndarray, steps: np.ndarray) -> list[tuple[int, int]]:
    """hard_path (hard DTW, no smoothing, no weak lattice) on the per-step standardised scores of
    `metrics.standardize_steps`, written as embeddings so hard_path's cost -<x_t, y_k> is exactly -z_tk:
    x_t = emb_t - mean_t(emb) (centres every column), y_k = step_k / std_k (scales it)."""
    x = emb - emb.mean(axis=0, keepdims=True)
    std = (x @ steps.T).std(axis=0)
    y = steps / np.where(std > 0, std, 1.0)[:, None]
    hp = hard_path(torch.from_numpy(x)[None], torch.from_numpy(y)[None], smooth=False, weak=False)[0]
    return [tuple(p) for p in hp.pairs.tolist()]


def step_texts(model, tokenizer, texts, config: EvalConfig, cache: dict | None = None) -> np.ndarray:
    """`encode_text` of one task's step texts, kept in `cache` (a dict for one model and config) by the texts: the
    standard and CTR protocols encode the same steps, in the same batches, hence to the same bits."""
    key = tuple(texts)
    if cache is None:
        return encode_text(model, tokenizer, list(key), config)
    if key not in cache:
        cache[key] = encode_text(model, tokenizer, list(key), config)
    return cache[key]


def video_segments(annotations: pd.DataFrame) -> dict[tuple[str, str], list[tuple]]:
    """{(task, video_id): [(0-based step, start, end), ...] in file order} of the annotations (one pass)."""
    ann = annotations.astype({"task": str, "video_id": str})
    rows = zip(*(col.tolist() for col in (ann["task"], ann["video_id"], ann["step"] - 1, ann["start"], ann["end"])))
    out: dict[tuple[str, str], list[tuple]] = {}
    for task, vid, step, start, end in rows:
        out.setdefault((task, vid), []).append((step, start, end))
    return out


def crosstask_standard(
    model, dataset, tokenizer=None, config: EvalConfig | None = None, text_cache: dict | None = None
) -> pd.DataFrame:
    """Per-second recall of the `standard` and `ordered` decoders, per task and `mean`, with per-video items.

    text_cache: a dict shared with `crosstask_ctr` for the same model and config (`step_texts`)."""
    config = config or EvalConfig()
    model, tokenizer = resolve_model(model, tokenizer)
    src = _source(dataset, resolve_mode(model, config), config)
    data = read_crosstask(dataset_path(dataset, "crosstask", "root"))
    warn_missing_words(tokenizer, [s for task in data.tasks.values() for s in task.steps], "crosstask steps")
    step_emb = {t: step_texts(model, tokenizer, task.steps, config, text_cache) for t, task in data.tasks.items()}
    segments = video_segments(data.annotations)
    results = {"standard": [], "ordered": []}
    gts = []
    for row in annotated_videos(data, config).itertuples(index=False):
        steps = step_emb[row.task]
        emb = guarded(
            config,
            f"crosstask video {row.video_id}",
            lambda: _second_embeddings(model, src, row.task, row.video_id, config),
        )
        if emb is None:
            continue
        gt = metrics.interval_mask(len(emb), len(steps), segments.get((row.task, row.video_id), []))
        scores = emb @ steps.T
        gts.append((row.task, gt))
        for variant, inst in (
            ("standard", metrics.crosstask_predict(scores)),
            ("ordered", metrics.ordered_instants(scores, ordered_path(emb, steps))),
        ):
            results[variant].append((row.task, *metrics.crosstask_hits(inst, gt), row.video_id))
    if not gts:
        raise ValueError("no CrossTask video could be evaluated")
    chances = {
        "standard": chance.crosstask_chance(gts),
        "ordered": chance.ordered_crosstask_chance(gts, config.ordered_chance_draws, config.seed),
    }
    counts = pd.Series([t for t, _ in gts]).value_counts()
    rows = []
    for variant, per_video in results.items():
        rec, ch = metrics.pooled_recall([v[:3] for v in per_video]), chances[variant]
        rows += [
            dict(
                task="step_localization",
                protocol="crosstask",
                variant=variant,
                metric="recall",
                split=t,
                value=rec[t],
                chance=ch[t],
                n=int(counts[t]),
            )
            for t in rec
        ]
        rows.append(
            dict(
                task="step_localization",
                protocol="crosstask",
                variant=variant,
                metric="recall",
                split="mean",
                value=np.mean(list(rec.values())),
                chance=np.mean([ch[t] for t in rec]),
                n=len(gts),
            )
        )
    return with_items(make_table(rows), video_items(results))


def video_items(results: dict[str, list[tuple[str, int, int, str]]], metric: str = "recall") -> pd.DataFrame:
    """Per-video hits and annotated steps of each variant (split `mean`), item `task/video`: score = 100 hits /
    total, weight = total / (the task's annotated steps), so sum(weight * score) / sum(weight) = the mean over tasks
    of the pooled per-task recall, the `mean` row. Videos without an annotated step get weight 0. CTR uses it with
    its segments: hits = correctly classified segments of the video, total = its segments, metric `accuracy`."""
    frames = []
    for variant, per_video in results.items():
        df = pd.DataFrame(per_video, columns=["t", "hits", "total", "video"])
        task_total = df.groupby("t")["total"].transform("sum")
        frames.append(
            pd.DataFrame(
                {
                    "task": "step_localization",
                    "protocol": "crosstask",
                    "variant": variant,
                    "metric": metric,
                    "split": "mean",
                    "item": df["t"].astype(str) + "/" + df["video"].astype(str),
                    "score": np.where(df["total"] > 0, 100.0 * df["hits"] / df["total"].clip(lower=1), 0.0),
                    "weight": np.where(task_total > 0, df["total"] / task_total.clip(lower=1), 0.0),
                    "hits": df["hits"],
                    "total": df["total"],
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def crosstask_ctr(
    model, dataset, tokenizer=None, config: EvalConfig | None = None, text_cache: dict | None = None
) -> pd.DataFrame:
    """VT-TWINS CTR: segment classification accuracy per task (percent) and its mean over tasks (`text_cache`: see
    `crosstask_standard`)."""
    config = config or EvalConfig()
    model, tokenizer = resolve_model(model, tokenizer)
    src = _source(dataset, resolve_mode(model, config), config)
    flat = read_crosstask_flat(dataset_path(dataset, "crosstask", "flat_csv")).astype({"task_id": str})
    if config.max_clips is not None:
        flat = flat.iloc[: config.max_clips]
    candidates = _step_candidates(dataset, flat)
    step_emb = {t: step_texts(model, tokenizer, c, config, text_cache) for t, c in candidates.items()}
    scores, labels, videos = _segment_scores(model, src, flat, candidates, step_emb, config)
    correct = {t: [bool(c) for c in metrics.top1_correct(np.concatenate(scores[t]), labels[t])] for t in scores}
    if not correct:
        raise ValueError("no CrossTask segment could be evaluated")
    per_video = []  # (task, correct segments, segments, video): the items, one per video as for the recall
    for t in sorted(correct):
        hits = pd.Series(correct[t], dtype=int).groupby(pd.Series(videos[t]), sort=False).agg(["sum", "size"])
        per_video += [(t, int(h), int(n), v) for v, (h, n) in hits.iterrows()]
    rows = []
    for t in sorted(correct):
        rows.append(
            dict(
                task="step_localization",
                protocol="crosstask",
                variant="ctr",
                metric="accuracy",
                split=t,
                value=100.0 * np.mean(correct[t]),
                chance=100.0 / len(candidates[t]),
                n=len(correct[t]),
            )
        )
    mean = pd.DataFrame(rows)
    rows.append(
        dict(
            task="step_localization",
            protocol="crosstask",
            variant="ctr",
            metric="accuracy",
            split="mean",
            value=mean["value"].mean(),
            chance=mean["chance"].mean(),
            n=int(mean["n"].sum()),
        )
    )
    return with_items(make_table(rows), video_items({"ctr": per_video}, metric="accuracy"))


def _segment_scores(model, src: WindowSource, flat: pd.DataFrame, candidates: dict, step_emb: dict, config):
    """({task: [(1, K) scores of one segment's window against the task's steps]}, {task: [true step index]},
    {task: [the segment's video]}).

    One window per forward pass and one product per segment, as the protocol was first computed (a batch of several
    windows changes the float bits of their embeddings); the top-1 decisions are then taken per task at once."""
    scores: dict[str, list[np.ndarray]] = {}
    labels: dict[str, list[int]] = {}
    videos: dict[str, list[str]] = {}
    index = {t: {text: i for i, text in reversed(list(enumerate(c)))} for t, c in candidates.items()}  # list.index
    columns = (flat[c].tolist() for c in ("video_id", "start", "task_id", "text"))
    for vid, start, task, text in zip(*columns):
        x = guarded(config, f"crosstask segment {vid}@{start}", lambda: src.windows(str(vid), [float(start)], task))
        if x is None:
            continue
        v = maybe_normalize(encode_windows(model, x, config), config)
        scores.setdefault(task, []).append(v @ step_emb[task].T)
        labels.setdefault(task, []).append(index[task][str(text)])
        videos.setdefault(task, []).append(str(vid))
    return scores, labels, videos


def _step_candidates(dataset, flat: pd.DataFrame) -> dict[str, list[str]]:
    """Each task's step texts: tasks_primary.txt when the official release is there, else the flat CSV's texts."""
    root = dataset_path(dataset, "crosstask", "root", required=False)
    out: dict[str, list[str]] = {}
    if root is not None and root.is_dir():
        out = {str(t): list(task.steps) for t, task in read_crosstask(root).tasks.items()}
    for t, texts in flat.groupby("task_id")["text"]:
        if t not in out:
            out[t] = sorted(set(texts.astype(str)))
        missing = sorted(set(texts.astype(str)) - set(out[t]))
        if missing:
            raise ValueError(f"CrossTask task {t}: flat CSV texts {missing[:3]} are not among its steps")
    return out


def step_localization(
    model,
    dataset,
    protocol: str = "crosstask",
    tokenizer=None,
    config: EvalConfig | None = None,
    variants=("standard", "ordered", "ctr"),
) -> pd.DataFrame:
    """Both CrossTask protocols: per-second recall (standard, ordered) and CTR accuracy, per task and mean."""
    if protocol != "crosstask":
        raise ValueError(f"protocol must be 'crosstask', got {protocol!r}")
    config = config or EvalConfig()
    model, tokenizer = resolve_model(model, tokenizer)
    parts, text_cache = [], {}  # the step texts are encoded once for both protocols
    if {"standard", "ordered"} & set(variants):
        df = crosstask_standard(model, dataset, tokenizer, config, text_cache)
        parts.append(df[df["variant"].isin(variants)])
    if "ctr" in variants:
        parts.append(crosstask_ctr(model, dataset, tokenizer, config, text_cache))
    items = [it[it["variant"].isin(variants)] for it in map(item_table, parts) if it is not None]
    out = pd.concat(parts, ignore_index=True)
    out.attrs.clear()  # the parts' items are merged here, not by concat
    return with_items(out, pd.concat(items, ignore_index=True)) if items else out
