"""Window sampling of docs/method.md §8 and the reader that turns (video, window starts) into model inputs.

    starts = youcook2_starts(90.0, 102.0, n=10, clip_seconds=3.2)   # linspace(start, max(start, end-3.2-0.4), n)
    src = WindowSource(cfg, mode="feature", videos=paths.youcook2_videos, features=paths.youcook2_features)
    x = src.windows("AbCdEfGhIjK", starts, subdir="113")              # (10, W, F) float32 or (10, 3, T, S, S) uint8

Pixel mode: `num_frames` frames at `fps` from each start, center crop `size` (after an optional short-side
`resize`); a window lasts num_frames / fps seconds. Feature mode: `feature_window` consecutive vectors from
floor(start) (edge-padded), one vector per second, so a window lasts feature_window seconds.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
import torch

from vttwins.data.features import load_features_shared, shared_reads_enabled

from .config import EvalConfig

log = logging.getLogger(__name__)

__all__ = ["youcook2_starts", "even_starts", "centered_starts", "feature_windows", "WindowSource"]


def youcook2_starts(start: float, end: float, n: int, clip_seconds: float) -> np.ndarray:
    """YouCook2 [code]: n starts = linspace(start, max(start, end - clip_seconds - 0.4), n)."""
    return np.linspace(float(start), max(float(start), float(end) - clip_seconds - 0.4), int(n))


def even_starts(duration: float, n: int, clip_seconds: float) -> np.ndarray:
    """n windows evenly over a whole video (MSR-VTT, action): linspace(0, max(0, duration - clip_seconds), n)."""
    return np.linspace(0.0, max(0.0, float(duration) - clip_seconds), int(n))


def centered_starts(seconds: np.ndarray, clip_seconds: float, duration: float) -> np.ndarray:
    """CrossTask: the window scoring second t (the interval [t, t+1)) is centred on t + 0.5, clamped to the video."""
    t = np.asarray(seconds, dtype=np.float64)
    return np.clip(t + 0.5 - clip_seconds / 2.0, 0.0, max(0.0, float(duration) - clip_seconds))


# Files found by `WindowSource.path` in this process, by (mode, root, video): every grid cell evaluates on the same
# sets; a remembered file is checked to exist before use. Not used when shared reads are off (VTTWINS_DATA_PATH):
# then every lookup searches the folder.
_RESOLVED: dict[tuple[str, str, str], Path] = {}


class WindowSource:
    """Reads windows of one data set, in pixel or feature mode (the model's inputs)."""

    def __init__(
        self,
        config: EvalConfig,
        mode: str,
        videos: Path | None = None,
        features: Path | None = None,
        fps: float | None = None,
    ):
        if mode not in ("pixel", "feature"):
            raise ValueError(f"mode must be 'pixel' or 'feature', got {mode!r}")
        root = videos if mode == "pixel" else features
        if root is None or not Path(root).is_dir():
            what = "video" if mode == "pixel" else "feature"
            raise FileNotFoundError(f"{mode} mode needs the {what} folder, not found: {root}")
        self.config, self.mode, self.root = config, mode, Path(root)
        self.fps = float(fps if fps is not None else config.fps)
        self._cache: tuple[str, np.ndarray] | None = None  # last feature file (CrossTask reads many windows)

    @property
    def clip_seconds(self) -> float:
        if self.mode == "pixel":
            return self.config.num_frames / self.fps
        return float(self.config.feature_window)

    # ------------------------------------------------------------------ files
    def path(self, video_id: str, subdir: str | None = None) -> Path:
        rel = f"{subdir}/{video_id}" if subdir else str(video_id)
        if not shared_reads_enabled():
            return self._find(rel)
        key = (self.mode, str(self.root), rel)
        known = _RESOLVED.get(key)
        if known is None or not known.is_file():
            known = _RESOLVED[key] = self._find(rel)
        return known

    def _find(self, rel: str) -> Path:
        if self.mode == "pixel":
            from vttwins.data import find_video  # deferred: av

            return Path(find_video(self.root, rel))
        return feature_file(self.root, rel)

    def _features(self, video_id: str, subdir: str | None) -> np.ndarray:
        key = f"{subdir}/{video_id}"
        if self._cache is None or self._cache[0] != key:
            self._cache = (key, np.asarray(load_features_shared(self.path(video_id, subdir)), dtype=np.float32))
        return self._cache[1]

    def duration(self, video_id: str, subdir: str | None = None) -> float:
        """Seconds: number of feature vectors (feature mode) or the container's duration (pixel mode)."""
        if self.mode == "feature":
            return float(len(self._features(video_id, subdir)))
        from vttwins.data.video import probe_video  # deferred: av

        info = probe_video(self.path(video_id, subdir))
        for key in ("duration", "seconds", "duration_s"):
            if info.get(key):
                return float(info[key])
        if info.get("num_frames") and info.get("fps"):
            return float(info["num_frames"]) / float(info["fps"])
        raise ValueError(f"probe_video({video_id}) gave no duration: {sorted(info)}")

    def windows(self, video_id: str, starts, subdir: str | None = None) -> torch.Tensor:
        """(n,) start seconds -> (n, W, F) float32 features or (n, 3, T, S, S) uint8 frames."""
        starts = np.asarray(starts, dtype=np.float64).reshape(-1)
        if self.mode == "feature":
            return torch.from_numpy(
                feature_windows(self._features(video_id, subdir), starts, self.config.feature_window)
            )
        from vttwins.data.video import read_clip  # deferred: av

        path = self.path(video_id, subdir)
        cfg = self.config
        clips = [
            read_clip(
                path,
                float(s),
                num_frames=cfg.num_frames,
                fps=self.fps,
                size=cfg.size,
                crop="center",
                hflip=False,
                resize=cfg.resize,
            )
            for s in starts
        ]
        return torch.stack(clips)


def feature_windows(feats: np.ndarray, starts: np.ndarray, window: int) -> np.ndarray:
    """(S, F) features, (n,) start seconds -> (n, window, F) float32: `feature_window` at every start, in one gather
    (rows floor(start) .. floor(start) + window - 1, edge-padded; the same values, without a loop over starts)."""
    starts = np.asarray(starts, dtype=np.float64).reshape(-1)
    if starts.size == 0 or not np.isfinite(starts).all():
        raise ValueError(f"window starts must be finite and at least one, got {starts.tolist()[:5]}")
    if feats.ndim != 2 or feats.shape[0] == 0:
        raise ValueError(f"feats must be (S >= 1, F), got shape {feats.shape}")
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    idx = np.clip(np.floor(starts).astype(np.int64)[:, None] + np.arange(window), 0, feats.shape[0] - 1)
    return np.asarray(feats[idx], dtype=np.float32)


def feature_file(root: Path, rel: str) -> Path:
    """`<root>/<rel>.mp4.npy` (public HowTo100M layout), also `.webm.npy`, `<rel>.npy`, or `<rel>` with its own
    extension replaced (`v_x.avi` -> `v_x.avi.npy`, `v_x.mp4.npy`), then the same names without the subfolder."""
    candidates = []
    for r in dict.fromkeys([rel, rel.split("/")[-1]]):
        stem = r.rsplit(".", 1)[0] if "." in r.split("/")[-1] else r
        candidates += [f"{r}.mp4.npy", f"{r}.webm.npy", f"{r}.npy", f"{stem}.mp4.npy", f"{stem}.npy"]
    for c in dict.fromkeys(candidates):
        p = Path(root) / c
        if p.is_file():
            return p
    raise FileNotFoundError(f"feature file for {rel!r} not found under {root} (tried {candidates[:3]} ...)")


def floor_seconds(duration: float) -> int:
    """Number of whole seconds CrossTask scores (at least 1)."""
    return max(1, int(math.floor(duration + 1e-6)))
