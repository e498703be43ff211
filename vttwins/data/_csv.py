"""Shared helpers of the downstream readers: read a CSV, check its columns, name the file in every error.

Column names are read without the spaces around them. Every reader refuses what would silently change a metric: a header-only file, times with start > end or negative
(DataFileError naming the file and the row, rows counted from 1 after any header), and drops exact duplicate
rows once with a warning (`df.attrs["duplicates"]` holds how many).
"""
from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from .errors import DataFileError, missing

log = logging.getLogger("vttwins.data")


def read_table(path: str | Path, required: list[str], header: bool = True, names: list[str] | None = None,
               allow_empty: bool = False, **kwargs) -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise missing(path)
    try:
        df = pd.read_csv(path, header=0 if header else None, names=names, keep_default_na=False, **kwargs)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as err:
        raise DataFileError(path, f"malformed CSV ({type(err).__name__}: {err})".replace("\n", " ")) from err
    df.columns = [str(c).strip() for c in df.columns]  # `video_id , label` is benign: spaces around the names
    absent = [c for c in required if c not in df.columns]
    if absent:
        raise DataFileError(path, f"missing columns {absent}; expected {required}, got {list(df.columns)}")
    if df.empty and not allow_empty:
        raise DataFileError(path, f"no rows (expected columns {required} and at least one row)")
    return df


def numeric(df: pd.DataFrame, columns: list[str], path, kind=float) -> pd.DataFrame:
    for c in columns:
        try:
            df[c] = pd.to_numeric(df[c], errors="raise").astype(kind)
        except (ValueError, TypeError) as err:
            raise DataFileError(path, f"column {c!r} must be numeric ({err})") from err
    return df


def row_number(df: pd.DataFrame, position: int, header: bool = True) -> int:
    """The 1-based line of the file of row `position` (the header is line 1 when present)."""
    return int(position) + 1 + int(header)


def check_times(df: pd.DataFrame, path, header: bool = True) -> pd.DataFrame:
    """start <= end and start >= 0 in every row, else DataFileError naming the file and the line."""
    bad = (df["start"] > df["end"]) | (df["start"] < 0)
    if bad.any():
        pos = int(bad.to_numpy().nonzero()[0][0])
        row = df.iloc[pos]
        raise DataFileError(path, f"line {row_number(df, pos, header)}: start={row['start']} end={row['end']} "
                                  f"(expected 0 <= start <= end; {int(bad.sum())} such row(s))")
    return df


def drop_duplicates(df: pd.DataFrame, path, subset: list[str] | None = None) -> pd.DataFrame:
    """Keep the first of identical rows (a duplicate counts twice in a metric), warning with the count."""
    dup = df.duplicated(subset=subset)
    n = int(dup.sum())
    if n:
        pos = int(dup.to_numpy().nonzero()[0][0])
        log.warning("%s: dropping %d duplicate row(s) (first at row %d)", path, n, pos + 1)
        df = df[~dup].reset_index(drop=True)
    df.attrs["duplicates"] = n
    return df
