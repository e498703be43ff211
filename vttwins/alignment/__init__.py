"""vttwins.alignment — the differentiable DTW family: hard DTW, soft-DTW and S2DTW (VT-TWINS, METHOD.md §3).

    from vttwins.alignment import s2dtw, s2dtw_matrix, soft_dtw
    d = s2dtw(x, y)                  # x: (B, N, D), y: (B, M, D) -> (B,)
    S = s2dtw_matrix(video, text)    # (Bx, N, D), (By, M, D) -> (Bx, By)

Imports nothing else of vttwins (torch and numpy; numba optionally, as the fast CPU backend). Backends:
`set_backend("auto" | "torch" | "numba")`; "auto" uses numba for CPU tensors when it imports, else the
vectorised torch backend (logged once at WARNING).
"""
from .costs import pairwise_cost
from .dp import get_backend, numba_available, set_backend
from .functional import s2dtw, s2dtw_matrix, soft_dtw
from .paths import Alignment, HardPath, hard_path, soft_alignment

__all__ = [
    "pairwise_cost", "soft_dtw", "s2dtw", "s2dtw_matrix", "soft_alignment", "hard_path",
    "Alignment", "HardPath", "set_backend", "get_backend", "numba_available",
]
