"""The third-party set of notebook 09: Trace (tslearn's bundled copy) as per-second feature sequences.

    series, labels = load_trace()                         # (200, 275) float, (200,) int 0..3
    feats = series_features(series[[3, 17, 42]])          # three series one after another -> (33, 32) float32
    ids, classes = sample_sequence(rng, pool, labels, 3)  # 3 series of distinct classes from `pool`

Only the featurisation lives here (notebook cells hold no functions); the records and the writing are the
notebook's, since they are what a user writes for their own data (docs/data.md).
"""

from __future__ import annotations

import numpy as np

SECOND = 25  # samples of a Trace series per "second" of video (275 samples -> 11 seconds)


def load_trace() -> tuple[np.ndarray, np.ndarray]:
    """Trace's train and test halves concatenated: (200, 275) float64 series and (200,) labels 0..3."""
    from tslearn.datasets import CachedDatasets  # a test/notebook dependency: the data ship inside the package

    x_train, y_train, x_test, y_test = CachedDatasets().load_dataset("Trace")
    return np.concatenate([x_train, x_test])[..., 0], np.concatenate([y_train, y_test]).astype(np.int64) - 1


def series_features(series: np.ndarray, dim: int = 32, seed: int = 0) -> np.ndarray:
    """(k, L) series played one after another -> (k * L // SECOND, dim) float32: tanh of a fixed random
    projection (seeded) of each SECOND-sample chunk, one vector per "second"."""
    x = np.asarray(series, dtype=np.float64).reshape(-1)
    projection = np.random.default_rng(seed).standard_normal((SECOND, dim)) / np.sqrt(SECOND)
    return np.tanh(x[: len(x) // SECOND * SECOND].reshape(-1, SECOND) @ projection).astype(np.float32)


def sample_sequence(rng: np.random.Generator, pool: np.ndarray, labels: np.ndarray, n: int):
    """n series of n distinct classes drawn from `pool` (ids into labels): (ids list, classes array)."""
    classes = rng.choice(int(labels.max()) + 1, size=n, replace=False)
    return [int(rng.choice(pool[labels[pool] == c])) for c in classes], classes
