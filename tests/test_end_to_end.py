"""End to end on the smoke SynthHowTo: a short pretraining run must beat its own untrained model and chance.

Both runs are scored on text->video retrieval over all 37 YouCook2-style clips (R@1, R@10, mean rank) and on
CrossTask per-second recall over all 12 annotated videos; each trained value must beat the untrained model (same
seed, vocabulary and config, no step) and the computed chance. R@1 over 37 clips moves in 2.7-point steps, so
the runs are long enough that it clears both by at least two clips (measured over seeds 1-3, see below).

- Feature mode, S2DTW, 600 steps of 8 videos (~10 s). `loss.temperature=10`: at the released temperature 1 and
  lr 1e-3 the smoke feature model can collapse to the constant solution (loss = log B); seeds 1/2/3 give
  t2v R@1 10.8/10.8/8.1 against untrained 5.4/2.7/2.7 and chance 2.7.
- Pixel mode, S2DTW at the released temperature 1: S3D-G at width 0.25 on 4 frames of 32x32 (2.5 fps), 200 steps
  of 8 videos x 4 clips (~35 s). Seeds 1/2/3 give t2v R@1 8.1/8.1/8.1 (untrained 2.7/5.4/2.7) and CrossTask
  recall 26.6/24.7/24.7 (untrained 12.2/19.8/20.4, chance 12.6).
"""
import dataclasses
import json

import pandas as pd
import pytest
import torch

pytestmark = pytest.mark.slow

synth = pytest.importorskip("vttwins.data.synth")
training = pytest.importorskip("vttwins.training")
from vttwins.config import load_config  # noqa: E402
from vttwins.evaluation import EvalConfig  # noqa: E402
from vttwins.evaluation.cli import cli_main  # noqa: E402
from vttwins.evaluation.run import evaluate_model, initial_model  # noqa: E402

COMMON = ["train.checkpoint_every=100000", "train.log_every=10", "train.progress=log"]
FEATURE_RUN = ["loss.name=s2dtw", "loss.temperature=10.0", "train.steps=600", "train.batch_size=8"]
PIXEL_RUN = ["model.mode=pixel", "model.width=0.25", "model.embed_dim=64", "data.num_frames=4", "data.fps=2.5",
             "data.size=32", "data.clip_seconds=1.6", "data.n_clips=4", "loss.name=s2dtw", "loss.temperature=1.0",
             "optim.warmup_steps=10", "train.steps=200", "train.batch_size=8"]
PIXEL_EVAL = EvalConfig(tasks=["youcook2", "crosstask"], num_frames=4, fps=2.5, size=32, youcook2_windows=2,
                        batch_size=32, crosstask_split=None, ordered_chance_draws=20)
N_CLIPS, N_VIDEOS = 37, 12  # smoke YouCook2 val pairs, annotated CrossTask videos


@pytest.fixture(scope="module")
def smoke_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("synth") / "smoke"
    synth.ensure_synth(root, synth.PROFILES["smoke"])
    return root


def _train(tmp_path, root, overrides):
    config = load_config("smoke", [f"data_dir={root}", f"output_dir={tmp_path / 'run'}", *COMMON, *overrides])
    run_dir = training.fit(config)
    model, tokenizer, config = training.load_trained(run_dir)
    return run_dir, model, tokenizer, config, initial_model(config, tokenizer)


def _row(df, **where):
    sel = df
    for k, v in where.items():
        sel = sel[sel[k] == v]
    assert len(sel) == 1, where
    return float(sel["value"].iloc[0]), float(sel["chance"].iloc[0])


def _better(ours, base, higher=True, **where):
    (trained, chance), (before, _) = _row(ours, **where), _row(base, **where)
    sign = 1 if higher else -1
    assert sign * (trained - before) > 0 and sign * (trained - chance) > 0, (where, trained, before, chance)


def test_feature_training_helps(tmp_path, smoke_root):
    run_dir, model, tok, config, untrained = _train(tmp_path, smoke_root, FEATURE_RUN)
    paths = synth.synth_paths(smoke_root)
    ev = dataclasses.replace(config.eval, tasks=["youcook2", "crosstask"], crosstask_split=None)
    ours, base = evaluate_model(model, paths, tok, ev), evaluate_model(untrained, paths, tok, ev)
    _check_sizes(ours)
    for metric in ("R@1", "R@5", "R@10"):
        _better(ours["youcook2"], base["youcook2"], variant="t2v", metric=metric)
    _better(ours["youcook2"], base["youcook2"], higher=False, variant="t2v", metric="MeanR")
    for variant in ("standard", "ordered"):
        _better(ours["crosstask"], base["crosstask"], variant=variant, split="mean")

    # the CLI writes one CSV per task, with the untrained model's values beside ours
    assert cli_main(["--run", str(run_dir), "--tasks", "msrvtt", "--untrained"]) == 0
    df = pd.read_csv(run_dir / "eval" / "msrvtt.csv")
    assert {"value", "chance", "untrained"} <= set(df.columns) and len(df) == 10
    assert (run_dir / "eval" / "provenance.json").is_file()


def test_pixel_training_helps(tmp_path, smoke_root):
    """Pixel mode end to end (decode -> S3D-G -> S2DTW -> checkpoint -> pixel windows -> tables), and it learns."""
    run_dir, model, tok, config, untrained = _train(tmp_path, smoke_root, PIXEL_RUN)
    assert model.mode == "pixel" and not torch.equal(model.s3d.fc.weight, untrained.s3d.fc.weight)
    paths = synth.synth_paths(smoke_root)
    ours, base = evaluate_model(model, paths, tok, PIXEL_EVAL), evaluate_model(untrained, paths, tok, PIXEL_EVAL)
    _check_sizes(ours)
    r5 = ours["youcook2"].query("variant == 't2v' and metric == 'R@5'")
    assert r5["chance"].item() == pytest.approx(500.0 / N_CLIPS)
    for metric in ("R@1", "R@10"):
        _better(ours["youcook2"], base["youcook2"], variant="t2v", metric=metric)
    _better(ours["youcook2"], base["youcook2"], higher=False, variant="t2v", metric="MeanR")
    _better(ours["crosstask"], base["crosstask"], variant="standard", split="mean")

    # the CLI decodes a pixel run's windows at its training shape on request, and says so in the provenance
    assert cli_main(["--run", str(run_dir), "--tasks", "youcook2", "--train-shape", "--set", "max_clips=8"]) == 0
    used = json.loads((run_dir / "eval" / "provenance.json").read_text())["config"]
    assert (used["num_frames"], used["fps"], used["size"], used["max_clips"]) == (4, 2.5, 32, 8)
    assert len(pd.read_csv(run_dir / "eval" / "youcook2.csv")) == 10


def _check_sizes(tables):
    """The scores cover every smoke item (so the thresholds in the module docstring refer to these sets)."""
    assert (tables["youcook2"]["n"] == N_CLIPS).all()
    mean = tables["crosstask"].query("split == 'mean' and variant == 'standard'")
    assert mean["n"].item() == N_VIDEOS
