"""`python -m vttwins data check`: every input a config names, read from a sample, in one table.

    python -m vttwins data check --config configs/smoke.yaml
    python -m vttwins data check --config my.yaml data.feature_root=/d/s3d eval.paths.youcook2_csv=/d/yc.csv
    rows = check_downstream(paths, ["youcook2"], "feature", EvalConfig(), tokenizer=tok)   # library use

Per set: found or not, item counts, feature widths, caption coverage, vocabulary coverage of the downstream text
(when a vocabulary is known: `data.dict_path`, or the pretraining captions' words), and every problem with the
file it is in. Exit status 1 when a required input is missing or malformed. `evaluate` runs the downstream part
first in fast mode (`preflight`) and refuses to start on a broken input, naming it.
"""
from __future__ import annotations

import argparse
import logging
import sys

from vttwins.data.check import (PROBLEMS, READ_ERRORS, check_pretraining, format_rows, row, sample_ids,
                                sample_row)

from .common import missing_words
from .config import EvalConfig
from .inputs import missing_inputs
from .registry import get
from .windows import WindowSource

log = logging.getLogger(__name__)


def check_task(task: str, dataset: dict, mode: str, config: EvalConfig, sample: int = 20, tokenizer=None) -> list:
    """Rows for one registered task: its inputs, its reader, a sample of its video/feature files, its words."""
    missing = missing_inputs(task, mode, dataset)
    if missing:
        return [row(task, "inputs", "missing", detail="; ".join(missing))]
    try:
        items, texts = get(task).items(dataset, config)
    except READ_ERRORS as err:
        return [row(task, "annotations", "missing" if isinstance(err, FileNotFoundError) else "error",
                    detail=str(err))]
    rows = [row(task, "annotations", "ok", count=len(items), detail=f"{items['video_id'].nunique()} videos, "
                f"{len(texts)} texts")]
    rows.append(_sample_files(task, dataset, mode, config, items, sample))
    if tokenizer is not None:
        rows.append(_vocabulary(task, tokenizer, texts))
    return rows


def _sample_files(task, dataset, mode, config, items, sample) -> dict:
    key = f"{task}_{'features' if mode == 'feature' else 'videos'}"
    src = WindowSource(config, mode, **{"features" if mode == "feature" else "videos": dataset[key]})
    picked = sample_ids(items.drop_duplicates(["video_id", "subdir"]).itertuples(index=False), sample)
    widths, bad = set(), []
    for it in picked:
        try:
            path = src.path(it.video_id, it.subdir)
            if mode == "feature":
                from vttwins.data.features import load_features
                widths.add(load_features(path).shape[1])
        except READ_ERRORS as err:
            bad.append(str(err))
    return sample_row(task, key, dataset[key], len(picked), widths, bad)


def _vocabulary(task: str, tokenizer, texts) -> dict:
    missing, total = missing_words(tokenizer, texts)
    n = sum(missing.values())
    status = "ok" if n == 0 else ("error" if n == total else "warning")
    examples = ", ".join(w for w, _ in missing.most_common(8))
    return row(task, "vocabulary", status, count=total - n,
               detail=f"{100.0 * (total - n) / max(total, 1):.1f}% of {total} words in the vocabulary"
                      + (f"; missing e.g. {examples}" if n else ""))


def check_downstream(dataset: dict, tasks, mode: str, config: EvalConfig, sample: int = 20, tokenizer=None):
    return [r for task in tasks for r in check_task(task, dataset, mode, config, sample, tokenizer)]


def preflight(dataset: dict, tasks, mode: str, config: EvalConfig, sample: int = 2) -> None:
    """Fast check before evaluating: ValueError listing every missing or malformed input of `tasks`.

    Missing inputs and unreadable annotations always stop it; a bad sampled video/feature file stops it only
    with on_error="raise" (with "skip" the evaluation drops such items and logs them).
    """
    rows = check_downstream(dataset, tasks, mode, config, sample)
    structural = [r for r in rows if r["item"] in ("inputs", "annotations") and r["status"] in PROBLEMS]
    files = [r for r in rows if r["item"] not in ("inputs", "annotations") and r["status"] != "ok"]
    bad = structural + (files if config.on_error == "raise" else [])
    if bad:
        raise ValueError("evaluate: broken inputs (`python -m vttwins data check` shows the full table):\n"
                         + format_rows(bad))


def config_inputs(config) -> tuple[dict, dict]:
    """(pretraining paths {video_list_csv, caption_root, feature_root, video_root, dict_path}, downstream
    {eval.paths key: path}) a config names; SynthHowTo paths for a synthetic config (never generated here)."""
    from pathlib import Path

    from vttwins.data.synth import synth_paths
    data, down = config.data, {}
    if data.synthetic:
        sp = synth_paths(data.root)
        pre = {"video_list_csv": sp.howto_csv, "caption_root": sp.howto_captions, "feature_root": sp.howto_features,
               "video_root": sp.howto_videos}
        down = {k: v for k, v in vars(sp).items()}
    else:
        pre = {k: getattr(data, k) for k in ("video_list_csv", "caption_root", "feature_root", "video_root")}
    pre["dict_path"] = data.dict_path
    ev = config.eval if isinstance(config.eval, EvalConfig) else EvalConfig(**dict(config.eval or {}))
    down.update({k: Path(v) for k, v in (ev.paths or {}).items()})
    return pre, down


def vocabulary(pre: dict, max_videos: int = 2000):
    """(Tokenizer or None, how it was made): dict.npy, else the words of the pretraining captions (all of them
    up to `max_videos` listed videos, as training builds it; a sample beyond, so coverage is then an estimate)."""
    from vttwins.data.captions import CaptionStore
    from vttwins.data.howto100m import read_howto_csv
    from vttwins.models import Tokenizer
    try:
        if pre["dict_path"]:
            return Tokenizer.from_dict_npy(pre["dict_path"]), f"data.dict_path {pre['dict_path']}"
        ids = read_howto_csv(pre["video_list_csv"])["video_id"].astype(str).tolist()
        store, texts = CaptionStore(pre["caption_root"]), []
        for vid in sample_ids(sorted(ids), max_videos):
            try:
                texts += [str(t) for t in store.get(vid)["text"]]
            except READ_ERRORS:
                continue
        how = "pretraining captions" + ("" if len(ids) <= max_videos else f" (estimate: {max_videos} videos)")
        return (Tokenizer.from_corpus(texts), how) if texts else (None, "no captions to build one from")
    except READ_ERRORS as err:
        return None, f"unavailable ({err})"


def check_config(config, tasks=None, sample: int = 20) -> list[dict]:
    """Every row of `data check` for a Config: pretraining, vocabulary, each downstream task."""
    pre, down = config_inputs(config)
    ev = config.eval if isinstance(config.eval, EvalConfig) else EvalConfig(**dict(config.eval or {}))
    mode = ev.mode or config.model.mode
    rows = check_pretraining(pre["video_list_csv"], pre["caption_root"], pre["feature_root"], pre["video_root"],
                             config.model.mode, sample)
    if config.data.synthetic and not down["meta"].exists():
        rows = [row("pretraining", "SynthHowTo", "note", config.data.root,
                    detail="not generated yet: `train` (or `data synth --out`) generates it")]
    tok, how = vocabulary(pre)
    rows.append(row("pretraining", "vocabulary", "ok" if tok else "note", count=len(tok) if tok else None,
                    detail=how))
    return rows + check_downstream(down, list(tasks or ev.tasks), mode, ev, sample, tok)


def cli_main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vttwins data check", description=__doc__.split("\n")[0])
    parser.add_argument("--config", default="default", help="profile name or YAML path")
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="config overrides, e.g. data_dir=/d")
    parser.add_argument("--tasks", nargs="+", help="downstream tasks (default: the config's eval.tasks)")
    parser.add_argument("--sample", type=int, default=20, help="files read per set (default 20)")
    args = parser.parse_args(argv)
    from vttwins.config import load_config
    rows = check_config(load_config(args.config, args.overrides), args.tasks, args.sample)
    sys.stdout.write(format_rows(rows) + "\n")
    problems = [r for r in rows if r["status"] in PROBLEMS]
    sys.stdout.write(f"{len(problems)} problem(s)\n" if problems else "all inputs found and readable\n")
    return 1 if problems else 0
