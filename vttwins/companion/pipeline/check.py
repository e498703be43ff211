"""Does a reproduction agree with the committed results? Table by table, within the spread each table measured.

    python -m vttwins reproduce --check                       # run the default profile into runs/default/results,
                                                              # then compare it with results/ (make check-reproduction)
    python -m vttwins reproduce --check --no-run --results R  # compare an existing folder R with results/

Each table is matched row by row (on its key columns) with the reference and every numeric cell is compared with
the tolerance the reference's writer stored in `NAME.meta.json` (`vttwins.companion.results.table_tolerance`: the seed
spread where the table has one, exact for chance rows and counts, the printed precision otherwise). One line per
table: identical, within tolerance, or outside tolerance with the largest deviation and where it is.
"""

from __future__ import annotations

import io
import json
import os
import re
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from vttwins.companion import results as _results
from vttwins.paths import DEFAULT_RESULTS_DIR, REPO_ROOT
from vttwins.companion.pipeline.specs import Table, all_tables

IDENTICAL, WITHIN, OUTSIDE = "identical", "within tolerance", "outside tolerance"


@dataclass
class TableCheck:
    table: str
    status: str
    deviation: float = 0.0  # largest |new - reference| (relative to its tolerance when outside)
    where: str = ""  # row key and column of that deviation, or what is wrong
    tolerance: float = 0.0  # the tolerance at that cell


def _float_format(csv_path: Path, df: pd.DataFrame) -> str:
    """The printed precision of a table written before tolerances were stored: most decimals in its numbers."""
    decimals = [len(m) for m in re.findall(r"\d\.(\d+)", csv_path.read_text(encoding="utf-8"))]
    return f"%.{max(decimals, default=0)}f"


def reference_tolerance(tables_dir: Path, name: str, df: pd.DataFrame) -> dict:
    """The stored tolerance of the reference table, or the same rule applied to it now (older results)."""
    meta = tables_dir / f"{name}.meta.json"
    stored = json.loads(meta.read_text(encoding="utf-8")).get("tolerance") if meta.is_file() else None
    return stored or _results.table_tolerance(df, _float_format(tables_dir / f"{name}.csv", df))


def _keys(spec: Table, df: pd.DataFrame) -> list[str]:
    if spec.keys:
        return list(spec.keys)
    return [c for c in df.columns if c not in spec.volatile and not pd.api.types.is_numeric_dtype(df[c])]


def _label(df: pd.DataFrame, keys: list[str]) -> list[str]:
    """Row names from the key columns (NaN, a sweep column a row does not use, reads "nan" on both sides)."""
    return [" / ".join(map(str, row)) for row in df[keys].itertuples(index=False, name=None)]


def _align(ref: pd.DataFrame, new: pd.DataFrame, keys: list[str]) -> pd.DataFrame | str:
    """Rows of `new` beside the reference rows with the same key; by position (both are written in one canonical
    order) when the key does not name rows uniquely. A string names what does not match."""
    if list(ref.columns) != list(new.columns):
        return f"columns differ: {list(new.columns)} vs reference {list(ref.columns)}"
    a = ref.assign(_key=_label(ref, keys)).reset_index(names="_ref")
    b = new.assign(_key=_label(new, keys)).add_suffix("_new")
    if a["_key"].duplicated().any() or b["_key_new"].duplicated().any():
        if len(a) != len(b) or (a["_key"].to_numpy() != b["_key_new"].to_numpy()).any():
            return f"rows differ: {len(new)} rows vs {len(ref)} in the reference, or their keys {keys} differ"
        return a.join(b)
    merged = a.merge(b, left_on="_key", right_on="_key_new", how="outer", indicator=True)
    lonely = merged[merged["_merge"] != "both"]
    if len(lonely):
        return f"rows differ: {sorted(lonely['_key'].fillna(lonely['_key_new']))[:3]} on one side only"
    return merged


def compare_table(spec: Table, ref_dir: Path, new_dir: Path) -> TableCheck:
    """One regenerated table against the reference: the largest deviation relative to its tolerance."""
    ref_csv, new_csv = ref_dir / f"{spec.name}.csv", new_dir / f"{spec.name}.csv"
    if not new_csv.is_file() or not ref_csv.is_file():
        return TableCheck(spec.name, OUTSIDE, np.inf, f"missing: {new_csv if ref_csv.is_file() else ref_csv}")
    ref, new = pd.read_csv(ref_csv), pd.read_csv(new_csv)
    keys = _keys(spec, ref)
    merged = _align(ref, new, keys)
    if isinstance(merged, str):
        return TableCheck(spec.name, OUTSIDE, np.inf, merged)
    tol = reference_tolerance(ref_dir, spec.name, ref)["columns"]
    best = (0.0, 0.0, "", 0.0)  # (deviation / tolerance, deviation, where, tolerance) of the worst cell
    for col in (c for c in tol if c in ref.columns and c not in keys and c not in spec.volatile):
        a, b = merged[col].astype(float).to_numpy(), merged[f"{col}_new"].astype(float).to_numpy()
        limit = np.asarray(tol[col], dtype=float)[merged["_ref"].to_numpy()]
        # rounded: values parsed from printed text differ by binary noise (3.02 - 3.01 = 0.0100000000000002)
        dev = np.where(np.isnan(a) & np.isnan(b), 0.0, np.round(np.abs(a - b), 9))
        dev = np.where(np.isnan(dev), np.inf, dev)  # NaN on one side only
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(dev == 0, 0.0, dev / limit)  # dev > 0 with an exact (0) tolerance -> inf
        for i in np.flatnonzero(dev > 0):
            if (ratio[i], dev[i]) > best[:2]:
                row = merged["_key"].iloc[i] or f"row {i + 1}"
                best = (float(ratio[i]), float(dev[i]), f"{row}: {col}", float(limit[i]))
    ratio, dev, where, limit = best
    status = OUTSIDE if ratio > 1 else WITHIN if dev > 0 else IDENTICAL
    return TableCheck(spec.name, status, dev, where, limit)


GIT_PREFIX = "git:"


def resolve_reference(reference: str | os.PathLike, scratch: str | os.PathLike) -> Path:
    """A results folder to compare with: a path, or `git:<rev>` -- the tables committed at <rev> (e.g. `git:HEAD`),
    extracted into `scratch`; what to use after `make reproduce` has rewritten results/ in place."""
    import subprocess

    text = str(reference)
    if not text.startswith(GIT_PREFIX):
        return Path(reference)
    rev = text[len(GIT_PREFIX) :] or "HEAD"
    tables = DEFAULT_RESULTS_DIR.relative_to(REPO_ROOT) / "tables"
    try:
        archive = subprocess.run(
            ["git", "archive", "--format=tar", rev, tables.as_posix()], cwd=REPO_ROOT, capture_output=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError) as err:
        raise ValueError(f"--reference {text}: cannot read {tables} at {rev!r} from git ({err})") from None
    out = Path(scratch) / "tables"
    out.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:  # one git call for every committed table
        members = [m for m in tar.getmembers() if m.isfile()]
        for m in members:
            (out / Path(m.name).name).write_bytes(tar.extractfile(m).read())
    if not members:
        raise ValueError(f"--reference {text}: no tables under {tables} at {rev!r}")
    return Path(scratch)


def check_tables(
    new_dir: str | os.PathLike, ref_dir: str | os.PathLike = DEFAULT_RESULTS_DIR, names: Sequence[str] | None = None
) -> list[TableCheck]:
    """Every declared table (or `names`) of `new_dir/tables` against `ref_dir/tables`."""
    tables = all_tables()
    unknown = sorted(set(names or ()) - set(tables))
    if unknown:
        raise ValueError(f"unknown tables {unknown}; declared: {sorted(tables)}")
    chosen = [tables[n] for n in names] if names else list(tables.values())
    return [compare_table(t, Path(ref_dir) / "tables", Path(new_dir) / "tables") for t in chosen]


def report_markdown(checks: Sequence[TableCheck], new_dir: str | os.PathLike, ref_dir: str | os.PathLike) -> str:
    lines = [
        f"# Reproduction check: {_results.strip_machine_paths(str(new_dir))} against "
        f"{_results.strip_machine_paths(str(ref_dir))}",
        "",
        "Tolerances come from each reference table's meta.json (`vttwins.companion.results.table_tolerance`): "
        "2·std·sqrt(2/n) for a mean over n seeds, 2·std/sqrt(n-1) for its std, exact for chance and counts, "
        "the printed precision for single-run values.",
        "",
        "| table | result | largest deviation | where | tolerance there |",
        "|---|---|---|---|---|",
    ]
    for c in checks:
        lines.append(f"| {c.table} | {c.status} | {c.deviation:.4g} | {c.where} | {c.tolerance:.4g} |")
    outside = sum(c.status == OUTSIDE for c in checks)
    lines += ["", f"{len(checks) - outside} of {len(checks)} tables agree; {outside} outside tolerance."]
    return "\n".join(lines) + "\n"


def write_report(checks: Sequence[TableCheck], path: str | os.PathLike, new_dir, ref_dir) -> Path:
    """The report, never inside the committed results/ (it describes them; it is not one of them)."""
    path = Path(path)
    if DEFAULT_RESULTS_DIR.resolve() in (path.resolve(), *path.resolve().parents):
        raise ValueError(f"the reproduction check may not write into {DEFAULT_RESULTS_DIR}: got {path}")
    return _results.atomic_write_text(path, report_markdown(checks, new_dir, ref_dir))
