"""Schedule, data order and checkpoint/resume state of a training run.

A run directory holds `checkpoints/step_XXXXXXXX.pt` (rotating, written atomically: temp file + rename), each a
dict with the model, loss, optimizer and scheduler states, the step, the RNG states and the data position. Data
order is a pure function of (seed, epoch) and every item's randomness of (seed, epoch, index), so the step alone
fixes where to resume; the position is stored too, for humans and for a check.
"""

from __future__ import annotations

import logging
import math
import os
import random
import re
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch

from vttwins.companion.training.optim import Adam, LrSchedule
from vttwins.models.checkpoints import load_checkpoint, save_checkpoint

log = logging.getLogger(__name__)

CHECKPOINT_RE = re.compile(r"^step_(\d{8})\.pt$")


# ------------------------------------------------------------------------------------------- schedule
def lr_factor(
    step: int, total_steps: int, warmup_steps: int = 0, schedule: str = "cosine", min_ratio: float = 0.0
) -> float:
    """Multiplier of the base lr for optimizer step `step` (0-based): linear warm-up, then cosine (or constant)."""
    if warmup_steps > 0 and step < warmup_steps:
        return (step + 1) / warmup_steps
    if schedule == "constant":
        return 1.0
    progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
    return min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))


def make_scheduler(optimizer: Adam, total_steps: int, optim_config) -> LrSchedule:
    """Per-step schedule of `lr_factor` (LambdaLR's behaviour; call `.step()` after every optimizer step)."""
    c = optim_config
    return LrSchedule(optimizer, lambda s: lr_factor(s, total_steps, c.warmup_steps, c.schedule, c.min_lr_ratio))


# ------------------------------------------------------------------------------------------- data order
class GlobalBatchSampler:
    """Batches of dataset indices for one rank: each global batch of `global_batch` indices (a slice of a
    seeded permutation of the epoch) is cut into `world_size` contiguous parts, part `rank` goes to this rank.

    The concatenation of all ranks' parts, in rank order, is exactly the one-process batch, so an all-gather
    reproduces the single-process global batch. The last incomplete global batch of an epoch is dropped.
    `set_epoch(e)` picks the epoch's permutation, `set_start(k)` skips its first k batches (resume).
    """

    def __init__(self, n_items: int, global_batch: int, rank: int = 0, world_size: int = 1, seed: int = 1):
        if global_batch % world_size:
            raise ValueError(
                f"train.batch_size={global_batch} must be divisible by the number of processes ({world_size})"
            )
        if n_items < global_batch:
            raise ValueError(f"the dataset has {n_items} videos, fewer than train.batch_size={global_batch}")
        self.n_items, self.global_batch, self.rank, self.world_size = n_items, global_batch, rank, world_size
        self.seed, self.epoch, self.start = seed, 0, 0
        self.local_batch = global_batch // world_size

    @property
    def batches_per_epoch(self) -> int:
        return self.n_items // self.global_batch

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def set_start(self, start: int) -> None:
        self.start = start

    def order(self, epoch: int) -> np.ndarray:
        return np.random.default_rng([self.seed, 7919, epoch]).permutation(self.n_items)

    def __iter__(self) -> Iterator[list[int]]:
        order = self.order(self.epoch)
        lo, hi = self.rank * self.local_batch, (self.rank + 1) * self.local_batch
        for b in range(self.start, self.batches_per_epoch):
            batch = order[b * self.global_batch : (b + 1) * self.global_batch]
            yield [int(i) for i in batch[lo:hi]]

    def __len__(self) -> int:
        return self.batches_per_epoch - self.start


# ------------------------------------------------------------------------------------------- RNG
def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def rng_state() -> dict[str, Any]:
    """Global RNG states as plain lists/tensors, so checkpoints load with `torch.load(weights_only=True)`."""
    version, internal, gauss = random.getstate()
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state = {
        "python": [version, list(internal), gauss],
        "torch": torch.get_rng_state(),
        "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), int(pos), int(has_gauss), float(cached)],
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    kind, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def step_generator(seed: int, step: int, device: torch.device | str = "cpu") -> torch.Generator:
    """The generator of one training step (TDA sampling): the same on every rank, reproducible after resume."""
    g = torch.Generator(device=device)
    g.manual_seed(int(np.random.default_rng([seed, 104729, step]).integers(2**62)))
    return g


# ------------------------------------------------------------------------------------------- checkpoints
def checkpoint_path(run_dir: str | os.PathLike, step: int) -> Path:
    return Path(run_dir) / "checkpoints" / f"step_{step:08d}.pt"


def list_checkpoints(run_dir: str | os.PathLike) -> list[Path]:
    """Checkpoints of a run, oldest first."""
    folder = Path(run_dir) / "checkpoints"
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if CHECKPOINT_RE.match(p.name))


def latest_checkpoint(run_dir: str | os.PathLike) -> Path | None:
    found = list_checkpoints(run_dir)
    return found[-1] if found else None


def looks_loadable(path: Path) -> bool:
    """Cheap test that a file can be a torch checkpoint: a non-empty zip archive whose directory reads (torch.save's
    format); junk, a text file or a truncated checkpoint fail it. No tensor is loaded."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            return bool(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


_reported_junk: set[str] = set()


def save_rotating(state: dict[str, Any], run_dir: str | os.PathLike, step: int, keep: int) -> Path:
    """Write `checkpoints/step_XXXXXXXX.pt` atomically, then delete all but the newest `keep` loadable ones.

    Only files that can be checkpoints count (`looks_loadable`): a junk file named like one never pushes a real
    checkpoint out; it is left in place and named in a WARNING (once)."""
    path = save_checkpoint(checkpoint_path(run_dir, step), state)
    real, junk = [], []
    for p in list_checkpoints(run_dir):
        (real if p == path or looks_loadable(p) else junk).append(p)
    for old in real[:-keep]:
        old.unlink(missing_ok=True)
    for p in junk:
        if str(p) not in _reported_junk:
            _reported_junk.add(str(p))
            log.warning(
                "%s is named like a checkpoint but is not one (not a readable torch archive): not counted "
                "in train.keep_checkpoints, left in place",
                p,
            )
    log.info("saved checkpoint %s", path)
    return path


RESUME_KEYS = ("model", "model_config", "loss", "optimizer", "scheduler", "scaler", "rng", "step", "data_position")


def load_state(path: str | os.PathLike, required: tuple[str, ...] = ()) -> dict[str, Any]:
    """A checkpoint dict; ValueError naming the file when it is truncated, empty, or lacks a `required` key."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    if path.stat().st_size == 0:
        raise ValueError(f"checkpoint {path} is empty (0 bytes)")
    state = load_checkpoint(path)  # ValueError naming the file on a truncated / corrupt one
    absent = [k for k in required if not isinstance(state, dict) or k not in state]
    if absent or not isinstance(state, dict):
        raise ValueError(f"checkpoint {path} is not a resume checkpoint: missing {absent or 'everything'}")
    return state


def load_latest_valid(run_dir: str | os.PathLike) -> tuple[Path | None, dict[str, Any] | None]:
    """(path, state) of the newest checkpoint that loads; a damaged newer one is named in a WARNING and passed
    over (a SIGKILL or a full disk can leave one behind despite the atomic rename). (None, None) without
    checkpoints; ValueError when there are some and none loads."""
    found = list_checkpoints(run_dir)
    for path in reversed(found):
        try:
            return path, load_state(path, RESUME_KEYS)
        except (ValueError, OSError) as err:
            log.warning("skipping damaged checkpoint %s (%s); trying the previous one", path, err)
    if found:
        raise ValueError(
            f"no loadable checkpoint in {Path(run_dir) / 'checkpoints'}: "
            f"{', '.join(p.name for p in found)} are all damaged (see the warnings above)"
        )
    return None, None


def stale_temp_files(run_dir: str | os.PathLike) -> list[Path]:
    """Temp files of atomic writes (`.<name>.<random>[.tmp]`) that a SIGKILL left in a run folder."""
    run_dir = Path(run_dir)
    names = ("config.json", "provenance.json", "metrics.jsonl", "model.pt")
    found = [p for p in run_dir.glob(".*") if p.is_file() and any(p.name.startswith(f".{n}.") for n in names)]
    found += [p for p in (run_dir / "checkpoints").glob(".step_*.pt.*") if p.is_file()]
    return sorted(found)
