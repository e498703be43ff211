"""HowToPretrainDataset: the released sampling, both modes, reproducibility, and bad files under raise/skip."""

from __future__ import annotations

import json
import logging
import shutil

import numpy as np
import pandas as pd
import pytest
import torch

from test_data_common import TINY
from vttwins.data import DataFileError, HowToPretrainDataset, collate_pretrain, read_howto_csv
from vttwins.data.howto100m import sample_clip_starts, sample_indices
from vttwins.companion.synth import generate

HOWTO_ONLY = dict(howto_videos=6, youcook2_videos=0, msrvtt_videos=0, crosstask_videos=0, action_clips_per_class=0)


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("howto"), TINY.replace(**HOWTO_ONLY), workers=1)


@pytest.fixture()
def copy(synth, tmp_path):
    """A private copy of the set, to break files in."""
    root = tmp_path / "copy"
    shutil.copytree(synth.root / "howto100m", root)
    return root


def feature_ds(root, **kw):
    return HowToPretrainDataset(root / "videos.csv", root / "captions", feature_root=root / "features", **kw)


def test_sampling_rules():
    rng = np.random.default_rng(0)
    assert sample_indices(3, 8, rng).tolist() == [0, 1, 2, 2, 2, 2, 2, 2]
    firsts = {int(sample_indices(10, 8, rng)[0]) for _ in range(200)}
    assert firsts == {0, 1, 2}
    starts = sample_clip_starts(np.array([2.5, 10.0, 7.9]), np.array([9.0, 11.0, 8.5]), 3.2, rng)
    assert starts.dtype == np.int64 and 2 <= starts[0] <= 5 and starts[1] == 10 and starts[2] == 7
    with pytest.raises(ValueError, match="no captions"):
        sample_indices(0, 8, rng)


def test_feature_mode_item(synth):
    ds = HowToPretrainDataset(synth.howto_csv, synth.howto_captions, feature_root=synth.howto_features)
    item = ds[0]
    assert item["features"].shape == (8, 4, 1024) and item["features"].dtype == torch.float32
    assert len(item["text"]) == 8 and all(t.strip() for t in item["text"])
    assert item["start"].shape == item["end"].shape == item["clip_start"].shape == (8,)
    assert torch.all(item["clip_start"] >= torch.floor(item["start"]))
    assert torch.all(item["clip_start"] <= torch.clamp(torch.floor(item["end"] - 3.2), min=torch.floor(item["start"])))
    assert item["video_id"] == read_howto_csv(synth.howto_csv).video_id[0] and item["index"] == 0
    feats = np.load(synth.howto_features / f"{item['video_id']}.mp4.npy")
    k = int(item["clip_start"][0])
    assert np.array_equal(item["features"][0].numpy(), feats[np.minimum(np.arange(k, k + 4), len(feats) - 1)])


def test_pixel_mode_item_and_collate(synth):
    ds = HowToPretrainDataset(
        synth.howto_csv, synth.howto_captions, video_root=synth.howto_videos, num_frames=6, fps=4.0, size=24, n_clips=3
    )
    items = [ds[0], ds[1]]
    assert items[0]["video"].shape == (3, 3, 6, 24, 24) and items[0]["video"].dtype == torch.uint8
    batch = collate_pretrain(items)
    assert batch["video"].shape == (2, 3, 3, 6, 24, 24) and batch["index"].tolist() == [0, 1]
    assert len(batch["text"]) == 2 and batch["start"].shape == (2, 3)


def test_reproducible_per_seed_epoch_index(synth):
    a = feature_ds(synth.root / "howto100m", seed=5)
    b = feature_ds(synth.root / "howto100m", seed=5)
    assert torch.equal(a[2]["clip_start"], b[2]["clip_start"]) and a[2]["text"] == b[2]["text"]
    draws = set()
    for epoch in range(6):
        a.set_epoch(epoch)
        draws.add(tuple(a[2]["clip_start"].tolist()) + tuple(a[2]["text"]))
    assert len(draws) > 1


def test_tokenizer_and_unknown_words(synth):
    vocab = {"now": 1, "we": 2}

    def tokenizer(sentences, max_words=20):
        out = torch.zeros(len(sentences), max_words, dtype=torch.int64)
        for i, s in enumerate(sentences):
            ids = [vocab[w] for w in s.split() if w in vocab][:max_words]
            out[i, : len(ids)] = torch.tensor(ids, dtype=torch.int64)
        return out

    item = feature_ds(synth.root / "howto100m", tokenizer=tokenizer, max_words=5)[0]
    assert "text" not in item and item["tokens"].shape == (8, 5) and item["tokens"].dtype == torch.int64
    # captions with no known word are kept as all-padding rows, as released
    assert (item["tokens"].sum(1) == 0).any()


def test_short_caption_list_repeats_last(copy):
    vid = read_howto_csv(copy / "videos.csv").video_id[0]
    (copy / "captions" / f"{vid}.json").write_text(
        json.dumps({"start": [1.0, 3.0, 5.0], "end": [2.0, 4.5, 6.0], "text": ["a", "", "b"]})
    )
    item = feature_ds(copy)[0]
    assert item["text"] == ["a"] + ["b"] * 7 and item["start"].tolist() == [1.0] + [5.0] * 7


def _break(copy, what: str) -> str:
    vid = read_howto_csv(copy / "videos.csv").video_id[0]
    feat, cap, video = (
        copy / "features" / f"{vid}.mp4.npy",
        copy / "captions" / f"{vid}.json",
        copy / "videos" / f"{vid}.mp4",
    )
    if what == "missing_features":
        feat.unlink()
    elif what == "truncated_features":
        feat.write_bytes(feat.read_bytes()[:200])
    elif what == "malformed_captions":
        cap.write_text('{"start": [1.0], "end": [')
    elif what == "empty_captions":
        cap.write_text(json.dumps({"start": [1.0], "end": [2.0], "text": [" "]}))
    elif what == "missing_video":
        video.unlink()
    elif what == "truncated_video":
        video.write_bytes(video.read_bytes()[:2000])
    elif what == "corrupt_video":
        video.write_bytes(b"\x00" * 4096)
    return vid


@pytest.mark.parametrize(
    "what",
    [
        "missing_features",
        "truncated_features",
        "malformed_captions",
        "empty_captions",
        "missing_video",
        "truncated_video",
        "corrupt_video",
    ],
)
def test_bad_files_raise_or_skip(copy, what, caplog):
    vid = _break(copy, what)
    pixel = what.endswith("video")
    kw = (
        dict(video_root=copy / "videos", num_frames=4, fps=4.0, size=16)
        if pixel
        else dict(feature_root=copy / "features")
    )
    strict = HowToPretrainDataset(copy / "videos.csv", copy / "captions", on_error="raise", **kw)
    with pytest.raises((FileNotFoundError, DataFileError), match=vid):
        strict[0]
    lenient = HowToPretrainDataset(copy / "videos.csv", copy / "captions", on_error="skip", **kw)
    with caplog.at_level(logging.WARNING, logger="vttwins.data"):
        first, again = lenient[0], lenient[0]
    assert first["video_id"] != vid and first["index"] == 0 and torch.equal(first["start"], again["start"])
    assert len(lenient.skipped) == 1 and vid in lenient.skipped[0][0]  # known bad: not retried, not re-logged
    assert sum(vid in r.getMessage() for r in caplog.records) == 1


def test_all_files_bad_stops_with_a_clear_error(copy):
    shutil.rmtree(copy / "features")
    ds = feature_ds(copy, on_error="skip")
    with pytest.raises(RuntimeError, match="no usable item"):
        ds[0]
    assert len(ds.skipped) == len(ds)


def test_argument_errors(synth):
    with pytest.raises(ValueError, match="video_root"):
        HowToPretrainDataset(synth.howto_csv, synth.howto_captions)
    with pytest.raises(ValueError, match="on_error"):
        feature_ds(synth.root / "howto100m", on_error="ignore")
    with pytest.raises(FileNotFoundError, match="caption_root"):
        HowToPretrainDataset(synth.howto_csv, synth.root / "nope", feature_root=synth.howto_features)


def test_three_caption_layouts_give_identical_items(synth, tmp_path):
    big, csv_dir = {}, tmp_path / "csv"
    csv_dir.mkdir()
    for f in sorted(synth.howto_captions.glob("*.json")):
        caps = json.loads(f.read_text())
        big[f.stem] = caps
        pd.DataFrame(caps).to_csv(csv_dir / f"{f.stem}.csv", index=False)
    (tmp_path / "caption.json").write_text(json.dumps(big))
    items = [
        HowToPretrainDataset(synth.howto_csv, root, feature_root=synth.howto_features)[3]
        for root in (synth.howto_captions, tmp_path / "caption.json", csv_dir)
    ]
    for other in items[1:]:
        assert other["text"] == items[0]["text"] and torch.equal(other["features"], items[0]["features"])
        assert torch.allclose(other["start"], items[0]["start"])
