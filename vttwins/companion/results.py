"""Writers for everything under `results/`: tables, figures and benchmark records, each with provenance.

    from vttwins.companion.results import write_table
    write_table(df, "ablation_dtw_variants", description="R@1 per loss, mean ± std over seeds")

Tables are deterministic text: rows sorted, columns in a fixed order, one float format, no timestamps; the
provenance (git revision, package versions, config, seed) goes to a `NAME.meta.json` beside the table or figure,
so re-running with the same inputs rewrites identical table files.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import re
import subprocess
import sys
from dataclasses import asdict, is_dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable, Sequence

import pandas as pd

from vttwins._io import atomic_write_text  # noqa: F401  (re-exported: the one atomic writer)
from vttwins.companion.figure_check import check_figure
from vttwins.paths import REPO_ROOT

log = logging.getLogger(__name__)

RESULTS_DIR = Path(os.environ.get("VTTWINS_RESULTS", REPO_ROOT / "results"))
_PACKAGES = ("torch", "numpy", "numba", "pandas", "scikit-learn", "av", "vttwins")


# What identifies the code of a result: the package, the notebooks that drive it, the profiles and benchmarks.
CODE_PATHS = ("vttwins", "notebooks", "configs", "benchmarks", "pyproject.toml")
REVISION_ENV = "VTTWINS_REVISION"
STRICT_FIGURES_ENV = "VTTWINS_STRICT_FIGURES"  # set: a figure that fails `check_figure` is not saved
_context: dict[str, Any] = {}


def _git(*args: str) -> str | None:
    try:
        return subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


def code_digest(paths: Iterable[str] = CODE_PATHS) -> str:
    """12 hex digits over the files under `paths` (tracked and untracked, ignored ones left out); a notebook counts
    by its code cells only, so outputs saved by JupyterLab do not change the digest."""
    listed = _git("ls-files", "-co", "--exclude-standard", "--", *paths)
    files = (
        sorted(listed.splitlines())
        if listed is not None
        else sorted(str(f.relative_to(REPO_ROOT)) for p in paths for f in (REPO_ROOT / p).rglob("*") if f.is_file())
    )
    h = hashlib.sha256()
    for rel in files:
        f = REPO_ROOT / rel
        if not f.is_file():  # deleted in the work tree but still tracked
            continue
        data = f.read_bytes()
        if f.suffix == ".ipynb":
            cells = json.loads(data)["cells"]
            data = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code").encode()
        h.update(rel.encode() + b"\0" + data + b"\0")
    return h.hexdigest()[:12]


def git_revision(cwd: str | os.PathLike | None = None) -> str:
    """The code a result came from: the commit hash when the code paths are clean, else `<hash>+src.<digest>`
    (the digest of the code as it is), `unknown+src.<digest>` outside git. `VTTWINS_REVISION` (set once by the
    pipeline for a whole reproduction) wins, so every table of one run names the same revision."""
    if os.environ.get(REVISION_ENV):
        return os.environ[REVISION_ENV]
    head = _git("rev-parse", "--short=12", "HEAD")
    dirty = _git("status", "--porcelain", "--untracked-files=all", "--", *CODE_PATHS)
    if head and dirty == "":
        return head
    return f"{head or 'unknown'}+src.{code_digest()}"


def set_context(**fields: Any) -> None:
    """What the notebook's resolve step knows (notebook, profile, effective parameters, seeds): recorded in every
    meta.json and table header written afterwards in this process."""
    _context.clear()
    _context.update(_plain(fields))


def package_versions(names: Iterable[str] = _PACKAGES) -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions


def strip_machine_paths(text: str) -> str:
    """Paths of this machine made portable: the checkout's root dropped (relative paths), the home folder as `~`.

    Committed results must not carry absolute paths of the machine that produced them.
    """
    text = text.replace(f"{REPO_ROOT}{os.sep}", "").replace(str(REPO_ROOT), ".")
    home = os.path.expanduser("~")
    return text.replace(f"{home}{os.sep}", f"~{os.sep}") if home not in ("", os.sep) else text


def strip_machine_paths_in_file(path: str | os.PathLike) -> Path:
    """Rewrite a text file (an executed notebook, a log) with `strip_machine_paths` applied."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    cleaned = strip_machine_paths(text)
    if cleaned != text:
        atomic_write_text(path, cleaned)
    return path


def _plain(obj: Any) -> Any:
    """Config objects (dataclasses, paths, numpy scalars) as JSON-friendly values."""
    if is_dataclass(obj) and not isinstance(obj, type):
        return _plain(asdict(obj))
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, (str, os.PathLike)):
        return strip_machine_paths(os.fspath(obj))
    if hasattr(obj, "item") and callable(obj.item):
        return obj.item()
    return obj


def provenance(config: Any = None, seed: int | None = None, **extra: Any) -> dict[str, Any]:
    """What produced a result: code revision, package versions, platform, config, seed, and what the notebook's
    resolve step recorded (notebook, profile, effective parameters, seeds; see `set_context`)."""
    seed = seed if seed is not None else getattr(getattr(config, "train", None), "seed", None)
    plain = _plain(config)
    if isinstance(plain, dict):  # the profile's notebook block is not what ran: `parameters` (from resolve) is
        plain.pop("notebooks", None)
    record = {
        "git_revision": git_revision(),
        "versions": package_versions(),
        "platform": f"{platform.system()} {platform.machine()}",
        "argv0": Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "",
        "config": plain,
        "seed": seed,
        **_context,
    }
    if record.get("seeds") is None:  # a notebook without a `seeds` parameter: the one seed of its config
        record["seeds"] = [seed] if seed is not None else None
    record.update(_plain(extra))
    return record


def header_line(record: dict[str, Any]) -> str:
    """The provenance line under a markdown table's description: notebook, profile, seeds, revision, parameters."""
    labels = {
        "notebook": "notebook",
        "profile": "profile",
        "seeds": "seeds",
        "n_seeds": "n_seeds",
        "candidates": "candidates",
        "git_revision": "revision",
        "parameters": "parameters",
    }
    parts = []
    for key, label in labels.items():
        value = record.get(key)
        if value is not None:
            text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
            parts.append(f"{label} {text}")
    return "<!-- " + " | ".join(parts).replace("--", "- -") + " -->\n"  # "--" may not appear in a comment


def _markdown(df: pd.DataFrame, float_format: str) -> str:
    cells = df.astype(object).map(lambda v: float_format % v if isinstance(v, float) else str(v))
    header = "| " + " | ".join(map(str, df.columns)) + " |"
    rule = "|" + "|".join("---" for _ in df.columns) + "|"
    rows = ["| " + " | ".join(r) + " |" for r in cells.itertuples(index=False, name=None)]
    return "\n".join([header, rule, *rows]) + "\n"


def format_table(
    df: pd.DataFrame, columns: Sequence[str] | None = None, sort_by: Sequence[str] | None = None
) -> pd.DataFrame:
    """Fixed column order and sorted rows: the canonical form every results table is written in."""
    if columns is not None:
        missing = [c for c in columns if c not in df.columns]
        if missing:
            raise ValueError(f"table is missing columns {missing}; it has {list(df.columns)}")
        df = df[list(columns)]
    keys = list(sort_by) if sort_by is not None else [c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c])]
    if keys:
        df = df.sort_values(keys, kind="mergesort")
    return df.reset_index(drop=True)


def printed_unit(float_format: str) -> float:
    """One unit in the last printed digit of `float_format` ("%.2f" -> 0.01): the finest difference a table shows."""
    match = re.fullmatch(r"%\.(\d+)f", float_format)
    if not match:
        raise ValueError(f"float_format must look like '%.Nf', got {float_format!r}")
    return 10.0 ** -int(match.group(1))


def table_tolerance(df: pd.DataFrame, float_format: str = "%.4f") -> dict[str, Any]:
    """How far a regenerated value of each numeric cell may move, from the spread the table itself measured.

    - `X_mean` beside `X_std` and `n_seeds`: 2·std·sqrt(2/n), two standard errors of the difference of two
      n-seed means when every run is redrawn (another float path makes training diverge run by run);
      `X_std`: 2·std/sqrt(n-1), two standard errors of the difference of two sample stds.
    - `chance` columns, rows labelled `chance` and `n_seeds`: exactly (computed from counts, not learned).
    - anything else (one run, no measured spread): one unit of the printed precision, so only a rounding flip
      passes; such a table is flagged when its values move (it says nothing about how much they may).
    Returns {"float_format", "columns": {column: [tolerance per row]}, "basis": {column: why}}.
    """
    unit = printed_unit(float_format)
    numeric = [c for c in df.columns if pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])]
    chance_row = df.select_dtypes(exclude="number").eq("chance").any(axis=1) if len(df) else pd.Series(dtype=bool)
    n = df["n_seeds"].astype(float) if "n_seeds" in df.columns else None
    tol, basis = {}, {}
    for col in numeric:
        stem = col[: -len("_mean")] if col.endswith("_mean") else col[: -len("_std")] if col.endswith("_std") else None
        std = df.get(f"{stem}_std") if stem is not None else None
        if col == "chance" or col == "n_seeds":
            values, why = pd.Series(0.0, index=df.index), "exact (deterministic)"
        elif std is not None and n is not None:
            scale = 2 * (2 / n) ** 0.5 if col.endswith("_mean") else 2 / (n - 1).clip(lower=1) ** 0.5
            values = (std.astype(float) * scale).where(n > 1).fillna(unit).clip(lower=unit)
            why = (
                "2*std*sqrt(2/n)" if col.endswith("_mean") else "2*std/sqrt(n-1)"
            ) + " of the seeds (the printed precision where n = 1)"
        else:
            values, why = pd.Series(unit, index=df.index), f"printed precision {float_format} (one run)"
        values = values.where(~chance_row, 0.0) if len(chance_row) else values
        tol[col], basis[col] = [round(float(v), 12) for v in values], why
    return {"float_format": float_format, "columns": tol, "basis": basis}


def write_table(
    df: pd.DataFrame,
    name: str,
    out_dir: str | os.PathLike | None = None,
    *,
    columns: Sequence[str] | None = None,
    sort_by: Sequence[str] | None = None,
    float_format: str = "%.4f",
    description: str = "",
    config: Any = None,
    seed: int | None = None,
    **meta: Any,
) -> tuple[Path, Path]:
    """Write `results/tables/NAME.csv` and `NAME.md` (+ `NAME.meta.json`); returns the csv and md paths.

    The markdown's second comment line and the meta.json record the provenance (`provenance`); `meta` adds keys
    to the meta.json."""
    if not name or "/" in name:
        raise ValueError(f"name must be a plain file stem, got {name!r}")
    out = Path(out_dir) if out_dir is not None else RESULTS_DIR / "tables"
    table = format_table(df, columns, sort_by)
    csv_path = atomic_write_text(out / f"{name}.csv", table.to_csv(index=False, float_format=float_format))
    meta.setdefault("tolerance", table_tolerance(table, float_format))  # read by `reproduce --check`
    meta.update(table_seeds(df, meta.pop("seeds", None)))
    record = write_meta(out / f"{name}.meta.json", description, config, seed, **meta)
    md = (f"<!-- {description} -->\n" if description else "") + header_line(record) + _markdown(table, float_format)
    md_path = atomic_write_text(out / f"{name}.md", md)
    log.info("wrote %s and %s", csv_path, md_path)
    return csv_path, md_path


def write_items(
    df: pd.DataFrame,
    name: str,
    out_dir: str | os.PathLike | None = None,
    *,
    sort_by: Sequence[str] | None = None,
    float_format: str = "%.4f",
    description: str = "",
    config: Any = None,
    seed: int | None = None,
    **meta: Any,
) -> Path:
    """Per-item scores: `results/tables/NAME.csv.gz` (+ `NAME.meta.json`), no markdown; returns the path.

    Tens of thousands of rows (every test item of every run) are data for the statistics, not a table to read:
    gzip keeps the file a tenth of its text size, and `mtime=0` keeps it byte-identical across reproductions.
    `pandas.read_csv` reads it as it is; reproduce --check compares it exactly."""
    import gzip

    if not name or "/" in name:
        raise ValueError(f"name must be a plain file stem, got {name!r}")
    out = Path(out_dir) if out_dir is not None else RESULTS_DIR / "tables"
    out.mkdir(parents=True, exist_ok=True)
    text = format_table(df, None, sort_by).to_csv(index=False, float_format=float_format)
    path = out / f"{name}.csv.gz"
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
        gz.write(text.encode("utf-8"))
    os.replace(tmp, path)
    write_meta(out / f"{name}.meta.json", description, config, seed, rows=len(df), tolerance="exact", **meta)
    log.info("wrote %s", path)
    return path


def table_seeds(df: pd.DataFrame, seeds: Sequence[int] | None = None) -> dict[str, Any]:
    """The `seeds` a table's meta.json records, from the table itself, never from the notebook's parameters alone.

    `seeds` given: those (their count must match the table's `n_seeds`, when it has one). Else a `seed` column:
    its distinct values. Else an `n_seeds` column: `{"seeds": None, "n_seeds": [distinct counts > 0]}` (the table
    says how many, not which). Else {} (the provenance's seeds stand: a one-run table).
    """
    counts = sorted({int(n) for n in df["n_seeds"].dropna() if int(n) > 0}) if "n_seeds" in df and len(df) else []
    if seeds is not None:
        seeds = sorted(int(s) for s in seeds)
        if counts and counts != [len(seeds)]:
            raise ValueError(f"seeds {seeds} do not match the table's n_seeds {counts}")
        return {"seeds": seeds}
    if "seed" in df:
        return {"seeds": sorted(int(s) for s in df["seed"].dropna().unique())}
    if counts:
        return {"seeds": None, "n_seeds": counts}
    return {}


def write_meta(
    path: str | os.PathLike, description: str = "", config: Any = None, seed: int | None = None, **extra: Any
) -> dict[str, Any]:
    """Write `{description, **provenance(...)}` to `path` and return that record."""
    record = {"description": description, **provenance(config, seed, **extra)}
    atomic_write_text(path, json.dumps(record, indent=2, sort_keys=True, default=str) + "\n")
    return record


def save_figure(
    fig,
    name: str,
    out_dir: str | os.PathLike | None = None,
    *,
    description: str = "",
    config: Any = None,
    seed: int | None = None,
    dpi: int = 120,
) -> None:
    """Save a matplotlib figure to `results/figures/NAME.png` (+ `NAME.meta.json`) after `check_figure`: its
    problems are logged as a warning naming the figure, or raised (ValueError) when `VTTWINS_STRICT_FIGURES` is set."""
    out = Path(out_dir) if out_dir is not None else RESULTS_DIR / "figures"
    problems = check_figure(fig)
    if problems:
        message = f"figure {name}: " + "; ".join(problems)
        if os.environ.get(STRICT_FIGURES_ENV):
            raise ValueError(message)
        log.warning(message)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.png"
    tmp = out / f".{name}.tmp.png"
    # metadata={"Software": None} keeps matplotlib's version string out of the PNG, so same input -> same bytes.
    fig.savefig(tmp, dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    os.replace(tmp, path)
    write_meta(out / f"{name}.meta.json", description, config, seed)
    log.info("wrote %s", path)  # nothing returned: a save as a cell's last line must not echo a path


def write_benchmark(
    records: list[dict[str, Any]],
    name: str,
    out_dir: str | os.PathLike | None = None,
    *,
    columns: Sequence[str] | None = None,
    title: str = "",
    float_format: str = "%.3f",
    notes: Sequence[str] = (),
    config: Any = None,
) -> tuple[Path, Path]:
    """Write `results/benchmarks/NAME.json` (records + provenance) and `NAME.md` (a table of the records)."""
    if not records:
        raise ValueError(f"benchmark {name!r}: no records to write")
    out = Path(out_dir) if out_dir is not None else RESULTS_DIR / "benchmarks"
    df = pd.DataFrame.from_records(records)
    if columns is not None:
        df = format_table(df, columns, sort_by=[])
    payload = {
        "name": name,
        "title": title,
        "notes": list(notes),
        "records": _plain(records),
        "provenance": provenance(config),
    }
    json_path = atomic_write_text(
        out / f"{name}.json", json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n"
    )
    head = f"# {title}\n\n" if title else ""
    tail = "".join(f"\n- {n}" for n in notes)
    md_path = atomic_write_text(out / f"{name}.md", head + _markdown(df, float_format) + (tail + "\n" if tail else ""))
    return json_path, md_path


def read_table(name: str, out_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    out = Path(out_dir) if out_dir is not None else RESULTS_DIR / "tables"
    path = out / f"{name}.csv"
    if not path.is_file():
        raise FileNotFoundError(f"results table {path} does not exist; run the notebook that writes it")
    return pd.read_csv(path)
