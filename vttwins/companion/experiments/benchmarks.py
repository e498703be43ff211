"""The benchmark records of `benchmarks/*.py` (`results/benchmarks/NAME.json`), read or re-run for notebook 08.

b = load_benchmarks()                 # {name: {"title", "notes", "records": DataFrame, "provenance"}}
index = benchmark_index(b)            # one row per benchmark file
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Sequence

import pandas as pd

log = logging.getLogger(__name__)
from vttwins.paths import REPO_ROOT  # noqa: E402

BENCH_DIR = REPO_ROOT / "results" / "benchmarks"


def load_benchmarks(bench_dir: str | os.PathLike = BENCH_DIR) -> dict[str, dict]:
    """Every `NAME.json` written by `vttwins.companion.results.write_benchmark` in `bench_dir`."""
    out = {}
    for path in sorted(Path(bench_dir).glob("*.json")):
        payload = json.loads(path.read_text())
        if not isinstance(payload, dict) or "records" not in payload:
            continue
        out[path.stem] = {
            "title": payload.get("title", ""),
            "notes": payload.get("notes", []),
            "records": pd.DataFrame(payload["records"]),
            "provenance": payload.get("provenance", {}),
        }
    return out


def benchmark_index(benchmarks: dict[str, dict]) -> pd.DataFrame:
    """benchmark, title, records, git_revision (the code each file was measured on)."""
    rows = [
        {
            "benchmark": name,
            "title": b["title"],
            "records": len(b["records"]),
            "git_revision": b["provenance"].get("git_revision", "unknown"),
        }
        for name, b in benchmarks.items()
    ]
    return pd.DataFrame(rows, columns=["benchmark", "title", "records", "git_revision"])


def run_benchmark_scripts(names: Sequence[str] | None = None, timeout_s: int = 1800) -> list[str]:
    """Run `benchmarks/bench_NAME.py` (all of them by default) from the repository root; returns the names run."""
    scripts = sorted((REPO_ROOT / "benchmarks").glob("bench_*.py"))
    if names is not None:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in names]
    for script in scripts:
        log.info("running %s", script.name)
        subprocess.run([sys.executable, str(script)], cwd=REPO_ROOT, check=True, timeout=timeout_s)
    return [s.stem.removeprefix("bench_") for s in scripts]


def alignment_shapes(records: pd.DataFrame) -> pd.DataFrame:
    """The alignment benchmark with its case parsed: `B` (loss batch), `pairs`, `N` (lattice side), `kind`."""
    df = records.copy()
    batch = df["case"].str.extract(r"B=(\d+)")[0]
    shape = df["case"].str.extract(r"(\d+)x(\d+)x(\d+)")
    pairs = df["case"].str.extract(r"\((\d+) pairs (\d+)x\d+\)")
    df["kind"] = ["loss" if c.startswith("loss") else "soft_dtw" for c in df["case"]]
    df["B"] = pd.to_numeric(batch)
    df["pairs"] = pd.to_numeric(shape[0]).fillna(pd.to_numeric(pairs[0]))
    df["N"] = pd.to_numeric(shape[1]).fillna(pd.to_numeric(pairs[1]))
    df["forward_only"] = df["case"].str.contains("fwd")
    return df
