"""Every downstream evaluation of a trained run: `evaluate_run(run_dir)` and `python -m vttwins evaluate`.

    python -m vttwins evaluate --run runs/default                      # all tasks of the run's eval config
    python -m vttwins evaluate --run runs/smoke --tasks youcook2 crosstask --untrained --set max_clips=100
    python -m vttwins evaluate --run runs/pixel --train-shape   # pixel run: windows shaped like its training clips

Writes `<run>/eval/<task>.csv` (the tidy table of each task, `COLUMNS` plus `untrained` with --untrained) and
`<run>/eval/provenance.json`. The data are the run's SynthHowTo (`data.root`, generated if missing) with
`eval.paths` overriding any file (real YouCook2, MSR-VTT, CrossTask, HMDB/UCF: see EvalConfig.paths).
`--untrained` also scores the run's initial model (same seed, vocabulary and config, no training step).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import tempfile
import time
from pathlib import Path

import pandas as pd

from .config import TASKS, EvalConfig

log = logging.getLogger(__name__)
KEYS = ["task", "protocol", "variant", "metric", "split"]


def run_task(task: str, model, dataset, tokenizer, config: EvalConfig) -> pd.DataFrame:
    """One entry of TASKS on a model object or a run/checkpoint path."""
    if task in ("youcook2", "msrvtt"):
        from .retrieval import retrieval
        return retrieval(model, dataset, task, tokenizer, config)
    if task == "crosstask":
        from .step_localization import step_localization
        return step_localization(model, dataset, "crosstask", tokenizer, config)
    if task == "action":
        from .action_recognition import action_recognition
        return action_recognition(model, dataset, tokenizer, config, kind=config.action_dataset)
    raise ValueError(f"unknown evaluation task {task!r}; choose from {list(TASKS)}")


def evaluate_model(model, dataset, tokenizer=None, config: EvalConfig | None = None,
                   tasks=None) -> dict[str, pd.DataFrame]:
    """{task: table} for `tasks` (default config.tasks), each timed in the log."""
    config = config or EvalConfig()
    out = {}
    for task in tasks or config.tasks:
        t0 = time.perf_counter()
        out[task] = run_task(task, model, dataset, tokenizer, config)
        log.info("evaluated %s in %.1f s", task, time.perf_counter() - t0)
    return out


def run_dataset(config) -> dict[str, Path]:
    """Downstream paths of a run: its SynthHowTo's (generated if missing), then `eval.paths` on top."""
    paths: dict[str, Path] = {}
    if config.data.synthetic:
        from vttwins.data import synth
        from vttwins.training.builders import synth_config
        sp = synth.ensure_synth(config.data.root, synth_config(config))
        paths = {f.name: getattr(sp, f.name) for f in dataclasses.fields(sp)}
    paths.update({k: Path(v) for k, v in (eval_config(config).paths or {}).items()})
    return paths


def eval_config(config, **changes) -> EvalConfig:
    ev = config.eval if isinstance(config.eval, EvalConfig) else EvalConfig(**dict(config.eval or {}))
    return dataclasses.replace(ev, **changes) if changes else ev


def initial_model(config, tokenizer):
    """The run's model before its first step (training seeds then builds it the same way)."""
    from vttwins.models import build_model
    from vttwins.training import state as st
    st.seed_everything(config.train.seed)
    return build_model(config.model, vocab=tokenizer.words).eval()


def training_clip_shape(config) -> dict:
    """EvalConfig changes that decode evaluation windows like the run's training clips: num_frames, fps, size."""
    return {"num_frames": config.data.num_frames, "fps": config.data.fps, "size": config.data.size}


def evaluate_run(run_dir, tasks=None, untrained: bool = False, train_shape: bool = False,
                 **eval_changes) -> dict[str, pd.DataFrame]:
    """Evaluate a finished (or checkpointed) run; writes `<run_dir>/eval/<task>.csv`; returns {task: table}.

    Pixel mode: windows are decoded at the eval config's num_frames/fps/size (the protocol: 32 frames, 10 fps,
    224 px); `train_shape=True` uses the run's training clip shape instead (`eval_changes` still win), and a
    mismatch without it is logged, since a model trained on small clips scores poorly on large ones.
    """
    from vttwins.training import load_trained
    model, tokenizer, config = load_trained(run_dir)
    if model.mode == "pixel" and train_shape:
        eval_changes = {**training_clip_shape(config), **eval_changes}
    ev = eval_config(config, **eval_changes)
    if model.mode == "pixel":
        differs = {k: (getattr(ev, k), v) for k, v in training_clip_shape(config).items() if getattr(ev, k) != v}
        if differs:
            log.warning("pixel run %s is evaluated at a clip shape it was not trained on (eval, train): %s; "
                        "--train-shape (train_shape=True) evaluates at the training shape", run_dir, differs)
    tasks = list(tasks or ev.tasks)
    ev = dataclasses.replace(ev, tasks=tasks)  # validates the names
    dataset = run_dataset(config)
    t0 = time.perf_counter()
    tables = evaluate_model(model, dataset, tokenizer, ev)
    if untrained:
        base = evaluate_model(initial_model(config, tokenizer), dataset, tokenizer, ev)
        tables = {t: with_untrained(tables[t], base[t]) for t in tables}
    out_dir = Path(run_dir) / "eval"
    for task, df in tables.items():
        _write_csv(df, out_dir / f"{task}.csv")
    from vttwins.results import provenance
    _write_text(json.dumps(provenance(dataclasses.asdict(ev), config.train.seed, run=str(run_dir),
                                      wall_seconds=round(time.perf_counter() - t0, 1)), indent=2),
                out_dir / "provenance.json")
    return tables


def with_untrained(trained: pd.DataFrame, base: pd.DataFrame) -> pd.DataFrame:
    b = base[KEYS + ["value"]].rename(columns={"value": "untrained"})
    return trained.merge(b, on=KEYS, how="left")


def _write_text(text: str, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    _write_text(df.to_csv(index=False, float_format="%.4f"), path)


def summary(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The headline rows: retrieval R@1/5/10 and MedR, and the `mean` rows of the other tasks."""
    df = pd.concat(tables.values(), ignore_index=True)
    keep = (df["task"] == "retrieval") & df["metric"].isin(["R@1", "R@5", "R@10", "MedR"])
    return df[keep | (df["split"] == "mean")].reset_index(drop=True)


def _parse_set(items) -> dict:
    import yaml
    changes = {}
    for item in items or []:
        if "=" not in item:
            raise ValueError(f"--set {item!r} is not key=value (e.g. max_clips=100)")
        key, value = item.split("=", 1)
        changes[key.strip().removeprefix("eval.")] = yaml.safe_load(value)
    return changes


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
    tables = evaluate_run(args.run, args.tasks, args.untrained, args.train_shape, **_parse_set(args.set))
    with pd.option_context("display.width", 160, "display.max_rows", 200):
        print(summary(tables).to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    print(f"wrote {Path(args.run) / 'eval'} in {time.perf_counter() - t0:.1f} s")
    return 0
