"""vttwins.alignment — the differentiable DTW family: hard DTW, soft-DTW and S2DTW (VT-TWINS, docs/method.md §3).

    from vttwins.alignment import s2dtw, s2dtw_matrix, soft_dtw
    d = s2dtw(x, y)                  # x: (B, N, D), y: (B, M, D) -> (B,)
    S = s2dtw_matrix(video, text)    # (Bx, N, D), (By, M, D) -> (Bx, By)

Imports nothing else of vttwins (torch and numpy; numba and triton optionally). Backends (registry: backends.py):
`set_backend("auto" | "torch" | "numba" | "numba_skew" | "triton")`; "auto": CPU -> numba (numba_skew for long
lattices), CUDA -> triton, else the vectorised torch backend (a missing one is logged once at WARNING).
"""

from .costs import pairwise_cost
from .backends import get_backend, numba_available, set_backend
from .functional import s2dtw, s2dtw_matrix, soft_dtw
from .paths import Alignment, HardPath, hard_path, soft_alignment

__all__ = [
    "pairwise_cost",
    "soft_dtw",
    "s2dtw",
    "s2dtw_matrix",
    "soft_alignment",
    "hard_path",
    "Alignment",
    "HardPath",
    "set_backend",
    "get_backend",
    "numba_available",
]
