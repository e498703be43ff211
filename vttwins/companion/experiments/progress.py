"""Progress events of cached runs, for `python -m vttwins reproduce` to follow a notebook from outside its kernel.

    VTTWINS_PROGRESS_FILE=/tmp/02.progress.jsonl   # set by the pipeline runner for each notebook
    announce_plan([(key, name, runs_root), ...])   # a grid: every distinct run (cached? estimate)
    emit("start", key=..., name=..., steps=150)    # ensure_run; then "step" (at most once a second) and "done"
    tracker = Tracker(); tracker.update(read_events(path, 0)[0]); tracker.eta_s(now)

Events are JSON lines appended to the file named by `VTTWINS_PROGRESS_FILE` (nothing is written without it), by the
kernel and by its grid workers alike (one short `write` per line, O_APPEND). They never change a result. The
estimate of a run is its past wall time in the run cache: `timing.json` of the newest run folder of the same name
under the same runs root (any code version), written by `ensure_run` (train_s) and `evaluate` (eval_s).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

PROGRESS_ENV = "VTTWINS_PROGRESS_FILE"
TIMING_FILE = "timing.json"


# ------------------------------------------------------------------------------------------- writing
def emit(event: str, **fields) -> None:
    """Append one event line to `$VTTWINS_PROGRESS_FILE` (a no-op without it; a write error is ignored: progress
    must never fail a run)."""
    path = os.environ.get(PROGRESS_ENV)
    if not path:
        return
    line = json.dumps({"event": event, "pid": os.getpid(), "time": time.time(), **fields}, sort_keys=True) + "\n"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)
    except OSError:
        pass


def record_timing(run_dir: str | os.PathLike, **seconds: float) -> None:
    """Merge wall times (`train_s=`, `eval_s=`) into `<run_dir>/timing.json` (run metadata, never in a table)."""
    path = Path(run_dir) / TIMING_FILE
    try:
        old = json.loads(path.read_text()) if path.is_file() else {}
    except ValueError:
        old = {}
    old.update({k: round(float(v), 3) for k, v in seconds.items()})
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(old, sort_keys=True) + "\n")
    os.replace(tmp, path)


def past_seconds(runs_root: str | os.PathLike, name: str) -> float | None:
    """train_s + eval_s of the newest `<runs_root>/<name>-<key>/timing.json` (None when no such run was timed)."""
    timed = [p for p in Path(runs_root).glob(f"{name}-*/{TIMING_FILE}") if p.parent.name.rsplit("-", 1)[0] == name]
    for path in sorted(timed, key=lambda p: p.stat().st_mtime, reverse=True):
        try:
            record = json.loads(path.read_text())
            return float(record.get("train_s", 0.0)) + float(record.get("eval_s", 0.0))
        except (ValueError, OSError, TypeError):
            continue
    return None


def is_cached(runs_root: str | os.PathLike, key: str) -> bool:
    return any((d / "model.pt").is_file() for d in Path(runs_root).glob(f"*-{key}"))


def announce_plan(runs: Iterable[tuple[str, str, str | os.PathLike]]) -> None:
    """One "plan" event for a grid's distinct runs, given as (run key, name, runs root): key, name, cached?,
    estimate_s of each (a no-op without VTTWINS_PROGRESS_FILE)."""
    if not os.environ.get(PROGRESS_ENV):
        return
    planned, seen = [], set()
    for key, name, root in runs:
        if key not in seen:
            seen.add(key)
            planned.append(
                {"key": key, "name": name, "cached": is_cached(root, key), "estimate_s": past_seconds(root, name)}
            )
    emit("plan", runs=planned)


# ------------------------------------------------------------------------------------------- reading
def read_events(path: str | os.PathLike, offset: int) -> tuple[list[dict], int]:
    """Complete event lines of `path` from byte `offset` on, and the offset after the last complete line."""
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            data = f.read()
    except OSError:
        return [], offset
    end = data.rfind(b"\n") + 1
    events = []
    for line in data[:end].splitlines():
        try:
            events.append(json.loads(line))
        except ValueError:
            continue
    return events, offset + end


@dataclass
class RunState:
    name: str
    status: str = "planned"  # planned | cached | active | done
    estimate_s: float | None = None
    started: float | None = None
    step: int = 0
    steps: int = 0
    wall_s: float | None = None


@dataclass
class Tracker:
    """The runs of one notebook as its events describe them: done / total, the runs training now, an ETA."""

    runs: dict[str, RunState] = field(default_factory=dict)

    def update(self, events: Iterable[dict]) -> None:
        for ev in events:
            kind, key = ev.get("event"), ev.get("key")
            if kind == "plan":
                for r in ev.get("runs", []):
                    if r["key"] not in self.runs:
                        self.runs[r["key"]] = RunState(
                            r["name"], "cached" if r.get("cached") else "planned", r.get("estimate_s")
                        )
                continue
            if key is None:
                continue
            run = self.runs.setdefault(key, RunState(ev.get("name", key), estimate_s=ev.get("estimate_s")))
            if kind == "start":
                run.status, run.started, run.steps = "active", ev.get("time"), int(ev.get("steps", 0))
                run.estimate_s = run.estimate_s if run.estimate_s is not None else ev.get("estimate_s")
            elif kind == "step" and run.status == "active":
                run.step, run.steps = int(ev.get("step", 0)), int(ev.get("steps", run.steps))
            elif kind == "done":
                run.status = "cached" if ev.get("cached") else "done"
                run.wall_s = ev.get("wall_s")

    @property
    def total(self) -> int:
        return len(self.runs)

    @property
    def done(self) -> int:
        return sum(r.status in ("done", "cached") for r in self.runs.values())

    @property
    def active(self) -> list[RunState]:
        return [r for r in self.runs.values() if r.status == "active"]

    def mean_run_s(self) -> float | None:
        """Seconds a run takes: the mean of this notebook's finished runs, else of the past estimates."""
        walls = [r.wall_s for r in self.runs.values() if r.status == "done" and r.wall_s is not None]
        walls = walls or [r.estimate_s for r in self.runs.values() if r.estimate_s is not None]
        return sum(walls) / len(walls) if walls else None

    def eta_s(self, now: float) -> float | None:
        """Seconds left: the estimate of every run still to train (its own past time, else `mean_run_s`) minus
        what the active ones have already spent, over the runs training in parallel (at least 1). None when
        nothing is known yet."""
        mean = self.mean_run_s()
        left = 0.0
        for run in self.runs.values():
            if run.status in ("done", "cached"):
                continue
            spent = now - run.started if run.status == "active" and run.started is not None else 0.0
            if run.status == "active" and 0 < run.step < run.steps and spent > 0:
                left += spent * (run.steps - run.step) / run.step  # its own pace so far beats any estimate
                continue
            estimate = run.estimate_s if run.estimate_s is not None else mean
            if estimate is None:
                return None
            left += max(estimate - spent, 0.0)
        return left / max(1, len(self.active))
