"""Shared plumbing of the evaluations: model/tokenizer resolution, batched encoding, dataset paths, tables.

model, tok = resolve_model("runs/x")                       # a run dir / checkpoint, or (model, tokenizer)
emb = encode_windows(model, x, batch_size=16)              # (n, ...) windows -> (n, E) numpy
"""

from __future__ import annotations

import logging
from collections import Counter
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd
import torch

from vttwins.companion.synth import synth_paths
from vttwins.companion.training import load_trained

from .config import EvalConfig

log = logging.getLogger(__name__)

_MODEL_LABEL: ContextVar[str | None] = ContextVar("vttwins_evaluated_model", default=None)


@contextmanager
def model_label(label: str):
    """Within the block, the evaluations' warnings name the model they come from (`labelled`)."""
    token = _MODEL_LABEL.set(label)
    try:
        yield
    finally:
        _MODEL_LABEL.reset(token)


def labelled(what: str) -> str:
    """`what` followed by the model being evaluated, when `model_label` set one: "youcook2 [trained model runs/x]"."""
    label = _MODEL_LABEL.get()
    return f"{what} [{label}]" if label else what


COLUMNS = ["task", "protocol", "variant", "metric", "split", "value", "chance", "n"]
KEYS = COLUMNS[:5]  # the columns that identify one number (task, protocol, variant, metric, split)


# Per-item scores of an evaluator's table (one row per test item: query, video), kept in `table.attrs["items"]` as
# a list of records (a DataFrame there would make pandas.concat compare attrs and fail). The score's weighted
# mean over items, sum(weight * score) / sum(weight), is the table's metric for that (task, ..., split).
ITEM_COLUMNS = KEYS + ["item", "score", "weight", "hits", "total"]


def with_items(table: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """`table` carrying per-item scores (columns ITEM_COLUMNS) in its attrs."""
    table.attrs["items"] = items.reindex(columns=ITEM_COLUMNS).to_dict("records")
    return table


def item_table(table: pd.DataFrame) -> pd.DataFrame | None:
    """The per-item scores a table carries (ITEM_COLUMNS), or None."""
    records = table.attrs.get("items")
    return None if records is None else pd.DataFrame(records, columns=ITEM_COLUMNS)


def make_table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Tidy table with the fixed COLUMNS, in the order the rows were produced."""
    df = pd.DataFrame(rows, columns=COLUMNS)
    df["value"] = df["value"].astype(float)
    df["chance"] = df["chance"].astype(float)
    df["n"] = df["n"].astype(int)
    return df


def resolve_model(model, tokenizer=None):
    """A model object (+ its tokenizer) or a run directory / checkpoint path -> (model in eval mode, tokenizer)."""
    if isinstance(model, (str, Path)):
        loaded, loaded_tok, _ = load_trained(model)
        model, tokenizer = loaded, tokenizer or loaded_tok
    if not hasattr(model, "encode_video") or not hasattr(model, "encode_text"):
        raise ValueError(f"model must be a VideoTextModel or a run/checkpoint path, got {type(model).__name__}")
    if tokenizer is None:
        raise ValueError("tokenizer is required when model is an object (pass the training run's Tokenizer)")
    return model.eval(), tokenizer


def resolve_mode(model, config: EvalConfig) -> str:
    mode = config.mode or model.mode
    if mode != model.mode:
        raise ValueError(f"EvalConfig.mode={config.mode!r} but the model is a {model.mode!r}-mode model")
    return mode


def model_device(model) -> torch.device:
    for p in model.parameters():
        return p.device
    return torch.device("cpu")


@torch.no_grad()
def encode_batches(
    fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, batch_size: int, device: torch.device
) -> np.ndarray:
    """Apply fn to x in chunks of batch_size on device -> float64 numpy (n, E)."""
    outs = [fn(x[i : i + batch_size].to(device)).float().cpu() for i in range(0, len(x), batch_size)]
    return torch.cat(outs).double().numpy()


def missing_words(tokenizer, texts) -> tuple[Counter, int]:
    """(Counter of the words of `texts` the tokenizer drops, number of words in all) - split as it splits."""
    words = [w for t in texts for w in tokenizer.split(t, tokenizer.lowercase)]
    return Counter(w for w in words if w not in tokenizer.word_to_id), len(words)


def warn_missing_words(tokenizer, texts, what: str, examples: int = 8) -> Counter:
    """One WARNING for `what` (a task) when its text has words outside the vocabulary: they are dropped, so a
    sentence of only unknown words embeds as padding. Returns the Counter of missing words."""
    missing, total = missing_words(tokenizer, texts)
    if missing:
        n = sum(missing.values())
        log.warning(
            "%s: %d of %d words (%.1f%%, %d distinct) are not in the model's vocabulary and are dropped, e.g. %s",
            labelled(what),
            n,
            total,
            100.0 * n / max(total, 1),
            len(missing),
            ", ".join(w for w, _ in missing.most_common(examples)),
        )
    return missing


def encode_text(model, tokenizer, texts: list[str], config: EvalConfig, what: str | None = None) -> np.ndarray:
    """(N,) sentences -> (N, E) float64 embeddings; `what` (a task name) logs the words the vocabulary lacks."""
    if what is not None:
        warn_missing_words(tokenizer, texts, what)
    tokens = tokenizer(list(texts), max_words=config.max_words)
    fn = lambda t: model.encode_text(t, normalize=config.normalize)  # noqa: E731
    return encode_batches(fn, torch.as_tensor(tokens), max(config.batch_size, 64), model_device(model))


def encode_windows(model, x: torch.Tensor, config: EvalConfig) -> np.ndarray:
    """(n, window...) -> (n, E) window embeddings (not normalised: averaging comes first)."""
    return encode_batches(lambda b: model.encode_video(b), x, config.batch_size, model_device(model))


def video_embedding(model, x: torch.Tensor, config: EvalConfig) -> np.ndarray:
    """Mean of the window embeddings (docs/method.md §8), L2-normalised when config.normalize -> (E,)."""
    return maybe_normalize(encode_windows(model, x, config).mean(axis=0), config)


def maybe_normalize(v: np.ndarray, config: EvalConfig) -> np.ndarray:
    if not config.normalize:
        return v
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)


def dataset_path(dataset, prefix: str, key: str, required: bool = True) -> Path | None:
    """Find `<prefix>_<key>` on a SynthPaths-like object or `key` / `<prefix>_<key>` in a mapping.

    A str/Path dataset is a SynthHowTo root (`synth_paths(root)`).
    """
    if isinstance(dataset, (str, Path)):
        dataset = synth_paths(dataset)
    name = f"{prefix}_{key}"
    if isinstance(dataset, Mapping):
        value = dataset.get(name, dataset.get(key))
    else:
        value = getattr(dataset, name, None)
    if value is None and required:
        raise ValueError(f"dataset has no {name!r} (pass a SynthPaths or a mapping with {key!r})")
    return None if value is None else Path(value)


def guarded(config: EvalConfig, what: str, fn: Callable[[], Any]):
    """Run fn; with on_error='skip' an unreadable file is logged and None returned (the item is dropped)."""
    if config.on_error == "raise":
        return fn()
    try:
        return fn()
    except (OSError, ValueError, RuntimeError) as exc:
        log.warning("skipping %s: %s", labelled(what), exc)
        return None
