"""Action recognition (HMDB51 / UCF101 style): linear probe and zero-shot (docs/method.md §8).

    from vttwins.companion.evaluation import action_recognition
    df = action_recognition(model, synth_paths("data/synth/smoke"), tokenizer=tok)

Per video `action_windows` windows evenly over the whole video. Linear probe: frozen `model.video_features`
(1024-d Mixed_5c for S3D, the last hidden layer of the feature encoder), standardised with the training windows'
mean and std (`svm_scale`), LinearSVC(C=`svm_c`) trained on every window of the split's training videos (split
value 1), a test video (value 2) is scored by the sum of its windows' decision functions; top-1 per split and the
mean over splits. Feature mode also probes the raw input vectors (variant `linear_raw`, `raw_probe`): the
baseline a learned representation has to beat. Zero-shot: the mean window embedding
against the text embedding of each class name (`zero_shot_template`, underscores read as spaces). Ties count as
wrong. Chance: the better of a uniform guess and the training set's majority class (`chance.classification_chance`).
"""

from __future__ import annotations

import logging
import warnings
from collections import defaultdict

import numpy as np
import pandas as pd
import torch

from vttwins.data import read_action_csv

from . import chance, metrics
from .common import (
    dataset_path,
    encode_batches,
    encode_text,
    guarded,
    labelled,
    make_table,
    model_device,
    maybe_normalize,
    resolve_mode,
    resolve_model,
    with_items,
)
from .config import EvalConfig
from .windows import WindowSource, even_starts

log = logging.getLogger(__name__)


def read_videos(dataset, config: EvalConfig, kind: str = "hmdb") -> pd.DataFrame:
    """The action CSV; `max_videos` keeps that many, taken round-robin over the classes, in file order."""
    df = read_action_csv(dataset_path(dataset, "action", "csv"), dataset=kind).reset_index(drop=True)
    if config.max_videos is not None and config.max_videos < len(df):
        # round-robin over the classes (every class keeps videos; the first rows alone may be one per class)
        order = df.assign(_r=df.groupby("label_index").cumcount()).sort_values(["_r", "label_index"], kind="stable")
        df = df.loc[sorted(order.index[: config.max_videos])].reset_index(drop=True)
    return df


def video_dir(label: str, kind: str) -> str | None:
    """HMDB keeps videos under <action>/; a UCF video_id already holds its class folder."""
    return str(label) if kind == "hmdb" else None


@torch.no_grad()
def video_windows(model, dataset, videos: pd.DataFrame, config: EvalConfig, mode: str, kind: str = "hmdb"):
    """-> (features (V, n, P), embeddings (V, E), kept row positions, raw (V, n, F) window means of the input
    vectors in feature mode with config.raw_probe, else None) for every readable video."""
    src = WindowSource(
        config,
        mode,
        videos=dataset_path(dataset, "action", "videos", required=mode == "pixel"),
        features=dataset_path(dataset, "action", "features", required=mode == "feature"),
    )
    device = model_device(model)
    feats, embs, keep, raw = [], [], [], []
    for i, row in enumerate(videos.itertuples(index=False)):
        sub = video_dir(row.label, kind)

        def read(row=row, sub=sub):
            starts = even_starts(src.duration(row.video_id, sub), config.action_windows, src.clip_seconds)
            return src.windows(row.video_id, starts, sub)

        x = guarded(config, f"action video {row.video_id}", read)
        if x is None:
            continue
        f = encode_batches(model.video_features, x, config.batch_size, device)
        feats.append(f)
        if mode == "feature" and config.raw_probe:
            raw.append(x.double().mean(dim=1).numpy())  # (n, F): the window's input vectors, no model at all
        embs.append(maybe_normalize(_embed_from(model, x, f, config).mean(axis=0), config))
        keep.append(i)
    if not keep:
        raise ValueError("no action video could be read")
    return np.stack(feats), np.stack(embs), np.asarray(keep), (np.stack(raw) if raw else None)


def _embed_from(model, x: torch.Tensor, feats: np.ndarray, config: EvalConfig) -> np.ndarray:
    """Window embeddings; for S3D reuse the pooled features (encode_video = fc(video_features)) — why: S3D is
    the expensive part and would otherwise run twice."""
    s3d = getattr(model, "s3d", None)
    if model.mode == "pixel" and s3d is not None and hasattr(s3d, "fc"):
        w = s3d.fc.weight
        return encode_batches(s3d.fc, torch.from_numpy(feats).to(w.dtype), config.batch_size, w.device)
    return encode_batches(model.encode_video, x, config.batch_size, model_device(model))


def linear_probe_split(
    feats: np.ndarray,
    labels: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    num_classes: int,
    config: EvalConfig,
    unconverged: list | None = None,
    what: str = "",
) -> np.ndarray:
    """Train LinearSVC on every window of the training videos -> (test videos, num_classes) summed decisions.

    A fit that does not converge is appended as `what` to `unconverged` (the caller warns once for all of them),
    or, without that list, logged at once."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.svm import LinearSVC

    n_win = feats.shape[1]
    x_train = feats[train].reshape(-1, feats.shape[-1])
    y_train = np.repeat(labels[train], n_win)
    x_test = feats[test].reshape(-1, feats.shape[-1])
    if config.svm_scale:  # unscaled features make LinearSVC converge slowly (or not at all) and weigh dims unevenly
        from sklearn.preprocessing import StandardScaler

        scaler = StandardScaler().fit(x_train)
        x_train, x_test = scaler.transform(x_train), scaler.transform(x_test)
    clf = LinearSVC(C=config.svm_c, max_iter=config.svm_max_iter)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        clf.fit(x_train, y_train)
    if any(issubclass(w.category, ConvergenceWarning) for w in caught):
        if unconverged is None:
            log.warning(
                "%s: LinearSVC did not converge in %d iterations (eval.svm_max_iter)",
                labelled(what or "linear probe"),
                config.svm_max_iter,
            )
        else:
            unconverged.append(what)
    dec = clf.decision_function(x_test)
    if dec.ndim == 1:  # two classes: sklearn returns the score of classes_[1]
        dec = np.stack([-dec, dec], axis=1)
    summed = dec.reshape(int(test.sum()), n_win, -1).sum(axis=1)
    out = np.full((summed.shape[0], num_classes), -np.inf)
    out[:, clf.classes_] = summed
    return np.where(np.isfinite(out), out, np.finfo(np.float64).min)


def class_names(videos: pd.DataFrame, config: EvalConfig) -> list[str]:
    """Zero-shot prompt per label index 0..max ("brush_hair" -> "brush hair"); None for an index with no video."""
    names = videos.drop_duplicates("label_index").set_index("label_index")["label"]
    if names.empty or names.index.min() < 0:
        raise ValueError("action CSV has no labels (or a negative label_index)")
    return [
        config.zero_shot_template.format(str(names[i]).replace("_", " ")) if i in names.index else None
        for i in range(int(names.index.max()) + 1)
    ]


def action_recognition(
    model, dataset, tokenizer=None, config: EvalConfig | None = None, kind: str = "hmdb", protocol: str | None = None
) -> pd.DataFrame:
    """Linear-probe and zero-shot top-1 (percent) per split and their mean, each with its chance level."""
    config = config or EvalConfig()
    model, tokenizer = resolve_model(model, tokenizer)
    protocol = protocol or kind
    videos = read_videos(dataset, config, kind)
    class_text = class_names(videos, config)
    num_classes = len(class_text)
    feats, embs, keep, raw = video_windows(model, dataset, videos, config, resolve_mode(model, config), kind)
    videos = videos.iloc[keep].reset_index(drop=True)
    labels = videos["label_index"].to_numpy(dtype=np.int64)
    present = [i for i, t in enumerate(class_text) if t is not None]
    text = np.full((num_classes, embs.shape[1]), 0.0)
    text[present] = encode_text(
        model, tokenizer, [class_text[i] for i in present], config, what=f"{protocol} class names"
    )
    absent = np.array([t is None for t in class_text])
    rows, unconverged, correct = [], [], defaultdict(list)
    for split in config.action_splits:
        col = videos[f"split{split}"].to_numpy()
        train, test = col == 1, col == 2
        if not train.any() or not test.any():
            raise ValueError(
                f"action split {split}: needs training (1) and test (2) videos, got {train.sum()} and {test.sum()}"
            )
        ch = chance.classification_chance(labels[test], len(present), labels[train])
        probe = linear_probe_split(feats, labels, train, test, num_classes, config, unconverged, f"linear split{split}")
        zs = embs[test] @ text.T
        zs[:, absent] = np.finfo(np.float64).min  # a label with no video is never predicted
        scored = [("linear", probe), ("zero_shot", zs)]
        if raw is not None:  # the baseline a learned representation must beat: the input features themselves
            scored.append(
                (
                    "linear_raw",
                    linear_probe_split(
                        raw, labels, train, test, num_classes, config, unconverged, f"linear_raw split{split}"
                    ),
                )
            )
        for variant, s in scored:
            correct[variant].append((split, videos["video_id"].to_numpy()[test], metrics.top1_correct(s, labels[test])))
            rows.append(
                dict(
                    task="action",
                    protocol=protocol,
                    variant=variant,
                    metric="top1",
                    split=f"split{split}",
                    value=metrics.accuracy(s, labels[test]),
                    chance=ch,
                    n=int(test.sum()),
                )
            )
    if unconverged:
        log.warning(
            "%s: LinearSVC did not converge in %d iterations (eval.svm_max_iter) for %d of the probes: %s",
            labelled(f"action {protocol}"),
            config.svm_max_iter,
            len(unconverged),
            ", ".join(unconverged),
        )
    df = pd.DataFrame(rows)
    for variant, g in df.groupby("variant", sort=False):
        rows.append(
            dict(
                task="action",
                protocol=protocol,
                variant=variant,
                metric="top1",
                split="mean",
                value=g["value"].mean(),
                chance=g["chance"].mean(),
                n=int(g["n"].sum()),
            )
        )
    return with_items(make_table(rows), action_items(correct, protocol))


def action_items(correct: dict[str, list[tuple[int, np.ndarray, np.ndarray]]], protocol: str) -> pd.DataFrame:
    """Per-video scores of each variant from {variant: [(split, test video ids, top-1 correct)]}.

    Split `split<s>`: item = video, score 0 or 100, weight 1 (their mean is that split's top-1). Split `mean` (the
    mean over splits of the per-split top-1): item = video, weight w_v = sum over the splits that test v of
    1 / (that split's test videos), score = sum of 100 * correct / n_split over them, divided by w_v, so that
    sum(w * score) / sum(w) is the table's mean exactly and a video tested in several splits is one item (the
    bootstrap resamples videos, not video-split pairs)."""
    frames = []
    for variant, per_split in correct.items():
        weight: dict[str, float] = defaultdict(float)
        credit: dict[str, float] = defaultdict(float)
        for split, ids, ok in per_split:
            frames.append(
                pd.DataFrame(
                    {
                        "split": f"split{split}",
                        "variant": variant,
                        "item": ids,
                        "score": 100.0 * ok,
                        "weight": 1.0,
                        "hits": ok.astype(int),
                        "total": 1,
                    }
                )
            )
            for vid, hit in zip(ids, ok):
                weight[vid] += 1.0 / len(ids)
                credit[vid] += 100.0 * float(hit) / len(ids)
        ids = sorted(weight)
        frames.append(
            pd.DataFrame(
                {
                    "split": "mean",
                    "variant": variant,
                    "item": ids,
                    "score": [credit[v] / weight[v] for v in ids],
                    "weight": [weight[v] for v in ids],
                }
            )
        )
    items = pd.concat(frames, ignore_index=True)
    return items.assign(task="action", protocol=protocol, metric="top1")
