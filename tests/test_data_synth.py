"""SynthHowTo: determinism, ground truth consistent with the files, noise knobs doing what they say."""

from __future__ import annotations

import importlib
import json
import logging

import numpy as np
import pytest

from test_data_common import TINY, tree_hashes
from vttwins.data import (
    load_features,
    probe_video,
    read_action_csv,
    read_crosstask,
    read_crosstask_flat,
    read_hmdb_splits,
    read_howto_csv,
    read_msrvtt_csv,
    read_youcook2_csv,
    read_youcook2_json,
)
from vttwins.data.captions import CaptionStore
from vttwins.companion.synth import SynthConfig, build_config, ensure_synth, generate, synth_paths


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("tiny"), TINY, workers=1)


def test_same_config_same_bytes_any_worker_count(tiny, tmp_path):
    other = generate(tmp_path / "w2", TINY, workers=2)
    a, b = tree_hashes(tiny.root), tree_hashes(other.root)
    assert a == b and len(a) > 50


def test_different_seed_different_data(tiny, tmp_path):
    other = generate(
        tmp_path / "s1",
        TINY.replace(seed=1, youcook2_videos=0, msrvtt_videos=0, crosstask_videos=0, action_clips_per_class=0),
        workers=1,
    )
    assert read_howto_csv(other.howto_csv)["video_id"].tolist() != read_howto_csv(tiny.howto_csv)["video_id"].tolist()
    assert json.loads(other.world.read_text())["tasks"] != json.loads(tiny.world.read_text())["tasks"]


def test_downstream_sets_use_disjoint_seeds(tiny):
    ids = [
        set(read_howto_csv(tiny.howto_csv)["video_id"]),
        set(read_youcook2_csv(tiny.youcook2_csv)["video_id"]),
        set(read_crosstask(tiny.crosstask_root).videos["video_id"]),
    ]
    assert all(not (ids[i] & ids[j]) for i in range(3) for j in range(i + 1, 3))


def test_ensure_synth_regenerates_only_on_config_change(tiny, tmp_path, caplog):
    cfg = TINY.replace(youcook2_videos=0, msrvtt_videos=0, crosstask_videos=0, action_clips_per_class=0, howto_videos=2)
    p = ensure_synth(tmp_path / "e", cfg)
    stamp = p.meta.stat().st_mtime_ns
    assert ensure_synth(tmp_path / "e", cfg).meta.stat().st_mtime_ns == stamp
    with pytest.raises(ValueError, match="regeneration is off"):
        ensure_synth(tmp_path / "e", cfg.replace(howto_videos=3), regenerate=False)
    assert p.meta.stat().st_mtime_ns == stamp
    with caplog.at_level(logging.WARNING, logger="vttwins.companion.synth.manifest"):
        ensure_synth(tmp_path / "e", cfg.replace(howto_videos=3))  # a cache ensure_synth wrote: replaced, loudly
    assert len(read_howto_csv(p.howto_csv)) == 3
    assert any("howto_videos" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)


def _snapshot(root):
    return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_a_folder_the_user_made_is_never_deleted(tmp_path):
    """data_dir at the user's own folder, at a SynthHowTo made with `data synth`, or at an old (pre-manifest)
    SynthHowTo with other settings: every call raises naming the folder and leaves every byte where it was."""
    cfg = TINY.replace(
        youcook2_videos=0,
        msrvtt_videos=0,
        crosstask_videos=0,
        action_clips_per_class=0,
        howto_videos=2,
        render_videos=False,
    )
    mine = tmp_path / "mine"
    (mine / "howto100m").mkdir(parents=True)
    (mine / "howto100m" / "videos.csv").write_text("video_id\nreal\n")
    made = generate(tmp_path / "made", cfg.replace(seed=7), workers=1)  # `data synth --out made --seed 7`
    legacy = generate(tmp_path / "legacy", cfg, workers=1)
    (legacy.root / "manifest.json").unlink()
    for root in (mine, made.root, legacy.root):
        before = _snapshot(root)
        with pytest.raises(ValueError, match=str(root.name)):
            ensure_synth(root, cfg.replace(seed=0, howto_videos=3), workers=1)
        if root == mine:
            with pytest.raises(ValueError, match="not empty"):
                generate(root, cfg, workers=1)
        assert _snapshot(root) == before, root
    assert ensure_synth(legacy.root, cfg).root == legacy.root  # an old folder of the same settings is only read
    assert ensure_synth(made.root, cfg.replace(seed=7)).root == made.root


def test_every_synth_path_exists(tiny):
    assert set(tiny.files()) == set(vars(tiny)) - {"extra"} and len(tiny.files()) == 24  # no split of its own here
    for name, path in tiny.files().items():
        assert path.exists(), name
    assert synth_paths(tiny.root) == tiny


def test_howto_files_agree_with_ground_truth(tiny):
    store = CaptionStore(tiny.howto_captions)
    for vid in read_howto_csv(tiny.howto_csv)["video_id"]:
        ann = json.loads((tiny.howto_annotations / f"{vid}.json").read_text())
        feats = load_features(tiny.howto_features / f"{vid}.mp4.npy")
        info = probe_video(tiny.howto_videos / f"{vid}.mp4")
        assert feats.shape == (ann["duration"], 1024) and feats.dtype == np.float32
        assert info["frames"] == ann["duration"] * TINY.fps and info["width"] == TINY.size
        caps = store.raw(vid)
        assert caps["text"] == [c["text"] for c in ann["captions"]]
        assert np.all(np.diff(caps["start"]) >= 0), "ASR order: sorted by start time"
        assert caps["start"].min() >= 0 and caps["end"].max() <= ann["duration"]
        for c in ann["captions"]:
            assert (c["step"] is None) == (c["kind"] != "step")
            assert c["text"] == c["text"].lower() and not any(ch in c["text"] for ch in ",.!?")
        for s in ann["steps"]:
            assert 0 <= s["start"] < s["end"] <= ann["duration"]


def test_world_has_shared_steps_and_ordinary_words(tiny):
    world = json.loads(tiny.world.read_text())
    steps = [s["name"] for t in world["tasks"] for s in t["steps"]]
    assert len(set(steps)) < len(steps), "some steps are shared across tasks"
    assert all(3 <= len(t["steps"]) <= 5 for t in world["tasks"])
    assert all(w.isalpha() for s in steps for w in s.split())


def test_crosstask_annotations_inside_their_videos(tiny):
    ct = read_crosstask(tiny.crosstask_root)
    flat = read_crosstask_flat(tiny.crosstask_flat_csv)
    assert len(flat) == len(ct.annotations) and set(ct.videos["split"]) <= {"train", "val"}
    for row in ct.annotations.itertuples():
        duration = probe_video(tiny.crosstask_videos / row.task / f"{row.video_id}.mp4")["duration"]
        assert 0 <= row.start < row.end <= duration
        assert 1 <= row.step <= len(ct.tasks[row.task].steps)
    step_names = {
        (r.task, r.video_id, r.start): ct.tasks[r.task].steps[r.step - 1] for r in ct.annotations.itertuples()
    }
    for r in flat.itertuples():
        assert step_names[(r.task_id, r.video_id, r.start)] == r.text


def test_youcook2_msrvtt_actions_parse_and_resolve(tiny):
    yc, yj = read_youcook2_csv(tiny.youcook2_csv), read_youcook2_json(tiny.youcook2_json)
    assert yc.equals(yj) and len(yc) > 0
    for r in yc.itertuples():
        assert (tiny.youcook2_videos / r.task / f"{r.video_id}.mp4").is_file()
        assert r.end <= load_features(tiny.youcook2_features / f"{r.video_id}.mp4.npy").shape[0]
    ms = read_msrvtt_csv(tiny.msrvtt_csv)
    assert len(ms) == TINY.msrvtt_videos and all((tiny.msrvtt_videos / f"{v}.mp4").is_file() for v in ms.video_id)
    act = read_action_csv(tiny.action_csv)
    assert sorted(act.label.unique()) == sorted(
        json.loads(tiny.world.read_text())["verbs"][i]["name"] for i in range(TINY.num_verbs)
    )
    assert all((tiny.action_videos / r.label / r.video_id).is_file() for r in act.itertuples())
    splits = read_hmdb_splits(tiny.action_splits)
    assert splits.equals(act.sort_values("video_id").reset_index(drop=True))
    assert {1, 2} <= set(act.split1) and not act[["split1", "split2", "split3"]].T.duplicated().any()


def test_feature_only_generation_matches_rendered_features(tiny, tmp_path):
    p = generate(
        tmp_path / "nv",
        TINY.replace(
            render_videos=False, youcook2_videos=0, msrvtt_videos=0, crosstask_videos=0, action_clips_per_class=0
        ),
        workers=1,
    )
    assert not any(p.howto_videos.iterdir())
    a, b = tree_hashes(p.howto_features), tree_hashes(tiny.howto_features)
    assert a == b


def _narration_stats(paths) -> dict:
    offsets, kinds, inversions = [], [], 0
    for f in sorted(paths.howto_annotations.glob("*.json")):
        ann = json.loads(f.read_text())
        steps = ann["steps"]
        src = []
        for c in ann["captions"]:
            kinds.append(c["kind"])
            if c["kind"] == "step":  # measured from the times, not from the recorded offset
                s = steps[c["step"]]
                nominal = s["start"] + (c["part"] + 0.5) * (s["end"] - s["start"]) / c["n_parts"]
                offsets.append((c["start"] + c["end"]) / 2 - nominal)
                src.append(c["step"])
        inversions += int(np.sum(np.diff(src) < 0))
    offsets, kinds = np.array(offsets), np.array(kinds)
    n_text = np.sum(kinds != "empty")
    return {
        "mean": offsets.mean(),
        "std": offsets.std(),
        "filler": np.sum(kinds == "filler") / n_text,
        "inversions": inversions,
        "max_abs": np.abs(offsets).max(),
        "empty": np.sum(kinds == "empty"),
    }


NARRATION_ONLY = dict(
    render_videos=False,
    howto_videos=120,
    youcook2_videos=0,
    msrvtt_videos=0,
    crosstask_videos=0,
    action_clips_per_class=0,
    gap_seconds=(6.0, 12.0),
)


@pytest.mark.parametrize(
    "knobs",
    [
        {"offset_mean": 2.0, "offset_std": 3.0, "filler_rate": 0.3},
        {"offset_mean": -1.0, "offset_std": 6.0, "filler_rate": 0.5, "narrate_prob": 0.5},
    ],
)
def test_noise_knobs_move_offsets_and_filler(tmp_path, knobs):
    cfg = TINY.replace(**NARRATION_ONLY).with_noise(**knobs)
    st = _narration_stats(generate(tmp_path / "n", cfg, workers=1))
    assert abs(st["mean"] - knobs["offset_mean"]) < 0.4, st
    assert abs(st["std"] - knobs["offset_std"]) < 0.15 * knobs["offset_std"], st
    assert abs(st["filler"] - knobs["filler_rate"]) < 0.05, st
    assert st["inversions"] > 0  # shifted captions are no longer in step order


def test_clean_preset_is_perfectly_aligned(tmp_path):
    paths = generate(tmp_path / "c", TINY.replace(**NARRATION_ONLY).with_noise("clean"), workers=1)
    st = _narration_stats(paths)
    assert st["max_abs"] <= 0.011 and st["filler"] == 0 and st["empty"] == 0 and st["inversions"] == 0, st
    for f in paths.howto_annotations.glob("*.json"):
        ann = json.loads(f.read_text())
        assert {c["step"] for c in ann["captions"]} == set(range(len(ann["steps"])))  # every step narrated


def test_config_validation_and_cli_overrides():
    with pytest.raises(ValueError, match="filler_rate"):
        SynthConfig.from_dict({"noise": {"filler_rate": 1.0}})
    with pytest.raises(ValueError, match="unknown SynthConfig keys"):
        SynthConfig.from_dict({"howto_video": 3})
    with pytest.raises(ValueError, match="unknown noise preset"):
        TINY.with_noise("noisy")
    cfg = build_config("smoke", "weak", ["howto_videos=5", "noise.offset_std=2.5", "steps_per_task=[2, 3]"], seed=7)
    assert (cfg.howto_videos, cfg.noise.offset_std, cfg.noise.filler_rate, cfg.seed) == (5, 2.5, 0.4, 7)
    assert cfg.steps_per_task == (2, 3) and SynthConfig.from_dict(cfg.to_dict()) == cfg
    merged = TINY.replace(noise={"feature_noise": 3.0}).with_noise("clean")  # presets touch narration knobs only
    assert (merged.noise.feature_noise, merged.noise.offset_std, merged.noise.narrate_prob) == (3.0, 0.0, 1.0)
    assert merged.with_noise("default").noise == TINY.noise.__class__(feature_noise=3.0)


def test_cli_writes_a_set(tmp_path):
    from vttwins.__main__ import main

    out = tmp_path / "cli"
    assert (
        main(
            [
                "data",
                "synth",
                "--profile",
                "smoke",
                "--out",
                str(out),
                "--workers",
                "1",
                "--set",
                "howto_videos=2",
                "--set",
                "youcook2_videos=1",
                "--set",
                "msrvtt_videos=1",
                "--set",
                "crosstask_videos=1",
                "--set",
                "action_clips_per_class=1",
                "--set",
                "size=16",
            ]
        )
        == 0
    )
    meta = json.loads((out / "meta.json").read_text())
    assert meta["counts"]["howto_videos"] == 2 and (out / "README.md").read_text().startswith("# SynthHowTo")


def test_concurrent_ensure_synth_generates_once(tmp_path, monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    gen = importlib.import_module("vttwins.companion.synth.generate")  # the module, not the function of that name
    calls = []
    real = gen.generate
    monkeypatch.setattr(gen, "generate", lambda *a, **k: calls.append(1) or real(*a, **k))
    cfg = TINY.replace(
        howto_videos=2,
        youcook2_videos=0,
        msrvtt_videos=0,
        crosstask_videos=0,
        action_clips_per_class=0,
        render_videos=False,
    )
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda _: ensure_synth(tmp_path / "shared", cfg, workers=1), range(3)))
    assert all(r == results[0] for r in results)
    assert len(read_howto_csv(results[0].howto_csv)) == 2 and len(calls) == 1


def test_a_benchmark_split_must_not_take_a_used_folder_seed_code_or_path_name(tmp_path):
    """A split sharing a seed code would copy another split's videos; one sharing a folder or a path name would
    overwrite its files: each raises before anything is written."""
    from vttwins.companion.benchmarks.split import SynthSplit
    from vttwins.companion.benchmarks.registry import Task, register, unregister

    with pytest.raises(ValueError, match="folder"):
        SynthSplit("a/b", 9, "m:count", "m:make", "m:write", "m:summary")
    with pytest.raises(ValueError, match="seed_code"):
        SynthSplit("toy", 1, "m:count", "m:make", "m:write", "m:summary")  # HowTo's
    cases = [
        ({"folder": "toy", "seed_code": 2}, "seed_code 2"),  # YouCook2's
        ({"folder": "msrvtt", "seed_code": 9}, "folder 'msrvtt'"),
        ({"folder": "toy", "seed_code": 9, "layout": lambda r: {"msrvtt_csv": r / "x.csv"}}, "'msrvtt_csv'"),
    ]
    for changes, message in cases:
        split = SynthSplit(count=len, make=print, write=print, summary=len, **changes)
        register(Task("toy_clash", "m:evaluate", "m:table", "Toy", default=False, synth=split))
        try:
            with pytest.raises(ValueError, match=message):
                generate(tmp_path / "g", SynthConfig(howto_videos=1), workers=1)
            assert not (tmp_path / "g").exists()
        finally:
            unregister("toy_clash")
