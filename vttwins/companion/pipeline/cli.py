"""`python -m vttwins reproduce`: run the notebooks (runner), check them against the committed tables (check),
or run the variation study (variation). Only this module knows all three, so none of them imports another's CLI.

    python -m vttwins reproduce --profile default              # every notebook -> results/
    python -m vttwins reproduce --check                        # into runs/default/results, then compare
    python -m vttwins reproduce --world seed=777,offset_std=5 --only 02_ablation_dtw_variants   # a world of yours
    python -m vttwins reproduce --profile paper grid.executor=ray grid.ray_address=auto   # docs/cluster.md
"""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import tempfile
import time
from pathlib import Path
from typing import Sequence

from vttwins.paths import DEFAULT_RESULTS_DIR, RUNS_DIR, profile_name
from vttwins.companion.pipeline import check
from vttwins.companion.pipeline.context import GRID_ENV, check_grid_overrides, results_root
from vttwins.companion.pipeline.runner import PipelineError, chosen_notebooks, run_pipeline
from vttwins.companion.pipeline.variation import run_variation_study
from vttwins.companion.pipeline.world import parse_world

log = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m vttwins reproduce", description="Run the companion notebooks in order."
    )
    parser.add_argument("--profile", default="default", help="configs/<profile>.yaml or a path to one")
    parser.add_argument(
        "grid",
        nargs="*",
        metavar="grid.KEY=VALUE",
        help="where the grids' runs go (docs/cluster.md), e.g. grid.executor=ray "
        "grid.ray_address=auto, or grid.executor=slurm grid.slurm.partition=gpu",
    )
    parser.add_argument(
        "--results",
        default=None,
        help="results folder (default: results/ for the default profile, runs/<profile>/results "
        "otherwise; with --check the default profile goes to runs/default/results)",
    )
    parser.add_argument("--only", nargs="+", default=None, help="run only these notebooks (in pipeline order)")
    parser.add_argument(
        "--world",
        action="append",
        default=[],
        metavar="KEY=VALUE,...",
        help="add a SynthHowTo world of your own to the ablation's worlds, e.g. "
        "seed=777,offset_std=5,filler_rate=0.25,narrate_prob=0.7[,name=mine] (repeatable); "
        "results then go to runs/<profile>/results",
    )
    parser.add_argument("--timeout", type=int, default=None, help="per-cell timeout in seconds")
    parser.add_argument(
        "--check",
        action="store_true",
        help="then compare every regenerated table with --reference (exit 1 when one is outside "
        "tolerance); report in runs/<profile>/reproduction_check.md",
    )
    parser.add_argument("--no-run", action="store_true", help="with --check: compare --results as it is")
    parser.add_argument(
        "--reference",
        default=str(DEFAULT_RESULTS_DIR),
        help="results to compare with: a folder (default results/) or git:<rev>, the tables "
        "committed at <rev> (git:HEAD after `make reproduce` rewrote results/)",
    )
    parser.add_argument(
        "--log-output",
        action="store_true",
        help="stream each notebook's own log lines to stderr (warnings are shown once either way)",
    )
    parser.add_argument(
        "--no-progress",
        action="store_true",
        help="no live progress line (runs done / total, the run training, ETA) per notebook",
    )
    parser.add_argument(
        "--variation",
        action="store_true",
        help="the variation study (threads, data workers, a second run) of --only notebooks into "
        "runs/variation-<profile>/, summarised in results/REPRODUCIBILITY.md",
    )
    parser.add_argument(
        "--variants",
        nargs="+",
        default=None,
        metavar="NAME",
        help="with --variation: only these variants besides `a` (a, b, threads1, workers2)",
    )
    parser.add_argument(
        "--variant-results",
        nargs="+",
        default=[],
        metavar="NAME=DIR",
        help="with --variation: compare these folders (or git:<rev>) as they are for NAME instead "
        "of running it, e.g. a=results threads1=runs/threads1/results",
    )
    return parser


def _given(items: Sequence[str]) -> dict[str, str]:
    """{variant: folder} from NAME=DIR texts (ValueError naming the malformed one)."""
    out = {}
    for item in items:
        name, sep, folder = item.partition("=")
        if not sep or not name or not folder:
            raise ValueError(f"--variant-results {item!r}: expected NAME=DIR, e.g. a=results")
        out[name] = folder
    return out


def _set_grid(profile: str, items: list[str]) -> None:
    """Check the `grid.*` overrides against the profile, then hand them to every notebook's kernel (GRID_ENV)."""
    from vttwins.companion.config import load_config  # deferred: torch

    items = shlex.split(os.environ.get(GRID_ENV, "")) + check_grid_overrides(items, "reproduce")
    load_config(profile, items)  # an unknown key or a bad value fails here, not in the first grid notebook
    os.environ[GRID_ENV] = shlex.join(items)
    log.info("grids run with %s", " ".join(items))


def cli_main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.getLogger("papermill").setLevel(logging.WARNING)  # our progress lines name each notebook already
    if args.grid:
        try:
            _set_grid(args.profile, args.grid)
        except ValueError as err:
            log.error("%s", err)
            return 2
    if args.variation:
        try:
            return run_variation_study(
                args.profile,
                args.only,
                timeout_s=args.timeout,
                variants=args.variants,
                given=_given(args.variant_results),
            )
        except ValueError as err:
            log.error("%s", err)
            return 2
    results_dir = args.results
    if args.check and results_dir is None and profile_name(args.profile) == "default":
        results_dir = RUNS_DIR / "default" / "results"  # a check never regenerates over the committed results
    start = time.perf_counter()
    try:
        if not (args.check and args.no_run):
            records = run_pipeline(
                args.profile,
                results_dir,
                only=args.only,
                timeout_s=args.timeout,
                worlds=args.world,
                progress=not args.no_progress,
                log_output=args.log_output,
            )
            log.info(
                "pipeline done in %.0f s: %s",
                time.perf_counter() - start,
                ", ".join(f"{r['notebook']} {r['seconds']:.0f}s" for r in records),
            )
    except PipelineError as err:
        log.error("%s", err)
        return 1
    if not args.check:
        return 0
    new_dir = (
        Path(results_dir)
        if results_dir is not None
        else results_root(args.profile, [parse_world(w) for w in args.world])
    )
    names = [t.name for nb in chosen_notebooks(args.only) for t in nb.tables]
    with tempfile.TemporaryDirectory(prefix="vttwins-reference-") as scratch:
        reference = check.resolve_reference(args.reference, scratch)
        if reference.resolve() == new_dir.resolve():
            log.error(
                "--results and --reference are the same folder (%s): nothing to compare; after `make "
                "reproduce` compare with the committed tables: --reference git:HEAD",
                new_dir,
            )
            return 2
        checks = check.check_tables(new_dir, reference, names)
    report = check.write_report(
        checks, RUNS_DIR / profile_name(args.profile) / "reproduction_check.md", new_dir, args.reference
    )
    for c in checks:
        log.info(
            "%-40s %s (largest deviation %.4g at %s, tolerance %.4g)",
            c.table,
            c.status,
            c.deviation,
            c.where or "-",
            c.tolerance,
        )
    outside = [c.table for c in checks if c.status == check.OUTSIDE]
    log.log(
        logging.ERROR if outside else logging.INFO,
        "reproduction check: %d of %d tables outside tolerance %s; report %s",
        len(outside),
        len(checks),
        outside or "",
        report,
    )
    return 1 if outside else 0
