"""`python -m vttwins evaluate`: evaluate a trained run on the downstream tasks of the registry.

    python -m vttwins evaluate --run runs/default                      # all tasks of the run's eval config
    python -m vttwins evaluate --run runs/smoke --tasks youcook2 crosstask --untrained --set max_clips=100
    python -m vttwins evaluate --run runs/pixel --train-shape   # pixel run: windows shaped like its training clips

The headline rows go to stdout (this is the command's output); progress goes to the log.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

from .registry import TASKS
from .run import evaluate_run, summary


def parse_set(items) -> dict:
    """["max_clips=100", "eval.svm_c=1"] -> {"max_clips": 100, "svm_c": 1} (values parsed as YAML)."""
    import yaml
    changes = {}
    for item in items or []:
        if "=" not in item:
            raise ValueError(f"--set {item!r} is not key=value (e.g. max_clips=100)")
        key, value = item.split("=", 1)
        changes[key.strip().removeprefix("eval.")] = yaml.safe_load(value)
    return changes


def summary_text(tables: dict[str, pd.DataFrame]) -> str:
    with pd.option_context("display.width", 160, "display.max_rows", 200):
        return summary(tables).to_string(index=False, float_format=lambda v: f"{v:.2f}")


def cli_main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vttwins evaluate", description=__doc__.split("\n")[0])
    parser.add_argument("--run", required=True, help="run directory (or a checkpoint file of one)")
    parser.add_argument("--tasks", nargs="+", choices=list(TASKS), help="default: the run's eval.tasks")
    parser.add_argument("--untrained", action="store_true", help="also score the run's initial model")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="EvalConfig overrides")
    parser.add_argument("--train-shape", action="store_true",
                        help="pixel mode: decode windows at the run's training num_frames/fps/size")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    tables = evaluate_run(args.run, args.tasks, args.untrained, args.train_shape, **parse_set(args.set))
    sys.stdout.write(summary_text(tables) + "\n")
    sys.stdout.write(f"wrote {Path(args.run) / 'eval'} in {time.perf_counter() - t0:.1f} s\n")
    return 0
