"""`python -m vttwins data check`: every input that `train` and `evaluate` will use, checked, in one table.

    python -m vttwins data check --config my.yaml
    python -m vttwins data check --config my.yaml data.feature_root=/d/s3d eval.paths.youcook2_csv=/d/yc.csv
    rows = check_downstream(paths, ["youcook2"], "feature", EvalConfig(), tokenizer=tok)   # library use

The check uses the commands' own defaults: the tasks are `eval.tasks` (or `--tasks`); a task whose inputs are
absent and that nothing configured (no `eval.paths` key of it, not named by `--tasks`) is reported "skipped", as
`evaluate` skips it, and is no problem. Every configured input is checked completely where that is cheap: every
file a task lists exists, every feature file's width (against `model.feature_dim`), dtype and length from its
.npy header (no array loaded; a truncated file shows), the segments against the video's length (feature length;
in pixel mode the container's duration, on a sample), the sentences (an empty one is a warning); feature values
and decodability are read from a stated sample (`--sample`). Every problem names its file (and line). Exit status
1 on any problem (status "missing" or "error").

`evaluate` and `train` run the same check first (`gate`) and refuse before the first task or step, naming the
inputs; under `on_error="skip"` (training's default) bad files are only a WARNING, since the run skips them,
unless none is left.
"""

from __future__ import annotations

import argparse
import logging
import sys

import pandas as pd

from vttwins.companion.config import load_config
from vttwins.data.captions import CaptionStore
from vttwins.data.check import (
    READ_ERRORS,
    check_pretraining,
    feature_headers,
    feature_values,
    files_row,
    format_rows,
    gate,
    odd_widths,
    problems,
    row,
    sample_ids,
)
from vttwins.data.howto100m import read_howto_csv
from vttwins.companion.synth import synth_paths
from vttwins.errors import split_overrides
from vttwins.models import Tokenizer

from .common import missing_words
from .config import EvalConfig
from .inputs import missing_inputs
from vttwins.companion.benchmarks.registry import get
from .windows import WindowSource

log = logging.getLogger(__name__)
SLACK_S = 1.0  # a segment may end this far past the last feature vector (features are one per whole second)


def check_task(
    task: str,
    dataset: dict,
    mode: str,
    config: EvalConfig,
    sample: int = 20,
    tokenizer=None,
    feature_dim: int | None = None,
    configured: bool = True,
) -> list:
    """Rows for one registered task: its inputs, its reader, every video/feature file, its segments, its words.

    configured: False when nothing asked for the task (no `eval.paths` key of it, not named on the command line);
    absent inputs are then "skipped" (what `evaluate` does), not "missing".
    """
    missing = missing_inputs(task, mode, dataset)
    if missing:
        if not configured:
            return [row(task, "inputs", "skipped", detail="not configured, evaluate skips it: " + "; ".join(missing))]
        return [row(task, "inputs", "missing", detail="; ".join(missing))]
    try:
        items, texts = get(task).items(dataset, config)
    except READ_ERRORS as err:
        return [row(task, "annotations", "missing" if isinstance(err, FileNotFoundError) else "error", detail=str(err))]
    rows = [
        row(
            task,
            "annotations",
            "ok",
            count=len(items),
            detail=f"{items['video_id'].nunique()} videos, {len(texts)} texts",
        )
    ]
    empty = sum(1 for t in texts if not str(t).strip())
    if empty:
        rows.append(
            row(task, "text", "warning", count=empty, detail=f"{empty} empty sentence(s): they embed as padding only")
        )
    rows += _files(task, dataset, mode, config, items, sample, feature_dim)
    if tokenizer is not None:
        rows.append(_vocabulary(task, tokenizer, texts))
    return rows


def _files(task, dataset, mode, config, items, sample, feature_dim) -> list[dict]:
    """The row of every video/feature file of `items`, and the row of its segments against their lengths."""
    feature = mode == "feature"
    key = f"{task}_{'features' if feature else 'videos'}"
    try:
        src = WindowSource(config, mode, **{"features" if feature else "videos": dataset[key]})
    except READ_ERRORS as err:
        return [row(task, key, "missing", dataset[key], detail=str(err))]
    paths, bad = {}, []
    for it in items.drop_duplicates(["video_id", "subdir"]).itertuples(index=False):
        try:
            paths[(it.video_id, it.subdir)] = src.path(it.video_id, it.subdir)
        except READ_ERRORS as err:
            bad.append(str(err))
    n = len(paths) + len(bad)
    if feature:
        seconds, widths, bad_keys = feature_headers(paths, feature_dim)
        good = [paths[k] for k in seconds if k not in bad_keys]
        bad += list(bad_keys.values()) + feature_values(good, sample)
        lengths, how = {k: float(v) for k, v in seconds.items()}, "feature length"
        extra = f"values of {min(sample, len(good))} sampled files loaded"
        out = [
            files_row(
                task, key, dataset[key], n, bad, "feature files complete (.npy headers)", odd_widths(widths)[0], extra
            )
        ]
    else:
        lengths, how = {}, "video duration"
        for k in sample_ids(list(paths), sample):
            try:
                lengths[k] = src.duration(*k)
            except READ_ERRORS as err:
                bad.append(f"{paths[k]}: {err}")
        out = [
            files_row(
                task,
                key,
                dataset[key],
                n,
                bad,
                "video files found",
                extra=f"{len(lengths)} sampled containers probed for their duration",
            )
        ]
    if "start" in items.columns and items["start"].notna().any():
        out.append(_segments(task, items.dropna(subset=["start"]), lengths, how, feature))
    return out


def _segments(task: str, segs: pd.DataFrame, lengths: dict, how: str, complete: bool) -> dict:
    """Every segment whose video length is known: start beyond the end is an error (its windows would be pure
    edge padding), an end more than SLACK_S past it a warning; each names the annotation file and line."""
    bad, late, checked = [], [], 0
    for seg in segs.itertuples(index=False):
        length = lengths.get((seg.video_id, seg.subdir))
        if length is None:
            continue
        checked += 1
        if seg.start >= length or seg.end > length + SLACK_S:
            where = (
                f"{_line_of(seg)}: segment {seg.start:g}-{seg.end:g} s of video {seg.video_id} "
                f"{'starts after' if seg.start >= length else 'ends after'} its end ({how} {length:g} s)"
            )
            (bad if seg.start >= length else late).append(where)
    scope = "" if complete else f" (durations of {len(lengths)} sampled videos)"
    return files_row(
        task,
        "segments vs length",
        None,
        checked,
        bad,
        f"segments inside their video{scope}",
        warnings=late,
        per_file=False,
    )


def _line_of(seg) -> str:
    """`file, line N` of a segment row (header line = 1; a headerless CrossTask annotation starts at 1)."""
    try:
        raw = pd.read_csv(seg.source, header=None, dtype=str, keep_default_na=False)
        has_header = "start" in [c.strip() for c in raw.iloc[0]]
        cols = [c.strip() for c in raw.iloc[0]] if has_header else ["step", "start", "end"]
        body = raw.iloc[1:] if has_header else raw
        body = body.set_axis(cols, axis=1) if len(cols) == body.shape[1] else body
        num = lambda c: pd.to_numeric(body[c], errors="coerce")  # noqa: E731
        hit = (num("start") - seg.start).abs().lt(1e-6) & (num("end") - seg.end).abs().lt(1e-6)
        if "video_id" in body.columns:
            hit &= body["video_id"].str.strip() == str(seg.video_id)
        if hit.any():
            return f"{seg.source}, line {int(hit.to_numpy().nonzero()[0][0]) + 1 + int(has_header)}"
    except (OSError, ValueError, KeyError, IndexError):
        pass
    return str(seg.source)


def _vocabulary(task: str, tokenizer, texts) -> dict:
    missing, total = missing_words(tokenizer, texts)
    n = sum(missing.values())
    status = "ok" if n == 0 else ("error" if n == total else "warning")
    examples = ", ".join(w for w, _ in missing.most_common(8))
    return row(
        task,
        "vocabulary",
        status,
        count=total - n,
        detail=f"{100.0 * (total - n) / max(total, 1):.1f}% of {total} words in the vocabulary"
        + (f"; missing e.g. {examples}" if n else ""),
    )


def check_downstream(
    dataset: dict,
    tasks,
    mode: str,
    config: EvalConfig,
    sample: int = 20,
    tokenizer=None,
    feature_dim: int | None = None,
    configured=None,
):
    """Rows of every task; `configured` (a set of task names, default all) decides "missing" vs "skipped"."""
    return [
        r
        for task in tasks
        for r in check_task(
            task, dataset, mode, config, sample, tokenizer, feature_dim, configured is None or task in configured
        )
    ]


def configured_tasks(tasks, mode: str, paths: dict, explicit: bool) -> set[str]:
    """Tasks something asked for: all of them when named on the command line, else those with an eval.paths key."""
    return {t for t in tasks if explicit or any(k in (paths or {}) for k in get(t).inputs(mode))}


def preflight(
    dataset: dict, tasks, mode: str, config: EvalConfig, sample: int = 2, feature_dim: int | None = None
) -> None:
    """`evaluate`'s check of `tasks` before the first one runs (the rows of `data check`): ValueError naming every
    broken input; bad video/feature files pass only under eval.on_error="skip" (the evaluation drops them)."""
    gate(check_downstream(dataset, tasks, mode, config, sample, feature_dim=feature_dim), config.on_error, "evaluate")


def config_inputs(config) -> tuple[dict, dict]:
    """(pretraining paths {video_list_csv, caption_root, feature_root, video_root, dict_path}, downstream
    {eval.paths key: path}) a config names; SynthHowTo paths for a synthetic config (never generated here)."""
    from pathlib import Path

    data, down = config.data, {}
    if data.synthetic:
        sp = synth_paths(data.root)
        pre = {
            "video_list_csv": sp.howto_csv,
            "caption_root": sp.howto_captions,
            "feature_root": sp.howto_features,
            "video_root": sp.howto_videos,
        }
        down = sp.files()
    else:
        pre = {k: getattr(data, k) for k in ("video_list_csv", "caption_root", "feature_root", "video_root")}
    pre["dict_path"] = data.dict_path
    ev = config.eval if isinstance(config.eval, EvalConfig) else EvalConfig(**dict(config.eval or {}))
    down.update({k: Path(v) for k, v in (ev.paths or {}).items()})
    return pre, down


def vocabulary(pre: dict, max_videos: int = 2000):
    """(Tokenizer or None, how it was made): dict.npy, else the words of the pretraining captions (all of them
    up to `max_videos` listed videos, as training builds it; a sample beyond, so coverage is then an estimate)."""
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
    """Every row of `data check` for a Config: pretraining, vocabulary, each downstream task.

    tasks: the tasks named on the command line (their absent inputs are problems); default `eval.tasks`, where a
    task with absent inputs that no `eval.paths` key configures is "skipped", as `evaluate` skips it."""
    pre, down = config_inputs(config)
    ev = config.eval if isinstance(config.eval, EvalConfig) else EvalConfig(**dict(config.eval or {}))
    mode = ev.mode or config.model.mode
    dim = config.model.feature_dim if config.model.mode == "feature" else None
    rows = check_pretraining(
        pre["video_list_csv"],
        pre["caption_root"],
        pre["feature_root"],
        pre["video_root"],
        config.model.mode,
        sample,
        dim,
    )
    if config.data.synthetic and not down["meta"].exists():
        rows = [
            row(
                "pretraining",
                "SynthHowTo",
                "note",
                config.data.root,
                detail="not generated yet: `train` (or `data synth --out`) generates it",
            )
        ]
    tok, how = vocabulary(pre)
    rows.append(row("pretraining", "vocabulary", "ok" if tok else "note", count=len(tok) if tok else None, detail=how))
    names = list(tasks or ev.tasks)
    for name in names:
        get(name)  # an unknown task name is a ValueError naming the known ones
    configured = configured_tasks(names, mode, ev.paths, tasks is not None)
    return rows + check_downstream(down, names, mode, ev, sample, tok, dim if mode == "feature" else None, configured)


def cli_main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vttwins data check", description=__doc__.split("\n")[0])
    parser.add_argument("--config", default="default", help="profile name or YAML path")
    parser.add_argument(
        "overrides", nargs="*", metavar="KEY=VALUE", help="config overrides, anywhere on the line, e.g. data_dir=/d"
    )
    parser.add_argument("--tasks", nargs="+", help="downstream tasks (default: the config's eval.tasks)")
    parser.add_argument(
        "--sample",
        type=int,
        default=20,
        help="files whose arrays are loaded / containers opened per set (default 20); headers, "
        "captions and segments are read for every file",
    )
    argv, given = split_overrides(list(sys.argv[1:] if argv is None else argv))
    args = parser.parse_args(argv)
    config = load_config(args.config, [*given, *args.overrides], training=False)
    rows = check_config(config, args.tasks, args.sample)
    sys.stdout.write(format_rows(rows) + "\n")
    found = problems(rows)
    skipped = [r["set"] for r in rows if r["status"] == "skipped"]
    sys.stdout.write(
        f"{len(found)} problem(s)\n"
        if found
        else "all inputs found and readable"
        + (f" (skipped, not configured: {', '.join(skipped)})" if skipped else "")
        + "\n"
    )
    return 1 if found else 0
