"""End to end on the smoke SynthHowTo: a short pretraining run must beat its own untrained model and chance.

Not on one clip of R@1 (over 37 clips it moves in 2.7-point steps; on another CPU a pixel run's t2v R@1 came out
2.70 = untrained = chance): on quantities over every item, each trained value must beat both the untrained model
(same seed, vocabulary and config, no step) and the computed chance by a margin, about half the smallest gap
measured over seeds (`train.seed`) and thread counts (OMP_NUM_THREADS and torch threads 1 and 2):

- Feature mode, S2DTW, 600 steps of 8 videos (~10 s idle). `loss.temperature=10`: at the released temperature 1
  and lr 1e-3 the smoke feature model can collapse to the constant solution (loss = log B). Measured (seed/threads:
  trained vs untrained, chance): t2v mean rank over 37 clips 1/1 10.1 vs 18.3, 19.0; 2/1 10.4 vs 17.6; 1/2 10.1
  (bit-identical to 1/1); 3/2 9.7 vs 18.7 -> smallest gap 7.2 ranks, margin 3.5. t2v R@10 70.3/62.2/70.3/64.9 vs
  at most 35.1 -> gap 27.0, margin 13. CrossTask recall 34.2/24.9/34.2/33.2 vs at most 12.7 -> gap 12.3, margin 6.
  Mean logged loss of the last tenth / first tenth 0.539/0.570/0.539/0.545 -> must stay below 0.75.
  (Seeds 2 at 2 threads and 3 at 1 thread were not measured: a run took ~18 min on the shared machine.)
- Pixel mode, S2DTW at the released temperature 1: S3D-G at width 0.25 on 4 frames of 32x32 (2.5 fps), 200 steps
  of 8 videos x 4 clips (~35 s idle). CrossTask recall over the 12 videos, seeds 1/2/3 (one thread count, by the
  test's first author): 26.6/24.7/24.7 vs untrained 12.2/19.8/20.4 and chance 12.6 -> gap 4.3, margin 2. Its loss
  sits near log B for much of the 200 steps and its retrieval gaps were not measured, so neither is asserted; the
  1-thread pixel measurement did not fit the shared machine (35 steps in 25 min).
"""

import dataclasses
import json

import pandas as pd
import pytest
import torch

pytestmark = pytest.mark.slow

synth = pytest.importorskip("vttwins.companion.synth")
training = pytest.importorskip("vttwins.companion.training")
from vttwins.companion.config import load_config  # noqa: E402
from vttwins.companion.evaluation import EvalConfig  # noqa: E402
from vttwins.companion.evaluation.cli import cli_main  # noqa: E402
from vttwins.companion.evaluation.run import evaluate_model, initial_model  # noqa: E402
from vttwins.companion.experiments.runs import read_metrics  # noqa: E402

COMMON = ["train.checkpoint_every=100000", "train.log_every=10", "train.progress=log"]
FEATURE_RUN = ["loss.name=s2dtw", "loss.temperature=10.0", "train.steps=600", "train.batch_size=8"]
PIXEL_RUN = [
    "model.mode=pixel",
    "model.width=0.25",
    "model.embed_dim=64",
    "data.num_frames=4",
    "data.fps=2.5",
    "data.size=32",
    "data.clip_seconds=1.6",
    "data.n_clips=4",
    "loss.name=s2dtw",
    "loss.temperature=1.0",
    "optim.warmup_steps=10",
    "train.steps=200",
    "train.batch_size=8",
]
PIXEL_EVAL = EvalConfig(
    tasks=["youcook2", "crosstask"],
    num_frames=4,
    fps=2.5,
    size=32,
    youcook2_windows=2,
    batch_size=32,
    crosstask_split=None,
    ordered_chance_draws=20,
)
N_CLIPS, N_VIDEOS = 37, 12  # smoke YouCook2 val pairs, annotated CrossTask videos
# How much better than both its untrained model and chance a trained run must be: about half the smallest gap
# measured over seeds x thread counts (module docstring). MeanR in ranks (of 37), recalls in points.
MARGINS = {"feature": {"loss_ratio": 0.75, "MeanR": 3.5, "R@10": 13.0, "crosstask": 6.0}, "pixel": {"crosstask": 2.0}}


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


def _values(df, **where):
    """(value, chance) of the one row matching `where`."""
    sel = df
    for k, v in where.items():
        sel = sel[sel[k] == v]
    assert len(sel) == 1, where
    return float(sel["value"].iloc[0]), float(sel["chance"].iloc[0])


def _beats(ours, base, margin, higher=True, **where):
    """The trained value beats both the untrained model and chance by at least `margin` (in the metric's units)."""
    (trained, chance), (before, _) = _values(ours, **where), _values(base, **where)
    sign = 1 if higher else -1
    gap = min(sign * (trained - before), sign * (trained - chance))
    assert gap >= margin, (
        where,
        f"trained {trained:.2f} untrained {before:.2f} chance {chance:.2f}: gap {gap:.2f} < margin {margin}",
    )


def _loss_drops(run_dir, ratio):
    """The mean logged loss of the last tenth of training is below `ratio` x that of the first tenth."""
    loss = read_metrics(run_dir)["loss"].to_numpy()
    n = max(1, len(loss) // 10)
    first, last = loss[:n].mean(), loss[-n:].mean()
    assert last < ratio * first, f"loss {first:.3f} -> {last:.3f}: not below {ratio} x"


def _scores(model, untrained, paths, tok, ev):
    ours, base = evaluate_model(model, paths, tok, ev), evaluate_model(untrained, paths, tok, ev)
    _check_sizes(ours)
    return ours, base


def test_feature_training_helps(tmp_path, smoke_root):
    run_dir, model, tok, config, untrained = _train(tmp_path, smoke_root, FEATURE_RUN)
    ev = dataclasses.replace(config.eval, tasks=["youcook2", "crosstask"], crosstask_split=None)
    ours, base = _scores(model, untrained, synth.synth_paths(smoke_root), tok, ev)
    m = MARGINS["feature"]
    _loss_drops(run_dir, m["loss_ratio"])
    _beats(ours["youcook2"], base["youcook2"], m["MeanR"], higher=False, variant="t2v", metric="MeanR")
    _beats(ours["youcook2"], base["youcook2"], m["R@10"], variant="t2v", metric="R@10")
    _beats(ours["crosstask"], base["crosstask"], m["crosstask"], variant="standard", split="mean")

    # the CLI writes one CSV per task, with the untrained model's values beside ours
    assert cli_main(["--run", str(run_dir), "--tasks", "msrvtt", "--untrained"]) == 0
    df = pd.read_csv(run_dir / "eval" / "msrvtt.csv")
    assert {"value", "chance", "untrained"} <= set(df.columns) and len(df) == 10
    assert (run_dir / "eval" / "provenance.json").is_file()


def test_pixel_training_helps(tmp_path, smoke_root):
    """Pixel mode end to end (decode -> S3D-G -> S2DTW -> checkpoint -> pixel windows -> tables), and it learns."""
    run_dir, model, tok, config, untrained = _train(tmp_path, smoke_root, PIXEL_RUN)
    assert model.mode == "pixel" and not torch.equal(model.s3d.fc.weight, untrained.s3d.fc.weight)
    ours, base = _scores(model, untrained, synth.synth_paths(smoke_root), tok, PIXEL_EVAL)
    r5 = ours["youcook2"].query("variant == 't2v' and metric == 'R@5'")
    assert r5["chance"].item() == pytest.approx(500.0 / N_CLIPS)
    _beats(ours["crosstask"], base["crosstask"], MARGINS["pixel"]["crosstask"], variant="standard", split="mean")

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
