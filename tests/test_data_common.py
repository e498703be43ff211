"""Shared helpers of the tests/test_data_*.py files (no tests here)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import av
import numpy as np

from vttwins.companion.synth import SynthConfig

FIXTURES = Path(__file__).parent / "fixtures" / "data"

# A very small world and set: generates in a few seconds, exercises every file the real layouts have.
TINY = SynthConfig(
    num_tasks=4,
    num_verbs=6,
    num_objects=8,
    steps_per_task=(3, 5),
    step_seconds=(3.0, 6.0),
    gap_seconds=(1.0, 3.0),
    fps=4.0,
    size=32,
    howto_videos=8,
    youcook2_videos=3,
    msrvtt_videos=4,
    crosstask_videos=6,
    action_clips_per_class=2,
    msrvtt_seconds=(3, 5),
    action_seconds=(2, 3),
)


def tree_hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def write_frames(
    path: Path,
    frames: np.ndarray,
    fps: int = 10,
    pts: list[int] | None = None,
    time_base: int = 1000,
    audio: bool = False,
) -> None:
    """Encode uint8 (T, H, W, 3) frames; `pts` (in 1/time_base s) makes a variable-frame-rate file."""
    with av.open(str(path), "w", format="mp4") as c:
        s = c.add_stream("mpeg4", rate=fps)
        s.width, s.height, s.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        s.options = {"qscale": "2"}
        if pts is not None:
            from fractions import Fraction

            s.codec_context.time_base = Fraction(1, time_base)
        for i, img in enumerate(frames):
            fr = av.VideoFrame.from_ndarray(img, format="rgb24")
            if pts is not None:
                from fractions import Fraction

                fr.pts, fr.time_base = pts[i], Fraction(1, time_base)
            for p in s.encode(fr):
                c.mux(p)
        for p in s.encode():
            c.mux(p)


def flat_frames(values: list[int], size: int = 32) -> np.ndarray:
    """Frames of uniform grey levels (one per frame): decoded value identifies the frame despite compression."""
    return np.stack([np.full((size, size, 3), v, np.uint8) for v in values])
