"""The downstream-task registry's machinery: `Task`, `TASKS`, `register`; `registry.py` fills it.

    from vttwins.companion.evaluation.task import Task, register
    register(Task("toy", evaluate="my_pkg.toy:evaluate", table="my_pkg.toy:table", label="Toy", ...))

A leaf (it imports only `vttwins.companion.outputs`), so a benchmark module can import it without a cycle through the
registry that imports the built-in benchmarks. Evaluators, readers and tables may be "module:function" strings,
resolved at call time, so importing a benchmark module loads nothing heavy.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Callable, Union

from vttwins.companion.outputs import NotebookSpec

Ref = Union[str, Callable]


@dataclass(frozen=True)
class Task:
    """One downstream benchmark.

    evaluate: (model, dataset, tokenizer, EvalConfig) -> tidy DataFrame with `COLUMNS` (one row per metric).
    table: long DataFrame of `model_scores` (COLUMNS + `model`) -> the notebook's table, or a tuple of tables.
    inputs_by_mode: {"feature" | "pixel": eval.paths keys the task reads in that mode}; `optional` keys are
    read when present (e.g. CrossTask's flat CSV is needed only by its CTR protocol).
    reader: (dataset, EvalConfig) -> (DataFrame video_id, subdir; list of texts); `data check` samples it.
    notebook: its notebook's name; spec: that notebook's declared outputs (`notebook` defaults to `spec.name`).
    synth: the SynthHowTo writer of its split (documentation of where the synthetic set comes from).
    """

    name: str
    evaluate: Ref
    table: Ref
    label: str
    inputs_by_mode: dict = field(default_factory=dict)
    optional: tuple = ()
    notebook: str | None = None
    default: bool = True  # run when `eval.tasks` is not given
    reader: Ref | None = None
    spec: NotebookSpec | None = (
        None  # its notebook's declared tables and figures (vttwins.companion.pipeline.specs lists it)
    )
    synth: Ref | None = None  # SynthHowTo's writer of its synthetic split (vttwins.companion.synth.downstream)

    def __post_init__(self):
        if self.spec is not None and self.notebook is None:
            object.__setattr__(self, "notebook", self.spec.name)
        if self.spec is not None and self.spec.name != self.notebook:
            raise ValueError(
                f"task {self.name!r}: notebook {self.notebook!r} differs from its spec's {self.spec.name!r}"
            )

    def inputs(self, mode: str) -> tuple[str, ...]:
        """The eval.paths keys this task needs in `mode` ("feature" or "pixel")."""
        if mode not in self.inputs_by_mode:
            raise ValueError(
                f"task {self.name!r} has no inputs for mode {mode!r}; known: {sorted(self.inputs_by_mode)}"
            )
        return tuple(self.inputs_by_mode[mode])

    def evaluator(self) -> Callable:
        return resolve(self.evaluate)

    def items(self, dataset, config):
        """(videos the task reads: DataFrame video_id, subdir; texts it encodes), or ValueError without a reader."""
        if self.reader is None:
            raise ValueError(f"task {self.name!r} has no reader, so `data check` cannot sample it")
        return resolve(self.reader)(dataset, config)

    def tabulate(self, long):
        return resolve(self.table)(long)


def resolve(ref: Ref) -> Callable:
    """A callable, or the function a "module:function" string names (imported now)."""
    if callable(ref):
        return ref
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


TASKS: dict[str, Task] = {}


def register(task: Task, replace: bool = False) -> Task:
    """Add `task` to TASKS (ValueError if the name is taken, unless `replace`)."""
    if task.name in TASKS and not replace:
        raise ValueError(f"task {task.name!r} is already registered; pass replace=True to override it")
    TASKS[task.name] = task
    return task


def unregister(name: str) -> None:
    TASKS.pop(name)


def default_tasks() -> list[str]:
    """The tasks run when `eval.tasks` is not given, in registry order."""
    return [name for name, t in TASKS.items() if t.default]


def get(name: str) -> Task:
    if name not in TASKS:
        raise ValueError(f"unknown evaluation task {name!r}; choose from {list(TASKS)}")
    return TASKS[name]


def modes(prefix: str, *files: str) -> dict:
    """{"feature": (files..., <prefix>_features), "pixel": (files..., <prefix>_videos)}."""
    return {"feature": (*files, f"{prefix}_features"), "pixel": (*files, f"{prefix}_videos")}
