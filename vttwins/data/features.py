"""Precomputed video features in the public HowTo100M layout: `<root>/<video_id>.mp4.npy`, float (seconds, 1024).

    feats = load_features(feature_path(root, "AbCdEfGhIjK"))   # (S, F) float32
    seconds, width = feature_header(path, dim=1024)            # from the .npy header alone (no array loaded)
    x = feature_window(feats, start=12.7, window=4)            # rows 12..15, edge-padded -> (4, F)
"""
from __future__ import annotations

import math
import os
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np

from .errors import DataFileError, missing

FEATURE_SUFFIXES = (".mp4.npy", ".webm.npy", ".mkv.npy", ".avi.npy", ".npy")


def video_stem(video_id_or_path: str) -> str:
    """`AbCdEfGhIjK.mp4`, `dir/AbCdEfGhIjK.mp4` or `AbCdEfGhIjK` -> `AbCdEfGhIjK` (file name before the first dot)."""
    return Path(str(video_id_or_path)).name.split(".")[0]


def feature_path(feature_root: str | Path, video_id_or_path: str) -> Path:
    """The feature file of a video: the first of `<stem>.mp4.npy`, `.webm.npy`, ... that exists (else `.mp4.npy`)."""
    stem = video_stem(video_id_or_path)
    for suffix in FEATURE_SUFFIXES:
        p = Path(feature_root) / f"{stem}{suffix}"
        if p.is_file():
            return p
    return Path(feature_root) / f"{stem}.mp4.npy"


# Features are CNN activations: magnitudes far beyond this are a unit mix-up or garbage, never a real video.
MAX_FEATURE_MAGNITUDE = 1e6


def feature_header(path: str | Path, dim: int | None = None) -> tuple[int, int]:
    """(seconds S, width F) of a feature file from its .npy header alone, without loading the array.

    Raises FileNotFoundError, or DataFileError naming the file for what `load_features` would refuse and a header
    can show: not a .npy, truncated (the header announces more bytes than the file has), not 2-d or no rows,
    F != `dim` (when given), not a float dtype (an object array, strings, integers). Values (NaN, Inf, magnitude)
    need the array: `load_features`.
    """
    path = Path(path)
    if not path.is_file():
        raise missing(path, "feature file")
    try:
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            readers = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
            if version not in readers:
                raise ValueError(f".npy format version {version} is not supported here")
            shape, _, dtype = readers[version](f)
            offset = f.tell()
    except (ValueError, OSError, EOFError, SyntaxError) as err:
        raise DataFileError(path, f"unreadable .npy header ({err})") from err
    if len(shape) != 2 or shape[0] == 0:
        raise DataFileError(path, f"expected a (seconds, dim) array with seconds >= 1, got shape {shape}")
    if not np.issubdtype(dtype, np.floating):
        raise DataFileError(path, f"expected float features, got dtype {dtype}")
    need, size = offset + int(np.prod(shape)) * dtype.itemsize, path.stat().st_size
    if size < need:
        raise DataFileError(path, f"truncated .npy: its header announces {shape} {dtype} ({need} bytes), "
                                  f"the file has {size} bytes")
    if dim is not None and shape[1] != dim:
        raise DataFileError(path, f"feature width {shape[1]}, expected {dim} (model.feature_dim)")
    return int(shape[0]), int(shape[1])


def load_features(path: str | Path, dim: int | None = None) -> np.ndarray:
    """float32 (S, F). Raises FileNotFoundError, or DataFileError for unreadable / truncated / misshapen (F != `dim`
    when given) / non-float (integer, complex, bool: a wrong file, not features) / non-finite / absurd (> 1e6)."""
    path = Path(path)
    if not path.is_file():
        raise missing(path, "feature file")
    try:
        arr = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as err:
        raise DataFileError(path, f"unreadable .npy ({err})") from err
    if not isinstance(arr, np.ndarray) or arr.ndim != 2 or arr.shape[0] == 0:
        raise DataFileError(path, f"expected a (seconds, dim) array with seconds >= 1, got shape "
                                  f"{getattr(arr, 'shape', None)}")
    if dim is not None and arr.shape[1] != dim:
        raise DataFileError(path, f"feature width {arr.shape[1]}, expected {dim} (model.feature_dim)")
    if not np.issubdtype(arr.dtype, np.floating):
        raise DataFileError(path, f"expected float features, got dtype {arr.dtype}")
    arr = arr.astype(np.float32, copy=False)
    if not np.isfinite(arr).all():
        raise DataFileError(path, "contains NaN or Inf")
    peak = float(np.abs(arr).max())
    if peak > MAX_FEATURE_MAGNITUDE:
        raise DataFileError(path, f"absurd magnitude (max |x| = {peak:.3g} > {MAX_FEATURE_MAGNITUDE:.0e})")
    return arr


def feature_window(feats: np.ndarray, start: float, window: int = 4) -> np.ndarray:
    """Rows floor(start) .. floor(start) + window - 1, clamped to the array (edge padding) -> (window, F)."""
    if feats.ndim != 2 or feats.shape[0] == 0:
        raise ValueError(f"feats must be (S >= 1, F), got shape {feats.shape}")
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    idx = np.clip(math.floor(start) + np.arange(window), 0, feats.shape[0] - 1)
    return feats[idx]


# Feature files read by this process, by (path, mtime, size, dim): the evaluations of a grid read the same
# downstream sets for every run. Kept least-recently-used within VTTWINS_FEATURE_CACHE_MB (default 512).
_FILES: "OrderedDict[tuple, np.ndarray]" = OrderedDict()


PATH_ENV = "VTTWINS_DATA_PATH"


def shared_reads_enabled() -> bool:
    """False when `VTTWINS_DATA_PATH=reference`: every read goes to the file, as before the per-process caches
    (the study benchmark's reference); `table` or unset: data is read once per process."""
    value = os.environ.get(PATH_ENV, "table").strip().lower()
    if value not in ("table", "reference"):
        raise ValueError(f"environment variable {PATH_ENV}={value!r}: expected 'table' or 'reference'")
    return value == "table"


def load_features_shared(path: str | Path, dim: int | None = None) -> np.ndarray:
    """`load_features`, read once per process and state of the file; the array is shared, hence read-only."""
    path = Path(path)
    if not shared_reads_enabled():
        return load_features(path, dim)
    try:
        st = path.stat()
    except OSError:
        return load_features(path, dim)  # raises the usual error naming the file
    key = (str(path.resolve()), st.st_mtime_ns, st.st_size, dim)
    if key in _FILES:
        _FILES.move_to_end(key)
        return _FILES[key]
    arr = load_features(path, dim)
    arr.flags.writeable = False
    _FILES[key] = arr
    budget, total = float(os.environ.get("VTTWINS_FEATURE_CACHE_MB", "512")) * 2**20, 0
    for k in reversed(list(_FILES)):  # newest first; drop the oldest beyond the budget
        total += _FILES[k].nbytes
        if total > budget and k != key:
            del _FILES[k]
    return arr
