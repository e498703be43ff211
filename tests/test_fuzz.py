"""Fuzz (issue 10): corrupt a tiny SynthHowTo, a run folder, downstream files and configs in many ways, and assert the
outcome class of each: a clear error naming the file/key, skipped-and-counted, or a warning (fuzz_helpers.py).

One feature-mode SynthHowTo (no video rendering) and one 2-step run are built per session; each case corrupts a
private copy. Training-data cases go through the training builders (config -> paths -> vocabulary -> dataset ->
collate over the whole epoch); run-folder cases resume the run for one more step.
`FUZZ_REPORT=/tmp/fuzz.tsv pytest tests/test_fuzz.py` also writes the observed class of every case.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from fuzz_helpers import caption_corruption, classify, feature_corruption, first, report, video_list_corruption
from test_data_common import TINY
from vttwins.companion.config import load_config

SYNTH = TINY.replace(render_videos=False)  # 8 HowTo videos, features only: ~2 s to generate
BASE = [
    "train.steps=2",
    "train.batch_size=4",
    "train.checkpoint_every=1",
    "train.keep_checkpoints=2",
    "train.log_every=1",
    "train.progress=log",
    "model.embed_dim=16",
    "model.hidden=32",
    "model.word_dim=8",
    "model.text_hidden=16",
]


@pytest.fixture(scope="session")
def synth(tmp_path_factory):
    from vttwins.companion.synth import generate

    return generate(tmp_path_factory.mktemp("fuzz_synth"), SYNTH, workers=1)


def real(root: Path, out: Path, *extra) -> list[str]:
    return [
        f"data.video_list_csv={root / 'videos.csv'}",
        f"data.caption_root={root / 'captions'}",
        f"data.feature_root={root / 'features'}",
        f"output_dir={out}",
        *BASE,
        *extra,
    ]


@pytest.fixture(scope="session")
def run(synth, tmp_path_factory):
    from vttwins.companion.training import fit

    out = tmp_path_factory.mktemp("fuzz_run") / "run"
    return fit(load_config("smoke", real(synth.root / "howto100m", out)))


def check(case: str, expected: str, fn, needle: str, caplog) -> None:
    observed = classify(fn, needle, caplog)
    report(case, expected, observed)
    assert observed == expected, f"{case}: expected {expected}, observed {observed} (needle {needle!r})"


# ------------------------------------------------------------------------------------------- training data
def epoch_skips(root: Path, out: Path) -> int:
    """Everything training does with the data before the model: one whole epoch, collated as one batch."""
    from vttwins.data import collate_pretrain
    from vttwins.companion.training import builders

    config = load_config("smoke", real(root, out))
    paths = builders.data_paths(config, generate=False)
    dataset = builders.build_dataset(config, paths, builders.build_tokenizer(paths))
    collate_pretrain([dataset[i] for i in range(len(dataset))])
    return len(dataset.skipped)


DATA_CASES = [
    (f"feature:{k}", feature_corruption(k), "skipped")
    for k in (
        "width_512",
        "int64",
        "complex",
        "nan",
        "inf",
        "huge_1e30",
        "truncated",
        "empty_file",
        "one_dim",
        "zero_rows",
        "missing",
        "text_garbage",
        "object_array",
        "string_dtype",
    )
]
DATA_CASES += [
    (f"caption:{k}", caption_corruption(k), "warning")
    for k in ("start_after_end", "negative_time", "absurd_1e9", "beyond_features")
]
DATA_CASES += [
    (f"caption:{k}", caption_corruption(k), "skipped")
    for k in (
        "all_start_after_end",
        "malformed_json",
        "missing_key",
        "unequal_lengths",
        "non_numeric",
        "missing_file",
        "all_empty_text",
        "non_utf8",
    )
]
DATA_CASES += [
    (f"videos.csv:{k}", video_list_corruption(k), "error")
    for k in ("non_utf8", "bad_quoting", "empty_file", "header_only", "no_video_path_column")
]
DATA_CASES += [("videos.csv:duplicate_row", video_list_corruption("duplicate_row"), "warning")]
DATA_CASES += [("videos.csv:header_spaces", video_list_corruption("header_spaces"), "ok")]


@pytest.mark.parametrize("case,corrupt,expected", DATA_CASES, ids=[c[0] for c in DATA_CASES])
def test_training_data(case, corrupt, expected, synth, tmp_path, caplog):
    root = tmp_path / "howto"
    shutil.copytree(synth.root / "howto100m", root)
    needle = corrupt(root)
    check(case, expected, lambda: epoch_skips(root, tmp_path / "out"), needle, caplog)


@pytest.fixture(scope="session")
def pixel_synth(tmp_path_factory):
    from vttwins.companion.synth import generate

    only = dict(howto_videos=6, youcook2_videos=0, msrvtt_videos=0, crosstask_videos=0, action_clips_per_class=0)
    return generate(tmp_path_factory.mktemp("fuzz_pixel"), TINY.replace(**only), workers=1)


def pixel_epoch_skips(root: Path, out: Path) -> int:
    from vttwins.data import collate_pretrain
    from vttwins.companion.training import builders

    config = load_config(
        "smoke",
        [
            *real(root, out),
            f"data.video_root={root / 'videos'}",
            "model.mode=pixel",
            "model.width=0.0625",
            "data.num_frames=2",
            "data.size=16",
            "data.n_clips=2",
        ],
    )
    paths = builders.data_paths(config, generate=False)
    dataset = builders.build_dataset(config, paths, builders.build_tokenizer(paths))
    collate_pretrain([dataset[i] for i in range(len(dataset))])
    return len(dataset.skipped)


def _video(kind: str):
    def apply(root: Path) -> str:
        path = first(root / "videos", "*.mp4")
        {
            "truncated": lambda: path.write_bytes(path.read_bytes()[:300]),
            "half_truncated": lambda: path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2]),
            "empty_file": lambda: path.write_bytes(b""),
            "text_garbage": lambda: path.write_text("not a video"),
            "missing": path.unlink,
        }[kind]()
        return path.stem

    return apply


@pytest.mark.parametrize("kind", ["truncated", "half_truncated", "empty_file", "text_garbage", "missing"])
def test_pixel_training_data(kind, pixel_synth, tmp_path, caplog):
    root = tmp_path / "howto"
    shutil.copytree(pixel_synth.root / "howto100m", root)
    needle = _video(kind)(root)
    check(f"video:{kind}", "skipped", lambda: pixel_epoch_skips(root, tmp_path / "out"), needle, caplog)


def test_a_narrow_feature_file_is_skipped_and_counted_by_training(synth, tmp_path):
    from vttwins.companion.training import fit

    root = tmp_path / "howto"
    shutil.copytree(synth.root / "howto100m", root)
    feature_corruption("width_512")(root)
    out = fit(load_config("smoke", real(root, tmp_path / "out")))
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert records[-1]["skipped"] >= 1


# ------------------------------------------------------------------------------------------- run folders
def _ckpts(run_dir: Path) -> list[Path]:
    return sorted((run_dir / "checkpoints").glob("step_*.pt"))


def _stale_tmp(run_dir: Path) -> str:
    (run_dir / "checkpoints" / ".step_00000003.pt.k1ll3d.tmp").write_bytes(b"half")
    return ".step_00000003.pt.k1ll3d.tmp"


RUN_CASES = [
    (
        "checkpoint:newest_truncated",
        lambda r: (_ckpts(r)[-1].write_bytes(_ckpts(r)[-1].read_bytes()[:999]), _ckpts(r)[-1].name)[1],
        [],
        "warning",
    ),
    ("checkpoint:newest_empty", lambda r: (_ckpts(r)[-1].write_bytes(b""), _ckpts(r)[-1].name)[1], [], "warning"),
    (
        "checkpoint:newest_garbage",
        lambda r: (_ckpts(r)[-1].write_text("x" * 100), _ckpts(r)[-1].name)[1],
        [],
        "warning",
    ),
    ("checkpoint:all_damaged", lambda r: ([p.write_bytes(b"") for p in _ckpts(r)], "checkpoints")[1], [], "error"),
    (
        "metrics:torn_last_line",
        lambda r: (open(r / "metrics.jsonl", "a").write('{"step": 3, "lo'), "metrics.jsonl")[1],
        [],
        "warning",
    ),
    (
        "metrics:garbage_middle_line",
        lambda r: ((r / "metrics.jsonl").write_text("garbage\n" + (r / "metrics.jsonl").read_text()), "metrics.jsonl")[
            1
        ],
        [],
        "error",
    ),
    ("run:stale_tmp_file", _stale_tmp, [], "warning"),
    ("resume:changed_loss", lambda r: "loss.name", ["loss.name=mil_nce"], "error"),
    ("resume:changed_lr", lambda r: "optim.lr", ["optim.lr=0.1"], "error"),
    ("resume:changed_batch", lambda r: "train.batch_size", ["train.batch_size=2"], "error"),
    ("resume:changed_loss_forced", lambda r: "loss.name", ["loss.name=mil_nce", "FORCE"], "warning"),
    ("resume:extended_steps", lambda r: "-", ["train.log_every=2"], "ok"),
]


@pytest.mark.parametrize("case,corrupt,extra,expected", RUN_CASES, ids=[c[0] for c in RUN_CASES])
def test_run_folder(case, corrupt, extra, expected, run, tmp_path, caplog):
    from vttwins.companion.training import fit

    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    (copy / "model.pt").unlink()
    needle = corrupt(copy)
    force = "FORCE" in extra
    config = load_config("smoke", [*json_overrides(run, copy), "train.steps=3", *[e for e in extra if e != "FORCE"]])

    def resume():
        fit(config, force_resume=True) if force else fit(config)
        return None

    check(case, expected, resume, needle, caplog)
    if expected == "warning" and case.startswith("resume"):
        assert (copy / "resumes.jsonl").is_file()  # the forced change is recorded


def json_overrides(run: Path, copy: Path) -> list[str]:
    """The run's own config as overrides (resume with exactly what it used), output_dir -> the copy."""
    saved = json.loads((run / "config.json").read_text())
    d = saved["data"]
    return [
        f"data.video_list_csv={d['video_list_csv']}",
        f"data.caption_root={d['caption_root']}",
        f"data.feature_root={d['feature_root']}",
        f"output_dir={copy}",
        *BASE,
        "train.resume=true",
    ]


PATH_CASES = {  # case: (overrides given (howto root, a file, tmp folder), needle)
    "run:output_dir_is_a_file": (lambda h, f, t: real(h, f), "a_file"),
    "run:data_dir_is_a_file": (lambda h, f, t: [f"data_dir={f}", f"output_dir={t / 'o'}", *BASE], "a_file"),
    "run:feature_root_is_a_file": (lambda h, f, t: [*real(h, t / "o"), f"data.feature_root={f}"], "a_file"),
    "run:output_dir_under_a_file": (lambda h, f, t: real(h, f / "run"), "a_file"),
    "run:dict_path_is_a_folder": (lambda h, f, t: [*real(h, t / "o"), f"data.dict_path={t}"], "dict_path"),
    "run:caption_root_missing": (lambda h, f, t: [*real(h, t / "o"), f"data.caption_root={t / 'nope'}"], "nope"),
    "run:init_checkpoint_garbage": (lambda h, f, t: [*real(h, t / "o"), f"model.checkpoint={f}"], "a_file"),
}


@pytest.mark.parametrize("case", list(PATH_CASES))
def test_output_and_data_paths_of_the_wrong_kind(case, synth, tmp_path, caplog):
    from vttwins.companion.training import fit

    file = tmp_path / "a_file"
    file.write_text("x")
    overrides, needle = PATH_CASES[case]
    check(
        case,
        "error",
        lambda: fit(load_config("smoke", overrides(synth.root / "howto100m", file, tmp_path))),
        needle,
        caplog,
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_output_dir(synth, tmp_path, caplog):
    from vttwins.companion.training import fit

    ro = tmp_path / "ro"
    ro.mkdir(mode=0o555)
    check(
        "run:read_only_output_dir",
        "error",
        lambda: fit(load_config("smoke", real(synth.root / "howto100m", ro / "run"))),
        "ro",
        caplog,
    )


# ------------------------------------------------------------------------------------------- configs
BAD_CONFIGS = [
    ("optim.grad_clip", "-1"),
    ("optim.grad_clip", "0"),
    ("optim.min_lr_ratio", "-5"),
    ("optim.min_lr_ratio", "2"),
    ("optim.betas", "[0.9]"),
    ("optim.betas", "[0.9, 1.5]"),
    ("optim.betas", "[0.9, 0.99, 0.5]"),
    ("optim.weight_decay", "-0.1"),
    ("optim.lr", "0"),
    ("optim.lr", ".nan"),
    ("optim.warmup_steps", "-1"),
    ("data.clip_seconds", "-3.2"),
    ("data.hflip", "2"),
    ("data.fps", "0"),
    ("data.num_frames", "0"),
    ("data.size", "0"),
    ("data.n_clips", "0"),
    ("data.num_workers", "-1"),
    ("data.crop", "diagonal"),
    ("loss.tau", "-0.5"),
    ("loss.tau", ".inf"),
    ("loss.gamma", "-1"),
    ("loss.smooth_gamma", "-0.1"),
    ("loss.temperature", "0"),
    ("loss.temperature", "-1"),
    ("loss.tda_sharpness", "0"),
    ("train.batch_size", "1"),
    ("train.seed", "-1"),
    ("train.steps", "0"),
    ("eval.max_clips", "-1"),
    ("eval.max_videos", "0"),
    ("eval.fps", "0"),
    ("eval.action_splits", "[7]"),
    ("eval.svm_c", "-1"),
]


@pytest.mark.parametrize("key,value", BAD_CONFIGS, ids=[f"{k}={v}" for k, v in BAD_CONFIGS])
def test_bad_config(key, value, caplog):
    check(f"config:{key}={value}", "error", lambda: load_config("smoke", [f"{key}={value}"]) and None, key, caplog)


# ------------------------------------------------------------------------------------------- downstream files
def _edit(path: Path, fn) -> str:
    lines = path.read_text().splitlines()
    path.write_text("\n".join(fn(lines)) + "\n")
    return path.name


def _swap_times(line: str, cols: tuple[int, int]) -> str:
    parts = line.split(",")
    a, b = cols
    parts[a], parts[b] = parts[b], parts[a]
    return ",".join(parts)


def _ct_annotation(root: Path, fn) -> str:
    path = first(root / "crosstask" / "crosstask_release" / "annotations")
    return _edit(path, fn)


def _ct_unknown_task(root: Path) -> str:
    src = first(root / "crosstask" / "crosstask_release" / "annotations")
    shutil.copy(src, src.with_name("99999_" + src.name.partition("_")[2]))
    return "99999_"


YC, MS, ACT = "youcook2/validation_youcook.csv", "msrvtt/MSRVTT_JSFUSION_test.csv", "actions/hmdb_style.csv"
CT_FLAT, CT_TASKS = "crosstask/crosstask_flat.csv", "crosstask/crosstask_release/tasks_primary.txt"
EVAL_CASES = [
    ("youcook2:header_only", YC, lambda ls: ls[:1], "error"),
    ("youcook2:start_after_end", YC, lambda ls: [ls[0], _swap_times(ls[1], (0, 1)), *ls[2:]], "error"),
    ("youcook2:negative_start", YC, lambda ls: [ls[0], "3,-2" + ls[1][ls[1].index(",", 2) :], *ls[2:]], "error"),
    ("youcook2:non_numeric_start", YC, lambda ls: [ls[0], "8,abc" + ls[1][ls[1].index(",", 2) :], *ls[2:]], "error"),
    ("youcook2:missing_column", YC, lambda ls: [ls[0].replace("video_id", "vid"), *ls[1:]], "error"),
    ("youcook2:duplicate_row", YC, lambda ls: [*ls, ls[1]], "warning"),
    ("youcook2:bad_quoting", YC, lambda ls: [*ls, '1,0,x,"open quote,y', ls[1]], "error"),
    (
        "youcook2:empty_sentence",
        YC,
        lambda ls: [ls[0], ",".join([*ls[1].split(",")[:3], "", ls[1].split(",")[-1]]), *ls[2:]],
        "warning",
    ),
    ("msrvtt:header_only", MS, lambda ls: ls[:1], "error"),
    ("msrvtt:duplicate_row", MS, lambda ls: [*ls, ls[1]], "warning"),
    ("msrvtt:missing_column", MS, lambda ls: [ls[0].replace("sentence", "text"), *ls[1:]], "error"),
    ("action:split_7", ACT, lambda ls: [ls[0], ls[1].rsplit(",", 1)[0] + ",7", *ls[2:]], "error"),
    ("action:split_non_numeric", ACT, lambda ls: [ls[0], ls[1].rsplit(",", 1)[0] + ",x", *ls[2:]], "error"),
    ("action:header_only", ACT, lambda ls: ls[:1], "error"),
    ("action:missing_column", ACT, lambda ls: [ls[0].replace("split3", "s3"), *ls[1:]], "error"),
    ("action:duplicate_row", ACT, lambda ls: [*ls, ls[1]], "warning"),
    (
        "action:empty_label",
        ACT,
        lambda ls: [ls[0], ls[1].split(",")[0] + ",," + ",".join(ls[1].split(",")[2:]), *ls[2:]],
        "error",
    ),
    ("crosstask_flat:start_after_end", CT_FLAT, lambda ls: [ls[0], _swap_times(ls[1], (0, 1)), *ls[2:]], "error"),
    ("crosstask_flat:duplicate_row", CT_FLAT, lambda ls: [*ls, ls[1]], "warning"),
    ("crosstask:tasks_step_count", CT_TASKS, lambda ls: [*ls[:3], "9", *ls[4:]], "error"),
]
READERS = {
    "youcook2": ("read_youcook2_csv", YC),
    "msrvtt": ("read_msrvtt_csv", MS),
    "action": ("read_action_csv", ACT),
    "crosstask_flat": ("read_crosstask_flat", CT_FLAT),
    "crosstask": ("read_crosstask", "crosstask/crosstask_release"),
}


def read(root: Path, dataset: str):
    import vttwins.data as data

    name, rel = READERS[dataset]
    getattr(data, name)(root / rel)


@pytest.mark.parametrize("case,rel,edit,expected", EVAL_CASES, ids=[c[0] for c in EVAL_CASES])
def test_downstream_file(case, rel, edit, expected, synth, tmp_path, caplog):
    root = tmp_path / "s"
    shutil.copytree(synth.root, root, ignore=shutil.ignore_patterns("features", "videos", "howto100m"))
    needle = _edit(root / rel, edit)
    check(case, expected, lambda: read(root, case.split(":")[0]), needle, caplog)


CT_CASES = [
    ("crosstask:step_out_of_range", lambda r: _ct_annotation(r, lambda ls: ["99" + ls[0][1:], *ls[1:]]), "error"),
    ("crosstask:step_zero", lambda r: _ct_annotation(r, lambda ls: ["0" + ls[0][1:], *ls[1:]]), "error"),
    (
        "crosstask:start_after_end",
        lambda r: _ct_annotation(r, lambda ls: [_swap_times(ls[0], (1, 2)), *ls[1:]]),
        "error",
    ),
    ("crosstask:non_numeric_step", lambda r: _ct_annotation(r, lambda ls: ["two" + ls[0][1:], *ls[1:]]), "error"),
    ("crosstask:duplicate_row", lambda r: _ct_annotation(r, lambda ls: [*ls, ls[0]]), "warning"),
    ("crosstask:unknown_task", _ct_unknown_task, "warning"),
]


@pytest.mark.parametrize("case,corrupt,expected", CT_CASES, ids=[c[0] for c in CT_CASES])
def test_crosstask_release(case, corrupt, expected, synth, tmp_path, caplog):
    root = tmp_path / "s"
    shutil.copytree(synth.root / "crosstask" / "crosstask_release", root / "crosstask" / "crosstask_release")
    needle = corrupt(root)
    check(case, expected, lambda: read(root, "crosstask"), needle, caplog)


# ------------------------------------------------------------------------------------------- the command line
def cli(argv, capsys) -> tuple[int | str, str]:
    from vttwins.__main__ import main

    capsys.readouterr()
    try:
        code = main(argv)
    except BaseException as exc:  # noqa: BLE001 -- a traceback is the outcome being measured
        return f"traceback ({type(exc).__name__})", ""
    return code, capsys.readouterr().err


CLI_CASES = [
    ("cli:train_bad_value", ["train", "--config", "smoke", "optim.grad_clip=-1"], "optim.grad_clip"),
    ("cli:train_unknown_key", ["train", "--config", "smoke", "train.stepz=3"], "train.stepz"),
    ("cli:train_missing_profile", ["train", "--config", "no_such_profile"], "no_such_profile"),
    ("cli:evaluate_missing_run", ["evaluate", "--run", "runs/no_such_run_dir"], "no_such_run_dir"),
]


@pytest.mark.parametrize("case,argv,needle", CLI_CASES, ids=[c[0] for c in CLI_CASES])
def test_cli_error_is_one_line_exit_2(case, argv, needle, capsys):
    code, err = cli(argv, capsys)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    observed = (
        "error"
        if code == 2 and len(lines) == 1 and needle in lines[0] and "Traceback" not in err
        else ("crash" if isinstance(code, str) else "anonymous")
    )
    report(case, "error", observed)
    assert observed == "error", (code, err)


def test_cli_evaluate_damaged_model(run, tmp_path, capsys):
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    (copy / "model.pt").write_bytes((copy / "model.pt").read_bytes()[:500])
    code, err = cli(["evaluate", "--run", str(copy)], capsys)
    ok = code == 2 and "model.pt" in err and len(err.strip().splitlines()) == 1
    report(
        "cli:evaluate_truncated_model_pt",
        "error",
        "error" if ok else ("crash" if isinstance(code, str) else "anonymous"),
    )
    assert ok, (code, err)


def test_cli_evaluate_bad_set_and_debug(run, capsys):
    code, err = cli(["evaluate", "--run", str(run), "--set", "max_clips=-1"], capsys)
    report("cli:evaluate_max_clips_-1", "error", "error" if code == 2 and "max_clips" in err else "crash")
    assert code == 2 and "max_clips" in err and len(err.strip().splitlines()) == 1
    with pytest.raises(ValueError, match="grad_clip"):  # --debug: the traceback, not the one line
        cli_main_debug(["train", "--config", "smoke", "optim.grad_clip=-1", "--debug"])


def cli_main_debug(argv):
    from vttwins.__main__ import main

    try:
        return main(argv)
    finally:
        os.environ.pop("VTTWINS_DEBUG", None)


# ------------------------------------------------------------------------------------------- issue 21 item 4
def test_an_unknown_video_in_videos_val_is_skipped_counted_and_named(synth, tmp_path, caplog):
    from vttwins.data import read_crosstask
    from vttwins.companion.evaluation import EvalConfig
    from vttwins.companion.evaluation.step_localization import annotated_videos

    root = tmp_path / "ct"
    shutil.copytree(synth.root / "crosstask" / "crosstask_release", root)
    task = (root / "tasks_primary.txt").read_text().splitlines()[0].strip()
    with open(root / "videos_val.csv", "a") as f:
        f.write(f"{task},NoSuchVideo1,https://example.invalid\n")
    check(
        "crosstask:unknown_val_video",
        "skipped",
        lambda: annotated_videos(read_crosstask(root), EvalConfig()).attrs["unannotated"],
        "NoSuchVideo1",
        caplog,
    )


def test_an_absurd_lr_is_warned(caplog):
    check("config:optim.lr=1e6", "warning", lambda: load_config("smoke", ["optim.lr=1e6"]) and None, "optim.lr", caplog)


def test_all_broken_training_files_are_one_line_errors(synth, tmp_path, capsys, caplog):
    root = tmp_path / "howto"
    shutil.copytree(synth.root / "howto100m", root)
    import numpy as np

    for f in (root / "features").glob("*.npy"):
        np.save(f, np.load(f)[:, :512])
    code, err = cli(["train", "--config", "smoke", *real(root, tmp_path / "out")], capsys)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    ok = code == 2 and len(lines) == 1 and "feature width 512" in lines[0] and "Traceback" not in err
    report("cli:train_all_features_512", "error", "error" if ok else "crash")
    assert ok, (code, err)
    assert not (tmp_path / "out" / "metrics.jsonl").exists()  # refused before the first step
    # the dataset's own "no usable item" (reached when the check is bypassed) is a user error too
    check("data:all_broken_dataset", "error", lambda: epoch_skips(root, tmp_path / "o2"), "no usable item", caplog)


def test_junk_named_like_a_checkpoint_does_not_cost_a_real_one(run, tmp_path, caplog):
    from vttwins.companion.training import fit
    from vttwins.companion.training.state import looks_loadable

    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    (copy / "model.pt").unlink()
    junk = copy / "checkpoints" / "step_00000099.pt"
    junk.write_text("not a checkpoint")
    config = load_config("smoke", [*json_overrides(run, copy), "train.steps=4"])
    check("checkpoint:junk_named_like_one", "warning", lambda: fit(config) and None, junk.name, caplog)
    real = [p for p in _ckpts(copy) if looks_loadable(p)]
    assert [p.name for p in real] == ["step_00000003.pt", "step_00000004.pt"]  # train.keep_checkpoints=2 real
    assert junk.exists()


def test_one_debug_switch_and_one_hint_for_every_command(run, capsys, monkeypatch):
    _, train_err = cli(["train", "--config", "smoke", "optim.grad_clip=-1"], capsys)
    _, eval_err = cli(["evaluate", "--run", "runs/no_such_run_dir"], capsys)
    _, check_err = cli(["data", "check", "--config", "no_such_profile"], capsys)
    hint = "(--debug or VTTWINS_DEBUG=1 shows the traceback)"
    assert all(e.strip().endswith(hint) for e in (train_err, eval_err, check_err)), (train_err, eval_err, check_err)
    monkeypatch.setenv("VTTWINS_DEBUG", "1")
    for argv in (["train", "--config", "smoke", "optim.grad_clip=-1"], ["evaluate", "--run", "runs/no_such_run_dir"]):
        code, _ = cli(argv, capsys)
        assert isinstance(code, str) and code.startswith("traceback")


def test_evaluate_takes_overrides_after_tasks(run, synth, tmp_path, capsys):
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    code, err = cli(
        [
            "evaluate",
            "--run",
            str(copy),
            "--tasks",
            "youcook2",
            f"eval.paths.youcook2_csv={synth.youcook2_csv}",
            f"eval.paths.youcook2_features={synth.youcook2_features}",
        ],
        capsys,
    )
    assert code == 0, err
    assert (copy / "eval" / "youcook2.csv").is_file()
