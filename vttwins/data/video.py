"""Reading video with PyAV: a time window at a target fps and size, as uint8 (3, T, H, W).

    clip = read_clip("x.mp4", start=12.0, num_frames=32, fps=10.0, size=224, crop="random", rng=rng)
    info = probe_video("x.mp4")       # {"duration", "fps", "frames", "width", "height", "codec", "has_audio"}

Frame t of a clip is the frame *displayed* at time start + t / fps (the last decoded frame whose timestamp is
<= that time), so variable frame rates and fps conversion need no special case. Like the released loader
(ffmpeg `-ss start -t 3.2`, fps filter, crop, then padding), frames past the end of the video are padded with
the value 1 (released: `th.ones`), or with the last frame when `pad="last"`. Crops: `resize=None` crops `size`
pixels directly (the released training crop, "crop_only"); `resize=R` first scales the short side to R. A frame
smaller than `size` is scaled up so that its short side is `size` (ffmpeg would fail there).
"""
from __future__ import annotations

import math
from pathlib import Path

import av
import numpy as np
import torch

from .errors import DataFileError, missing

VIDEO_EXTS = (".mp4", ".mkv", ".webm", ".avi")


def find_video(root: str | Path, relpath_or_id: str) -> Path:
    """`root/relpath` if it exists, else `root/<relpath without extension>` + .mp4/.mkv/.webm/.avi."""
    base = Path(root) / str(relpath_or_id)
    if base.is_file():
        return base
    stem = base.with_name(base.name.split(".")[0])
    for ext in VIDEO_EXTS:
        if (p := stem.with_name(stem.name + ext)).is_file():
            return p
    raise missing(base, f"video (also tried {'/'.join(VIDEO_EXTS)})")


def _open(path: str | Path):
    path = Path(path)
    if not path.is_file():
        raise missing(path, "video file")
    try:
        container = av.open(str(path))
    except av.error.FFmpegError as err:
        raise DataFileError(path, f"cannot open video ({err})") from err
    if not container.streams.video:
        container.close()
        raise DataFileError(path, "no video stream")
    return container


def _duration(container, stream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def probe_video(path: str | Path) -> dict:
    """Container metadata of the first video stream (no decoding)."""
    with _open(path) as container:
        s = container.streams.video[0]
        rate = s.average_rate or s.guessed_rate
        return {"path": str(path), "duration": _duration(container, s), "fps": float(rate) if rate else None,
                "frames": int(s.frames) if s.frames else None, "width": s.codec_context.width,
                "height": s.codec_context.height, "codec": s.codec_context.name,
                "has_audio": bool(container.streams.audio)}


def _geometry(w: int, h: int, size: int | None, resize: int | None) -> tuple[int, int]:
    """Decoded frame size (w, h) before cropping."""
    short = min(w, h)
    target = resize if resize is not None else (size if size is not None and short < size else None)
    if target is None:
        return w, h
    return max(int(round(w * target / short)), target), max(int(round(h * target / short)), target)


def _crop_box(w: int, h: int, size: int | None, crop: str, rng) -> tuple[int, int, int, int]:
    if size is None:
        return 0, 0, w, h
    if crop == "center":
        aw = ah = 0.5
    elif crop == "random":
        rng = rng if rng is not None else np.random.default_rng()
        aw, ah = float(rng.uniform()), float(rng.uniform())
    else:
        raise ValueError(f"crop must be 'center' or 'random', got {crop!r}")
    x, y = int((w - size) * aw), int((h - size) * ah)
    return x, y, size, size


def _decode_window(container, path, start: float, times: np.ndarray) -> list:
    """The av.VideoFrame displayed at each time (None past the end of the video)."""
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    if start > 0 and stream.time_base is not None:
        container.seek(int(start / stream.time_base), stream=stream, backward=True, any_frame=False)
    eps = 1e-4
    out: list = [None] * len(times)
    i, prev, prev_t, step = 0, None, None, None
    try:
        for frame in container.decode(stream):
            ft = frame.time if frame.time is not None else (prev_t + (step or 0.0) if prev_t is not None else 0.0)
            while i < len(times) and times[i] + eps < ft:
                out[i] = prev if prev is not None else frame  # before the first frame: show the first one
                i += 1
            if i >= len(times):
                break
            step = ft - prev_t if prev_t is not None and ft > prev_t else step
            prev, prev_t = frame, ft
    except av.error.FFmpegError as err:
        raise DataFileError(path, f"decoding failed near t={start:.2f}s ({err})") from err
    if i < len(times) and prev is not None:  # end of stream: the last frame lasts one frame period
        rate = stream.average_rate or stream.guessed_rate
        period = step or (1.0 / float(rate) if rate else 0.0)
        end = prev_t + period
        while i < len(times) and times[i] < end - eps:
            out[i] = prev
            i += 1
    return out


def _check_not_truncated(container, path, start: float, times: np.ndarray, frames: list) -> None:
    """Frames missing from a window that the container says lies inside the video: truncated or corrupt.

    (A file cut after its index, e.g. a "faststart" mp4, still declares its full duration.) One second of
    tolerance keeps rounding of declared durations from raising.
    """
    missing_at = [t for t, f in zip(times, frames) if f is None]
    if not missing_at:
        return
    duration = _duration(container, container.streams.video[0])
    if duration is None and all(f is None for f in frames):
        raise DataFileError(path, f"no decodable frame at t={start:.2f}s; truncated or corrupt")
    if duration is not None and missing_at[0] < duration - 1.0:
        raise DataFileError(path, f"no frame at t={missing_at[0]:.2f}s although the declared duration is "
                                  f"{duration:.2f}s; truncated or corrupt")


def read_clip(path: str | Path, start: float, num_frames: int = 32, fps: float = 10.0, size: int | None = 224,
              crop: str = "center", hflip: bool = False, resize: int | None = None,
              rng: np.random.Generator | None = None, pad: str = "ones") -> torch.Tensor:
    """uint8 (3, num_frames, size, size) from `start` seconds at `fps` (size=None: full frames, no crop)."""
    if num_frames < 1 or fps <= 0:
        raise ValueError(f"num_frames must be >= 1 and fps > 0, got {num_frames}, {fps}")
    if pad not in ("ones", "last"):
        raise ValueError(f"pad must be 'ones' or 'last', got {pad!r}")
    times = max(float(start), 0.0) + np.arange(num_frames) / fps
    with _open(path) as container:
        frames = _decode_window(container, path, max(float(start), 0.0), times)
        _check_not_truncated(container, path, float(start), times, frames)
        first = next((f for f in frames if f is not None), None)
        if first is None:  # window starts past the end: all padding, as released
            w, h = container.streams.video[0].codec_context.width, container.streams.video[0].codec_context.height
            w, h = _geometry(w, h, size, resize)
            x, y, cw, ch = _crop_box(w, h, size, crop, rng)
            return torch.ones((3, num_frames, ch, cw), dtype=torch.uint8)
        w, h = _geometry(first.width, first.height, size, resize)
        x, y, cw, ch = _crop_box(w, h, size, crop, rng)
        cache: dict[int, np.ndarray] = {}
        arrays = []
        for f in frames:
            if f is None:
                arrays.append(arrays[-1] if pad == "last" else np.ones((ch, cw, 3), np.uint8))
                continue
            if id(f) not in cache:
                img = f.to_ndarray(format="rgb24", width=w, height=h)
                cache[id(f)] = img[y:y + ch, x:x + cw]
            arrays.append(cache[id(f)])
    video = np.stack(arrays)
    if hflip:
        video = video[:, :, ::-1]
    return torch.from_numpy(np.ascontiguousarray(video.transpose(3, 0, 1, 2)))


def read_video(path: str | Path, fps: float | None = None, size: int | None = None, resize: int | None = None,
               crop: str = "center") -> torch.Tensor:
    """The whole video as uint8 (3, T, H, W): at its own frame rate when fps is None (every decoded frame)."""
    if fps is not None:
        info = probe_video(path)
        n = max(1, int(math.ceil((info["duration"] or 0.0) * fps - 1e-6)))
        return read_clip(path, 0.0, num_frames=n, fps=fps, size=size, crop=crop, resize=resize)
    with _open(path) as container:
        try:
            frames = list(container.decode(container.streams.video[0]))
        except av.error.FFmpegError as err:
            raise DataFileError(path, f"decoding failed ({err})") from err
        if not frames:
            raise DataFileError(path, "no decodable frame; truncated or corrupt")
        w, h = _geometry(frames[0].width, frames[0].height, size, resize)
        x, y, cw, ch = _crop_box(w, h, size, crop, None)
        video = np.stack([f.to_ndarray(format="rgb24", width=w, height=h)[y:y + ch, x:x + cw] for f in frames])
    return torch.from_numpy(np.ascontiguousarray(video.transpose(3, 0, 1, 2)))
