"""Signs and ranges of the run config (`vttwins.config.validate` calls these): every error names the dotted key,
the expected range and the value given (`vttwins.errors.ConfigError`). A leaf module: it reads a `Config` by
attribute only, so config.py can import it.
"""
from __future__ import annotations

import math
from dataclasses import fields

from vttwins.errors import ConfigError


def check_finite(config) -> None:
    """NaN / inf in any float of data, loss, optim is a typo or an overflow, never a setting."""
    for section in ("data", "loss", "optim"):
        for f in fields(getattr(config, section)):
            value = getattr(getattr(config, section), f.name)
            values = value if isinstance(value, (list, tuple)) else [value]
            for v in values:
                if isinstance(v, float) and not math.isfinite(v):
                    raise ConfigError(f"{section}.{f.name}", "a finite number", v)


def _at_least(key: str, value, low, strict: bool = False, optional: bool = False) -> None:
    if value is None and optional:
        return
    if value is None or (value <= low if strict else value < low):
        expected = f"{'>' if strict else '>='} {low}" + (" or null" if optional else "")
        raise ConfigError(key, expected, value)


def _within(key: str, value, low, high, high_open: bool = False) -> None:
    if not (low <= value < high if high_open else low <= value <= high):
        raise ConfigError(key, f"in [{low}, {high}{')' if high_open else ']'}", value)


def check_ranges(config) -> None:
    loss, optim, train, data = config.loss, config.optim, config.train, config.data
    for key, value in (("train.steps", train.steps), ("train.epochs", train.epochs),
                       ("train.log_every", train.log_every), ("train.checkpoint_every", train.checkpoint_every),
                       ("train.keep_checkpoints", train.keep_checkpoints), ("data.n_clips", data.n_clips),
                       ("data.num_frames", data.num_frames), ("data.size", data.size)):
        _at_least(key, value, 1, optional=key in ("train.steps", "train.epochs"))
    if train.batch_size < 2:  # every loss is contrastive over the batch: one video -> loss identically 0
        raise ConfigError("train.batch_size", f">= 2 (loss.name={loss.name!r} contrasts the videos of a batch; "
                                              "with 1 the loss is identically 0)", train.batch_size)
    _at_least("train.seed", train.seed, 0)
    _at_least("data.num_workers", data.num_workers, 0)
    _at_least("data.clip_seconds", data.clip_seconds, 0, strict=True)
    _at_least("data.fps", data.fps, 0, strict=True)
    _within("data.hflip", data.hflip, 0, 1)
    _at_least("optim.lr", optim.lr, 0, strict=True)
    _at_least("optim.warmup_steps", optim.warmup_steps, 0)
    _at_least("optim.weight_decay", optim.weight_decay, 0)
    _at_least("optim.grad_clip", optim.grad_clip, 0, strict=True, optional=True)
    _within("optim.min_lr_ratio", optim.min_lr_ratio, 0, 1)
    if len(optim.betas) != 2:
        raise ConfigError("optim.betas", "exactly two values [beta1, beta2], each in [0, 1)", list(optim.betas))
    for i, beta in enumerate(optim.betas):
        _within(f"optim.betas[{i}]", beta, 0, 1, high_open=True)
    _at_least("loss.gamma", loss.gamma, 0)
    _at_least("loss.smooth_gamma", loss.smooth_gamma, 0)
    if loss.tau < 0:
        raise ConfigError("loss.tau", ">= 0 (a negative tau rewards skipping: the loss stays at log(batch) and "
                                      "nothing is learned)", loss.tau)
    _at_least("loss.temperature", loss.temperature, 0, strict=True, optional=True)
    _at_least("loss.tda_max_shift", loss.tda_max_shift, 0)
    _at_least("loss.tda_sharpness", loss.tda_sharpness, 0, strict=True)
    _at_least("loss.num_candidates", loss.num_candidates, 1)


def check_grid(grid, executors) -> None:
    """The `grid` section: where the cells of a grid run (vttwins.experiments.executors)."""
    if grid.executor not in executors:
        raise ConfigError("grid.executor", f"one of {', '.join(executors)}", grid.executor)
    if grid.slurm.cluster not in ("slurm", "local", "debug"):
        raise ConfigError("grid.slurm.cluster", "one of slurm, local, debug", grid.slurm.cluster)
    _at_least("grid.workers", grid.workers, 1)
    _at_least("grid.slurm.time", grid.slurm.time, 1)
    _at_least("grid.slurm.cpus", grid.slurm.cpus, 1)
    _at_least("grid.slurm.gpus", grid.slurm.gpus, 0)
