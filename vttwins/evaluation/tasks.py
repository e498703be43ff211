"""The registered tasks' evaluators and readers, each with one uniform signature.

    df = youcook2(model, synth_paths, tokenizer, EvalConfig())   # = retrieval(model, ..., protocol="youcook2")
    items, texts = youcook2_items(synth_paths, EvalConfig())     # what it reads: (video_id, subdir) + its text

Evaluators: (model, dataset, tokenizer, EvalConfig) -> tidy DataFrame. Readers: (dataset, EvalConfig) ->
(DataFrame of the videos the task reads, columns video_id and subdir (the folder WindowSource looks in), and the
list of texts it encodes); `data check` uses them to count items, sample files and measure vocabulary coverage.

`registry.py` names these as "vttwins.evaluation.tasks:<name>" so that the registry stays a leaf module.
"""
from __future__ import annotations

import logging

import pandas as pd

from .action_recognition import action_recognition
from .common import dataset_path
from .config import EvalConfig
from .retrieval import retrieval
from .step_localization import step_localization

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
    log.warning("crosstask: no flat CSV (eval.paths.crosstask_flat_csv = %s), so the CTR protocol is skipped; "
                "docs/data.md shows how to write one", flat)
    return step_localization(model, dataset, "crosstask", tokenizer, config, variants=("standard", "ordered"))


def action(model, dataset, tokenizer, config: EvalConfig) -> pd.DataFrame:
    return action_recognition(model, dataset, tokenizer, config, kind=config.action_dataset)


def _retrieval_items(dataset, protocol: str, config: EvalConfig):
    from .retrieval import read_pairs
    pairs = read_pairs(dataset, protocol, config)
    return pairs[["video_id", "subdir"]], pairs["text"].tolist()


def youcook2_items(dataset, config: EvalConfig):
    return _retrieval_items(dataset, "youcook2", config)


def msrvtt_items(dataset, config: EvalConfig):
    return _retrieval_items(dataset, "msrvtt", config)


def crosstask_items(dataset, config: EvalConfig):
    from vttwins.data import read_crosstask

    from .step_localization import _videos
    data = read_crosstask(dataset_path(dataset, "crosstask", "root"))
    videos = _videos(data, config).rename(columns={"task": "subdir"})
    return videos[["video_id", "subdir"]], [s for task in data.tasks.values() for s in task.steps]


def action_items(dataset, config: EvalConfig):
    from .action_recognition import _video_dir, class_names, read_videos
    videos = read_videos(dataset, config, config.action_dataset)
    subdir = [_video_dir(label, config.action_dataset) for label in videos["label"]]
    items = pd.DataFrame({"video_id": videos["video_id"].astype(str), "subdir": subdir})
    return items, [t for t in class_names(videos, config) if t is not None]
