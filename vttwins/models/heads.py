"""Feature-mode video encoder: precomputed clip features (e.g. HowTo100M S3D, 1024-d at ~1/s) -> joint space.

    enc = FeatureVideoEncoder(in_dim=1024, embed_dim=512, hidden=512, temporal="mean")
    v = enc(feats)                 # feats: (B, W, F) window of W feature vectors, or (B, F) -> (B, 512)
    h = enc.features(feats)        # (B, hidden): the last hidden layer, used by linear probes

Per-vector MLP (Linear + ReLU) -> temporal pooling over the window -> Linear to the joint space, the shape of
the feature-level heads of TAN / VideoCLIP-style pretraining on frozen features.
"""

from __future__ import annotations

import torch
from torch import nn

TEMPORAL = ("mean", "max", "conv", "attention")


class FeatureVideoEncoder(nn.Module):
    """`temporal`: "mean" / "max" pooling, "conv" (a 3-tap temporal Conv1d + ReLU, then mean) or
    "attention" (a learned softmax weight per position)."""

    def __init__(
        self, in_dim: int = 1024, embed_dim: int = 512, hidden: int = 512, temporal: str = "mean", dropout: float = 0.0
    ):
        super().__init__()
        if temporal not in TEMPORAL:
            raise ValueError(f"temporal must be one of {TEMPORAL}, got {temporal!r}")
        self.in_dim, self.hidden, self.temporal = in_dim, hidden, temporal
        self.proj = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Dropout(dropout))
        if temporal == "conv":
            self.mix = nn.Conv1d(hidden, hidden, kernel_size=3, padding=1)
        elif temporal == "attention":
            self.score = nn.Linear(hidden, 1)
        self.fc = nn.Linear(hidden, embed_dim)

    def check(self, feats: torch.Tensor) -> torch.Tensor:
        """Return `feats` as (B, W, F), raising ValueError on any other shape."""
        if not isinstance(feats, torch.Tensor) or feats.dim() not in (2, 3) or feats.shape[-1] != self.in_dim:
            shape = tuple(feats.shape) if isinstance(feats, torch.Tensor) else type(feats).__name__
            raise ValueError(f"features must be (B, W, {self.in_dim}) or (B, {self.in_dim}), got {shape}")
        if not feats.is_floating_point():
            raise ValueError(f"features must be a float tensor, got {feats.dtype}")
        feats = feats.unsqueeze(1) if feats.dim() == 2 else feats
        if feats.shape[1] == 0:
            raise ValueError("features window is empty (W = 0)")
        return feats

    def features(self, feats: torch.Tensor) -> torch.Tensor:
        """(B, W, F) or (B, F) -> (B, hidden)."""
        h = self.proj(self.check(feats))  # (B, W, hidden)
        if self.temporal == "mean":
            return h.mean(dim=1)
        if self.temporal == "max":
            return h.max(dim=1).values
        if self.temporal == "conv":
            return torch.relu(self.mix(h.transpose(1, 2))).mean(dim=2)
        weights = torch.softmax(self.score(h), dim=1)  # (B, W, 1)
        return (weights * h).sum(dim=1)

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(feats))
