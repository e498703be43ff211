"""Shared helpers of the downstream readers: read a CSV, check its columns, name the file in every error."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from .errors import DataFileError, missing


def read_table(path: str | Path, required: list[str], header: bool = True, names: list[str] | None = None,
               **kwargs) -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise missing(path)
    try:
        df = pd.read_csv(path, header=0 if header else None, names=names, keep_default_na=False, **kwargs)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise DataFileError(path, f"malformed CSV ({err})") from err
    absent = [c for c in required if c not in df.columns]
    if absent:
        raise DataFileError(path, f"missing columns {absent}; expected {required}, got {list(df.columns)}")
    return df


def numeric(df: pd.DataFrame, columns: list[str], path, kind=float) -> pd.DataFrame:
    for c in columns:
        try:
            df[c] = pd.to_numeric(df[c], errors="raise").astype(kind)
        except (ValueError, TypeError) as err:
            raise DataFileError(path, f"column {c!r} must be numeric ({err})") from err
    return df
