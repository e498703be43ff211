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
from vttwins.companion import synth
from vttwins.models import build_model
from vttwins.companion.results import provenance
from vttwins.companion.training import load_trained, state as st
from vttwins.companion.training.builders import synth_config

from .common import KEYS, model_label
from .config import EvalConfig
from .inputs import check_path_keys, runnable_tasks
from vttwins.companion.benchmarks.registry import get

log = logging.getLogger(__name__)


def run_task(task: str, model, dataset, tokenizer, config: EvalConfig) -> pd.DataFrame:
    """One registered task (`registry.TASKS`) on a model object or a run/checkpoint path."""
    return get(task).evaluator()(model, dataset, tokenizer, config)


def evaluate_model(
    model, dataset, tokenizer=None, config: EvalConfig | None = None, tasks=None, label: str = "model"
) -> dict[str, pd.DataFrame]:
    """{task: table} for `tasks` (default config.tasks), each timed in the log; `label` names the model there and
    in every warning the task logs (`common.model_label`)."""
    config = config or EvalConfig()
    out = {}
    for task in tasks or config.tasks:
        t0 = time.perf_counter()
        with model_label(label):
            out[task] = run_task(task, model, dataset, tokenizer, config)
        log.info("evaluated %s (%s) in %.1f s", task, label, time.perf_counter() - t0)
    return out


def run_dataset(config, paths: dict | None = None, tasks=None, mode: str | None = None) -> dict[str, Path]:
    """Downstream paths of a run: its SynthHowTo's (generated if missing), then `paths` on top.

    paths: {eval.paths key: file} (default: the run's own `eval.paths`). When `tasks` and `mode` are given and
    `paths` already names every input they need, the run's SynthHowTo is not looked at (nor generated).
    """
    given = {k: Path(v) for k, v in (eval_config(config).paths if paths is None else paths).items()}
    needed = {k for t in (tasks or []) for k in get(t).inputs(mode)} if tasks and mode else None
    out: dict[str, Path] = {}
    if config.data.synthetic and (needed is None or not needed <= set(given)):
        sp = synth.ensure_synth(config.data.root, synth_config(config))
        out = sp.files()
    out.update(given)
    return out


def eval_config(config, **changes) -> EvalConfig:
    ev = config.eval if isinstance(config.eval, EvalConfig) else EvalConfig(**dict(config.eval or {}))
    return dataclasses.replace(ev, **changes) if changes else ev


def initial_model(config, tokenizer):
    """The run's model before its first step (training seeds then builds it the same way)."""
    st.seed_everything(config.train.seed)
    return build_model(config.model, vocab=tokenizer.words).eval()


def training_clip_shape(config) -> dict:
    """EvalConfig changes that decode evaluation windows like the run's training clips: num_frames, fps, size."""
    return {"num_frames": config.data.num_frames, "fps": config.data.fps, "size": config.data.size}


def evaluate_run(
    run_dir, tasks=None, untrained: bool = False, train_shape: bool = False, **eval_changes
) -> dict[str, pd.DataFrame]:
    """Evaluate a finished (or checkpointed) run; writes `<run_dir>/eval/<task>.csv`; returns {task: table}.

    eval_changes: EvalConfig fields; `paths` is merged key by key over the run's own `eval.paths` (new data the
    run never saw). Without `tasks`, the run's eval.tasks whose inputs exist run and the others are skipped with a
    WARNING naming the missing files; tasks named explicitly must have their inputs (FileNotFoundError). Each
    task's table, and `provenance.json` (the config, every path used, what was skipped), is written as soon as
    the task finishes, so a later failure keeps the earlier tables.

    Pixel mode: windows are decoded at the eval config's num_frames/fps/size (the protocol: 32 frames, 10 fps,
    224 px); `train_shape=True` uses the run's training clip shape instead (`eval_changes` still win), and a
    mismatch without it is logged, since a model trained on small clips scores poorly on large ones.
    """
    model, tokenizer, config = load_trained(run_dir)
    ev = _run_eval_config(config, model.mode, train_shape, eval_changes, run_dir)
    mode = ev.mode or model.mode
    candidates = list(tasks or ev.tasks)
    ev = dataclasses.replace(ev, tasks=candidates)  # validates the names
    dataset = run_dataset(config, ev.paths, candidates, mode)
    chosen, skipped = runnable_tasks(candidates, mode, dataset)
    if skipped and tasks:
        raise FileNotFoundError(f"evaluate: inputs of the requested task(s) are missing: {skipped}")
    from .check import configured_tasks, preflight  # deferred: av

    configured = configured_tasks(list(skipped), mode, ev.paths, explicit=False)
    if configured:  # what `data check` reports as missing: a path the config gives but that is not there
        raise FileNotFoundError(
            "evaluate: inputs that eval.paths configures are missing: "
            f"{ {t: skipped[t] for t in configured} } (see docs/data.md)"
        )
    for task, why in skipped.items():
        log.warning("skipping task %s: %s (not configured in eval.paths)", task, "; ".join(why))
    if not chosen:
        raise FileNotFoundError(f"evaluate: no task of {candidates} has its inputs: {skipped} (see docs/data.md)")
    ev, t0, out_dir, tables = dataclasses.replace(ev, tasks=chosen), time.perf_counter(), Path(run_dir) / "eval", {}
    dim = getattr(getattr(model, "config", None), "feature_dim", None) if mode == "feature" else None
    preflight(dataset, chosen, mode, ev, feature_dim=dim)  # a broken input stops here, named, before any task
    base = initial_model(config, tokenizer) if untrained else None
    for task in chosen:
        tables[task] = evaluate_model(model, dataset, tokenizer, ev, [task], label=f"trained model {run_dir}")[task]
        if base is not None:
            untrained_table = evaluate_model(base, dataset, tokenizer, ev, [task], label="untrained initial model")
            tables[task] = with_untrained(tables[task], untrained_table[task])
        _write_csv(tables[task], out_dir / f"{task}.csv")
        _write_provenance(out_dir, ev, config, run_dir, t0, dataset, list(tables), skipped)
    return tables


def _run_eval_config(config, mode: str, train_shape: bool, changes: dict, run_dir) -> EvalConfig:
    """The run's eval section with `changes` on top (`paths` merged key by key, unknown keys refused)."""
    changes = dict(changes)
    if "paths" in changes:
        check_path_keys(changes["paths"] or {}, "evaluate")
        changes["paths"] = {**(eval_config(config).paths or {}), **(changes["paths"] or {})}
    if mode == "pixel" and train_shape:
        changes = {**training_clip_shape(config), **changes}
    fields = {f.name for f in dataclasses.fields(EvalConfig)}
    unknown = sorted(set(changes) - fields)
    if unknown:
        raise ValueError(f"evaluate: unknown eval key(s) {unknown}; known: {sorted(fields)}")
    ev = eval_config(config, **changes)
    if mode == "pixel":
        differs = {k: (getattr(ev, k), v) for k, v in training_clip_shape(config).items() if getattr(ev, k) != v}
        if differs:
            log.warning(
                "pixel run %s is evaluated at a clip shape it was not trained on (eval, train): %s; "
                "--train-shape (train_shape=True) evaluates at the training shape",
                run_dir,
                differs,
            )
    return ev


def _write_provenance(
    out_dir: Path, ev: EvalConfig, config, run_dir, t0: float, dataset: dict, done: list, skipped: dict
) -> None:
    used = sorted({k for t in done for k in (*get(t).inputs(ev.mode or config.model.mode), *get(t).optional)})
    record = provenance(
        dataclasses.asdict(ev),
        config.train.seed,
        run=str(run_dir),
        wall_seconds=round(time.perf_counter() - t0, 1),
        tasks_done=done,
        skipped=skipped,
        paths_used={k: str(dataset[k]) for k in used if dataset.get(k) is not None},
    )
    atomic_write_text(out_dir / "provenance.json", json.dumps(record, indent=2))


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
