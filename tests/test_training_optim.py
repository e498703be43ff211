"""The loop's own Adam and lr schedule against torch.optim.Adam + LambdaLR (the oracle), bit for bit."""

import copy

import pytest
import torch

from vttwins.companion.training.optim import Adam, LrSchedule
from vttwins.companion.training.state import lr_factor

TOTAL = 12


def _factor(step: int) -> float:
    return lr_factor(step, TOTAL, warmup_steps=3, schedule="cosine", min_ratio=0.1)


def _model() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(7, 5), torch.nn.ReLU(), torch.nn.Linear(5, 3), torch.nn.LayerNorm(3))


def _train(model, opt, sched, steps, start=0, skip_bias_at=()):
    """Deterministic steps; at the steps in `skip_bias_at` the first layer's bias gets no gradient."""
    lrs = []
    for step in range(start, start + steps):
        g = torch.Generator().manual_seed(100 + step)
        x = torch.randn(9, 7, generator=g)
        loss = model(x).pow(2).mean() + 0.1 * model[0].weight.abs().sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if step in skip_bias_at:
            model[0].bias.grad = None
        lrs.append(sched.get_last_lr()[0])
        opt.step()
        sched.step()
    return lrs


def _pair(weight_decay=0.0, betas=(0.9, 0.999)):
    ref, new = _model(), _model()
    kw = dict(lr=3e-3, betas=betas, weight_decay=weight_decay)
    t_opt = torch.optim.Adam(ref.parameters(), **kw)
    t_sched = torch.optim.lr_scheduler.LambdaLR(t_opt, _factor)
    o_opt = Adam(new.parameters(), **kw)
    return (ref, t_opt, t_sched), (new, o_opt, LrSchedule(o_opt, _factor))


def _same(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


@pytest.mark.parametrize("weight_decay,betas", [(0.0, (0.9, 0.999)), (1e-2, (0.8, 0.99))])
def test_adam_is_bit_identical_to_torch(weight_decay, betas):
    (ref, t_opt, t_sched), (new, o_opt, o_sched) = _pair(weight_decay, betas)
    assert _train(ref, t_opt, t_sched, TOTAL, skip_bias_at=(2, 5)) == _train(
        new, o_opt, o_sched, TOTAL, skip_bias_at=(2, 5)
    )
    assert _same(ref, new)
    assert not _same(ref, _model())  # the parameters did move
    for i, p in enumerate(new.parameters()):
        t_state = t_opt.state[list(ref.parameters())[i]]
        assert t_state["step"].item() == o_opt.state[p]["step"].item()  # the skipped bias counts fewer steps
        assert torch.equal(t_state["exp_avg_sq"], o_opt.state[p]["exp_avg_sq"])


@pytest.mark.parametrize("direction", ["torch->ours", "ours->torch"])
def test_resume_across_the_two_optimizers(direction):
    """A checkpoint of either optimizer/schedule resumes with the other and ends where an unbroken run ends."""
    (ref, t_opt, t_sched), (new, o_opt, o_sched) = _pair(weight_decay=1e-3)
    _train(ref, t_opt, t_sched, TOTAL)  # unbroken, torch
    first = (t_opt, t_sched) if direction == "torch->ours" else (o_opt, o_sched)
    model = _model()
    opt = (torch.optim.Adam if direction == "torch->ours" else Adam)(model.parameters(), lr=3e-3, weight_decay=1e-3)
    sched = (torch.optim.lr_scheduler.LambdaLR if direction == "torch->ours" else LrSchedule)(opt, _factor)
    _train(model, opt, sched, 5)
    saved = copy.deepcopy({"model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict()})
    del first
    resumed = _model()
    resumed.load_state_dict(saved["model"])
    if direction == "torch->ours":
        opt2 = Adam(resumed.parameters(), lr=3e-3, weight_decay=1e-3)
        sched2 = LrSchedule(opt2, _factor)
    else:
        opt2 = torch.optim.Adam(resumed.parameters(), lr=3e-3, weight_decay=1e-3)
        sched2 = torch.optim.lr_scheduler.LambdaLR(opt2, _factor)
    opt2.load_state_dict(saved["opt"])
    sched2.load_state_dict(saved["sched"])
    _train(resumed, opt2, sched2, TOTAL - 5, start=5)
    assert _same(ref, resumed)


def test_state_dict_layout_is_torchs():
    (ref, t_opt, t_sched), (new, o_opt, o_sched) = _pair()
    _train(ref, t_opt, t_sched, 2)
    _train(new, o_opt, o_sched, 2)
    t, o = t_opt.state_dict(), o_opt.state_dict()
    assert sorted(t["state"]) == sorted(o["state"]) == list(range(6))
    assert all(sorted(t["state"][i]) == sorted(o["state"][i]) for i in t["state"])
    assert t["param_groups"][0]["params"] == o["param_groups"][0]["params"]
    assert t["param_groups"][0]["lr"] == o["param_groups"][0]["lr"]
    assert o_sched.state_dict()["last_epoch"] == t_sched.state_dict()["last_epoch"] == 2


def test_bad_arguments_and_states_are_named():
    p = [torch.nn.Parameter(torch.zeros(2))]
    with pytest.raises(ValueError, match="lr=0"):
        Adam(p, lr=0)
    with pytest.raises(ValueError, match="betas"):
        Adam(p, lr=1e-3, betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="params"):
        Adam([], lr=1e-3)
    opt = Adam(p, lr=1e-3)
    with pytest.raises(ValueError, match="1 parameters, the model has 2|model has 1"):
        opt.load_state_dict({"state": {}, "param_groups": [{"params": [0, 1]}]})
    with pytest.raises(ValueError, match="exp_avg_sq"):
        opt.load_state_dict({"state": {0: {"step": 1.0, "exp_avg": torch.zeros(2)}}, "param_groups": [{"params": [0]}]})
    with pytest.raises(ValueError, match="last_epoch"):
        LrSchedule(opt, _factor).load_state_dict({"base_lrs": [1.0]})
