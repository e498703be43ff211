"""Every downstream evaluation of a trained run: `evaluate_run(run_dir)` (the CLI is `cli.py`).

    tables = evaluate_run("runs/default")                     # all tasks of the run's eval config
    tables = evaluate_run("runs/smoke", ["youcook2"], untrained=True, max_clips=100)

Writes `<run>/eval/<task>.csv` (the tidy table of each task, `COLUMNS` plus `untrained` with --untrained) and
`<run>/eval/provenance.json`. The data are the run's SynthHowTo (`data.root`, generated if missing) with
`eval.paths` overriding any file (real YouCook2, MSR-VTT, CrossTask, HMDB/UCF: see EvalConfig.paths).
`--untrained` also scores the run's initial model (same seed, vocabulary and config, no training step).
"""
from __future__ import annotations

import dataclasses
import json
import logging
import time
from pathlib import Path

import pandas as pd

from vttwins._io import atomic_write_text

from .common import KEYS
from .config import EvalConfig
from .registry import get

log = logging.getLogger(__name__)


def run_task(task: str, model, dataset, tokenizer, config: EvalConfig) -> pd.DataFrame:
    """One registered task (`registry.TASKS`) on a model object or a run/checkpoint path."""
    return get(task).evaluator()(model, dataset, tokenizer, config)


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
    atomic_write_text(out_dir / "provenance.json",
                      json.dumps(provenance(dataclasses.asdict(ev), config.train.seed, run=str(run_dir),
                                            wall_seconds=round(time.perf_counter() - t0, 1)), indent=2))
    return tables


def with_untrained(trained: pd.DataFrame, base: pd.DataFrame) -> pd.DataFrame:
    b = base[KEYS + ["value"]].rename(columns={"value": "untrained"})
    return trained.merge(b, on=KEYS, how="left")


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    atomic_write_text(path, df.to_csv(index=False, float_format="%.4f"))


def summary(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The headline rows: retrieval R@1/5/10 and MedR, and the `mean` rows of the other tasks."""
    df = pd.concat(tables.values(), ignore_index=True)
    keep = (df["task"] == "retrieval") & df["metric"].isin(["R@1", "R@5", "R@10", "MedR"])
    return df[keep | (df["split"] == "mean")].reset_index(drop=True)
