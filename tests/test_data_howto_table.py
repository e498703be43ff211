"""The table path of feature-mode pretraining data (vttwins/data/howto_table.py) against the per-item reference:
the same batches bit for bit (padding, late captions, short videos, every epoch), the per-process cache, the
fall-back on a bad file, and two training runs (table vs reference) with identical losses and weights."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest
import torch

from test_data_common import TINY
from vttwins.data import collate_pretrain
from vttwins.data import features
from vttwins.data.howto100m import HowToPretrainDataset, read_howto_csv
from vttwins.data import howto_table as ht
from vttwins.companion.synth import generate
from vttwins.models import Tokenizer

HOWTO_ONLY = dict(
    howto_videos=8,
    youcook2_videos=0,
    msrvtt_videos=0,
    crosstask_videos=0,
    action_clips_per_class=0,
    render_videos=False,
)


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("howto_table"), TINY.replace(**HOWTO_ONLY), workers=1)


@pytest.fixture()
def root(synth, tmp_path):
    """A private copy, with one video's features cut short so that some of its captions start after its end."""
    root = tmp_path / "copy"
    shutil.copytree(synth.root / "howto100m", root)
    first = video_file(root, 0)
    feats = np.load(first)
    np.save(first, feats[: max(2, len(feats) // 3)])
    return root


def video_file(root, i):
    """The feature file of the i-th video of the list."""
    return ht.feature_path(root / "features", read_howto_csv(root / "videos.csv").at[i, "video_path"])


def dataset(root, **kw):
    kw = {"n_clips": 8, "feature_window": 4, "max_words": 6, "seed": 3, **kw}
    ds = HowToPretrainDataset(root / "videos.csv", root / "captions", feature_root=root / "features", **kw)
    texts = [t for i in range(len(ds)) for t in ds.captions.get(ds.videos.at[i, "video_id"])["text"]]
    ds.tokenizer = Tokenizer.from_corpus(texts[::2])  # half the corpus: some captions have unknown words
    return ds


def assert_same_batch(fast: dict, slow: dict) -> None:
    assert list(fast) == list(slow)
    for key, value in slow.items():
        if isinstance(value, torch.Tensor):
            assert fast[key].dtype == value.dtype and fast[key].shape == value.shape, key
            assert torch.equal(fast[key], value), key
        else:
            assert fast[key] == value, key


@pytest.mark.parametrize("n_clips,window", [(8, 4), (3, 1), (30, 2)])  # 30 clips: every video pads its captions
def test_table_batches_equal_the_per_item_batches(root, n_clips, window):
    ht.clear_cache()
    reference = dataset(root, n_clips=n_clips, feature_window=window)
    fast = ht.table_dataset(dataset(root, n_clips=n_clips, feature_window=window), reference.tokenizer)
    assert isinstance(fast, ht.TableDataset)
    rng = np.random.default_rng(0)
    for epoch in (0, 1, 5):
        reference.set_epoch(epoch)
        fast.set_epoch(epoch)
        for _ in range(3):
            indices = rng.choice(len(reference), size=5, replace=True).tolist()
            assert_same_batch(fast.__getitems__(indices), collate_pretrain([reference[i] for i in indices]))


def test_the_late_captions_of_the_cut_video_are_dropped_in_the_table(root):
    ht.clear_cache()
    ds = dataset(root)
    table = ht.feature_table(ds)
    assert table.lengths[0] == len(np.load(video_file(root, 0)))
    raw = ds.captions.get(table.video_ids[0])["start"]
    first, count = int(table.cap_first[0]), int(table.cap_count[0])
    assert 1 <= count < len(raw) and np.array_equal(table.cap_start[first : first + count], raw[raw < table.lengths[0]])
    assert table.rows.shape == (int(table.lengths.sum()), 1024) and table.rows.dtype == np.float32


def test_the_table_is_read_once_per_process_and_again_when_a_file_changes(root):
    ht.clear_cache()
    one = ht.feature_table(dataset(root))
    assert ht.feature_table(dataset(root)) is one
    path = video_file(root, 2)
    np.save(path, np.load(path) * 2)
    os.utime(path, ns=(1, 1))  # a different mtime even on a coarse clock
    two = ht.feature_table(dataset(root))
    assert two is not one and np.array_equal(two.rows[two.offsets[2]], one.rows[one.offsets[2]] * 2)


def test_a_bad_file_falls_back_to_the_per_item_path(root, caplog):
    ht.clear_cache()
    video_file(root, 3).write_bytes(b"not a numpy file")
    ds = dataset(root, on_error="skip")
    assert ht.table_dataset(ds, ds.tokenizer) is ds


def test_reference_switch(root, monkeypatch):
    ds = dataset(root)
    monkeypatch.setenv(features.PATH_ENV, "reference")
    assert ht.table_dataset(ds, ds.tokenizer) is ds
    monkeypatch.setenv(features.PATH_ENV, "fast-please")
    with pytest.raises(ValueError, match=features.PATH_ENV):
        ht.table_dataset(ds, ds.tokenizer)


def test_training_on_the_table_equals_training_on_the_reference(synth, tmp_path, monkeypatch):
    from vttwins.companion.config import load_config
    from vttwins.companion.training import fit

    ht.clear_cache()
    howto = synth.root / "howto100m"
    calls = []
    gather = ht.TableDataset.__getitems__
    monkeypatch.setattr(ht.TableDataset, "__getitems__", lambda self, idx: calls.append(idx) or gather(self, idx))
    runs = {}
    for path in ("reference", "table"):
        monkeypatch.setenv(features.PATH_ENV, path)
        runs[path] = fit(
            load_config(
                "smoke",
                [
                    f"output_dir={tmp_path / path}",
                    f"data.video_list_csv={howto / 'videos.csv'}",
                    f"data.caption_root={howto / 'captions'}",
                    f"data.feature_root={howto / 'features'}",
                    "train.steps=5",
                    "train.batch_size=4",
                    "train.log_every=1",
                    "train.progress=log",
                    "model.dropout=0.1",
                ],
            )
        )
        assert len(calls) == (5 if path == "table" else 0)
    losses = {
        p: [json.loads(line)["loss"] for line in (r / "metrics.jsonl").read_text().splitlines()]
        for p, r in runs.items()
    }
    assert len(losses["table"]) == 5 and losses["table"] == losses["reference"]
    a, b = (torch.load(r / "model.pt", weights_only=False)["model"] for r in runs.values())
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_feature_files_and_the_vocabulary_corpus_are_read_once_per_process(root):
    from vttwins.data.features import load_features, load_features_shared
    from vttwins.companion.training.builders import caption_texts

    path = video_file(root, 1)
    one = load_features_shared(path)
    assert load_features_shared(path) is one and not one.flags.writeable
    assert np.array_equal(one, load_features(path))
    np.save(path, np.load(path)[:3])
    os.utime(path, ns=(2, 2))
    assert load_features_shared(path).shape[0] == 3
    texts = caption_texts(root / "videos.csv", root / "captions")
    vid = read_howto_csv(root / "videos.csv").at[0, "video_id"]
    caps = root / "captions" / f"{vid}.json"
    raw = json.loads(caps.read_text())
    assert caption_texts(root / "videos.csv", root / "captions") == texts and raw["text"][0] in texts
    raw["text"][0] = "a brand new caption"
    caps.write_text(json.dumps(raw))
    os.utime(caps, ns=(3, 3))
    again = caption_texts(root / "videos.csv", root / "captions")
    assert "a brand new caption" in again and len(again) == len(texts)


def test_the_reference_switch_reads_every_file_again(root, monkeypatch):
    from vttwins.data.features import load_features_shared

    monkeypatch.setenv(features.PATH_ENV, "reference")
    path = video_file(root, 1)
    assert load_features_shared(path) is not load_features_shared(path)
