"""training/: schedule, data order, checkpoints, and short real runs on the smoke SynthHowTo (feature mode):
end to end, identical reruns, kill-and-resume, bad configs failing before the first step, the CLI."""

import json
import os
import signal
from pathlib import Path

import pytest
import torch

from vttwins.companion.config import load_config
from vttwins.companion.training import TrainingInterrupted, cli_main, fit, load_trained
from vttwins.companion.training import state as st
from vttwins.companion.training.distributed import all_gather_with_grad

REPO = Path(__file__).resolve().parent.parent
SMOKE_DATA = REPO / "data" / "synth" / "smoke"


def smoke(tmp_path, name="run", *extra):
    return load_config(
        "smoke",
        [
            f"output_dir={tmp_path / name}",
            f"data_dir={SMOKE_DATA}",
            "train.steps=6",
            "train.checkpoint_every=3",
            "train.progress=log",
            "model.dropout=0.2",
            *extra,
        ],
    )  # dropout: resume must restore the RNG too


def losses(run_dir):
    lines = (Path(run_dir) / "metrics.jsonl").read_text().splitlines()
    return {r["step"]: r["loss"] for r in map(json.loads, lines)}


# ------------------------------------------------------------------------------------------- pieces
def test_lr_schedule_warmup_then_cosine():
    f = [st.lr_factor(s, 10, warmup_steps=2) for s in range(10)]
    assert f[:2] == [0.5, 1.0] and f[2] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(f[1:], f[2:])) and f[-1] == pytest.approx(
        0.5 * (1 + torch.cos(torch.tensor(7 / 8 * torch.pi)).item())
    )
    assert st.lr_factor(5, 10, 0, "constant") == 1.0
    assert st.lr_factor(10, 10, 0, "cosine", min_ratio=0.1) == pytest.approx(0.1)


def test_rank_slices_reassemble_the_one_process_batch():
    one = st.GlobalBatchSampler(20, 4, seed=3)
    two = [st.GlobalBatchSampler(20, 4, rank=r, world_size=2, seed=3) for r in range(2)]
    for epoch in (0, 1):
        for s in [one, *two]:
            s.set_epoch(epoch)
        assert [a + b for a, b in zip(*map(list, two))] == list(one)
    full = list(one)
    one.set_start(3)
    assert list(one) == full[3:] and len(one) == 2
    with pytest.raises(ValueError, match="divisible"):
        st.GlobalBatchSampler(20, 5, world_size=2)


def test_data_order_depends_on_seed_and_epoch_only():
    s = st.GlobalBatchSampler(30, 5, seed=1)
    assert (s.order(0) == st.GlobalBatchSampler(30, 5, seed=1).order(0)).all()
    assert (
        not (s.order(0) == s.order(1)).all()
        and not (s.order(0) == st.GlobalBatchSampler(30, 5, 0, 1, 2).order(0)).all()
    )


def test_checkpoints_rotate_atomically(tmp_path):
    for step in (1, 2, 3):
        st.save_rotating({"step": step, "w": torch.ones(2)}, tmp_path, step, keep=2)
    names = sorted(p.name for p in (tmp_path / "checkpoints").iterdir())
    assert names == ["step_00000002.pt", "step_00000003.pt"]  # no temp files left behind
    assert st.load_state(st.latest_checkpoint(tmp_path))["step"] == 3


def test_all_gather_is_identity_without_a_process_group():
    x = torch.randn(3, 2, requires_grad=True)
    assert all_gather_with_grad(x) is x


# ------------------------------------------------------------------------------------------- real runs
@pytest.fixture(scope="module")
def reference_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ref")
    return fit(smoke(tmp)), tmp


def test_smoke_run_writes_a_complete_run_dir(reference_run):
    run_dir, _ = reference_run
    for name in ("config.json", "provenance.json", "metrics.jsonl", "model.pt"):
        assert (run_dir / name).is_file(), name
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == list(range(1, 7))
    assert {"loss", "lr", "clips_per_s", "steps_per_s", "skipped", "epoch"} <= set(records[0])
    assert records[0]["lr"] == pytest.approx(0.5e-3)  # warm-up: (0 + 1) / 2 of lr
    assert [p.name for p in st.list_checkpoints(run_dir)] == ["step_00000003.pt", "step_00000006.pt"]
    saved = json.loads((run_dir / "config.json").read_text())
    assert saved["model"]["vocab_size"] > 1 and saved["train"]["steps"] == 6
    model, tokenizer, config = load_trained(run_dir)
    assert (
        model.mode == "feature"
        and config.loss.name == "s2dtw"
        and len(tokenizer.words) + 1 == saved["model"]["vocab_size"]
    )
    final = torch.load(run_dir / "model.pt", weights_only=True)
    assert set(final) >= {"model", "model_config", "vocab", "step", "config"} and final["step"] == 6


def test_model_pt_loads_with_the_models_loader(reference_run):
    from vttwins.models import ModelConfig, build_model
    from vttwins.models.checkpoints import load_pretrained

    run_dir, _ = reference_run
    final = torch.load(run_dir / "model.pt", weights_only=True)
    model = build_model(ModelConfig(**{**final["model_config"], "checkpoint": None}), vocab=final["vocab"])
    load_pretrained(model, run_dir / "model.pt")
    for k, v in model.state_dict().items():
        assert torch.equal(v, final["model"][k]), k


def test_identical_configs_give_identical_losses(reference_run, tmp_path):
    run_dir, _ = reference_run
    assert losses(fit(smoke(tmp_path))) == losses(run_dir)


def test_kill_and_resume_reproduces_the_uninterrupted_run(reference_run, tmp_path):
    run_dir, _ = reference_run

    def sigterm_after_step_4(record):
        if record["step"] == 4:
            os.kill(os.getpid(), signal.SIGTERM)

    with pytest.raises(TrainingInterrupted) as info:
        fit(smoke(tmp_path), callbacks=[sigterm_after_step_4])
    assert info.value.step == 4 and info.value.checkpoint.name == "step_00000004.pt"
    assert not (tmp_path / "run" / "model.pt").exists()
    model, _, _ = load_trained(info.value.checkpoint)  # a resume checkpoint also loads as a model
    assert model.mode == "feature"
    resumed = fit(smoke(tmp_path, "run", "train.resume=true"))
    assert losses(resumed) == losses(run_dir)  # steps 1..4 from the first part, 5..6 after resuming
    a, b = torch.load(run_dir / "model.pt")["model"], torch.load(resumed / "model.pt")["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_resume_drops_metrics_written_after_the_checkpoint(reference_run, tmp_path):
    import shutil

    run_dir, _ = reference_run
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    (copy / "model.pt").unlink()
    (copy / "checkpoints" / "step_00000006.pt").unlink()  # as if killed hard between step 6's log and its save
    fit(smoke(tmp_path, "copy", "train.resume=true"))
    assert losses(copy) == losses(run_dir)


def _resumable_copy(run_dir, tmp_path, name="copy"):
    import shutil

    copy = tmp_path / name
    shutil.copytree(run_dir, copy)
    (copy / "model.pt").unlink()
    return copy


def test_resume_falls_back_past_a_damaged_checkpoint_and_stays_bit_identical(reference_run, tmp_path, caplog):
    run_dir, _ = reference_run
    copy = _resumable_copy(run_dir, tmp_path)
    newest = copy / "checkpoints" / "step_00000006.pt"
    newest.write_bytes(newest.read_bytes()[:1000])  # torn by a full disk / SIGKILL outside the atomic rename
    with open(copy / "metrics.jsonl", "a") as f:
        f.write('{"step": 7, "lo')  # and a torn last metrics line
    (copy / "checkpoints" / ".step_00000009.pt.abc.tmp").write_bytes(b"x")
    fit(smoke(tmp_path, "copy", "train.resume=true"))
    assert losses(copy) == losses(run_dir)  # resumed from step 3: steps 4..6 recomputed identically
    warned = " ".join(r.getMessage() for r in caplog.records if r.levelname == "WARNING")
    assert "step_00000006.pt" in warned and "metrics.jsonl" in warned and ".step_00000009.pt.abc.tmp" in warned
    assert not list((copy / "checkpoints").glob(".*"))


def test_resume_refuses_a_changed_config_unless_forced_and_records_it(reference_run, tmp_path):
    run_dir, _ = reference_run
    copy = _resumable_copy(run_dir, tmp_path)
    before = (copy / "config.json").read_text()
    with pytest.raises(ValueError, match=r"loss\.tau: run 0\.5 -> now 1\.0.*--force"):
        fit(smoke(tmp_path, "copy", "train.resume=true", "loss.tau=1.0", "train.steps=7"))
    assert (copy / "config.json").read_text() == before and not (copy / "resumes.jsonl").exists()
    fit(smoke(tmp_path, "copy", "train.resume=true", "loss.tau=1.0", "train.steps=7"), force_resume=True)
    record = json.loads((copy / "resumes.jsonl").read_text())
    assert record["forced"] and record["step"] == 6
    assert record["changed"]["loss.tau"] == [0.5, 1.0] and record["changed"]["train.steps"] == [6, 7]
    assert set(record["changed"]) == {"loss.tau", "train.steps", "train.resume", "train.output_dir"}  # copied run
    assert json.loads((copy / "config.json").read_text())["loss"]["tau"] == 1.0


def test_cli_force_flag_and_one_line_errors(reference_run, tmp_path, capsys):
    run_dir, _ = reference_run
    copy = _resumable_copy(run_dir, tmp_path)
    args = [
        "--config",
        "smoke",
        f"output_dir={copy}",
        f"data_dir={SMOKE_DATA}",
        "train.steps=6",
        "train.checkpoint_every=3",
        "train.progress=log",
        "model.dropout=0.2",
        "optim.lr=0.01",
        "--resume",
    ]
    assert cli_main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "optim.lr" in err and "--force" in err
    assert cli_main(args + ["--force"]) == 0
    assert json.loads((copy / "resumes.jsonl").read_text())["changed"]["optim.lr"] == [0.001, 0.01]


def test_truncate_metrics_handles_torn_and_bad_lines(tmp_path):
    from vttwins.companion.training.runtime import truncate_metrics

    path = tmp_path / "metrics.jsonl"
    path.write_text('{"step": 1}\n{"step": 2}\n{"step": 3}')  # no final newline: the next append would glue on
    truncate_metrics(path, 2)
    assert path.read_text() == '{"step": 1}\n{"step": 2}\n'
    path.write_text('{"step": 1}\nnot json\n{"step": 2}\n')
    with pytest.raises(ValueError, match=r"metrics\.jsonl: line 2"):
        truncate_metrics(path, 2)


# ------------------------------------------------------------------------------------------- bad configs
def test_existing_run_is_not_overwritten(reference_run):
    run_dir, tmp = reference_run
    with pytest.raises(ValueError, match="already holds a run"):
        fit(smoke(tmp))


def test_missing_real_data_path_fails_before_training(tmp_path):
    config = smoke(
        tmp_path,
        "run",
        f"data.video_list_csv={tmp_path}/none.csv",
        f"data.caption_root={tmp_path}",
        f"data.feature_root={tmp_path}",
    )
    with pytest.raises(FileNotFoundError, match="data.video_list_csv"):
        fit(config)
    assert not (tmp_path / "run" / "metrics.jsonl").exists()


def test_checkpoint_of_another_architecture_fails_before_training(reference_run, tmp_path):
    run_dir, _ = reference_run
    with pytest.raises(ValueError, match="embed"):
        fit(smoke(tmp_path, "init", f"model.checkpoint={run_dir / 'model.pt'}", "model.embed_dim=32"))
    assert not (tmp_path / "init" / "metrics.jsonl").exists()
    import shutil

    shutil.copytree(run_dir, tmp_path / "other")
    with pytest.raises(ValueError, match="another architecture"):
        fit(smoke(tmp_path, "other", "train.resume=true", "model.hidden=64"))


def test_init_from_a_compatible_checkpoint_starts_there(reference_run, tmp_path):
    run_dir, _ = reference_run
    out = fit(smoke(tmp_path, "init", f"model.checkpoint={run_dir / 'model.pt'}", "train.steps=1"))
    assert losses(out)[1] < losses(run_dir)[1]  # starts from the trained weights, not from scratch


def test_amp_on_cpu_is_refused():
    from vttwins.companion.training.builders import resolve_amp

    with pytest.raises(ValueError, match="train.amp"):
        resolve_amp(load_config("smoke", ["train.amp=bf16"]), torch.device("cpu"))


# ------------------------------------------------------------------------------------------- CLI
def test_cli_trains_and_reports_bad_config(tmp_path, capsys):
    out = tmp_path / "cli"
    assert (
        cli_main(
            ["--config", "smoke", f"output_dir={out}", f"data_dir={SMOKE_DATA}", "train.steps=2", "train.progress=log"]
        )
        == 0
    )
    assert (out / "model.pt").is_file()
    assert cli_main(["--config", "smoke", "loss.name=s3dtw"]) == 2
    assert "loss.name" in capsys.readouterr().err


def test_tiny_pixel_mode_run(tmp_path):
    out = fit(
        smoke(
            tmp_path,
            "pix",
            "model.mode=pixel",
            "model.width=0.125",
            "data.num_frames=4",
            "data.size=32",
            "data.n_clips=3",
            "train.batch_size=2",
            "train.steps=1",
        )
    )
    assert len(losses(out)) == 1
    model, _, config = load_trained(out)
    assert model.mode == "pixel" and config.data.num_frames == 4


def test_bad_files_are_skipped_and_counted(tmp_path):
    import shutil

    root = tmp_path / "howto"
    shutil.copytree(SMOKE_DATA / "howto100m", root)
    bad = sorted((root / "features").iterdir())[:2]
    for path in bad:
        path.write_bytes(b"not a numpy file")
    out = fit(
        smoke(
            tmp_path,
            "real",
            f"data.video_list_csv={root / 'videos.csv'}",
            f"data.caption_root={root / 'captions'}",
            f"data.feature_root={root / 'features'}",
            "train.steps=3",
        )
    )
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert records[-1]["skipped"] >= 1 and all(a["skipped"] <= b["skipped"] for a, b in zip(records, records[1:]))


def test_sync_batchnorm_converts_only_for_several_cuda_processes():
    from vttwins.models import S3D
    from vttwins.companion.training.distributed import DistInfo, sync_batchnorm

    def fresh():
        return S3D(width=0.0625, embed_dim=8, vocab_size=5, word_dim=4, text_hidden=8)

    one, two = DistInfo(), DistInfo(rank=0, world_size=2)
    for enabled, info, device in ((False, two, "cuda"), (True, one, "cuda"), (True, one, "cpu")):
        model = fresh()
        assert sync_batchnorm(model, enabled, info, torch.device(device)) is model
        assert not any(isinstance(m, torch.nn.SyncBatchNorm) for m in model.modules())
    with pytest.raises(ValueError, match=r"train.sync_batchnorm=true needs CUDA.*2-process cpu run"):
        sync_batchnorm(fresh(), True, two, torch.device("cpu"))
    model = fresh()
    keys = list(model.state_dict())
    converted = sync_batchnorm(model, True, two, torch.device("cuda"))  # conversion only; nothing runs on CUDA
    n_bn = sum(isinstance(m, torch.nn.BatchNorm3d) for m in fresh().modules())
    assert sum(isinstance(m, torch.nn.SyncBatchNorm) for m in converted.modules()) == n_bn > 0
    assert list(converted.state_dict()) == keys  # checkpoints keep the released key names
