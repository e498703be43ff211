"""Tiny stand-ins shared by the training tests and their torchrun worker (no data, no real encoders)."""

import torch
from torch import nn

GLOBAL_BATCH, N_CLIPS, FEAT, WORDS, VOCAB = 8, 4, 6, 5, 20


class TinyModel(nn.Module):
    """Has the two methods TrainStep calls: encode_video (B, W, F) -> (B, E), encode_text (B, L) -> (B, E)."""

    mode = "feature"

    def __init__(self, dim: int = 8):
        super().__init__()
        self.video = nn.Sequential(nn.Linear(FEAT, 16), nn.ReLU(), nn.Linear(16, dim))
        self.words = nn.Embedding(VOCAB, 16)
        self.text = nn.Linear(16, dim)

    def encode_video(self, x, normalize=False):
        return self.video(x.mean(1))

    def encode_text(self, tokens, normalize=False):
        return self.text(self.words(tokens).max(1).values)


def global_batch():
    g = torch.Generator().manual_seed(123)
    video = torch.randn(GLOBAL_BATCH, N_CLIPS, 3, FEAT, generator=g)
    tokens = torch.randint(1, VOCAB, (GLOBAL_BATCH, N_CLIPS, WORDS), generator=g)
    return video, tokens


def make_loss(name: str) -> nn.Module:
    from vttwins import losses

    if name == "s2dtw":
        return losses.SequenceContrastiveLoss()
    if name == "mil_nce":
        return losses.MILNCELoss(num_candidates=2)
    return losses.ClipInfoNCELoss()
