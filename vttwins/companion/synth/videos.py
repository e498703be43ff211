"""One SynthHowTo video per call: sample its content, render and write its files, return its record.

Every video draws from its own `SeedSequence(config.seed, spawn_key=(2, SET_CODE[kind], index))`, so its bytes do
not depend on the other videos or on the number of worker processes. `SET_CODE` holds the built-in splits' codes
(each benchmark's `SynthSplit.seed_code`); a benchmark's own maker draws from `split_rng(config, seed_code, index)`.
"""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path

import numpy as np

from vttwins.companion.benchmarks.split import resolve
from vttwins.data import formats
from .config import SynthConfig
from .features import FeatureMap, video_features
from .narration import narrate
from .paths import SynthPaths
from .render import render_frames, write_video
from .timeline import Timeline, sample_task_timeline, single_step_timeline
from .world import HELDOUT_TEMPLATES, VERBS, World, build_world, paraphrase

SET_CODE = {"howto": 1, "youcook2": 2, "msrvtt": 3, "crosstask": 4, "action": 5}
_ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"


@functools.lru_cache(maxsize=4)
def world_for(config: SynthConfig) -> World:
    return build_world(config.seed, config.num_tasks, config.num_verbs, config.num_objects, config.steps_per_task)


@functools.lru_cache(maxsize=4)
def feature_map_for(seed: int, dim: int) -> FeatureMap:
    return FeatureMap.from_seed(seed, dim)


def video_rng(config: SynthConfig, kind: str, index: int) -> np.random.Generator:
    return split_rng(config, SET_CODE[kind], index)


def split_rng(config: SynthConfig, seed_code: int, index: int) -> np.random.Generator:
    """The generator of item `index` of the split whose `SynthSplit.seed_code` is `seed_code`."""
    return np.random.default_rng(np.random.SeedSequence(config.seed, spawn_key=(2, seed_code, index)))


def random_id(rng: np.random.Generator) -> str:
    """An 11-character YouTube-like id (letters, digits, '_' and '-'; never starting with '-')."""
    chars = [_ID_CHARS[int(i)] for i in rng.integers(0, 62, size=1)]
    return "".join(chars + [_ID_CHARS[int(i)] for i in rng.integers(0, 64, size=10)])


def render_and_write(
    config: SynthConfig, timeline: Timeline, video: Path, feature: Path, rng: np.random.Generator
) -> None:
    """Render `timeline` to `video` (unless `config.render_videos` is off) and write its features to `feature`."""
    if config.render_videos:
        frames = render_frames(world_for(config), timeline, config.fps, config.size, config.noise.pixel_noise, rng)
        video.parent.mkdir(parents=True, exist_ok=True)
        write_video(video, frames, config.fps, codec=config.codec)
    else:  # keep the feature noise identical to a rendered set: draw what render_frames would have drawn
        rng.uniform(-15, 15, size=3)
        rng.standard_normal((8, config.size, config.size, 3), dtype=np.float32)
        rng.integers(0, 8, size=int(round(timeline.duration * config.fps)))
    feats = video_features(feature_map_for(config.seed, config.feature_dim), timeline, config.noise.feature_noise, rng)
    formats.save_features(feature, feats)


def _task_timeline(config: SynthConfig, rng: np.random.Generator, task_index: int | None = None) -> Timeline:
    world = world_for(config)
    k = int(rng.integers(len(world.tasks))) if task_index is None else task_index
    return sample_task_timeline(
        rng, world.tasks[k], k, config.step_seconds, config.gap_seconds, config.step_keep_prob, config.swap_prob
    )


def _steps_json(world: World, timeline: Timeline) -> list[dict]:
    return [
        {
            "verb": s.verb,
            "object": s.obj,
            "name": world.step_name(s.verb, s.obj),
            "task_step": s.task_step,
            "start": s.start,
            "end": s.end,
        }
        for s in timeline.steps
    ]


def make_howto(config: SynthConfig, paths: SynthPaths, index: int) -> dict:
    rng = video_rng(config, "howto", index)
    vid = random_id(rng)
    world = world_for(config)
    tl = _task_timeline(config, rng)
    caps = narrate(rng, tl, config.noise)
    render_and_write(config, tl, paths.howto_videos / f"{vid}.mp4", paths.howto_features / f"{vid}.mp4.npy", rng)
    formats.write_captions(
        paths.howto_captions, vid, [c.start for c in caps], [c.end for c in caps], [c.text for c in caps]
    )
    task = world.tasks[tl.task_index]
    ann = {
        "video_id": vid,
        "task_id": task.task_id,
        "task_index": tl.task_index,
        "duration": tl.duration,
        "fps": config.fps,
        "size": config.size,
        "steps": _steps_json(world, tl),
        "captions": [c.to_json() for c in caps],
    }
    with open(paths.howto_annotations / f"{vid}.json", "w") as f:
        json.dump(ann, f, indent=1)
    kinds = [c.kind for c in caps]
    return {
        "video_id": vid,
        "video_path": f"{vid}.mp4",
        "task_id": task.task_id,
        "duration": tl.duration,
        "n_steps": len(tl.steps),
        "n_step_captions": kinds.count("step"),
        "n_filler": kinds.count("filler"),
        "n_empty": kinds.count("empty"),
        "offsets": [c.offset for c in caps if c.kind == "step"],
    }


def make_youcook2(config: SynthConfig, paths: SynthPaths, index: int) -> dict:
    rng = video_rng(config, "youcook2", index)
    vid = random_id(rng)
    tl = _task_timeline(config, rng)
    task = world_for(config).tasks[tl.task_index]
    rows = [
        {
            "end": int(math.ceil(s.end)),
            "start": int(math.floor(s.start)),
            "task": task.task_id,
            "text": paraphrase(rng, s.verb, s.obj, HELDOUT_TEMPLATES),
            "video_id": vid,
        }
        for s in tl.steps
    ]
    render_and_write(
        config, tl, paths.youcook2_videos / task.task_id / f"{vid}.mp4", paths.youcook2_features / f"{vid}.mp4.npy", rng
    )
    return {"video_id": vid, "task_id": task.task_id, "duration": tl.duration, "rows": rows}


def make_crosstask(config: SynthConfig, paths: SynthPaths, index: int) -> dict:
    rng = video_rng(config, "crosstask", index)
    vid = random_id(rng)
    world = world_for(config)
    tl = _task_timeline(config, rng, task_index=index % len(world.tasks))
    task = world.tasks[tl.task_index]
    split = "val" if rng.random() < config.crosstask_val_fraction else "train"
    render_and_write(
        config,
        tl,
        paths.crosstask_videos / task.task_id / f"{vid}.mp4",
        paths.crosstask_features / f"{vid}.mp4.npy",
        rng,
    )
    segs = [
        {"step": s.task_step + 1, "start": s.start, "end": s.end, "text": world.step_name(s.verb, s.obj)}
        for s in tl.steps
    ]
    return {"video_id": vid, "task_id": task.task_id, "duration": tl.duration, "split": split, "segments": segs}


def _short_timeline(
    config: SynthConfig, rng: np.random.Generator, lo_hi: tuple[int, int], verb: int | None
) -> Timeline:
    world = world_for(config)
    k = int(rng.integers(len(world.tasks)))
    duration = int(rng.integers(lo_hi[0], lo_hi[1] + 1))
    lead, tail = float(rng.uniform(0.3, 1.0)), float(rng.uniform(0.3, 1.0))
    if verb is None:  # a step of the sampled task
        j = int(rng.integers(len(world.tasks[k].steps)))
        v, o = world.tasks[k].steps[j]
        return single_step_timeline(v, o, j, k, duration, lead, tail)
    return single_step_timeline(verb, int(rng.integers(len(world.objects))), -1, k, duration, lead, tail)


def make_msrvtt(config: SynthConfig, paths: SynthPaths, index: int) -> dict:
    rng = video_rng(config, "msrvtt", index)
    vid = f"video{index}"
    tl = _short_timeline(config, rng, config.msrvtt_seconds, None)
    s = tl.steps[0]
    text = paraphrase(rng, s.verb, s.obj, HELDOUT_TEMPLATES)
    render_and_write(config, tl, paths.msrvtt_videos / f"{vid}.mp4", paths.msrvtt_features / f"{vid}.mp4.npy", rng)
    return {
        "key": f"ret{index}",
        "vid_key": f"msr{index}",
        "video_id": vid,
        "sentence": text,
        "duration": tl.duration,
        "verb": s.verb,
        "object": s.obj,
    }


def make_action(config: SynthConfig, paths: SynthPaths, index: int) -> dict:
    rng = video_rng(config, "action", index)
    verb = index % config.num_verbs
    action = VERBS[verb][0]
    file = f"{action}_{random_id(rng)}_{index // config.num_verbs}.mp4"
    tl = _short_timeline(config, rng, config.action_seconds, verb)
    render_and_write(
        config, tl, paths.action_videos / action / file, paths.action_features / f"{file.split('.')[0]}.mp4.npy", rng
    )
    return {"video_id": file, "action": action, "verb": verb, "object": tl.steps[0].obj, "duration": tl.duration}


def run_job(job: tuple) -> dict:
    """`(config, paths, kind, index, make)` -> the record of item `index`: `make` is a callable or a
    "module:function" string (a benchmark's `SynthSplit.make`), resolved in the worker."""
    config, paths, _kind, index, make = job
    return resolve(make)(config, paths, index)
