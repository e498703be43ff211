"""Set-level files of SynthHowTo from the per-video records of videos.py, through the public writers of
`vttwins.data.formats` (the layouts a user's own data takes; docs/formats.md), and each split's counts.

The built-in benchmarks name these by string in their `SynthSplit` (vttwins/companion/benchmarks/): a writer is
`(paths, config, world, records) -> None`, a summary `(records) -> dict` of counts.
"""

from __future__ import annotations

import numpy as np

from vttwins.data import formats
from .config import SynthConfig
from .paths import SynthPaths
from .world import World


def write_howto(paths: SynthPaths, records: list[dict]) -> None:
    # Real HowTo100M lists carry extra columns; the loaders read only `video_path`.
    formats.write_howto_list(paths.howto_csv, records, extra=["task_id", "duration"])


def write_youcook2(paths: SynthPaths, config: SynthConfig, world: World, records: list[dict]) -> None:
    rows = [row for r in records for row in r["rows"]]
    formats.write_youcook2(paths.youcook2_csv, rows)
    formats.write_youcook2_json(paths.youcook2_json, rows, {r["video_id"]: r["duration"] for r in records})


def write_msrvtt(paths: SynthPaths, config: SynthConfig, world: World, records: list[dict]) -> None:
    formats.write_msrvtt(paths.msrvtt_csv, records)


def write_crosstask(paths: SynthPaths, config: SynthConfig, world: World, records: list[dict]) -> None:
    tasks = [
        {
            "task_id": t.task_id,
            "title": t.title,
            "url": f"https://synthhowto.invalid/{t.title.replace(' ', '-')}",
            "steps": [world.step_name(v, o) for v, o in t.steps],
        }
        for t in world.tasks
    ]
    videos = [
        {
            "task_id": r["task_id"],
            "video_id": r["video_id"],
            "split": r["split"],
            "url": f"https://synthhowto.invalid/watch?v={r['video_id']}",
        }
        for r in records
    ]
    segments = [{**s, "task_id": r["task_id"], "video_id": r["video_id"]} for r in records for s in r["segments"]]
    formats.write_crosstask(paths.crosstask_root, tasks, videos, segments, flat_csv=paths.crosstask_flat_csv)


def action_splits(config: SynthConfig, records: list[dict]) -> np.ndarray:
    """(n_clips, 3) split codes: per class and split, 60% train (1), 30% test (2), the rest unused (0)."""
    codes = np.zeros((len(records), 3), dtype=np.int64)
    verbs = np.array([r["verb"] for r in records])
    for s in range(3):
        rng = np.random.default_rng(np.random.SeedSequence(config.seed, spawn_key=(3, s)))
        for v in np.unique(verbs):
            idx = rng.permutation(np.nonzero(verbs == v)[0])
            n_train = max(1, int(round(0.6 * idx.size)))
            n_test = max(1, int(round(0.3 * idx.size))) if idx.size > 1 else 0
            codes[idx[:n_train], s] = 1
            codes[idx[n_train : n_train + n_test], s] = 2
    return codes


def write_actions(paths: SynthPaths, config: SynthConfig, world: World, records: list[dict]) -> None:
    codes = action_splits(config, records)
    rows = [
        {"video_id": r["video_id"], "label": r["action"], **{f"split{s + 1}": int(c[s]) for s in range(3)}}
        for r, c in zip(records, codes)
    ]
    formats.write_actions(paths.action_csv, rows, splits_dir=paths.action_splits)  # + official HMDB split files


def youcook2_summary(records: list[dict]) -> dict:
    return {"youcook2_videos": len(records), "youcook2_pairs": sum(len(r["rows"]) for r in records)}


def msrvtt_summary(records: list[dict]) -> dict:
    return {"msrvtt_videos": len(records)}


def crosstask_summary(records: list[dict]) -> dict:
    return {
        "crosstask_videos": len(records),
        "crosstask_val_videos": sum(r["split"] == "val" for r in records),
        "crosstask_segments": sum(len(r["segments"]) for r in records),
    }


def action_summary(records: list[dict]) -> dict:
    return {"action_clips": len(records), "action_classes": len({r["action"] for r in records})}


def youcook2_count(config: SynthConfig) -> int:
    return config.youcook2_videos


def msrvtt_count(config: SynthConfig) -> int:
    return config.msrvtt_videos


def crosstask_count(config: SynthConfig) -> int:
    return config.crosstask_videos


def action_count(config: SynthConfig) -> int:
    return config.action_clips_per_class * config.num_verbs
