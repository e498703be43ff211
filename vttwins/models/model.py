"""`VideoTextModel`, its `ModelConfig`, and the `build_model` factory that training and evaluation call.

cfg = ModelConfig(mode="feature", feature_dim=1024, temporal="mean")
model = build_model(cfg, vocab=tokenizer.words)
v = model.encode_video(feats, normalize=True)     # feature: (B, W, F) or (B, F); pixel: (B, 3, T, H, W)
t = model.encode_text(tokens, normalize=True)     # (B, L) int64 -> (B, embed_dim)
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from vttwins.models import checkpoints
from vttwins.models.heads import TEMPORAL, FeatureVideoEncoder
from vttwins.models.s3dg import S3D
from vttwins.models.text import SentenceEncoder, glove_table, load_word2vec

log = logging.getLogger(__name__)
MODES = ("feature", "pixel")
GLOVE_DIM = 50


@dataclass
class ModelConfig:
    """Model hyper-parameters; defaults are the released ones where the paper has them (docs/method.md §2, §7)."""

    mode: str = "feature"  # "feature": precomputed clip features; "pixel": S3D-G on frames
    embed_dim: int = 512  # joint space
    width: float = 1.0  # S3D channel multiplier (pixel mode); only 1.0 loads public checkpoints
    space_to_depth: bool = False  # S3D stem; load_pretrained switches it to match a checkpoint
    feature_dim: int = 1024  # feature mode: F of the input vectors
    feature_window: int = 4  # feature mode: vectors per clip the data pipeline provides (informational)
    hidden: int = 512  # feature mode: hidden width of the feature encoder
    temporal: str = "mean"  # feature mode: "mean" | "max" | "conv" | "attention"
    dropout: float = 0.0  # feature mode: dropout after the first layer
    word_dim: int = 300  # word-vector size (GloVe forces 50)
    vocab_size: int = 66250  # embedding rows; replaced by len(vocab) + 1 when a vocabulary is given
    text_hidden: int = 2048  # sentence encoder fc1 width (released: 2048)
    word_init: str = "random"  # "random" | "glove" | path to a word2vec.pth tensor
    freeze_words: bool = True  # released: word vectors frozen
    word_seed: int = 0  # seed of the random rows for words missing from GloVe
    max_words: int = 20  # tokenizer length in training (evaluation uses 30)
    checkpoint: str | None = None  # loaded with load_pretrained after building

    def __post_init__(self):
        self.validate()

    def validate(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"ModelConfig.mode must be one of {MODES}, got {self.mode!r}")
        if self.temporal not in TEMPORAL:
            raise ValueError(f"ModelConfig.temporal must be one of {TEMPORAL}, got {self.temporal!r}")
        for name in (
            "embed_dim",
            "feature_dim",
            "feature_window",
            "hidden",
            "word_dim",
            "vocab_size",
            "text_hidden",
            "max_words",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"ModelConfig.{name} must be a positive int, got {value!r}")
        if not isinstance(self.width, (int, float)) or not 0 < self.width <= 4:
            raise ValueError(f"ModelConfig.width must be in (0, 4], got {self.width!r}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"ModelConfig.dropout must be in [0, 1), got {self.dropout!r}")
        if not isinstance(self.word_init, (str, Path)) or not str(self.word_init):
            raise ValueError(f"ModelConfig.word_init must be 'random', 'glove' or a path, got {self.word_init!r}")
        for name in ("space_to_depth", "freeze_words"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"ModelConfig.{name} must be a bool, got {getattr(self, name)!r}")

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "ModelConfig":
        """Build from a mapping (a YAML section); an unknown key raises ValueError naming it."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown ModelConfig field(s) {unknown}; known: {sorted(known)}")
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in dataclasses.asdict(self).items()}


class VideoTextModel(nn.Module):
    """The object the training loop and evaluations talk to (CONTRIBUTING.md, `vttwins.models`).

    pixel mode: `self.s3d` (S3D-G; its `text_module` encodes text). feature mode: `self.video`
    (FeatureVideoEncoder) and `self.text_module` (SentenceEncoder, same design as S3D's).
    """

    def __init__(self, config: ModelConfig):
        super().__init__()
        config.validate()
        self.config = config
        if config.mode == "pixel":
            self.s3d = S3D(
                config.embed_dim,
                config.space_to_depth,
                config.vocab_size,
                config.word_dim,
                config.width,
                config.text_hidden,
            )
            self.s3d.text_module.word_embd.weight.requires_grad_(not config.freeze_words)
        else:
            self.video = FeatureVideoEncoder(
                config.feature_dim, config.embed_dim, config.hidden, config.temporal, config.dropout
            )
            self.text_module = SentenceEncoder(
                config.vocab_size, config.word_dim, config.text_hidden, config.embed_dim, config.freeze_words
            )

    @property
    def mode(self) -> str:
        return self.config.mode

    @property
    def text_encoder(self) -> SentenceEncoder:
        return self.s3d.text_module if self.mode == "pixel" else self.text_module

    @property
    def feature_dim(self) -> int:
        """P of `video_features`: Mixed_5c channels (1024 at width 1) or the feature encoder's hidden size."""
        return self.s3d.feature_dim if self.mode == "pixel" else self.video.hidden

    def _pixels(self, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor):
            raise ValueError(f"video must be a tensor, got {type(x).__name__}")
        self.s3d.check_video(x)
        if x.dtype == torch.uint8:
            return x.to(self.s3d.fc.weight.dtype) / 255.0
        if not x.is_floating_point():
            raise ValueError(f"video must be uint8 or float in [0, 1], got {x.dtype}")
        if x.numel() and float(x.detach().amax()) > 1.5:  # a cheap guard against 0..255 floats
            raise ValueError("float video must be in [0, 1] (got values > 1.5; pass uint8 or divide by 255)")
        return x

    def video_features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, P) linear-probe features: pooled Mixed_5c (pixel) or the last hidden layer (feature)."""
        if self.mode == "pixel":
            return self.s3d.video_features(self._pixels(x))
        return self.video.features(x)

    def encode_video(self, x: torch.Tensor, normalize: bool = False) -> torch.Tensor:
        """pixel (B, 3, T, H, W) uint8 / float in [0, 1], or feature (B, W, F) / (B, F) -> (B, embed_dim)."""
        out = self.s3d.fc(self.video_features(x)) if self.mode == "pixel" else self.video(x)
        return F.normalize(out, dim=-1) if normalize else out

    def encode_text(self, tokens: torch.Tensor, normalize: bool = False) -> torch.Tensor:
        """(B, L) int64 token ids (0 = padding) -> (B, embed_dim)."""
        out = self.text_encoder(tokens)  # checks shape, dtype and id range
        return F.normalize(out, dim=-1) if normalize else out

    def forward(self, video: torch.Tensor, tokens: torch.Tensor, normalize: bool = False):
        """-> (video embeddings (B, E), text embeddings (B', E))."""
        return self.encode_video(video, normalize), self.encode_text(tokens, normalize)


def build_model(config: ModelConfig, vocab: Sequence[str] | None = None) -> VideoTextModel:
    """Factory: resolve vocabulary size and word vectors, build, then load `config.checkpoint` if set.

    A project checkpoint that stores a `vocab` supplies it when `vocab` is None. `word_init="glove"` needs the
    vocabulary and sets `word_dim` to 50. The resolved config is `model.config`.
    """
    if not isinstance(config, ModelConfig):
        raise ValueError(f"config must be a ModelConfig, got {type(config).__name__}")
    config = dataclasses.replace(config)
    state = checkpoints.load_checkpoint(config.checkpoint) if config.checkpoint else None
    if vocab is None and isinstance(state, dict) and isinstance(state.get("vocab"), (list, tuple)):
        vocab = list(state["vocab"])
    table = _word_table(config, vocab)
    if vocab is not None:
        config.vocab_size = len(vocab) + 1
    elif table is not None:
        config.vocab_size = table.shape[0]
    if table is not None:
        if table.shape[0] != config.vocab_size:
            raise ValueError(
                f"word vectors have {table.shape[0]} rows, vocabulary needs {config.vocab_size} (len(vocab) + 1)"
            )
        config.word_dim = table.shape[1]
    model = VideoTextModel(config)
    if table is not None:
        with torch.no_grad():
            model.text_encoder.word_embd.weight.copy_(table)
    if state is not None:
        checkpoints.load_pretrained(model, state)
    return model


def _word_table(config: ModelConfig, vocab: Sequence[str] | None) -> torch.Tensor | None:
    init = str(config.word_init)
    if init == "random":
        return None
    if init == "glove":
        if vocab is None:
            raise ValueError("word_init='glove' needs the vocabulary (build_model(config, vocab=tokenizer.words))")
        if config.word_dim not in (GLOVE_DIM, 300):
            raise ValueError(f"word_init='glove' gives {GLOVE_DIM}-d vectors, but word_dim={config.word_dim}")
        return glove_table(vocab, seed=config.word_seed)
    if not Path(init).is_file():
        raise FileNotFoundError(f"ModelConfig.word_init: word-vector file not found: {init}")
    return load_word2vec(init)
