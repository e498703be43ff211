"""Runs cached by config: `ensure_run(config, runs_root, name)` trains only when this exact run is missing.

    run_dir = ensure_run(load_config("default"), "runs/default/pretrain", "s2dtw")   # NAME-KEY folder
    df = evaluate(run_dir, ["youcook2"])                                            # cached in run_dir/eval/

A run directory is keyed by a hash of the resolved config and of the source of the modules that determine its
result, so a changed config or changed code retrains and an unchanged one never does; a folder without
`model.pt` (an interrupted run) is trained again from scratch.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Sequence

import pandas as pd

from vttwins.companion.config import Config, config_from_dict, config_to_dict, replace
from vttwins.companion import synth
from vttwins.companion.evaluation import evaluate_model
from vttwins.companion.evaluation.common import item_table
from vttwins.companion.evaluation.run import eval_config, initial_model, run_dataset
from vttwins.companion.training import fit, load_trained
from vttwins.companion.training.builders import synth_config

from . import progress

log = logging.getLogger(__name__)
PACKAGE = Path(__file__).resolve().parents[2]  # vttwins/
# Modules whose code determines a trained run or its scores (plots, pipeline, results, experiments do not).
_SOURCES = (
    "alignment",
    "data",
    "models",
    "losses.py",
    "objectives.py",
    "companion/synth",
    "companion/training",
    "companion/evaluation",
    "companion/config.py",
    "companion/config_ranges.py",
)
_VOLATILE = (
    "train.output_dir",
    "train.progress",
    "train.log_every",
    "train.checkpoint_every",
    "train.resume",
    "grid",
    "notebooks",
)  # grid: where a cell runs, never what it computes


def source_digest() -> str:
    """Hash of the code that determines a run's result (see _SOURCES). The pipeline computes it once and passes it
    to every notebook in `VTTWINS_SOURCE_DIGEST`, so one reproduction keys all its runs to the same code."""
    if os.environ.get("VTTWINS_SOURCE_DIGEST"):
        return os.environ["VTTWINS_SOURCE_DIGEST"]
    h = hashlib.sha256()
    for name in _SOURCES:
        path = PACKAGE / name
        for f in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            h.update(str(f.relative_to(PACKAGE)).encode())
            h.update(f.read_bytes())
    return h.hexdigest()


def run_key(config: Config) -> str:
    """12 hex digits naming a run: the resolved config (minus where and how it logs) and the source digest."""
    plain = config_to_dict(config)
    for dotted in _VOLATILE:
        section, _, key = dotted.partition(".")
        if key:
            plain.get(section, {}).pop(key, None)
        else:
            plain.pop(section, None)
    text = json.dumps(plain, sort_keys=True, default=str) + source_digest()
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def ensure_data(config: Config):
    """SynthPaths of the config's SynthHowTo, generated first when missing (None for real data)."""
    if not config.data.synthetic:
        return None
    return synth.ensure_synth(config.data.root, synth_config(config))


def find_run(config: Config, runs_root: str | os.PathLike) -> Path | None:
    """The finished run directory of `config` under `runs_root` (any `*-KEY` folder holding `model.pt`, which the
    training loop writes last, atomically: temp file + rename), or None."""
    for done in sorted(Path(runs_root).glob(f"*-{run_key(config)}")):  # the same run under another label
        if (done / "model.pt").is_file():
            return done
    return None


def ensure_run(config: Config, runs_root: str | os.PathLike, name: str) -> Path:
    """The run directory of `config` under `runs_root` (`NAME-KEY`), trained first when it is not finished."""
    key = run_key(config)
    done = find_run(config, runs_root)
    if done is not None:
        log.info("reusing %s", done)
        progress.emit("done", key=key, name=name, cached=True)
        return done
    run_dir = Path(runs_root) / f"{name}-{key}"
    if run_dir.exists():  # interrupted earlier: start it again from scratch
        shutil.rmtree(run_dir)
    ensure_data(config)
    cfg = replace(config, {"train.output_dir": str(run_dir), "train.progress": "log", "train.checkpoint_every": 10**9})
    began = time.perf_counter()
    progress.emit(
        "start", key=key, name=name, steps=_planned_steps(cfg), estimate_s=progress.past_seconds(runs_root, name)
    )
    out = Path(fit(cfg, callbacks=[_StepEvents(key, name, _planned_steps(cfg))]))
    wall = time.perf_counter() - began
    progress.record_timing(out, train_s=wall)
    progress.emit("done", key=key, name=name, cached=False, wall_s=wall)
    return out


def _planned_steps(config: Config) -> int:
    return int(config.train.steps) if config.train.steps is not None else 0  # epochs: known once the data is


class _StepEvents:
    """A `fit` callback: a "step" progress event at most once a second (no-op without VTTWINS_PROGRESS_FILE)."""

    def __init__(self, key: str, name: str, steps: int):
        self.key, self.name, self.steps, self.last = key, name, steps, 0.0
        self.on = bool(os.environ.get(progress.PROGRESS_ENV))

    def __call__(self, record: dict) -> None:
        now = time.monotonic()
        if self.on and now - self.last >= 1.0:
            self.last = now
            progress.emit("step", key=self.key, name=self.name, step=int(record["step"]), steps=self.steps)


def read_metrics(run_dir: str | os.PathLike) -> pd.DataFrame:
    """`metrics.jsonl` of a run as a DataFrame (step, loss, lr, ...)."""
    path = Path(run_dir) / "metrics.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return pd.DataFrame(rows)


def run_summary(run_dir: str | os.PathLike, label: str) -> dict:
    """One row about a finished run: mode, loss, steps, batch, first/last logged loss (no wall times: tables are
    deterministic; the throughput is in the run's metrics.jsonl)."""
    run_dir = Path(run_dir)
    cfg = config_from_dict(json.loads((run_dir / "config.json").read_text()))
    m = read_metrics(run_dir)
    return {
        "run": label,
        "mode": cfg.model.mode,
        "loss": cfg.loss.name,
        "steps": int(m["step"].iloc[-1]),
        "batch_size": cfg.train.batch_size,
        "first_loss": float(m["loss"].iloc[0]),
        "last_loss": float(m["loss"].iloc[-1]),
    }


def _eval_key(tasks: Sequence[str], eval_changes: dict, dataset_root: str | None) -> str:
    text = json.dumps([list(tasks), eval_changes, dataset_root], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _eval_cache(run_dir: Path, tasks, eval_changes: dict, dataset_config: Config | None, untrained: bool) -> Path:
    root = dataset_config.data.root if dataset_config is not None else None
    if dataset_config is not None and eval_config(dataset_config).paths:  # a val/test split of the same world
        root = json.dumps([root, eval_config(dataset_config).paths], sort_keys=True)
    kind = "untrained" if untrained else "trained"
    return run_dir / "eval" / f"{kind}-{_eval_key(tasks, eval_changes, root)}.csv"


def evaluation_cache(
    run_dir: str | os.PathLike,
    tasks: Sequence[str],
    eval_changes: dict | None = None,
    dataset_config: Config | None = None,
    untrained: bool = False,
) -> Path:
    """Where `evaluate` caches this evaluation of a run (`run_dir/eval/<kind>-<key>.csv`, written last, atomically,
    after its per-item scores); the file may not exist."""
    return _eval_cache(Path(run_dir), tasks, dict(eval_changes or {}), dataset_config, untrained)


def read_evaluation(cache: str | os.PathLike) -> pd.DataFrame:
    """A cached evaluation table (`evaluation_cache`), read as `evaluate` returns it."""
    return pd.read_csv(cache, dtype={"split": str})


def items_path(cache: Path) -> Path:
    """The per-item scores beside an evaluation cache: `<kind>-<key>.items.csv`."""
    return cache.with_name(cache.stem + ".items.csv")


def evaluate(
    run_dir: str | os.PathLike,
    tasks: Sequence[str],
    eval_changes: dict | None = None,
    dataset_config: Config | None = None,
    untrained: bool = False,
) -> pd.DataFrame:
    """Tidy evaluation table (`vttwins.companion.evaluation.COLUMNS`) of a run, cached in the run folder.

    `dataset_config`: evaluate on that config's data (e.g. the base set for runs trained on noisier narration);
    `untrained`: score the run's initial model instead (same seed, vocabulary and config, no training step).
    The evaluators' per-item scores (`vttwins.companion.evaluation.common.ITEM_COLUMNS`) are written beside the cache
    (`items_path`); `evaluate_items` reads them.
    """
    run_dir, eval_changes = Path(run_dir), dict(eval_changes or {})
    cache = _eval_cache(run_dir, tasks, eval_changes, dataset_config, untrained)
    if cache.is_file():
        return pd.read_csv(cache, dtype={"split": str})
    model, tokenizer, config = load_trained(run_dir)
    if untrained:
        model = initial_model(config, tokenizer)
    ev = eval_config(config, **eval_changes, tasks=list(tasks))
    began = time.perf_counter()
    tables = evaluate_model(model, run_dataset(dataset_config or config), tokenizer, ev)
    items = [it for it in map(item_table, tables.values()) if it is not None]
    for t in tables.values():
        t.attrs.clear()
    df = pd.concat(tables.values(), ignore_index=True)
    progress.record_timing(run_dir, eval_s=time.perf_counter() - began)
    cache.parent.mkdir(parents=True, exist_ok=True)
    if items:  # written first: a cache without its items file is one from before items existed
        _atomic_csv(pd.concat(items, ignore_index=True), items_path(cache))
    _atomic_csv(df, cache)
    return pd.read_csv(cache, dtype={"split": str})


def _atomic_csv(df: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    df.to_csv(tmp, index=False)
    os.replace(tmp, path)


def evaluate_items(
    run_dir: str | os.PathLike,
    tasks: Sequence[str],
    eval_changes: dict | None = None,
    dataset_config: Config | None = None,
    untrained: bool = False,
) -> pd.DataFrame | None:
    """The per-item scores of `evaluate` with the same arguments (evaluating first when not cached), or None for
    a cache written before per-item scores existed."""
    evaluate(run_dir, tasks, eval_changes, dataset_config, untrained)
    path = items_path(_eval_cache(Path(run_dir), tasks, dict(eval_changes or {}), dataset_config, untrained))
    return pd.read_csv(path, dtype={"split": str, "item": str}) if path.is_file() else None
