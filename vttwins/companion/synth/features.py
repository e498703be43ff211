"""The deterministic "feature extractor" of SynthHowTo: each second's latent content -> a 1024-d vector.

    fmap = FeatureMap.from_seed(world_seed)                 # fixed for a world seed
    feats = video_features(fmap, timeline, noise=1.0, rng=rng)   # float32 (duration, 1024)

Latent of one instant (concatenated, 57 numbers): verb one-hot (14 slots), object one-hot (20 slots),
(sin, cos) of the motion phase (zero in background), task one-hot (20 slots, the scene), in-step flag.
A second's latent is the mean over 4 sub-instants, so seconds that straddle a boundary blend the two segments.
Map: f = relu(W2 tanh(3 W1 z + b1) + b2), W1 (256, 57) and W2 (1024, 256) Gaussian with 1/sqrt(fan_in) scale,
b1, b2 ~ N(0, 0.5^2), all drawn from SeedSequence(world_seed, spawn_key=(1,)). The features then get i.i.d.
Gaussian noise of std `noise` (the difficulty knob; the noiseless features have std about 0.6 per element)
plus a per-video offset of std `noise / 2` (camera/lighting nuisance shared by all seconds of a video).
Like S3D features, one vector covers one second of video.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .timeline import Timeline, motion_phase, segment_at
from .world import OBJECTS, TASK_TITLES, VERBS

N_VERB, N_OBJ, N_TASK = len(VERBS), len(OBJECTS), len(TASK_TITLES)
LATENT_DIM = N_VERB + N_OBJ + 2 + N_TASK + 1
SUBSTEPS = 4


@dataclass(frozen=True)
class FeatureMap:
    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: np.ndarray

    @classmethod
    def from_seed(cls, seed: int, dim: int = 1024, hidden: int = 256) -> "FeatureMap":
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1,)))
        w1 = rng.normal(0, 1 / np.sqrt(LATENT_DIM), (hidden, LATENT_DIM))
        b1 = rng.normal(0, 0.5, hidden)
        w2 = rng.normal(0, 1 / np.sqrt(hidden), (dim, hidden))
        b2 = rng.normal(0, 0.5, dim)
        return cls(w1, b1, w2, b2)

    def __call__(self, z: np.ndarray) -> np.ndarray:
        """z: (S, LATENT_DIM) -> (S, dim) float32."""
        h = np.tanh(3.0 * z @ self.w1.T + self.b1).astype(np.float32)
        return np.maximum(h @ self.w2.T.astype(np.float32) + self.b2.astype(np.float32), 0.0)


def latents(timeline: Timeline) -> np.ndarray:
    """Per-second latent content, (duration, LATENT_DIM) float64."""
    t = (np.arange(timeline.duration * SUBSTEPS) + 0.5) / SUBSTEPS
    seg_idx = segment_at(timeline, t)
    phase = motion_phase(timeline, seg_idx, t)
    z = np.zeros((t.size, LATENT_DIM))
    in_step = seg_idx >= 0
    verbs = np.array([s.verb for s in timeline.steps] + [0])[seg_idx]
    objs = np.array([s.obj for s in timeline.steps] + [0])[seg_idx]
    rows = np.nonzero(in_step)[0]
    z[rows, verbs[rows]] = 1.0
    z[rows, N_VERB + objs[rows]] = 1.0
    z[:, N_VERB + N_OBJ] = np.where(in_step, np.sin(2 * np.pi * phase), 0.0)
    z[:, N_VERB + N_OBJ + 1] = np.where(in_step, np.cos(2 * np.pi * phase), 0.0)
    z[:, N_VERB + N_OBJ + 2 + timeline.task_index] = 1.0
    z[:, -1] = in_step
    return z.reshape(timeline.duration, SUBSTEPS, LATENT_DIM).mean(axis=1)


def video_features(fmap: FeatureMap, timeline: Timeline, noise: float, rng: np.random.Generator) -> np.ndarray:
    """float32 (duration, dim): the map of each second's latent, plus per-second and per-video noise."""
    f = fmap(latents(timeline))
    f += rng.standard_normal((1, f.shape[1]), dtype=np.float32) * np.float32(noise / 2.0)
    f += rng.standard_normal(f.shape, dtype=np.float32) * np.float32(noise)
    return f
