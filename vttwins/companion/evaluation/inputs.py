"""Which downstream files a task reads, whether they are there, and the tasks that can run on a data set.

    known_path_keys()                                   # every eval.paths key a registered task reads
    missing_inputs("crosstask", "feature", dataset)     # [] or ["crosstask_features: /x/feat does not exist"]
    runnable, skipped = runnable_tasks(["youcook2", "msrvtt"], "feature", dataset)

`dataset` is a mapping {eval.paths key: path} (or a SynthPaths); see docs/data.md for every key and layout.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from vttwins.companion.benchmarks.registry import TASKS, get

log = logging.getLogger(__name__)


def known_path_keys() -> list[str]:
    """Every eval.paths key read by a registered task, in registry order."""
    keys: dict[str, None] = {}
    for task in TASKS.values():
        for files in task.inputs_by_mode.values():
            keys.update(dict.fromkeys(files))
        keys.update(dict.fromkeys(task.optional))
    return list(keys)


def check_path_keys(paths: dict, where: str) -> None:
    """ValueError naming any key of `paths` no registered task reads (a typo would otherwise be ignored)."""
    unknown = sorted(set(paths) - set(known_path_keys()))
    if unknown:
        raise ValueError(f"{where}: unknown eval.paths key(s) {unknown}; known: {known_path_keys()} (see docs/data.md)")


def as_mapping(dataset) -> dict:
    if hasattr(dataset, "files"):  # SynthPaths: its fields and its registered splits' files
        return dataset.files()
    if dataclasses.is_dataclass(dataset):
        return {f.name: getattr(dataset, f.name) for f in dataclasses.fields(dataset)}
    return dict(dataset)


def missing_inputs(task: str, mode: str, dataset) -> list[str]:
    """One "key: why" string per required input of `task` in `mode` that is unset or absent ([] = runnable)."""
    data = as_mapping(dataset)
    problems = []
    for key in get(task).inputs(mode):
        value = data.get(key)
        if value is None:
            problems.append(f"{key}: not set (eval.paths.{key})")
        elif not Path(value).exists():
            problems.append(f"{key}: {value} does not exist")
    return problems


def runnable_tasks(tasks, mode: str, dataset) -> tuple[list[str], dict[str, list[str]]]:
    """(tasks whose required inputs all exist, {skipped task: its missing inputs})."""
    run, skipped = [], {}
    for task in tasks:
        problems = missing_inputs(task, mode, dataset)
        if problems:
            skipped[task] = problems
        else:
            run.append(task)
    return run, skipped
