"""The dataset-facing evaluations on tiny hand-made sets in the real file formats, scored by an oracle model.

Each set is built so that a clip's feature vectors equal the one-hot code of its caption's word; the oracle
model embeds a window as its mean vector and a sentence as the one-hot code of its first word, so every
protocol must come out perfect (and a shuffled oracle at chance), which checks window sampling, file lookup,
score orientation and the per-task pooling end to end.
"""

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("vttwins.data", reason="needs the data readers")
from vttwins.companion.evaluation import EvalConfig, action_recognition, retrieval, step_localization  # noqa: E402
from vttwins.companion.evaluation.run import evaluate_model  # noqa: E402
from vttwins.models import Tokenizer  # noqa: E402

DIM = 16
WORDS = [f"w{i}" for i in range(DIM)]


class Oracle(torch.nn.Module):
    mode = "feature"

    def __init__(self, perm=None):
        super().__init__()
        self.anchor = torch.nn.Parameter(torch.zeros(1))  # gives the model a device
        self.perm = torch.arange(DIM) if perm is None else torch.as_tensor(perm)

    def video_features(self, x):
        return x.mean(1)

    def encode_video(self, x, normalize=False):
        return x.mean(1)[:, self.perm]

    def encode_text(self, tokens, normalize=False):
        return torch.nn.functional.one_hot((tokens[:, 0] - 1).clamp(min=0), DIM).float()


def _vec(word: int) -> np.ndarray:
    v = np.zeros(DIM, dtype=np.float32)
    v[word] = 1.0
    return v


def _write_csv(path: Path, header, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        if header:
            w.writerow(header)
        w.writerows(rows)


def make_sets(root: Path) -> dict:
    paths = {}
    feats = root / "feat"
    feats.mkdir(parents=True)
    # YouCook2: 2 videos x 3 clips of 8 s, clip c of video v says word 3v + c
    rows = []
    for v in range(2):
        f = np.zeros((30, DIM), dtype=np.float32)
        for c in range(3):
            f[2 + 9 * c : 10 + 9 * c] = _vec(3 * v + c)
            rows.append([10 + 9 * c, 2 + 9 * c, "101", f"w{3 * v + c} and more", f"yc{v}"])
        np.save(feats / f"yc{v}.mp4.npy", f)
    _write_csv(root / "yc.csv", ["end", "start", "task", "text", "video_id"], rows)
    paths.update(youcook2_csv=root / "yc.csv", youcook2_features=feats)
    # MSR-VTT: 4 whole videos of 6 s
    rows = []
    for i in range(4):
        np.save(feats / f"video{i}.mp4.npy", np.tile(_vec(i + 6), (6, 1)))
        rows.append([f"ret{i}", f"msr{i}", f"video{i}", f"w{i + 6} is shown"])
    _write_csv(root / "msr.csv", ["key", "vid_key", "video_id", "sentence"], rows)
    paths.update(msrvtt_csv=root / "msr.csv", msrvtt_features=feats)
    paths.update(_crosstask(root, feats))
    paths.update(_actions(root, feats))
    return paths


def _crosstask(root: Path, feats: Path) -> dict:
    ct = root / "crosstask_release"
    (ct / "annotations").mkdir(parents=True)
    (ct / "tasks_primary.txt").write_text("777\nmake it\nhttp://x\n3\nw10 a,w11 b,w12 c\n\n")
    _write_csv(ct / "videos.csv", None, [["777", "ctA", "u"]])
    _write_csv(ct / "videos_val.csv", None, [["777", "ctB", "u"], ["777", "ctC", "u"]])
    flat = []
    # ctB: step 1 at 2-5 s, step 3 at 9-12 s and again at 20-23 s (annotated twice); step 2 never annotated
    # ctC: the three steps at 1-4, 8-11, 15-18
    layouts = {
        "ctB": [(1, 2, 5), (3, 9, 12), (3, 20, 23)],
        "ctC": [(1, 1, 4), (2, 8, 11), (3, 15, 18)],
        "ctA": [(1, 1, 4)],
    }
    for vid, segs in layouts.items():
        f = np.full((25, DIM), 0.01, dtype=np.float32)
        for step, s, e in segs:
            f[s:e] = _vec(9 + step)
            flat.append([f"{e:.2f}", f"{s:.2f}", "777", ["w10 a", "w11 b", "w12 c"][step - 1], vid])
        np.save(feats / f"{vid}.mp4.npy", f)
        _write_csv(ct / "annotations" / f"777_{vid}.csv", None, [[st, f"{s:.2f}", f"{e:.2f}"] for st, s, e in segs])
    _write_csv(root / "ct_flat.csv", ["end", "start", "task_id", "text", "video_id"], flat)
    return dict(crosstask_root=ct, crosstask_flat_csv=root / "ct_flat.csv", crosstask_features=feats)


def _actions(root: Path, feats: Path) -> dict:
    rows = []
    rng = np.random.default_rng(0)
    for label, word in (("w13_it", 13), ("w14_it", 14)):
        for i in range(5):
            vid = f"{label}_{i}.avi"
            np.save(feats / f"{vid}.npy", np.tile(_vec(word), (5, 1)) + 0.05 * rng.standard_normal((5, DIM)))
            split = [1, 1, 1, 2, 2][i]
            rows.append([vid, f"{label}_test", split, 3 - split, split])
    _write_csv(root / "act.csv", ["video_id", "label", "split1", "split2", "split3"], rows)
    return dict(action_csv=root / "act.csv", action_features=feats)


@pytest.fixture(scope="module")
def sets(tmp_path_factory):
    return make_sets(tmp_path_factory.mktemp("sets"))


CFG = EvalConfig(feature_window=1, ordered_chance_draws=20)


@pytest.mark.parametrize("protocol,n", [("youcook2", 6), ("msrvtt", 4)])
def test_retrieval_oracle_is_perfect_and_has_chance(sets, protocol, n):
    df = retrieval(Oracle(), sets, protocol, tokenizer=Tokenizer(WORDS), config=CFG)
    assert list(df.columns) == ["task", "protocol", "variant", "metric", "split", "value", "chance", "n"]
    r1 = df[df.metric == "R@1"].set_index("variant")
    assert r1.loc["t2v", "value"] == 100.0 and r1.loc["v2t", "value"] == 100.0
    assert r1.loc["t2v", "chance"] == pytest.approx(100.0 / n)
    assert (df.n == n).all()
    assert df[df.metric == "MedR"]["value"].eq(1.0).all()


def test_retrieval_permuted_oracle_fails(sets):
    perm = np.roll(np.arange(DIM), 1)  # every clip now looks like another word
    df = retrieval(Oracle(perm), sets, "youcook2", tokenizer=Tokenizer(WORDS), config=CFG)
    assert df[(df.metric == "R@1") & (df.variant == "t2v")]["value"].item() < 50.0


def test_crosstask_oracle(sets):
    df = step_localization(Oracle(), sets, tokenizer=Tokenizer(WORDS), config=CFG)
    mean = df[df.split == "mean"].set_index("variant")
    assert mean.loc["standard", "value"] == 100.0
    assert mean.loc["ordered", "value"] == 100.0
    assert mean.loc["ctr", "value"] == 100.0
    assert mean.loc["ctr", "chance"] == pytest.approx(100.0 / 3)
    # the val split has ctB (2 annotated steps, 3+6 of 25 s) and ctC (3 steps, 3 s each): pooled uniform chance
    expected = 100.0 * (3 / 25 + 6 / 25 + 3 * 3 / 25) / 5
    assert mean.loc["standard", "chance"] == pytest.approx(expected)
    assert mean.loc["standard", "n"] == 2


def test_crosstask_all_videos_and_stride(sets):
    cfg = EvalConfig(feature_window=1, ordered_chance_draws=5, crosstask_split=None, crosstask_stride=1)
    df = step_localization(Oracle(), sets, tokenizer=Tokenizer(WORDS), config=cfg, variants=("standard",))
    assert df[df.split == "mean"]["n"].item() == 3 and set(df.variant) == {"standard"}


def test_action_oracle(sets):
    df = action_recognition(Oracle(), sets, tokenizer=Tokenizer(WORDS), config=CFG)
    mean = df[df.split == "mean"].set_index("variant")
    assert mean.loc["linear", "value"] == 100.0
    assert mean.loc["zero_shot", "value"] == 100.0
    assert mean.loc["linear", "chance"] == pytest.approx(50.0)
    assert set(df.split) == {"split1", "split2", "split3", "mean"}


def test_evaluate_model_runs_every_task(sets):
    cfg = EvalConfig(feature_window=1, ordered_chance_draws=5, tasks=["msrvtt", "action"])
    tables = evaluate_model(Oracle(), sets, Tokenizer(WORDS), cfg)
    assert set(tables) == {"msrvtt", "action"}
    assert all(df["chance"].notna().all() for df in tables.values())


def test_missing_files_are_named(sets, tmp_path):
    bad = dict(sets, youcook2_features=tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match="nope"):
        retrieval(Oracle(), bad, "youcook2", tokenizer=Tokenizer(WORDS), config=CFG)
    with pytest.raises(ValueError, match="tokenizer"):
        retrieval(Oracle(), sets, "youcook2", config=CFG)
    with pytest.raises(ValueError, match="protocol"):
        retrieval(Oracle(), sets, "kinetics", tokenizer=Tokenizer(WORDS), config=CFG)


def test_on_error_skip_drops_unreadable_items(sets, tmp_path):
    broken = dict(sets)
    rows = list(csv.reader(open(sets["msrvtt_csv"])))
    rows.append(["ret9", "msr9", "video_missing", "w6 again"])
    _write_csv(tmp_path / "msr.csv", None, rows)
    broken["msrvtt_csv"] = tmp_path / "msr.csv"
    with pytest.raises(FileNotFoundError):
        retrieval(Oracle(), broken, "msrvtt", tokenizer=Tokenizer(WORDS), config=CFG)
    cfg = EvalConfig(feature_window=1, on_error="skip")
    df = retrieval(Oracle(), broken, "msrvtt", tokenizer=Tokenizer(WORDS), config=cfg)
    assert (df.n == 4).all()


def test_eval_config_validates():
    with pytest.raises(ValueError, match="unknown task"):
        EvalConfig(tasks=["kinetics"])
    with pytest.raises(ValueError, match="on_error"):
        EvalConfig(on_error="ignore")
    assert json.dumps(EvalConfig().__dict__)  # plain data, so it lands in config.json


@pytest.fixture()
def toy_task():
    """CONTRIBUTING's "add a downstream benchmark" recipe, followed from a test: one evaluator, one table, one entry."""
    from vttwins.companion.evaluation import TASKS, Task, register
    from vttwins.companion.evaluation.common import make_table
    from vttwins.companion.benchmarks.registry import unregister
    from vttwins.companion.evaluation.retrieval import read_pairs

    def evaluate(model, dataset, tokenizer, config):
        pairs = read_pairs(dataset, "youcook2", config)  # reuses a reader: count the clips, chance = half of them
        return make_table(
            [
                dict(
                    task="toy",
                    protocol="count",
                    variant="all",
                    metric="clips",
                    split="val",
                    value=float(len(pairs)),
                    chance=len(pairs) / 2,
                    n=len(pairs),
                )
            ]
        )

    register(
        Task(
            "toy",
            evaluate,
            lambda long: long[["model", "value"]],
            "Toy: clips counted",
            {"feature": ("youcook2_csv",), "pixel": ("youcook2_csv",)},
            default=False,
        )
    )
    yield TASKS["toy"]
    unregister("toy")


def test_a_registered_task_runs_through_evaluate(sets, toy_task):
    from vttwins.companion.experiments import task_table

    with pytest.raises(ValueError, match="already registered"):
        from vttwins.companion.evaluation import register

        register(toy_task)
    assert "toy" not in EvalConfig().tasks  # default=False: registered, not run unless asked
    tables = evaluate_model(Oracle(), sets, Tokenizer(WORDS), EvalConfig(feature_window=1, tasks=["youcook2", "toy"]))
    assert tables["toy"][["value", "chance", "n"]].values.tolist() == [[6.0, 3.0, 6]]  # 2 videos x 3 clips
    assert task_table(tables["toy"].assign(model="oracle"), "toy").values.tolist() == [["oracle", 6.0]]
    assert task_table(tables["youcook2"].assign(model="oracle"), "youcook2")["R@1"].tolist() == [100.0, 100.0]


def test_crosstask_without_flat_csv_skips_only_ctr(sets, caplog):
    from vttwins.companion.evaluation.tasks import crosstask

    no_flat = {k: v for k, v in sets.items() if k != "crosstask_flat_csv"}
    with caplog.at_level("WARNING", logger="vttwins.companion.evaluation.tasks"):
        df = crosstask(Oracle(), no_flat, Tokenizer(WORDS), CFG)
    assert set(df["variant"]) == {"standard", "ordered"} and "CTR protocol is skipped" in caplog.text
    assert set(crosstask(Oracle(), sets, Tokenizer(WORDS), CFG)["variant"]) == {"standard", "ordered", "ctr"}


def test_runnable_tasks_name_what_is_missing(sets, tmp_path):
    from vttwins.companion.evaluation.inputs import check_path_keys, runnable_tasks

    data = dict(sets, msrvtt_features=tmp_path / "gone")
    data.pop("action_csv")
    run, skipped = runnable_tasks(["youcook2", "msrvtt", "crosstask", "action"], "feature", data)
    assert run == ["youcook2", "crosstask"]
    assert skipped == {
        "msrvtt": [f"msrvtt_features: {tmp_path / 'gone'} does not exist"],
        "action": ["action_csv: not set (eval.paths.action_csv)"],
    }
    assert runnable_tasks(["youcook2"], "pixel", sets)[1] == {
        "youcook2": ["youcook2_videos: not set (eval.paths.youcook2_videos)"]
    }
    with pytest.raises(ValueError, match="youcook_csv"):
        check_path_keys({"youcook_csv": "x"}, "test")


def test_cli_parses_paths_and_refuses_other_rooms(tmp_path):
    from vttwins.companion.evaluation.cli import parse_set, read_data_config

    assert parse_set(["max_clips=5", "eval.paths.youcook2_csv=/d/yc.csv", "paths.msrvtt_csv=/d/m.csv"]) == {
        "max_clips": 5,
        "paths": {"youcook2_csv": "/d/yc.csv", "msrvtt_csv": "/d/m.csv"},
    }
    with pytest.raises(ValueError, match="eval.* keys only"):
        parse_set(["data.root=/x"])
    cfg = tmp_path / "d.yaml"
    cfg.write_text("eval:\n  paths: {youcook2_csv: /d/yc.csv}\n  max_clips: 3\n")
    assert read_data_config(cfg) == {"paths": {"youcook2_csv": "/d/yc.csv"}, "max_clips": 3}
    cfg.write_text("eval: {max_clips: 3}\ndata: {root: /x}\n")
    with pytest.raises(ValueError, match="refusing"):
        read_data_config(cfg)


def test_evaluate_run_honours_new_paths_skips_missing_tasks_and_writes_each_table(sets, tmp_path, monkeypatch, caplog):
    """`evaluate --run R --set eval.paths.*` on data the run never saw: every given path is used and recorded,
    a task without its inputs is skipped with a WARNING, and a task that fails keeps the tables before it."""
    import vttwins.companion.evaluation.run
    from vttwins.companion.config import config_from_dict
    from vttwins.companion.evaluation.cli import cli_main

    config = config_from_dict(
        {
            "data": {"video_list_csv": "real.csv", "caption_root": "c"},
            "model": {"mode": "feature"},
            "train": {"steps": 1},
            "eval": {
                "feature_window": 1,
                "ordered_chance_draws": 5,
                "paths": {"youcook2_csv": str(tmp_path / "stale.csv")},
            },
        }
    )
    monkeypatch.setattr(
        vttwins.companion.evaluation.run, "load_trained", lambda run: (Oracle(), Tokenizer(WORDS), config)
    )
    run = tmp_path / "run"
    given = [f"eval.paths.{k}={v}" for k, v in sets.items() if not k.startswith("action")]
    with caplog.at_level("WARNING", logger="vttwins.companion.evaluation.run"):
        assert cli_main(["--run", str(run), "--set", *given]) == 0
    assert sorted(p.name for p in (run / "eval").glob("*.csv")) == ["crosstask.csv", "msrvtt.csv", "youcook2.csv"]
    assert "skipping task action: action_csv: not set" in caplog.text
    record = json.loads((run / "eval" / "provenance.json").read_text())
    assert record["paths_used"]["youcook2_csv"] == str(sets["youcook2_csv"])  # the run's stale path is overridden
    assert record["skipped"] == {
        "action": [
            "action_csv: not set (eval.paths.action_csv)",
            "action_features: not set (eval.paths.action_features)",
        ]
    }
    with pytest.raises(FileNotFoundError, match="action_csv"):  # a task asked for by name must have its inputs
        cli_main(["--run", str(run), "--tasks", "action", "--set", *given])
    with pytest.raises(ValueError, match="youcook_csv"):
        cli_main(["--run", str(run), "--set", "eval.paths.youcook_csv=x"])
    # a broken input is caught by the preflight check before any task runs, naming the file
    bad = dict(sets, msrvtt_csv=tmp_path / "broken.csv")
    (tmp_path / "broken.csv").write_text("nonsense\n")
    for f in (run / "eval").glob("*.csv"):
        f.unlink()
    bad_paths = [f"eval.paths.{k}={v}" for k, v in bad.items()]
    with pytest.raises(ValueError, match="broken.csv"):
        cli_main(["--run", str(run), "--tasks", "youcook2", "msrvtt", "--set", *bad_paths])
    assert not list((run / "eval").glob("*.csv"))
    # a task failing while it runs: the tables of the tasks before it are on disk already
    import vttwins.companion.evaluation.tasks as task_module

    monkeypatch.setattr(task_module, "msrvtt", lambda *a: (_ for _ in ()).throw(RuntimeError("boom")))
    with pytest.raises(RuntimeError, match="boom"):
        cli_main(["--run", str(run), "--tasks", "youcook2", "msrvtt", "--set", *given])
    assert [p.name for p in (run / "eval").glob("*.csv")] == ["youcook2.csv"]


def test_words_outside_the_vocabulary_are_warned_once_per_task(sets, caplog):
    from vttwins.companion.evaluation.common import missing_words

    tok = Tokenizer(WORDS)
    missing, total = missing_words(tok, ["w1 and more", "W2 is shown", "zzz"])
    assert (dict(missing), total) == ({"and": 1, "more": 1, "is": 1, "shown": 1, "zzz": 1}, 7)  # by hand
    with caplog.at_level("WARNING", logger="vttwins.companion.evaluation.common"):
        retrieval(Oracle(), sets, "youcook2", tokenizer=tok, config=CFG)
    warned = [r.getMessage() for r in caplog.records if "vocabulary" in r.getMessage()]
    # 6 captions "w<i> and more": 12 of 18 words missing, 2 distinct
    assert warned == [
        "youcook2: 12 of 18 words (66.7%, 2 distinct) are not in the model's vocabulary and are dropped, e.g. and, more"
    ]


class Blind(Oracle):
    """Throws the video away: its probe features are constant, so only the raw-feature baseline can classify."""

    def video_features(self, x):
        return torch.zeros(x.shape[0], 3)


def test_raw_feature_probe_is_a_baseline_row(sets):
    raw_cfg = EvalConfig(feature_window=1, action_splits=[1])
    df = action_recognition(Blind(), sets, tokenizer=Tokenizer(WORDS), config=raw_cfg).set_index(["variant", "split"])
    assert df.loc[("linear_raw", "mean"), "value"] == 100.0  # the classes are separable in the inputs
    assert df.loc[("linear", "mean"), "value"] <= df.loc[("linear", "mean"), "chance"]  # a blind model is not
    off = EvalConfig(feature_window=1, action_splits=[1], raw_probe=False)
    assert "linear_raw" not in set(action_recognition(Blind(), sets, tokenizer=Tokenizer(WORDS), config=off).variant)


def test_probe_scaling_removes_a_dominating_dimension():
    """One huge, label-free dimension swamps an unscaled LinearSVC at small C; standardising restores the probe."""
    from vttwins.companion.evaluation.action_recognition import linear_probe_split

    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1], 20)
    feats = np.stack([labels + 0.1 * rng.standard_normal(40), 1e4 * rng.standard_normal(40)], 1)[:, None, :]
    train, test = np.arange(40) % 2 == 0, np.arange(40) % 2 == 1
    acc = {}
    for scale in (False, True):
        cfg = EvalConfig(svm_c=1e-6, svm_scale=scale)
        acc[scale] = (linear_probe_split(feats, labels, train, test, 2, cfg).argmax(1) == labels[test]).mean()
    assert acc[True] == 1.0 and acc[False] < 0.8, acc


def test_duplicate_captions_count_as_positives_in_chance(sets, tmp_path):
    """Two videos with the same sentence: the other copy is a positive too (ties cannot push v2t below chance)."""
    from vttwins.companion.evaluation import chance

    rows = list(csv.reader(open(sets["msrvtt_csv"])))
    rows[2][3] = rows[1][3]  # video1 gets video0's sentence
    _write_csv(tmp_path / "dup.csv", None, rows)
    df = retrieval(
        Oracle(), dict(sets, msrvtt_csv=tmp_path / "dup.csv"), "msrvtt", tokenizer=Tokenizer(WORDS), config=CFG
    ).set_index(["variant", "metric"])
    assert df.loc[("v2t", "R@1"), "chance"] == pytest.approx(chance.retrieval_chance(4, [2, 2, 1, 1], 4)["R@1"])
    assert df.loc[("t2v", "R@1"), "chance"] == pytest.approx(25.0)
    # video0 finds its sentence (both copies tie at the top: not a miss); video1 shows w7 but now says w6: the miss
    assert df.loc[("v2t", "R@1"), "value"] == 75.0


def test_probe_warnings_are_one_line_naming_task_model_and_splits(sets, caplog):
    """LinearSVC stopped after 1 iteration: one WARNING for the task, naming the model and every probe/split."""
    from vttwins.companion.evaluation.run import evaluate_model

    cfg = EvalConfig(feature_window=1, svm_max_iter=1, svm_c=1e4, action_splits=[1, 2])
    with caplog.at_level("INFO"):
        evaluate_model(Oracle(), sets, Tokenizer(WORDS), cfg, ["action"], label="untrained initial model")
    svc = [r.getMessage() for r in caplog.records if "LinearSVC" in r.getMessage()]
    assert len(svc) == 1, svc
    assert "action hmdb [untrained initial model]" in svc[0]
    assert "linear split1" in svc[0] and "linear_raw split2" in svc[0]
    done = [r.getMessage() for r in caplog.records if r.getMessage().startswith("evaluated action")]
    assert done and "(untrained initial model)" in done[0]
