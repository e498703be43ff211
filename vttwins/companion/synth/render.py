"""Frames of a SynthHowTo video and their byte-stable encoding with PyAV.

    frames = render_frames(world, timeline, fps=5.0, size=64, pixel_noise=8.0, rng=rng)  # uint8 (T, H, W, 3)
    write_video(path, frames, fps=5.0)                                                  # mpeg4, one thread

The object of a step is a coloured shape (world.OBJECTS), its verb a motion pattern (world.VERBS[...][3]) whose
phase repeats every `timeline.MOTION_PERIOD` seconds; each task has its own background colour and stripe pattern;
background segments show the empty scene. Per-video colour jitter and per-pixel noise make frames non-identical.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from .timeline import Timeline, motion_phase, segment_at
from .world import MOTIONS, OBJECTS, World

TWO_PI = 2.0 * np.pi


def _motion_params(motion: str, p: np.ndarray) -> dict[str, np.ndarray]:
    """Per-frame sprite parameters (offsets in units of the frame size, scales, angle, split, fill, alpha)."""
    z, one = np.zeros_like(p), np.ones_like(p)
    q = {"cx": z, "cy": z, "angle": z, "sx": one, "sy": one, "split": z, "fill": one, "alpha": one}
    if motion == "split":
        q["split"] = 0.6 * p
    elif motion == "fill":
        q["fill"] = 0.15 + 0.85 * p
    elif motion == "rotate":
        q["angle"] = TWO_PI * p
    elif motion == "spin":
        q["angle"] = -2.0 * TWO_PI * p
        q["sx"] = q["sy"] = 0.8 * one
    elif motion == "shake":
        q["cx"] = 0.12 * np.sin(TWO_PI * 6.0 * p)
    elif motion == "roll":
        q["cx"], q["angle"] = -0.25 + 0.5 * p, 2.0 * TWO_PI * p
    elif motion == "squash":
        q["sy"], q["sx"] = 1.0 - 0.5 * np.sin(np.pi * p), 1.0 + 0.3 * np.sin(np.pi * p)
    elif motion == "bounce":
        q["cy"] = -0.25 * np.abs(np.sin(TWO_PI * p))
    elif motion == "translate":
        q["cx"] = -0.3 + 0.6 * p
    elif motion == "pulse":
        q["sx"] = q["sy"] = 1.0 + 0.35 * np.sin(TWO_PI * 2.0 * p)
    elif motion == "flip":
        q["sx"] = np.maximum(np.abs(np.cos(TWO_PI * p)), 0.08)
    elif motion == "orbit":
        q["cx"], q["cy"] = 0.2 * np.cos(TWO_PI * p), 0.2 * np.sin(TWO_PI * p)
    elif motion == "blink":
        q["alpha"] = 0.55 + 0.45 * np.cos(TWO_PI * 3.0 * p)
    elif motion == "grow":
        q["sx"] = q["sy"] = 0.5 + 0.8 * p
    else:
        raise ValueError(f"unknown motion {motion!r}")
    return q


def _shape_mask(shape: str, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    au, av_ = np.abs(u), np.abs(v)
    if shape == "circle":
        return u * u + v * v < 1.0
    if shape == "ellipse":
        return (u / 1.25) ** 2 + (v / 0.7) ** 2 < 1.0
    if shape == "square":
        return np.maximum(au, av_) < 0.8
    if shape == "triangle":
        return (v < 0.75) & (au < 0.55 * (1.0 + v))
    if shape == "ring":
        r2 = u * u + v * v
        return (r2 < 1.0) & (r2 > 0.35)
    if shape == "bar":
        return (au < 1.3) & (av_ < 0.35)
    if shape == "diamond":
        return au + av_ < 1.0
    if shape == "cross":
        return ((au < 0.3) & (av_ < 1.0)) | ((av_ < 0.3) & (au < 1.0))
    raise ValueError(f"unknown shape {shape!r}")


def _sprite_mask(shape: str, q: dict[str, np.ndarray], size: int) -> np.ndarray:
    """Boolean (T, H, W) coverage of the sprite for per-frame parameters `q`."""
    grid = (np.arange(size, dtype=np.float32) + 0.5) / size - 0.5
    y, x = grid[None, :, None], grid[None, None, :]
    dx = x - q["cx"][:, None, None].astype(np.float32)
    dy = y - q["cy"][:, None, None].astype(np.float32)
    c, s = np.cos(q["angle"])[:, None, None], np.sin(q["angle"])[:, None, None]
    radius = 0.22
    u = (dx * c + dy * s) / (radius * q["sx"][:, None, None])
    v = (-dx * s + dy * c) / (radius * q["sy"][:, None, None])
    d = q["split"][:, None, None]
    if np.any(d > 0):  # two halves drifting apart
        mask = (_shape_mask(shape, u - d, v) & (u > d)) | (_shape_mask(shape, u + d, v) & (u < -d))
    else:
        mask = _shape_mask(shape, u, v)
    return mask & (v > 1.0 - 2.0 * q["fill"][:, None, None])  # fill rises from the bottom


def task_background(world: World, task_index: int, size: int) -> np.ndarray:
    """The task's scene: its colour with stripes whose angle and frequency depend on the task. (H, W, 3) float."""
    colour = np.asarray(world.backgrounds[task_index], dtype=np.float32)
    grid = np.arange(size, dtype=np.float32) / size
    theta = np.pi * task_index / max(len(world.tasks), 1)
    freq = 2.0 + task_index % 4
    stripes = np.sin(TWO_PI * freq * (np.cos(theta) * grid[None, :] + np.sin(theta) * grid[:, None]))
    return colour[None, None, :] + 18.0 * stripes[:, :, None]


def render_frames(
    world: World, timeline: Timeline, fps: float, size: int, pixel_noise: float, rng: np.random.Generator
) -> np.ndarray:
    """All frames of the video, uint8 (duration * fps, size, size, 3).

    Pixel noise comes from a per-video bank of 8 noise images, one drawn per frame (cheap, and the same
    nuisance for pixels as fresh noise would be at this scale).
    """
    n = int(round(timeline.duration * fps))
    t = np.arange(n) / fps
    seg_idx = segment_at(timeline, t)
    phase = motion_phase(timeline, seg_idx, t)
    bg = (task_background(world, timeline.task_index, size) + rng.uniform(-15, 15, size=3)).astype(np.float32)
    bank = rng.standard_normal((8, size, size, 3), dtype=np.float32) * np.float32(pixel_noise)
    img = bg[None] + bank[rng.integers(0, 8, size=n)]
    for k, seg in enumerate(timeline.steps):
        frames = np.nonzero(seg_idx == k)[0]
        if frames.size == 0:
            continue
        _, _, colour, shape = OBJECTS[seg.obj]
        q = _motion_params(MOTIONS[seg.verb], phase[frames])
        mask = _sprite_mask(shape, q, size)
        alpha = np.broadcast_to(q["alpha"].astype(np.float32)[:, None, None], mask.shape)[mask][:, None]
        sub = img[frames]
        sub[mask] = (1 - alpha) * sub[mask] + alpha * np.asarray(colour, np.float32)
        img[frames] = sub
    return np.clip(img, 0, 255, out=img).astype(np.uint8)


def write_video(path: str | Path, frames: np.ndarray, fps: float, codec: str = "mpeg4", quality: int = 4) -> None:
    """Encode uint8 (T, H, W, 3) frames. One encoder thread and no timestamps/metadata make the bytes stable."""
    rate = int(round(fps)) if float(fps).is_integer() else Fraction(fps).limit_denominator(1000)
    with av.open(str(path), mode="w", format="mp4") as container:
        stream = container.add_stream(codec, rate=rate)
        stream.width, stream.height = frames.shape[2], frames.shape[1]
        stream.pix_fmt = "yuv420p"
        stream.thread_count = 1
        stream.codec_context.thread_count = 1
        if codec == "mpeg4":
            stream.options = {"qscale": str(quality)}
        for img in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
