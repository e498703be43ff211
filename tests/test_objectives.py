"""objectives.py: one registry that config, builders, grids and plots read; derived defaults never inherited."""

import json
from pathlib import Path

import pytest
import torch

from vttwins import losses, objectives

from vttwins.companion import plots
from vttwins.companion.config import LOSSES, SEQUENCE_LOSSES, load_config, replace
from vttwins.companion.experiments import grids
from vttwins.companion.training import fit
from vttwins.companion.training.builders import build_loss

REPO = Path(__file__).resolve().parent.parent
SMOKE_DATA = REPO / "data" / "synth" / "smoke"


def test_every_room_reads_the_registry():
    names = objectives.names()
    assert tuple(LOSSES) == names and set(SEQUENCE_LOSSES) == set(objectives.names(sequence=True))
    assert {"mil_nce", "clip_nce"} == set(names) - set(SEQUENCE_LOSSES)
    assert grids.SHORT == {n: objectives.get(n).label for n in names}
    for n in names:
        assert plots._color(objectives.get(n).label, 0) == plots._color(n, 0) == objectives.get(n).color
        cfg = load_config("smoke", [f"loss.name={n}"])
        module = build_loss(cfg)
        assert isinstance(module, losses.SequenceContrastiveLoss) == objectives.get(n).sequence


def test_released_flags_and_the_readers_of_the_one_flag_table():
    """The registry's flags are docs/method.md §3-§4's (hand-written here); the figure methods and the loss read them."""
    from vttwins.companion.experiments import examples

    expected = {
        "dtw": (False, False, True),
        "soft_dtw": (False, False, False),
        "s2dtw": (True, True, False),
        "s2dtw_smooth_only": (True, False, False),
        "s2dtw_weak_only": (False, True, False),
    }
    for name, (smooth, weak, hard) in expected.items():
        flags = objectives.get(name).alignment
        assert (flags["smooth"], flags["weak"], flags.get("hard", False)) == (smooth, weak, hard)
    assert examples.method_options("DTW") == {"gamma": 0.0, "smooth": False, "weak": False}
    assert examples.method_options("soft-DTW") == {"gamma": 0.1, "smooth": False, "weak": False}
    assert examples.method_options("S2DTW") == {"gamma": 0.1, "smooth": True, "weak": True}
    assert losses.SequenceContrastiveLoss().alignment_options == {"smooth": True, "weak": True, "hard": False}


@pytest.mark.parametrize(
    "name, temperature, normalize", [("mil_nce", 1.0, False), ("clip_nce", 0.07, True), ("soft_dtw", 1.0, True)]
)
def test_replace_gives_each_objective_its_own_defaults(name, temperature, normalize):
    base = load_config("default")  # an S2DTW profile: resolved temperature 1.0, normalize True
    cfg = replace(base, {"loss.name": name})
    assert (cfg.loss.temperature, cfg.loss.normalize, cfg.loss.tda) == (temperature, normalize, False)
    # ... and back: S2DTW built from a MIL-NCE config is normalised again
    back = replace(cfg, {"loss.name": "s2dtw"})
    assert (back.loss.temperature, back.loss.normalize) == (1.0, True)


def test_explicit_overrides_win_over_the_objectives_defaults():
    base = load_config("default")
    cfg = replace(base, {"loss.name": "mil_nce", "loss.normalize": True, "loss.temperature": 0.5})
    assert (cfg.loss.normalize, cfg.loss.temperature) == (True, 0.5)
    cli = load_config("default", ["loss.temperature=0.2", "loss.name=clip_nce"])  # order does not matter
    assert cli.loss.temperature == 0.2 and cli.loss.normalize is True
    same = replace(replace(base, {"loss.temperature": 0.3}), {"train.seed": 2})  # no objective switch: kept
    assert same.loss.temperature == 0.3


def test_grid_cell_for_mil_nce_from_an_s2dtw_base_is_not_normalised():
    base = load_config("default")
    jobs = grids.grid_jobs(base, grids.loss_cells(["mil_nce", "clip_nce", "s2dtw_tda"]), [1], "runs/x")
    by_loss = {j.labels["loss"]: j.config["loss"] for j in jobs}
    assert by_loss["MIL-NCE"]["normalize"] is False and by_loss["MIL-NCE"]["temperature"] == 1.0
    assert by_loss["clip InfoNCE"]["temperature"] == 0.07
    assert by_loss["S2DTW + TDA"]["tda"] is True and by_loss["S2DTW + TDA"]["name"] == "s2dtw_tda"
    json.dumps(by_loss)  # config.json still says what the run used: plain resolved values


def test_unknown_names_and_bad_entries_are_refused():
    with pytest.raises(ValueError, match="loss.name"):
        load_config("smoke", ["loss.name=nope"])
    with pytest.raises(ValueError, match="unknown objective 'nope'"):
        objectives.get("nope")
    with pytest.raises(ValueError, match="already registered"):
        objectives.register(objectives.get("s2dtw"))
    with pytest.raises(ValueError, match="alignment option 'wobbly'"):
        objectives.register(objectives.Objective("x", "x", "k", objectives.build_sequence, {"wobbly": True}))


@pytest.fixture
def toy_variant():
    """Recipe 'add an alignment variant': its alignment options + one registry entry, nothing else."""
    obj = objectives.register(
        objectives.Objective(
            "toy_weak_hard",
            "toy: hard DTW on the lattice",
            "#000000",
            objectives.build_sequence,
            alignment={"smooth": False, "weak": True, "hard": True},
        )
    )
    yield obj
    objectives.unregister(obj.name)


def test_toy_variant_registered_from_a_test_is_a_loss_and_trains(toy_variant, tmp_path):
    from vttwins.alignment import s2dtw_matrix

    cfg = load_config(
        "smoke",
        [
            "loss.name=toy_weak_hard",
            f"output_dir={tmp_path / 'run'}",
            f"data_dir={SMOKE_DATA}",
            "train.steps=2",
            "train.progress=log",
        ],
    )
    loss = build_loss(cfg)
    v = torch.nn.functional.normalize(torch.randn(3, 5, 8, dtype=torch.float64), dim=-1)
    t = torch.nn.functional.normalize(torch.randn(3, 5, 8, dtype=torch.float64), dim=-1)
    expected = s2dtw_matrix(v, t, gamma=0.0, smooth_gamma=0.1, tau=0.5, smooth=False, weak=True)  # independent call
    assert torch.allclose(loss.distances(v, t), expected)
    run_dir = fit(cfg)
    rows = [json.loads(line) for line in (Path(run_dir) / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2] and all(torch.isfinite(torch.tensor(r["loss"])) for r in rows)
    assert json.loads((Path(run_dir) / "config.json").read_text())["loss"]["name"] == "toy_weak_hard"


def test_collapse_detector_reads_the_skip_share_and_distance_spread():
    loss = losses.SequenceContrastiveLoss()
    x = torch.zeros(4, 3, 2, dtype=torch.float64)
    x[..., 0] = 1.0
    loss(x, -x)  # every positive cell costs -<x, -x> = 1 > tau = 0.5, every pair equally far: the log-B plateau
    assert loss.diagnostics["skip_share"] == 1.0 and loss.diagnostics["distance_spread"] == pytest.approx(0.0)
    loss(x, x)  # cost -1 < tau everywhere
    assert loss.diagnostics["skip_share"] == 0.0 and loss.diagnostics["cosine_max"] == pytest.approx(1.0)


def test_skip_cost_warmup_moves_tau_linearly_then_stays():
    cfg = load_config("smoke", ["loss.name=s2dtw_skip_warmup"])
    loss = build_loss(cfg)
    assert (loss.tau_start, loss.warmup_steps, loss.tau_final) == (2.0, 50, 0.5)
    v = torch.nn.functional.normalize(torch.randn(2, 3, 4, dtype=torch.float64), dim=-1)
    seen = []
    for _ in range(52):
        loss(v, v)
        seen.append(loss.tau)
    assert seen[0] == 2.0 and seen[25] == pytest.approx(2.0 - 1.5 * 25 / 50) and seen[50:] == [0.5, 0.5]
    loss.eval()
    loss(v, v)
    assert loss.tau == 0.5
    with pytest.raises(ValueError, match="learnable tau"):
        build_loss(load_config("smoke", ["loss.name=s2dtw_skip_warmup", "loss.learn_tau=true"]))
