"""HowTo100M-style narration of a SynthHowTo video: weakly aligned with what is shown.

    caps = narrate(rng, timeline, noise)   # list of Caption, sorted by start time like ASR output

Each present step is narrated with probability `noise.narrate_prob`, by 1..`captions_per_step` captions from the
pretraining paraphrase templates. Caption i of n for a step is nominally centred on the i-th of n equal parts of
the step; its time is then shifted by `offset ~ Normal(offset_mean, offset_std)` seconds (negative = narrated
before it is shown) and clipped to the video (the recorded offset is the one after clipping). Off-topic filler
captions are added so that they make up a fraction `filler_rate` of all non-empty captions in expectation
(Poisson(n_step * r / (1 - r)) per video, uniform in time), and empty-string captions (ASR silence) at
`empty_rate` per caption. Times are rounded to 0.01 s.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .timeline import Timeline
from .world import FILLERS, PRETRAIN_TEMPLATES, paraphrase


@dataclass(frozen=True)
class Caption:
    start: float
    end: float
    text: str
    kind: str  # "step" | "filler" | "empty"
    step: int | None = None  # index into timeline.steps for kind == "step"
    part: int = 0
    n_parts: int = 1
    offset: float = 0.0

    def to_json(self) -> dict:
        return {
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "kind": self.kind,
            "step": self.step,
            "part": self.part,
            "n_parts": self.n_parts,
            "offset": self.offset,
        }


def _place(rng: np.random.Generator, centre: float, duration: int, lo_hi: tuple[float, float]) -> tuple[float, float]:
    length = float(rng.uniform(*lo_hi))
    length = min(length, float(duration))
    start = min(max(centre - length / 2.0, 0.0), duration - length)
    return round(start, 2), round(start + length, 2)


def _step_captions(rng: np.random.Generator, timeline: Timeline, noise) -> list[Caption]:
    caps = []
    for k, seg in enumerate(timeline.steps):
        if rng.random() >= noise.narrate_prob:
            continue
        n = int(rng.integers(noise.captions_per_step[0], noise.captions_per_step[1] + 1))
        part_len = (seg.end - seg.start) / n
        for i in range(n):
            nominal = seg.start + (i + 0.5) * part_len
            shift = (
                float(rng.normal(noise.offset_mean, noise.offset_std)) if noise.offset_std > 0 else noise.offset_mean
            )
            start, end = _place(rng, nominal + shift, timeline.duration, noise.caption_seconds)
            text = paraphrase(rng, seg.verb, seg.obj, PRETRAIN_TEMPLATES)
            offset = round((start + end) / 2.0 - nominal, 2)
            caps.append(Caption(start, end, text, "step", k, i, n, offset))
    return caps


def narrate(rng: np.random.Generator, timeline: Timeline, noise) -> list[Caption]:
    caps = _step_captions(rng, timeline, noise)
    r = noise.filler_rate
    n_filler = int(rng.poisson(max(len(caps), 1) * r / (1.0 - r))) if r > 0 else 0
    for _ in range(n_filler):
        start, end = _place(rng, float(rng.uniform(0, timeline.duration)), timeline.duration, noise.caption_seconds)
        caps.append(Caption(start, end, FILLERS[int(rng.integers(len(FILLERS)))], "filler"))
    n_empty = int(rng.binomial(len(caps), noise.empty_rate)) if noise.empty_rate > 0 else 0
    for _ in range(n_empty):
        start, end = _place(rng, float(rng.uniform(0, timeline.duration)), timeline.duration, (0.5, 1.5))
        caps.append(Caption(start, end, "", "empty"))
    caps.sort(key=lambda c: (c.start, c.end))  # ASR order: shifts make the step order non-sequential
    return caps
