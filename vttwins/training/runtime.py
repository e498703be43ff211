"""Run-time helpers of the training loop: signals, skip counting, run-directory checks, progress, metrics file."""
from __future__ import annotations

import dataclasses
import json
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from vttwins.config import Config
from vttwins.training import state as st
from vttwins.training.distributed import DistInfo

log = logging.getLogger("vttwins.training.loop")


class CountingCollate:
    """`collate_pretrain` that also reports how many items the dataset skipped since its previous batch.

    Under `on_error="skip"` a dataset records bad files in its own `.skipped` list -- in DataLoader workers that
    is the worker's copy, which the main process never sees; so the count travels with the batch.
    """

    def __init__(self, dataset, collate):
        self.dataset, self.collate, self.seen = dataset, collate, 0

    def __call__(self, items):
        from torch.utils.data import get_worker_info

        batch = self.collate(items)
        worker = get_worker_info()
        skipped = getattr(worker.dataset if worker is not None else self.dataset, "skipped", ()) or ()
        batch["_skipped_new"] = len(skipped) - self.seen
        self.seen = len(skipped)
        return batch


class StopFlag:
    """SIGTERM/SIGINT handlers that ask the loop to checkpoint and stop after the current step."""

    def __init__(self):
        self.signum: int | None = None
        self._old: dict[int, Any] = {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                self._old[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.signum is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt  # a second Ctrl-C: stop now
        self.signum = signum
        log.warning("signal %d: writing a checkpoint after the current step, then stopping", signum)

    def __exit__(self, *exc):
        for sig, handler in self._old.items():
            signal.signal(sig, handler)
        return False


def check_run_dir(run_dir: Path, resume: bool) -> Path | None:
    """The checkpoint to resume from (None = fresh). A finished or started run is never overwritten silently."""
    latest = st.latest_checkpoint(run_dir)
    if resume:
        if latest is None:
            log.info("train.resume=true but %s has no checkpoint: starting from step 0", run_dir)
        return latest
    if latest is not None or (run_dir / "metrics.jsonl").exists():
        raise ValueError(f"train.output_dir={run_dir} already holds a run; set train.resume=true to continue it "
                         "or choose another output_dir")
    return None


def check_same_architecture(saved: dict, model_config, source: Path) -> None:
    current = dataclasses.asdict(model_config)
    diff = {k: (saved.get(k), v) for k, v in current.items() if k != "checkpoint" and saved.get(k) != v}
    if diff:
        details = ", ".join(f"model.{k}: checkpoint {a!r} vs config {b!r}" for k, (a, b) in sorted(diff.items()))
        raise ValueError(f"checkpoint {source} was trained with another architecture ({details})")


def truncate_metrics(path: Path, step: int) -> None:
    """Drop records after `step` (a run killed between a log line and its checkpoint), keep the rest."""
    if not path.exists():
        return
    lines = [ln for ln in path.read_text().splitlines() if ln.strip()]
    keep = [ln for ln in lines if json.loads(ln).get("step", 0) <= step]
    if len(keep) != len(lines):
        log.info("metrics.jsonl: dropping %d records after step %d (re-run after resume)", len(lines) - len(keep),
                 step)
        from vttwins.results import atomic_write_text
        atomic_write_text(path, "".join(ln + "\n" for ln in keep))


def progress_bar(config: Config, info: DistInfo, start: int, total: int):
    mode = config.train.progress
    use_bar = info.is_main and (mode == "bar" or (mode == "auto" and sys.stderr.isatty()))
    if not use_bar:
        return None
    from tqdm.auto import tqdm
    return tqdm(total=total, initial=start, unit="step", dynamic_ncols=True)
