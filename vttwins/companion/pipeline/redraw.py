"""Redraw the figures that are a function of committed files only (tables, benchmark records), without training.

    python -m vttwins.companion.pipeline.redraw results          # rewrites those PNGs (+ meta.json) in results/figures
    redraw_figures("results")                          # -> the names redrawn

Figures that need run data (loss curves, alignment panels, the collapse detector, the data examples) are left
as the last reproduction drew them: `make reproduce` redraws every figure.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import pandas as pd

from vttwins.companion import plots, results
from vttwins.companion.experiments import KNOBS, benchmarks

log = logging.getLogger(__name__)
REDRAWN = (
    "ablation_defaults",
    "ablation_tuned",
    "ablation_knobs",
    "collapse_phase",
    "benchmarks_overview",
    "benchmarks_alignment",
)
_SHOW = ["yc2_t2v_R@10", "crosstask_recall", "pair_precision", "skip_caption_recall"]


def _ablation(tables: Path, out: Path) -> None:
    runs = pd.read_csv(tables / "ablation_runs.csv")
    reference = pd.read_csv(tables / "ablation_truth_reference.csv")
    for name, part, what in (
        ("ablation_defaults", "defaults", "(a) objectives at their own defaults"),
        ("ablation_tuned", "tuned", "(b) objectives at their best val setting"),
    ):
        fig = plots.world_bars(
            pd.read_csv(tables / f"{name}.csv"),
            _SHOW,
            runs=runs[runs["table"] == part],
            reference=reference,
            title=f"{what}, test split",
        )
        results.save_figure(fig, name, out, description=f"{what}: per objective and world, 95 % intervals")
    knob_runs = runs[runs["table"] == "knobs"]
    fig = plots.knob_sweeps(
        pd.read_csv(tables / "ablation_knobs.csv"),
        _SHOW[:2],
        {k: v[1] for k, v in KNOBS.items()},
        runs=knob_runs,
        title="one narration knob at a time (other knobs at the world's values; test split)",
    )
    results.save_figure(fig, "ablation_knobs", out, description="metric vs one narration knob, 95 % intervals")


def redraw_figures(results_dir: str | os.PathLike) -> list[str]:
    """Redraw `REDRAWN` from `results_dir/tables` and `results_dir/benchmarks` into `results_dir/figures`."""
    root = Path(results_dir)
    tables, out = root / "tables", root / "figures"
    if not tables.is_dir():
        raise FileNotFoundError(f"results_dir {root} has no tables/ folder")
    _ablation(tables, out)
    collapse = pd.read_csv(tables / "collapse_runs.csv")
    results.save_figure(
        plots.phase_diagram(collapse, title="where S2DTW stalls at loss = log B (feature mode, released sizes)"),
        "collapse_phase",
        out,
        description="share of seeds at the log-B plateau over lr x tau",
    )
    bench = benchmarks.load_benchmarks(root / "benchmarks")
    results.save_figure(
        plots.benchmark_overview(bench),
        "benchmarks_overview",
        out,
        description="every benchmark: implementations per case, ratios against the package's own",
    )
    if "alignment" in bench:
        results.save_figure(
            plots.alignment_benchmark(benchmarks.alignment_shapes(bench["alignment"]["records"])),
            "benchmarks_alignment",
            out,
            description="alignment core against the peers",
        )
    return list(REDRAWN)


if __name__ == "__main__":  # pragma: no cover
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    log.info("redrew %s", redraw_figures(sys.argv[1] if len(sys.argv) > 1 else results.RESULTS_DIR))
