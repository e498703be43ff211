"""Evaluation cost per grid cell, and the identity check of its outputs (issue 20).

    python benchmarks/bench_eval.py RUN [RUN ...] --dump out.pkl            # every table and items table, pickled
    python benchmarks/bench_eval.py RUN [RUN ...] --profile 20              # cProfile of the last run, top 20
    python benchmarks/bench_eval.py --compare old.pkl new.pkl               # exit 1 unless bit-identical

Evaluates each run like a warm grid worker (`experiments.runs.evaluate` without its cache): the run's own eval
config, its data set, tasks `--tasks` (default youcook2 crosstask), one process for all runs, so the second and
later runs show the warm cost (1 torch thread, as a grid worker). `--untrained` also scores each run's initial model (more models for the identity
check at no training cost). The dump is {(run, untrained, task): (table, items)}; `--compare` checks them with
`pandas.testing.assert_frame_equal(check_exact=True)`. Run it once with the old code (`PYTHONPATH=<old checkout>`)
and once with the new, then compare. Timings are per-run wall seconds: quote them only from an idle machine.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pickle
import pstats
import sys
import time


def evaluate_runs(runs, tasks, untrained: bool, profile: int | None) -> dict:
    """{(run, untrained, task): (table without attrs, items table or None)}, timing each model on stderr."""
    import torch

    from vttwins.companion.evaluation.common import item_table
    from vttwins.companion.evaluation.run import eval_config, evaluate_model, initial_model, run_dataset
    from vttwins.companion.training import load_trained

    torch.set_num_threads(1)
    out, prof = {}, None
    models = []
    for run in runs:
        model, tokenizer, config = load_trained(run)
        models.append((run, False, model, tokenizer, config))
        if untrained:
            models.append((run, True, initial_model(config, tokenizer), tokenizer, config))
    for i, (run, base, model, tokenizer, config) in enumerate(models):
        ev, data = eval_config(config, tasks=list(tasks)), run_dataset(config)
        if profile is not None and i == len(models) - 1:
            prof = cProfile.Profile()
            prof.enable()
        t0 = time.perf_counter()
        tables = evaluate_model(model, data, tokenizer, ev)
        wall = time.perf_counter() - t0
        if prof is not None:
            prof.disable()
        print(f"{run} untrained={base}: {wall:.3f} s", file=sys.stderr)
        for task, table in tables.items():
            items = item_table(table)
            table = table.copy()
            table.attrs.clear()
            out[(str(run), base, task)] = (table, items)
    if prof is not None:
        s = io.StringIO()
        pstats.Stats(prof, stream=s).sort_stats("cumulative").print_stats(profile)
        print(s.getvalue(), file=sys.stderr)
    return out


def compare(old_path: str, new_path: str) -> int:
    """0 when both dumps hold the same keys and bit-identical tables and items, else 1 (the first difference)."""
    import pandas as pd

    with open(old_path, "rb") as f:
        old = pickle.load(f)
    with open(new_path, "rb") as f:
        new = pickle.load(f)
    if set(old) != set(new):
        print(f"different keys: {sorted(set(old) ^ set(new))}")
        return 1
    for key in sorted(old):
        for name, a, b in zip(("table", "items"), old[key], new[key]):
            if (a is None) != (b is None):
                print(f"{key} {name}: one side is None")
                return 1
            if a is not None:
                try:
                    pd.testing.assert_frame_equal(a, b, check_exact=True)
                except AssertionError as err:
                    print(f"{key} {name} differs: {err}")
                    return 1
    rows = sum(len(t) + (0 if i is None else len(i)) for t, i in old.values())
    print(f"identical: {len(old)} tables, {rows} rows (tables + items), check_exact=True")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="*")
    parser.add_argument("--tasks", nargs="+", default=["youcook2", "crosstask"])
    parser.add_argument("--untrained", action="store_true")
    parser.add_argument("--dump")
    parser.add_argument("--profile", type=int)
    parser.add_argument("--compare", nargs=2, metavar=("OLD", "NEW"))
    args = parser.parse_args(argv)
    if args.compare:
        return compare(*args.compare)
    out = evaluate_runs(args.runs, args.tasks, args.untrained, args.profile)
    if args.dump:
        with open(args.dump, "wb") as f:
            pickle.dump(out, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
