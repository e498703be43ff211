"""`EvalConfig`: what the downstream evaluations run and how windows are sampled (docs/method.md §8).

    from vttwins.companion.evaluation import EvalConfig
    cfg = EvalConfig(tasks=["youcook2", "crosstask"], max_clips=200)

It is the `eval` section of a profile (`configs/<name>.yaml`); every field has the paper's default. A pydantic
dataclass: a bad value raises a `ValueError` (pydantic's `ValidationError`; `vttwins.companion.config` reports it in its one
format, `eval.max_clips=-1: must be >= 1 or null`). `tasks: all` is every registered task.
"""

from __future__ import annotations

from dataclasses import field
from typing import Literal

from pydantic import Field, field_validator
from pydantic.dataclasses import dataclass

from vttwins.companion.config_ranges import SECTION, Bool, Float, Int

from vttwins.companion.benchmarks.registry import (
    TASKS,
    default_tasks,
)  # TASKS: {name: Task}, the one registry of downstream tasks


def registered_tasks() -> list[str]:
    """Every task name in the registry now, in registration order (`tasks: all`)."""
    return list(TASKS)


@dataclass(config=SECTION)
class EvalConfig:
    tasks: list[str] = field(default_factory=default_tasks)  # names in TASKS (registry.py), run in this order
    mode: Literal["pixel", "feature"] | None = None  # None = the model's own mode
    # window sampling, docs/method.md §8
    youcook2_windows: Int = Field(10, ge=1)  # per clip, starts = linspace(start, max(start, end - 3.2 - 0.4), 10)
    msrvtt_windows: Int = Field(8, ge=1)  # evenly over the whole video
    action_windows: Int = Field(10, ge=1)  # evenly over the whole video
    num_frames: Int = Field(32, ge=1)  # pixel mode: frames per window
    fps: Float = Field(10.0, gt=0)  # pixel mode: YouCook2, CrossTask, action
    msrvtt_fps: Float = Field(20.0, gt=0)  # pixel mode: MSR-VTT
    size: Int = Field(224, ge=1)  # pixel mode: center crop side (after `resize`, if set)
    resize: Int | None = Field(None, ge=1)  # pixel mode: short-side resize before the crop (None = crop only)
    feature_window: Int = Field(4, ge=1)  # feature mode: vectors (seconds) per window
    max_words: Int = Field(30, ge=1)  # caption / step / class-name tokens
    normalize: Bool = False  # L2-normalise embeddings before the dot product (code: raw dot product)
    svm_c: Float = Field(100.0, gt=0)  # LinearSVC C of the linear probe
    svm_max_iter: Int = Field(10000, ge=1)
    svm_scale: Bool = True  # standardise probe features (train-split mean/std) before LinearSVC
    raw_probe: Bool = True  # feature mode: also probe the raw input vectors (row variant linear_raw)
    zero_shot_template: str = "{}"  # class-name prompt; "{}" is replaced by the class name ("brush hair")
    crosstask_split: str | None = "val"  # CrossTask videos used by the standard protocol (None = all annotated)
    crosstask_stride: Int = Field(1, ge=1)  # score every `stride`-th second (1 = every second, the protocol)
    ordered_chance_draws: Int = Field(100, ge=1)  # Monte Carlo draws for the ordered decoder's chance level
    action_splits: list[Literal[1, 2, 3]] = Field(default_factory=lambda: [1, 2, 3], min_length=1)
    action_dataset: Literal["hmdb", "ucf"] = "hmdb"  # hmdb: <action>/<file>, label "<action>_test"
    paths: dict = field(default_factory=dict)  # downstream files, SynthPaths names (youcook2_csv, ...); they
    # override / replace the SynthHowTo of the run (real data sets)
    batch_size: Int = Field(16, ge=1)  # windows per forward pass
    max_clips: Int | None = Field(None, ge=1)  # CPU profiles: first N retrieval pairs / CTR segments (None = all)
    max_videos: Int | None = Field(None, ge=1)  # CPU profiles: first N CrossTask / action videos (None = all)
    seed: Int = Field(0, ge=0)  # Monte Carlo chance draws; nothing else is random
    on_error: Literal["raise", "skip"] = "raise"  # skip: an unreadable video/feature file drops its item

    @field_validator("tasks", mode="before")
    @classmethod
    def _all_tasks(cls, tasks):
        """`all` -> every registered task, read from the registry now (not a copy taken at import)."""
        return registered_tasks() if tasks == "all" else tasks

    @field_validator("tasks")
    @classmethod
    def _registered(cls, tasks: list[str]) -> list[str]:
        unknown = [t for t in tasks if t not in TASKS]
        if unknown:
            raise ValueError(f"must be a subset of {registered_tasks()} or all (unknown task {unknown[0]!r})")
        return tasks

    @field_validator("zero_shot_template")
    @classmethod
    def _has_slot(cls, template: str) -> str:
        if "{}" not in template:
            raise ValueError("must contain '{}' (the class name)")
        return template
