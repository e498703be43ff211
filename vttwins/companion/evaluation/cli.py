"""`python -m vttwins evaluate`: evaluate a trained run on the downstream tasks of the registry.

    python -m vttwins evaluate --run runs/default                      # all tasks of the run's eval config
    python -m vttwins evaluate --run runs/smoke --tasks youcook2 crosstask --untrained --set max_clips=100
    python -m vttwins evaluate --run runs/pixel --train-shape   # pixel run: windows shaped like its training clips
    python -m vttwins evaluate --run runs/x --set eval.paths.youcook2_csv=my/yc.csv eval.paths.youcook2_features=my/f
    python -m vttwins evaluate --run runs/x --data-config my_data.yaml          # eval: {paths: {...}}, see docs/data.md
    python -m vttwins evaluate --run runs/x --tasks action eval.paths.action_csv=a.csv   # key=value anywhere

`key=value` words may stand anywhere on the line (with or without `--set`, before or after `--tasks`).

Without --tasks, the run's tasks whose inputs exist run (the others are skipped with a WARNING naming the missing
files). Each task's table is written as soon as it finishes.

The headline rows go to stdout (this is the command's output); progress goes to the log.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

from vttwins.errors import split_overrides

from vttwins.companion.benchmarks.registry import TASKS
from .run import evaluate_run, summary


def parse_set(items) -> dict:
    """["max_clips=100", "eval.paths.youcook2_csv=/d/yc.csv"] -> {"max_clips": 100, "paths": {"youcook2_csv": ...}}.

    Values are parsed as YAML; `eval.` is optional; keys outside `eval` (data.*, train.*) are refused, since a
    trained run's data and model are fixed.
    """
    import yaml

    changes: dict = {}
    for item in items or []:
        if "=" not in item:
            raise ValueError(f"--set {item!r} is not key=value (e.g. max_clips=100, eval.paths.youcook2_csv=FILE)")
        key, value = item.split("=", 1)
        _put(changes, key.strip().removeprefix("eval."), yaml.safe_load(value), f"--set {item!r}")
    return changes


def _put(changes: dict, key: str, value, where: str) -> None:
    head, _, rest = key.partition(".")
    if head == "paths" and rest:
        changes.setdefault("paths", {})[rest] = value
    elif head == "paths" and isinstance(value, dict):
        changes.setdefault("paths", {}).update(value)
    elif rest:
        raise ValueError(f"{where}: evaluate takes eval.* keys only (eval.paths.<key>=FILE for data), got {key!r}")
    else:
        changes[key] = value


def read_data_config(path) -> dict:
    """A YAML file of eval keys (optionally under `eval:`), e.g. `paths: {youcook2_csv: ..., ...}` -> changes."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"--data-config {path}: not a file")
    doc = yaml.safe_load(path.read_text()) or {}
    if not isinstance(doc, dict):
        raise ValueError(f"--data-config {path}: expected a mapping of eval keys, got {type(doc).__name__}")
    other = sorted(set(doc) - {"eval"}) if "eval" in doc else []
    if other:
        raise ValueError(f"--data-config {path}: only an `eval:` section is honoured, refusing {other}")
    changes: dict = {}
    for key, value in (doc.get("eval", doc) or {}).items():
        _put(changes, str(key), value, f"--data-config {path}")
    return changes


def summary_text(tables: dict[str, pd.DataFrame]) -> str:
    with pd.option_context("display.width", 160, "display.max_rows", 200):
        return summary(tables).to_string(index=False, float_format=lambda v: f"{v:.2f}")


def cli_main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vttwins evaluate", description=__doc__.split("\n")[0])
    parser.add_argument("--run", required=True, help="run directory (or a checkpoint file of one)")
    parser.add_argument("--tasks", nargs="+", choices=list(TASKS), help="default: the run's eval.tasks")
    parser.add_argument("--untrained", action="store_true", help="also score the run's initial model")
    parser.add_argument(
        "--set",
        nargs="*",
        default=[],
        metavar="KEY=VALUE",
        help="EvalConfig overrides, e.g. max_clips=100 eval.paths.youcook2_csv=FILE",
    )
    parser.add_argument(
        "--data-config", metavar="FILE", help="YAML of eval keys (e.g. paths:) for data the run did not see; --set wins"
    )
    parser.add_argument(
        "--train-shape",
        action="store_true",
        help="pixel mode: decode windows at the run's training num_frames/fps/size",
    )
    argv, given = split_overrides(list(sys.argv[1:] if argv is None else argv))
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    changes = read_data_config(args.data_config) if args.data_config else {}
    sets = parse_set([*given, *args.set])
    changes.update({k: v for k, v in sets.items() if k != "paths"})
    if "paths" in sets:
        changes["paths"] = {**changes.get("paths", {}), **sets["paths"]}
    tables = evaluate_run(args.run, args.tasks, args.untrained, args.train_shape, **changes)
    sys.stdout.write(summary_text(tables) + "\n")
    sys.stdout.write(f"wrote {Path(args.run) / 'eval'} in {time.perf_counter() - t0:.1f} s\n")
    return 0
