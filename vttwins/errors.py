"""User errors and how the command line reports them (a leaf module: imports nothing from vttwins).

    from vttwins.errors import ConfigError, one_line
    raise ConfigError("optim.grad_clip", "> 0 or null", -1)   # "config key 'optim.grad_clip' must be ..."

A *user error* is something the person running a command can fix: a bad config value, a missing or malformed
file, a run folder that does not fit. Library code raises `ValueError` (or a subclass such as `ConfigError`,
`vttwins.data.DataFileError`) or an `OSError` (`FileNotFoundError`, `PermissionError`, `NotADirectoryError`)
naming the key or the file and what was expected. `python -m vttwins ...` turns any of them into one line on
stderr and exit status 2 (`report`); `--debug` (or `VTTWINS_DEBUG=1`), the one debug switch of every command,
shows the traceback instead. `split_overrides` lets `key=value` words stand anywhere on a command line.
"""

from __future__ import annotations

import os

# What the command line reports as one line (exit 2) instead of a traceback.
USER_ERRORS = (ValueError, OSError)
DEBUG_ENV = "VTTWINS_DEBUG"


class ConfigError(ValueError):
    """A config value out of its range: names the dotted key, what was expected and what was given."""

    def __init__(self, key: str, expected: str, got):
        super().__init__(f"config key '{key}' must be {expected}, got {got!r}")
        self.key, self.expected, self.got = key, expected, got


def debug_requested(argv: list[str]) -> tuple[bool, list[str]]:
    """(debug?, argv without `--debug`): `--debug` anywhere on the line, or VTTWINS_DEBUG=1 in the environment."""
    debug = "--debug" in argv or debug_on()
    return debug, [a for a in argv if a != "--debug"]


DEBUG_HINT = "--debug or VTTWINS_DEBUG=1 shows the traceback"


def report(exc: BaseException) -> str:
    """The one line every command writes on stderr for a user error (same wording everywhere)."""
    return f"{one_line(exc)} ({DEBUG_HINT})"


def split_overrides(argv: list[str]) -> tuple[list[str], list[str]]:
    """(argv without its `key=value` words, those words in order): overrides may come before or after any option,
    even right after a list option such as `--tasks youcook2 action` (argparse would read them as task names)."""
    rest, overrides = [], []
    for word in argv:
        (overrides if "=" in word and not word.startswith("-") else rest).append(word)
    return rest, overrides


def debug_on() -> bool:
    return os.environ.get(DEBUG_ENV, "").strip() not in ("", "0")


def one_line(exc: BaseException) -> str:
    """`error: <message>` on one line; an OSError keeps its file name (`[Errno 2] ...: 'path'`)."""
    text = str(exc) or type(exc).__name__
    if isinstance(exc, OSError) and exc.filename is not None and str(exc.filename) not in text:
        text = f"{text}: {exc.filename}"
    return "error: " + " | ".join(part.strip() for part in text.splitlines() if part.strip())
