"""Bad files: one error type that names the file, and the skip accounting of `on_error="skip"`.

At HowTo100M scale some videos are missing, truncated or corrupt and some caption files are malformed. Datasets
take `on_error`: "raise" (evaluation default) raises `FileNotFoundError` / `DataFileError` naming the file;
"skip" (training default) records `(file, reason)` in the dataset's `skipped` list, logs a warning the first time
each file is skipped, and serves another item instead.
"""
from __future__ import annotations

import errno
import logging
from dataclasses import dataclass, field

log = logging.getLogger("vttwins.data")

ON_ERROR = ("raise", "skip")


def missing(path, what: str = "file") -> FileNotFoundError:
    """FileNotFoundError whose message and `.filename` name the file."""
    return FileNotFoundError(errno.ENOENT, f"{what} not found", str(path))


class DataFileError(ValueError):
    """A data file exists but cannot be used (corrupt, truncated, malformed). `.path` and `.reason` say which/why."""

    def __init__(self, path, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


class NoUsableItemError(RuntimeError, ValueError):
    """Every candidate of an item is broken (the whole set is, or nearly): a user error (ValueError), so the
    command line reports it as one line, and a RuntimeError as it always was."""


# What a dataset may skip under on_error="skip": missing files (FileNotFoundError is an OSError) and bad ones.
SKIPPABLE = (OSError, DataFileError)


def check_on_error(on_error: str) -> str:
    if on_error not in ON_ERROR:
        raise ValueError(f"on_error must be one of {ON_ERROR}, got {on_error!r}")
    return on_error


def describe(err: BaseException) -> tuple[str, str]:
    """(file, reason) of a skippable error."""
    if isinstance(err, DataFileError):
        return err.path, err.reason
    path = getattr(err, "filename", None)
    return (str(path) if path is not None else "?"), f"{type(err).__name__}: {err}"


@dataclass
class ErrorPolicy:
    """Skip accounting shared by the datasets. `skipped` lists (file, reason) for every skipped item."""

    on_error: str = "raise"
    max_tries: int = 100
    skipped: list[tuple[str, str]] = field(default_factory=list)
    _warned: set[str] = field(default_factory=set)

    def __post_init__(self):
        check_on_error(self.on_error)

    def record(self, err: BaseException, owner: str) -> None:
        """Record a skipped item (raise it under on_error='raise')."""
        if self.on_error == "raise":
            raise err
        path, reason = describe(err)
        self.skipped.append((path, reason))
        if path not in self._warned:
            self._warned.add(path)
            log.warning("%s: skipping %s (%s); %d skipped so far", owner, path, reason, len(self.skipped))
