"""Run-time helpers of the training loop: signals, skip counting, run-directory checks, progress, metrics file."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from vttwins._io import atomic_write_text
from vttwins.companion.config import Config
from vttwins.companion.training import state as st
from vttwins.companion.training.distributed import DistInfo

log = logging.getLogger("vttwins.companion.training.loop")


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


def check_run_dir(run_dir: Path, resume: bool) -> tuple[Path | None, dict | None]:
    """(checkpoint, its state) to resume from ((None, None) = fresh). A finished or started run is never
    overwritten silently; a run folder that is a file, or not writable, is refused naming it; stale temp files
    of a killed run are removed (named in a warning); a damaged newest checkpoint falls back to the previous."""
    if run_dir.exists() and not run_dir.is_dir():
        raise NotADirectoryError(f"train.output_dir={run_dir} is a file, not a folder")
    probe = run_dir if run_dir.exists() else next((p for p in run_dir.parents if p.exists()), Path("."))
    if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
        raise PermissionError(f"train.output_dir={run_dir}: {probe} is not a writable folder")
    stale = st.stale_temp_files(run_dir)
    if stale:
        log.warning("removing %d temp file(s) left by a killed run: %s", len(stale), ", ".join(map(str, stale)))
        for path in stale:
            path.unlink(missing_ok=True)
    if resume:
        latest, state = st.load_latest_valid(run_dir)
        if latest is None:
            log.info("train.resume=true but %s has no checkpoint: starting from step 0", run_dir)
        return latest, state
    if st.latest_checkpoint(run_dir) is not None or (run_dir / "metrics.jsonl").exists():
        raise ValueError(
            f"train.output_dir={run_dir} already holds a run; set train.resume=true to continue it "
            "or choose another output_dir"
        )
    return None, None


# Keys a resumed run may change without --force: where things go, how often they are reported, how long it
# runs, and what is not training at all (eval, notebooks). Anything else (loss, optim, data, model, seed, amp,
# batch) would make the result a mixture of two runs.
RESUME_SAFE = (
    "train.steps",
    "train.epochs",
    "train.output_dir",
    "train.progress",
    "train.log_every",
    "train.checkpoint_every",
    "train.keep_checkpoints",
    "train.resume",
    "train.device",
    "data.num_workers",
    "eval",
    "grid",
    "notebooks",
)


def _flat(tree: dict, prefix: str = "") -> dict[str, Any]:
    out = {}
    for key, value in tree.items():
        if isinstance(value, dict) and value and not prefix.startswith(("eval", "notebooks")):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def config_changes(saved: dict, current: dict) -> dict[str, tuple[Any, Any]]:
    """{dotted key: (saved, current)} for every key whose value differs (JSON-normalised)."""
    a, b = (_flat(json.loads(json.dumps(x, default=str))) for x in (saved, current))
    return {k: (a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)}


def check_resume_config(run_dir: Path, saved: dict, current: dict, force: bool) -> dict[str, tuple[Any, Any]]:
    """The changes of a resume (safe ones, or all of them when `force`); ValueError naming the unsafe ones."""
    changes = config_changes(saved, current)
    unsafe = {k: v for k, v in changes.items() if not k.startswith(RESUME_SAFE)}
    if unsafe and not force:
        details = "; ".join(f"{k}: run {a!r} -> now {b!r}" for k, (a, b) in unsafe.items())
        raise ValueError(
            f"train.resume: the config differs from the run in {run_dir} ({details}); "
            "resume with the run's config, start another output_dir, or pass --force "
            "(fit(..., force_resume=True)) to resume anyway (recorded in resumes.jsonl)"
        )
    if unsafe:
        log.warning("resuming %s with a changed config (--force): %s", run_dir, ", ".join(unsafe))
    elif changes:
        log.info("resuming %s with changed safe keys (recorded in resumes.jsonl): %s", run_dir, ", ".join(changes))
    return changes


def record_resume(run_dir: Path, step: int, changes: dict, forced: bool) -> None:
    """Append one line to `<run>/resumes.jsonl`: which keys changed at which step (config.json is the new one)."""
    import time

    record = {
        "step": step,
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "forced": forced,
        "changed": {k: [a, b] for k, (a, b) in changes.items()},
    }
    with open(run_dir / "resumes.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps(record, sort_keys=True, default=str) + "\n")


def check_same_architecture(saved: dict, model_config, source: Path) -> None:
    current = dataclasses.asdict(model_config)
    diff = {k: (saved.get(k), v) for k, v in current.items() if k != "checkpoint" and saved.get(k) != v}
    if diff:
        details = ", ".join(f"model.{k}: checkpoint {a!r} vs config {b!r}" for k, (a, b) in sorted(diff.items()))
        raise ValueError(f"checkpoint {source} was trained with another architecture ({details})")


def truncate_metrics(path: Path, step: int) -> None:
    """Drop records after `step` (a run killed between a log line and its checkpoint), keep the rest. A torn last
    line (killed mid-write) is dropped with a warning; an unreadable line elsewhere is an error naming it."""
    if not path.exists():
        return
    text = path.read_text(encoding="utf-8", errors="replace")
    lines = [ln for ln in text.splitlines() if ln.strip()]
    keep, torn = [], False
    for n, line in enumerate(lines, 1):
        try:
            record = json.loads(line)
        except ValueError:
            if n < len(lines):
                raise ValueError(f"{path}: line {n} is not a JSON record ({line[:60]!r}); fix or remove it") from None
            log.warning("%s: dropping a torn last line (a killed write): %r", path, line[:60])
            torn = True
            continue
        if isinstance(record, dict) and record.get("step", 0) <= step:
            keep.append(line)
    if len(keep) != len(lines) - torn:
        log.info(
            "metrics.jsonl: dropping %d records after step %d (re-run after resume)",
            len(lines) - torn - len(keep),
            step,
        )
    if len(keep) != len(lines) or (text and not text.endswith("\n")):
        atomic_write_text(path, "".join(ln + "\n" for ln in keep))


def progress_bar(config: Config, info: DistInfo, start: int, total: int):
    mode = config.train.progress
    use_bar = info.is_main and (mode == "bar" or (mode == "auto" and sys.stderr.isatty()))
    if not use_bar:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=start, unit="step", dynamic_ncols=True)
