"""The registered tasks' evaluators and readers, each with one uniform signature.

    df = youcook2(model, synth_paths, tokenizer, EvalConfig())   # = retrieval(model, ..., protocol="youcook2")
    items, texts = youcook2_items(synth_paths, EvalConfig())     # what it reads: (video_id, subdir) + its text

Evaluators: (model, dataset, tokenizer, EvalConfig) -> tidy DataFrame. Readers: (dataset, EvalConfig) ->
(DataFrame of what the task reads, columns video_id and subdir (the folder WindowSource looks in) and, for a task
that reads segments, start, end (seconds) and source (the annotation file), and the list of texts it encodes);
`data check` uses them to count items, check every file, the segments against the videos' lengths, and measure
vocabulary coverage.

`registry.py` names these as "vttwins.companion.evaluation.tasks:<name>" so that the registry stays a leaf module.
"""

from __future__ import annotations

import logging

import pandas as pd

from vttwins.data import read_crosstask, read_crosstask_flat

from .action_recognition import action_recognition, class_names, read_videos, video_dir
from .common import dataset_path
from .config import EvalConfig
from .retrieval import read_pairs, retrieval
from .step_localization import annotated_videos, step_localization

log = logging.getLogger(__name__)


def youcook2(model, dataset, tokenizer, config: EvalConfig) -> pd.DataFrame:
    return retrieval(model, dataset, "youcook2", tokenizer, config)


def msrvtt(model, dataset, tokenizer, config: EvalConfig) -> pd.DataFrame:
    return retrieval(model, dataset, "msrvtt", tokenizer, config)


def crosstask(model, dataset, tokenizer, config: EvalConfig) -> pd.DataFrame:
    """Standard and ordered recall; CTR accuracy too when the flat CSV (`crosstask_flat_csv`) is there."""
    flat = dataset_path(dataset, "crosstask", "flat_csv", required=False)
    if flat is not None and flat.exists():
        return step_localization(model, dataset, "crosstask", tokenizer, config)
    log.warning(
        "crosstask: no flat CSV (eval.paths.crosstask_flat_csv = %s), so the CTR protocol is skipped; "
        "docs/data.md shows how to write one",
        flat,
    )
    return step_localization(model, dataset, "crosstask", tokenizer, config, variants=("standard", "ordered"))


def action(model, dataset, tokenizer, config: EvalConfig) -> pd.DataFrame:
    return action_recognition(model, dataset, tokenizer, config, kind=config.action_dataset)


def _retrieval_items(dataset, protocol: str, config: EvalConfig):
    pairs = read_pairs(dataset, protocol, config)
    items = pairs[["video_id", "subdir", "start", "end"]].assign(source=str(dataset_path(dataset, protocol, "csv")))
    return items, pairs["text"].tolist()


def youcook2_items(dataset, config: EvalConfig):
    return _retrieval_items(dataset, "youcook2", config)


def msrvtt_items(dataset, config: EvalConfig):
    return _retrieval_items(dataset, "msrvtt", config)


def crosstask_items(dataset, config: EvalConfig):
    root = dataset_path(dataset, "crosstask", "root")
    data = read_crosstask(root)
    videos = annotated_videos(data, config)
    segs = data.annotations.astype({"task": str, "video_id": str}).merge(videos, on=["task", "video_id"])
    segs = segs.assign(
        source=[str(root / "annotations" / f"{t}_{v}.csv") for t, v in zip(segs["task"], segs["video_id"])]
    )
    parts = [segs.rename(columns={"task": "subdir"})[["video_id", "subdir", "start", "end", "source"]]]
    flat = dataset_path(dataset, "crosstask", "flat_csv", required=False)
    if flat is not None and flat.exists():  # the CTR protocol reads a window at each of its segments
        df = read_crosstask_flat(flat)
        df = df.iloc[: config.max_clips] if config.max_clips is not None else df
        parts.append(
            pd.DataFrame(
                {
                    "video_id": df["video_id"].astype(str),
                    "subdir": df["task_id"].astype(str),
                    "start": df["start"],
                    "end": df["end"],
                    "source": str(flat),
                }
            )
        )
    return pd.concat(parts, ignore_index=True), [s for task in data.tasks.values() for s in task.steps]


def action_items(dataset, config: EvalConfig):
    videos = read_videos(dataset, config, config.action_dataset)
    subdir = [video_dir(label, config.action_dataset) for label in videos["label"]]
    items = pd.DataFrame({"video_id": videos["video_id"].astype(str), "subdir": subdir})
    return items, [t for t in class_names(videos, config) if t is not None]
