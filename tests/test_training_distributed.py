"""Two processes under torchrun/gloo equal one process over the same global batch: the loss, the parameter
gradients (a stand-in model, every loss) and a short real `fit` (losses and final weights)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from vttwins.companion.config import config_to_dict, load_config, replace

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from training_standins import TinyModel, global_batch, make_loss  # noqa: E402

pytestmark = pytest.mark.distributed


def _losses(run_dir):
    return [json.loads(line)["loss"] for line in (Path(run_dir) / "metrics.jsonl").read_text().splitlines()]


def test_two_processes_equal_one_process(tmp_path):
    from vttwins.companion.training import fit
    from vttwins.companion.training.loop import TrainStep

    config = load_config(
        "smoke",
        [
            f"output_dir={tmp_path / 'ddp'}",
            f"data_dir={REPO / 'data/synth/smoke'}",
            "train.steps=3",
            "train.progress=log",
            "train.checkpoint_every=2",
        ],
    )
    (tmp_path / "config.json").write_text(json.dumps(config_to_dict(config)))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [
        str(Path(sys.executable).parent / "torchrun"),
        "--standalone",
        "--nproc_per_node=2",
        str(HERE / "training_dist_worker.py"),
        str(tmp_path),
        str(tmp_path / "config.json"),
    ]
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-4000:]

    # Part A: loss and every parameter gradient of one DDP step == one process on the whole batch
    two = torch.load(tmp_path / "part_a.pt")
    for name, result in two.items():
        torch.manual_seed(0)
        step = TrainStep(TinyModel(), make_loss(name), normalize=name != "mil_nce", sequence=name == "s2dtw")
        loss = step(*global_batch())
        loss.backward()
        torch.testing.assert_close(result["loss"], loss.detach(), rtol=1e-5, atol=1e-6)
        for key, p in step.named_parameters():
            torch.testing.assert_close(result["grads"][key], p.grad, rtol=1e-4, atol=1e-6, msg=f"{name} {key}")

    # Part B: a real fit, 2 processes vs 1
    single = fit(replace(config, [f"output_dir={tmp_path / 'single'}"]))
    assert _losses(tmp_path / "ddp") == pytest.approx(_losses(single), rel=1e-5)
    a, b = torch.load(tmp_path / "ddp" / "model.pt"), torch.load(single / "model.pt")
    assert a["step"] == b["step"] == 3
    for key in a["model"]:
        torch.testing.assert_close(a["model"][key], b["model"][key], rtol=1e-4, atol=1e-5, msg=key)
    provenance = json.loads((tmp_path / "ddp" / "provenance.json").read_text())
    assert provenance["world_size"] == 2
