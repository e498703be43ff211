"""How often TDA (docs/method.md §5) draws a permutation other than the identity, and how far it moves items.

    stats = tda_statistics(seq (B, n, D), max_shift=2, sharpness=50.0)   # exact expectations, nothing sampled
    write_tda_table("results/tables")                                    # tda_permutations.{csv,md}

The share and the displacement are expectations under TDA's own distribution (`TemporalDataAugmentation.
distribution`), so they do not depend on a random draw: share = mean over sequences of 1 - P(identity);
displacement = mean over sequences of E_π[mean_i |π(i) - i|] (clip positions moved, identity included).
The table measures unit-normalised sequences (as the sequence losses see them with `loss.normalize`) of two kinds:
i.i.d. random directions and a random walk (neighbours similar, like consecutive clips), at the embedding widths of
the CPU ablation (128) and of the released model (512).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import pandas as pd
import torch

from vttwins import objectives
from vttwins.losses import TemporalDataAugmentation
from vttwins.companion.results import write_table

__all__ = ["tda_statistics", "tda_table", "write_tda_table"]


def tda_statistics(seq: torch.Tensor, max_shift: int = 2, sharpness: float = 50.0) -> dict[str, float]:
    """Expected share of non-identity permutations and mean displacement for full-length `seq (B, n, D)`."""
    perms, probs = TemporalDataAugmentation(max_shift, sharpness).distribution(seq)
    ar = torch.arange(perms.shape[1], device=perms.device)
    identity = (perms == ar).all(dim=1)
    disp = (perms - ar).abs().to(probs.dtype).mean(dim=1)  # (P,)
    return {
        "share": float(1.0 - probs[:, identity].sum(dim=1).mean()),
        "mean_displacement": float((probs * disp).sum(dim=1).mean()),
        "n_sequences": int(seq.shape[0]),
    }


def _sequences(kind: str, b: int, n: int, d: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(b, n, d, generator=g, dtype=torch.float64)
    if kind == "random walk":
        x = x.cumsum(dim=1)
    return torch.nn.functional.normalize(x, dim=-1)


def tda_table(
    sharpness: Sequence[float] | None = None, dims: Sequence[int] = (128, 512), n: int = 8, b: int = 64, seed: int = 0
) -> pd.DataFrame:
    """One row per sharpness x width x kind: share of non-identity permutations and mean displacement.
    Default sharpness: the released 50 and that of the registered `s2dtw_tda_strong` variant."""
    sharpness = list(sharpness or [50.0, float(objectives.get("s2dtw_tda_strong").options["sharpness"])])
    rows = []
    for s in sharpness:
        for d in dims:
            for kind in ("random directions", "random walk"):
                stats = tda_statistics(_sequences(kind, b, n, d, seed), 2, s)
                rows.append(
                    {
                        "sharpness": float(s),
                        "setting": "released" if s == 50.0 else "s2dtw_tda_strong",
                        "embed_dim": d,
                        "sequences": kind,
                        **stats,
                    }
                )
    return pd.DataFrame(rows)


def write_tda_table(out_dir: str | os.PathLike) -> Path:
    """Write `tda_permutations.{csv,md}` into `out_dir` (a tables folder); the released rows come first."""
    csv, _ = write_table(
        tda_table(),
        "tda_permutations",
        Path(out_dir),
        sort_by=[],
        float_format="%.4f",
        description="TDA: expected share of non-identity permutations and mean displacement "
        "(positions) per sequence, at the released sharpness and the strong variant's",
    )
    return csv
