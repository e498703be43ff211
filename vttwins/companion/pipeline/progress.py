"""What `reproduce` shows while a notebook runs: a live line, the notebook's own log, each warning once.

    with follow_notebook("02_ablation_dtw_variants", cells=23, log_output=False):
        run_notebook(nb, params, executed, timeout_s, log_output=True)  # the kernel inherits the progress file
    # stderr (a TTY): 02_ablation_dtw_variants  cell 7/23 · runs 41/128 · training s2dtw-s2 step 90/150 · ETA 6m10s

The live line reads the progress events the notebook's runs append to a file (`vttwins.companion.experiments.progress`);
the notebook's output arrives through papermill's logger (`log_output=True`): stderr lines (warnings, worker
processes' log records) are shown once per distinct message (digits ignored) and counted, the count printed when
the notebook ends; stdout lines are shown with `--log-output`. On a TTY the line is redrawn in place every second;
otherwise a plain line is logged every `PLAIN_EVERY_S`. All of it goes to stderr and the log, never into results.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Iterator, TextIO

from vttwins.companion.experiments.progress import PROGRESS_ENV, Tracker, read_events

log = logging.getLogger("vttwins.companion.pipeline.runner")
PLAIN_EVERY_S = 60.0
_STAMP = re.compile(r"^\d{4}-\d\d-\d\d[ T][\d:.,]+\s*")
_DIGITS = re.compile(r"\d+(?:\.\d+)?")
_CELL = re.compile(r"Executing Cell (\d+)")
_EXAMPLES = re.compile(r",? e\.g\.")


def duration(seconds: float | None) -> str:
    """61 -> '1m01s', 3725 -> '1h02m', None -> '?'."""
    if seconds is None:
        return "?"
    s = int(round(seconds))
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


def status_line(notebook: str, tracker: Tracker, now: float, cell: int = 0, cells: int = 0) -> str:
    """One line: notebook, cell, runs done / total, the run(s) training now and their step, ETA."""
    parts = [notebook]
    if cells:
        parts.append(f"cell {cell}/{cells}")
    if tracker.total:
        parts.append(f"runs {tracker.done}/{tracker.total}")
        active = tracker.active
        if active:
            run = active[0]
            step = f" step {run.step}/{run.steps}" if run.steps else ""
            more = f" (+{len(active) - 1} more)" if len(active) > 1 else ""
            parts.append(f"training {run.name}{step}{more}")
        parts.append(f"ETA {duration(tracker.eta_s(now))}")
    return " · ".join(parts)


class WarningCounter:
    """Each distinct warning once: `first(line)` is True the first time its message (timestamp dropped, numbers
    masked, the examples after "e.g." ignored) is seen; `repeated()` lists (count, first line) of those seen more than once."""

    def __init__(self):
        self.counts: Counter[str] = Counter()
        self.example: dict[str, str] = {}

    @staticmethod
    def key(line: str) -> str:
        """The message without its timestamp, numbers masked, examples after "e.g." dropped."""
        return _DIGITS.sub("#", _EXAMPLES.split(_STAMP.sub("", line.strip()))[0])

    def first(self, line: str) -> bool:
        key = self.key(line)
        self.counts[key] += 1
        self.example.setdefault(key, line.strip())
        return self.counts[key] == 1

    def repeated(self) -> list[tuple[int, str]]:
        return [(n, self.example[k]) for k, n in self.counts.items() if n > 1]


class LiveLine:
    """A status line on `stream`, redrawn in place on a TTY; other lines are written above it."""

    def __init__(self, stream: TextIO | None = None, tty: bool | None = None):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.status, self.lock, self.last_plain = "", threading.Lock(), 0.0

    def set(self, status: str, now: float) -> None:
        with self.lock:
            self.status = status
            if self.tty:
                self.stream.write("\r\x1b[K" + status[: _width()])
                self.stream.flush()
            elif now - self.last_plain >= PLAIN_EVERY_S:
                self.last_plain = now
                log.info("%s", status)

    def line(self, text: str) -> None:
        with self.lock:
            if self.tty:
                self.stream.write("\r\x1b[K" + text + "\n" + self.status[: _width()])
                self.stream.flush()
            else:
                log.info("%s", text)

    def close(self) -> None:
        with self.lock:
            if self.tty and self.status:
                self.stream.write("\r\x1b[K")
                self.stream.flush()
            self.status = ""


def _width() -> int:
    try:
        return max(20, os.get_terminal_size(sys.stderr.fileno()).columns - 1)
    except OSError:
        return 200


class NotebookOutput(logging.Handler):
    """papermill's logger (log_output=True) -> the live display: cell numbers, stderr lines once each, stdout
    lines when `log_output`."""

    def __init__(self, notebook: str, live: LiveLine, log_output: bool):
        super().__init__(logging.DEBUG)
        self.notebook, self.live, self.log_output = notebook, live, log_output
        self.warnings, self.cell = WarningCounter(), 0

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        cell = _CELL.search(text)
        if cell:
            self.cell = int(cell.group(1))
            return
        if text.startswith("Ending Cell"):
            return
        stderr = record.levelno >= logging.WARNING
        for line in text.splitlines():
            if not line.strip():
                continue
            if stderr:
                if self.warnings.first(line):
                    self.live.line(f"{self.notebook}: {line.strip()}")
            elif self.log_output:
                self.live.line(f"{self.notebook} | {line.rstrip()}")


class Follow:
    """The state of one followed notebook (see `follow_notebook`)."""

    def __init__(self, notebook: str, cells: int, live: LiveLine, output: NotebookOutput, progress_file: Path):
        self.notebook, self.cells, self.live, self.output = notebook, cells, live, output
        self.progress_file, self.tracker, self.offset = progress_file, Tracker(), 0
        self.stop, self.status = threading.Event(), ""

    def poll(self) -> str:
        events, self.offset = read_events(self.progress_file, self.offset)
        self.tracker.update(events)
        now = time.time()
        self.status = status_line(self.notebook, self.tracker, now, self.output.cell, self.cells)
        self.live.set(self.status, time.monotonic())
        return self.status

    def loop(self, every_s: float = 1.0) -> None:
        while not self.stop.wait(every_s):
            self.poll()


@contextmanager
def _kernel_stderr_to(path: Path) -> Iterator[TextIO]:
    """Point fd 2 at `path` while a notebook runs: the kernel papermill starts inherits it, and ipykernel echoes
    there every fd-level line of its worker processes, which reach us through papermill anyway (and are
    deduplicated). This process's own log handlers and the live line keep writing to the terminal (yielded)."""
    sys.stderr.flush()
    saved = os.dup(2)
    terminal = os.fdopen(saved, "w", buffering=1, closefd=False)
    handlers = [
        h
        for h in logging.getLogger().handlers
        if isinstance(h, logging.StreamHandler) and getattr(h, "stream", None) is sys.stderr
    ]
    target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(target, 2)
    os.close(target)
    old = [h.setStream(terminal) for h in handlers]
    try:
        yield terminal
    finally:
        for handler, stream in zip(handlers, old):
            handler.setStream(stream)
        terminal.flush()
        os.dup2(saved, 2)
        os.close(saved)


@contextmanager
def follow_notebook(
    notebook: str,
    cells: int = 0,
    log_output: bool = False,
    live: LiveLine | None = None,
    show: bool = True,
    kernel_log: Path | None = None,
) -> Iterator[Follow]:
    """Set `VTTWINS_PROGRESS_FILE` for the notebook's kernel, route papermill's logger to the live display and
    poll the progress events in a thread; at the end, log each repeated warning with its count. `kernel_log`:
    the kernel's own stderr goes to that file instead of the terminal (see `_kernel_stderr_to`)."""
    with ExitStack() as stack:
        terminal = stack.enter_context(_kernel_stderr_to(kernel_log)) if kernel_log is not None else None
        live = live or LiveLine(terminal, tty=terminal.isatty() if terminal is not None else None)
        yield stack.enter_context(_follow(notebook, cells, log_output, live, show))


@contextmanager
def _follow(notebook: str, cells: int, log_output: bool, live: LiveLine, show: bool) -> Iterator[Follow]:
    output = NotebookOutput(notebook, live, log_output)
    handle, name = tempfile.mkstemp(prefix=f"vttwins-{notebook}-", suffix=".progress.jsonl")
    os.close(handle)
    follow = Follow(notebook, cells, live, output, Path(name))
    pm_log = logging.getLogger("papermill")
    old = (pm_log.level, pm_log.propagate)
    pm_log.setLevel(logging.INFO)
    pm_log.propagate = False
    pm_log.addHandler(output)
    old_env = os.environ.get(PROGRESS_ENV)
    os.environ[PROGRESS_ENV] = name
    thread = threading.Thread(target=follow.loop, daemon=True) if show else None
    if thread is not None:
        thread.start()
    try:
        yield follow
    finally:
        follow.stop.set()
        if thread is not None:
            thread.join(timeout=5)
        pm_log.removeHandler(output)
        pm_log.setLevel(old[0])
        pm_log.propagate = old[1]
        if old_env is None:
            os.environ.pop(PROGRESS_ENV, None)
        else:
            os.environ[PROGRESS_ENV] = old_env
        live.close()
        for count, line in output.warnings.repeated():
            log.warning("%s: %d x %s", notebook, count, line)
        Path(name).unlink(missing_ok=True)
