"""Adam and the per-step learning-rate schedule of the training loop, without `torch.optim`.

Why not `torch.optim.Adam` + `LambdaLR`: constructing any `torch.optim.Optimizer` imports `torch._dynamo`
(`Optimizer.__init__` is wrapped by `torch._disable_dynamo`), which costs about as much as `import torch` itself
(~1.8 s on the 2-core reference machine) in every training process, and its `step` adds Python work per parameter
(hooks, profiler ranges, a second dynamo import guard). A 150-step SynthHowTo run trains for ~2 s, so that import
alone was most of a run's start-up (issue 20, `benchmarks/bench_study.py`).

`Adam` does the arithmetic of torch's single-tensor CPU path (L2 weight decay added to the gradient, no amsgrad,
no maximize) through `torch._foreach_*` ops, which on CPU run the same per-tensor kernels in one call: the
parameters it produces are bit-identical to `torch.optim.Adam` (`tests/test_training_optim.py` compares them step by
step, with weight decay, with a parameter that has no gradient at some steps, and across a save/resume). Its
`state_dict` has torch's layout (`state[i] = {step, exp_avg, exp_avg_sq}`, `param_groups[k]["params"] = [i, ...]`),
so a checkpoint written by either optimizer resumes with the other. `LrSchedule` is `LambdaLR`'s behaviour
(lr = initial lr x factor(step), set at construction and after every `step()`), with the same state keys.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch

STATE_KEYS = ("step", "exp_avg", "exp_avg_sq")


class Adam:
    """Adam (Kingma & Ba) with L2 weight decay, one parameter group; the subset of `torch.optim.Adam` we use.

    Parameters
    ----------
    params : iterable of tensors with `requires_grad`
    lr : float > 0
    betas : (beta1, beta2), each in [0, 1)
    eps : float >= 0
    weight_decay : float >= 0, added to the gradient as `weight_decay * param` (torch's `Adam`, not `AdamW`)
    """

    def __init__(
        self,
        params: Iterable[torch.Tensor],
        lr: float,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ):
        params = list(params)
        if not params:
            raise ValueError("Adam: 'params' is empty")
        if not lr > 0:
            raise ValueError(f"Adam: lr={lr} must be > 0")
        if len(betas) != 2 or not all(0.0 <= b < 1.0 for b in betas):
            raise ValueError(f"Adam: betas={tuple(betas)} must be two values in [0, 1)")
        if not eps >= 0 or not weight_decay >= 0:
            raise ValueError(f"Adam: eps={eps} and weight_decay={weight_decay} must be >= 0")
        group = {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay, "params": params}
        self.param_groups: list[dict] = [group]
        self.state: dict[torch.Tensor, dict[str, torch.Tensor]] = {}

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.param_groups[0]["params"]:
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.detach_().zero_()

    @torch.no_grad()
    def step(self) -> None:
        """One Adam update of every parameter that has a gradient (a parameter without one is left as it is)."""
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if params:
                self._update(group, params)

    def _update(self, group: dict, params: list[torch.Tensor]) -> None:
        beta1, beta2 = group["betas"]
        lr, eps, wd = group["lr"], group["eps"], group["weight_decay"]
        states = [self._state(p) for p in params]
        grads = [p.grad for p in params]
        exp_avgs = [s["exp_avg"] for s in states]
        exp_avg_sqs = [s["exp_avg_sq"] for s in states]
        counts = [s["step"] for s in states]
        torch._foreach_add_(counts, 1)
        if wd != 0:
            grads = torch._foreach_add(grads, params, alpha=wd)
        torch._foreach_lerp_(exp_avgs, grads, 1 - beta1)
        torch._foreach_mul_(exp_avg_sqs, beta2)
        torch._foreach_addcmul_(exp_avg_sqs, grads, grads, 1 - beta2)
        steps = [c.item() for c in counts]
        step_sizes = [-(lr / (1 - beta1**s)) for s in steps]
        denoms = torch._foreach_sqrt(exp_avg_sqs)
        torch._foreach_div_(denoms, [(1 - beta2**s) ** 0.5 for s in steps])
        torch._foreach_add_(denoms, eps)
        torch._foreach_addcdiv_(params, exp_avgs, denoms, step_sizes)

    def _state(self, p: torch.Tensor) -> dict[str, torch.Tensor]:
        state = self.state.get(p)
        if state is None:
            state = self.state[p] = {
                "step": torch.tensor(0.0, dtype=torch.float32),
                "exp_avg": torch.zeros_like(p, memory_format=torch.preserve_format),
                "exp_avg_sq": torch.zeros_like(p, memory_format=torch.preserve_format),
            }
        return state

    # ------------------------------------------------------------------------------------------- checkpoints
    def state_dict(self) -> dict:
        """torch's layout: parameters are numbered in group order; tensors are the live ones (save, don't edit)."""
        index = {id(p): i for i, p in enumerate(self.param_groups[0]["params"])}
        state = {index[id(p)]: dict(s) for p, s in self.state.items()}
        groups = [
            {**{k: v for k, v in g.items() if k != "params"}, "params": [index[id(p)] for p in g["params"]]}
            for g in self.param_groups
        ]
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore from `state_dict()` of this class or of `torch.optim.Adam` over the same parameters."""
        groups = state_dict.get("param_groups")
        if not isinstance(groups, list) or len(groups) != len(self.param_groups):
            raise ValueError(f"optimizer state: expected {len(self.param_groups)} param group(s), got {groups!r:.80}")
        params = self.param_groups[0]["params"]
        if len(groups[0].get("params", ())) != len(params):
            raise ValueError(
                f"optimizer state: its param group has {len(groups[0].get('params', ()))} parameters, "
                f"the model has {len(params)}"
            )
        by_index = dict(zip(groups[0]["params"], params))
        state = {}
        for i, saved in state_dict.get("state", {}).items():
            missing = [k for k in STATE_KEYS if k not in saved]
            if i not in by_index or missing:
                raise ValueError(f"optimizer state of parameter {i}: unknown index or missing keys {missing}")
            p = by_index[i]
            state[p] = {
                "step": torch.as_tensor(saved["step"], dtype=torch.float32).clone(),
                "exp_avg": saved["exp_avg"].to(device=p.device, dtype=p.dtype, copy=True),
                "exp_avg_sq": saved["exp_avg_sq"].to(device=p.device, dtype=p.dtype, copy=True),
            }
        self.state = state
        for k in ("lr", "betas", "eps", "weight_decay", "initial_lr"):
            if k in groups[0]:
                self.param_groups[0][k] = tuple(groups[0][k]) if k == "betas" else groups[0][k]


class LrSchedule:
    """Sets each group's lr to its initial lr x `factor(step)`: at construction (step 0) and after every `step()`.

    The behaviour and state keys of `torch.optim.lr_scheduler.LambdaLR` (`last_epoch` counts the steps taken),
    for an optimizer that is not a `torch.optim.Optimizer`.
    """

    def __init__(self, optimizer: Adam, factor: Callable[[int], float]):
        self.optimizer, self.factor = optimizer, factor
        for g in optimizer.param_groups:
            g.setdefault("initial_lr", g["lr"])
        self.base_lrs = [g["initial_lr"] for g in optimizer.param_groups]
        self.last_epoch = 0
        self._apply()

    def _apply(self) -> None:
        self._last_lr = [base * self.factor(self.last_epoch) for base in self.base_lrs]
        for g, lr in zip(self.optimizer.param_groups, self._last_lr):
            g["lr"] = lr

    def step(self) -> None:
        self.last_epoch += 1
        self._apply()

    def get_last_lr(self) -> list[float]:
        return list(self._last_lr)

    def state_dict(self) -> dict:
        state = {"base_lrs": list(self.base_lrs), "last_epoch": self.last_epoch, "_last_lr": list(self._last_lr)}
        return {**state, "lr_lambdas": [None] * len(self.base_lrs)}  # LambdaLR's key: a plain function is not saved

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore from `state_dict()` of this class or of a `LambdaLR` (only `last_epoch`, `base_lrs` are read)."""
        if "last_epoch" not in state_dict:
            raise ValueError(f"scheduler state lacks 'last_epoch' (keys: {sorted(state_dict)})")
        self.last_epoch = int(state_dict["last_epoch"])
        self.base_lrs = list(state_dict.get("base_lrs", self.base_lrs))
        self._apply()
