"""`EvalConfig`: what the downstream evaluations run and how windows are sampled (docs/method.md §8).

    from vttwins.evaluation import EvalConfig
    cfg = EvalConfig(tasks=["youcook2", "crosstask"], max_clips=200)

It is the `eval` section of a profile (`configs/<name>.yaml`); every field has the paper's default.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .registry import TASKS, default_tasks  # TASKS: {name: Task}, the one registry of downstream tasks


@dataclass
class EvalConfig:
    tasks: list[str] = field(default_factory=default_tasks)  # names in TASKS (registry.py), run in this order
    mode: str | None = None            # "pixel" | "feature"; None = the model's own mode
    # window sampling, docs/method.md §8
    youcook2_windows: int = 10         # per clip, starts = linspace(start, max(start, end - 3.2 - 0.4), 10)
    msrvtt_windows: int = 8            # evenly over the whole video
    action_windows: int = 10           # evenly over the whole video
    num_frames: int = 32               # pixel mode: frames per window
    fps: float = 10.0                  # pixel mode: YouCook2, CrossTask, action
    msrvtt_fps: float = 20.0           # pixel mode: MSR-VTT
    size: int = 224                    # pixel mode: center crop side (after `resize`, if set)
    resize: int | None = None          # pixel mode: short-side resize before the crop (None = crop only)
    feature_window: int = 4            # feature mode: vectors (seconds) per window
    max_words: int = 30                # caption / step / class-name tokens
    normalize: bool = False            # L2-normalise embeddings before the dot product (code: raw dot product)
    svm_c: float = 100.0               # LinearSVC C of the linear probe
    svm_max_iter: int = 10000
    svm_scale: bool = True             # standardise probe features (train-split mean/std) before LinearSVC
    raw_probe: bool = True             # feature mode: also probe the raw input vectors (row variant linear_raw)
    zero_shot_template: str = "{}"     # class-name prompt; "{}" is replaced by the class name ("brush hair")
    crosstask_split: str | None = "val"  # CrossTask videos used by the standard protocol (None = all annotated)
    crosstask_stride: int = 1          # score every `stride`-th second (1 = every second, the protocol)
    ordered_chance_draws: int = 100    # Monte Carlo draws for the ordered decoder's chance level
    action_splits: list[int] = field(default_factory=lambda: [1, 2, 3])
    action_dataset: str = "hmdb"       # "hmdb" (<action>/<file>, label "<action>_test") | "ucf"
    paths: dict = field(default_factory=dict)  # downstream files, SynthPaths names (youcook2_csv, ...); they
                                       # override / replace the SynthHowTo of the run (real data sets)
    batch_size: int = 16               # windows per forward pass
    max_clips: int | None = None       # CPU profiles: first N retrieval pairs / CTR segments (None = all)
    max_videos: int | None = None      # CPU profiles: first N CrossTask / action videos (None = all)
    seed: int = 0                      # Monte Carlo chance draws; nothing else is random
    on_error: str = "raise"            # "raise" | "skip": an unreadable video/feature file drops its item

    def __post_init__(self):
        unknown = [t for t in self.tasks if t not in TASKS]
        if unknown:
            raise ValueError(f"EvalConfig.tasks: unknown task(s) {unknown}; expected a subset of {list(TASKS)}")
        if self.mode not in (None, "pixel", "feature"):
            raise ValueError(f"EvalConfig.mode must be None, 'pixel' or 'feature', got {self.mode!r}")
        if self.action_dataset not in ("hmdb", "ucf"):
            raise ValueError(f"EvalConfig.action_dataset must be 'hmdb' or 'ucf', got {self.action_dataset!r}")
        if self.on_error not in ("raise", "skip"):
            raise ValueError(f"EvalConfig.on_error must be 'raise' or 'skip', got {self.on_error!r}")
        for name in ("youcook2_windows", "msrvtt_windows", "action_windows", "num_frames", "feature_window",
                     "max_words", "batch_size", "crosstask_stride", "ordered_chance_draws"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"EvalConfig.{name} must be >= 1, got {getattr(self, name)}")
        self._check_ranges()

    def _check_ranges(self) -> None:
        """Signs and ranges (an out-of-range limit would silently evaluate another subset: max_clips=-1 is
        every clip but the last). Messages name the key as it is written in a profile's `eval` section."""
        import math

        for name in ("max_clips", "max_videos", "resize"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValueError(f"config key 'eval.{name}' must be an integer >= 1 or null, got {value!r}")
        for name in ("fps", "msrvtt_fps", "svm_c"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                    or value <= 0:
                raise ValueError(f"config key 'eval.{name}' must be a finite number > 0, got {value!r}")
        for name in ("size", "svm_max_iter"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"config key 'eval.{name}' must be >= 1, got {getattr(self, name)!r}")
        if int(self.seed) < 0:
            raise ValueError(f"config key 'eval.seed' must be >= 0, got {self.seed!r}")
        bad = [s for s in self.action_splits if s not in (1, 2, 3)]
        if bad or not self.action_splits:
            raise ValueError(f"config key 'eval.action_splits' must be a non-empty subset of [1, 2, 3], "
                             f"got {self.action_splits!r}")
        if "{}" not in self.zero_shot_template:
            raise ValueError(f"config key 'eval.zero_shot_template' must contain '{{}}' (the class name), "
                             f"got {self.zero_shot_template!r}")
