"""Helpers of tests/test_fuzz.py: the outcome classes, the corruptions, and the optional outcome report.

Outcome classes (issue 10): "error" (ValueError/OSError whose message names the file or key), "skipped" (the bad
item was skipped and counted, the count > 0 and the file named), "warning" (a WARNING names the file or key and the
run goes on), "ok" (a legal change, accepted quietly). Anything else is a defect: "anonymous" (an error that does
not name the file/key), "crash" (any other exception: a traceback), "silent" (accepted without a word).
`FUZZ_REPORT=path pytest tests/test_fuzz.py` appends `case<TAB>expected<TAB>observed` per case to `path`.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Callable

import numpy as np

USER_ERRORS = (ValueError, OSError)


def _message(exc: BaseException) -> str:
    return f"{exc} {getattr(exc, 'filename', '') or ''}"


def classify(fn: Callable[[], int | None], needle: str, caplog) -> str:
    """Run `fn` (returns a skip count, or None) and name the outcome class (see the module docstring)."""
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        try:
            result = fn()
        except USER_ERRORS as exc:
            return "error" if needle in _message(exc) else "anonymous"
        except Exception:  # noqa: BLE001 -- any other exception is what the fuzz measures as a crash
            return "crash"
    warned = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    named = any(needle in m for m in warned)
    if isinstance(result, int) and result > 0:
        return "skipped" if named else "anonymous"
    if named:
        return "warning"
    return "ok" if not warned else "silent"


def report(case: str, expected: str, observed: str) -> None:
    path = os.environ.get("FUZZ_REPORT")
    if path:
        with open(path, "a") as f:
            f.write(f"{case}\t{expected}\t{observed}\n")


# ------------------------------------------------------------------------------------------- corruptions
def first(folder: Path, pattern: str = "*") -> Path:
    return sorted(folder.glob(pattern))[0]


def save(path: Path, array) -> None:
    with open(path, "wb") as f:  # np.save(path) would append .npy to a name that does not end in it
        np.save(f, array, allow_pickle=True)


def feature_corruption(kind: str) -> Callable[[Path], str]:
    """A function corrupting the first feature file of a HowTo copy; returns the needle (the file name)."""

    def apply(root: Path) -> str:
        path = first(root / "features")
        arr = np.load(path)
        change = {
            "width_512": lambda: save(path, arr[:, :512]),
            "int64": lambda: save(path, np.round(arr * 100).astype(np.int64)),
            "complex": lambda: save(path, arr.astype(np.complex64)),
            "nan": lambda: save(path, np.where(np.arange(arr.shape[1]) == 3, np.nan, arr)),
            "inf": lambda: save(path, np.full_like(arr, np.inf)),
            "huge_1e30": lambda: save(path, arr * 1e30),
            "truncated": lambda: path.write_bytes(path.read_bytes()[:200]),
            "empty_file": lambda: path.write_bytes(b""),
            "one_dim": lambda: save(path, arr[:, 0]),
            "zero_rows": lambda: save(path, arr[:0]),
            "missing": lambda: path.unlink(),
            "text_garbage": lambda: path.write_text("not a numpy file"),
            "object_array": lambda: save(path, np.array([{"a": 1}], dtype=object)),
            "string_dtype": lambda: save(path, arr.astype(str)),
        }
        change[kind]()
        return path.name.split(".")[0]

    return apply


def caption_corruption(kind: str) -> Callable[[Path], str]:
    def apply(root: Path) -> str:
        path = first(root / "captions", "*.json")
        caps = json.loads(path.read_text())
        n = len(caps["start"])
        if kind == "start_after_end":
            caps["start"][1], caps["end"][1] = caps["end"][1] + 5, caps["start"][1]
        elif kind == "negative_time":
            caps["start"][1] = -7.0
        elif kind == "absurd_1e9":
            caps["start"][1], caps["end"][1] = 1e9, 1e9 + 3
        elif kind == "all_start_after_end":
            caps["start"], caps["end"] = [e + 10 for e in caps["end"]], list(caps["start"])
        elif kind == "beyond_features":
            caps["start"][-1], caps["end"][-1] = 5000.0, 5004.0
        elif kind == "malformed_json":
            path.write_text(path.read_text()[:-7])
            return path.name
        elif kind == "missing_key":
            del caps["end"]
        elif kind == "unequal_lengths":
            caps["text"] = caps["text"][:-1]
        elif kind == "non_numeric":
            caps["start"][0] = "soon"
        elif kind == "missing_file":
            path.unlink()
            return path.stem
        elif kind == "all_empty_text":
            caps["text"] = [" "] * n
        elif kind == "non_utf8":
            path.write_bytes(b'{"start": [1], "end": [2], "text": ["caf\xe9"]}')
            return path.name
        path.write_text(json.dumps(caps))
        return path.name

    return apply


def video_list_corruption(kind: str) -> Callable[[Path], str]:
    def apply(root: Path) -> str:
        path = root / "videos.csv"
        text = path.read_text()
        lines = text.splitlines()
        if kind == "non_utf8":
            path.write_bytes(text.encode() + b"\xff\xfe\xfa,bad\xe9.mp4,1,2\n")
        elif kind == "bad_quoting":
            path.write_text(text + '"unterminated,x.mp4,1,2\n' + lines[1] + "\n")
        elif kind == "empty_file":
            path.write_text("")
        elif kind == "header_only":
            path.write_text(lines[0] + "\n")
        elif kind == "no_video_path_column":
            path.write_text(text.replace("video_path", "path", 1))
        elif kind == "duplicate_row":
            path.write_text(text + lines[1] + "\n")
        elif kind == "header_spaces":  # `video_id , video_path`: benign, read as the names
            path.write_text("\n".join([" , ".join(c.strip() for c in lines[0].split(",")), *lines[1:]]) + "\n")
        return "videos.csv"

    return apply
