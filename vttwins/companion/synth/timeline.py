"""What happens when in one SynthHowTo video: step segments separated by background, sampled per video.

    tl = sample_task_timeline(rng, task, cfg)   # Timeline(duration=83, steps=[Segment(...), ...])

A segment's `verb`/`obj` index the world's VERBS/OBJECTS; `task_step` is its 0-based position in the task.
Durations are whole seconds (so the video, its features and its timeline agree exactly); segment times are
multiples of 0.1 s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .world import Task


@dataclass(frozen=True)
class Segment:
    verb: int
    obj: int
    task_step: int  # 0-based index into the task's steps (-1 when not from a task, e.g. action clips)
    start: float
    end: float


@dataclass(frozen=True)
class Timeline:
    duration: int  # seconds
    task_index: int  # which task's background is shown
    steps: list[Segment] = field(default_factory=list)


def _uniform(rng: np.random.Generator, lo_hi: tuple[float, float]) -> float:
    return round(float(rng.uniform(*lo_hi)), 1)


def task_step_order(rng: np.random.Generator, n_steps: int, keep_prob: float, swap_prob: float) -> list[int]:
    """Task step indices in order, each kept with `keep_prob`, each neighbour pair swapped with `swap_prob`."""
    order = list(range(n_steps))
    i = 0
    while i < n_steps - 1:
        if rng.random() < swap_prob:
            order[i], order[i + 1] = order[i + 1], order[i]
            i += 2  # a step moves at most one place
        else:
            i += 1
    kept = [s for s in order if rng.random() < keep_prob]
    return kept or [order[int(rng.integers(n_steps))]]  # never an empty video


def sample_task_timeline(
    rng: np.random.Generator,
    task: Task,
    task_index: int,
    step_seconds: tuple[float, float],
    gap_seconds: tuple[float, float],
    keep_prob: float,
    swap_prob: float,
) -> Timeline:
    t = _uniform(rng, gap_seconds)
    segments = []
    for s in task_step_order(rng, len(task.steps), keep_prob, swap_prob):
        length = _uniform(rng, step_seconds)
        verb, obj = task.steps[s]
        segments.append(Segment(verb, obj, s, round(t, 1), round(t + length, 1)))
        t += length + _uniform(rng, gap_seconds)
    return Timeline(duration=int(math.ceil(t)), task_index=task_index, steps=segments)


def single_step_timeline(
    verb: int, obj: int, task_step: int, task_index: int, duration: int, lead: float, tail: float
) -> Timeline:
    """A short clip: background for `lead` seconds, one step, background for the last `tail` seconds."""
    return Timeline(
        duration=duration,
        task_index=task_index,
        steps=[Segment(verb, obj, task_step, round(lead, 1), round(duration - tail, 1))],
    )


def segment_at(timeline: Timeline, t: np.ndarray) -> np.ndarray:
    """Index of the step segment covering each time in `t` (shape (T,)), -1 for background."""
    idx = np.full(t.shape, -1, dtype=np.int64)
    for k, seg in enumerate(timeline.steps):
        idx[(t >= seg.start) & (t < seg.end)] = k
    return idx


MOTION_PERIOD = 4.0  # seconds per motion cycle: a 3.2 s clip shows most of one cycle


def motion_phase(timeline: Timeline, seg_idx: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Phase in [0, 1) of the verb's motion cycle at each time (0 in background)."""
    starts = np.array([s.start for s in timeline.steps] + [0.0])[seg_idx]
    phase = ((t - starts) / MOTION_PERIOD) % 1.0
    return np.where(seg_idx >= 0, phase, 0.0)
