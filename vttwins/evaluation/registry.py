"""The one registry of downstream tasks: name -> evaluator, table, labels, notebook and the inputs it reads.

    from vttwins.evaluation.registry import TASKS, Task, register
    TASKS["youcook2"].inputs("feature")            # ('youcook2_csv', 'youcook2_features')
    register(Task("toy", evaluate=my_eval, table=my_table, label="Toy retrieval", inputs_by_mode=...))

Everything that knows about a benchmark reads this table: `EvalConfig.tasks` validation, `evaluate_run` and the
`evaluate` CLI, `experiments.downstream` (the notebooks' tables), `data check` and the docs (docs/data.md).
Adding a benchmark = a reader, an evaluator, a notebook and one `Task` here (plus SynthHowTo's writer for it).

Evaluators and tables may be given as "module:function" strings so this leaf module imports nothing heavy
(evaluation/config.py validates task names against it, and it is imported by vttwins/config.py).
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Callable, Union

Ref = Union[str, Callable]


@dataclass(frozen=True)
class Task:
    """One downstream benchmark.

    evaluate: (model, dataset, tokenizer, EvalConfig) -> tidy DataFrame with `COLUMNS` (one row per metric).
    table: long DataFrame of `model_scores` (COLUMNS + `model`) -> the notebook's table, or a tuple of tables.
    inputs_by_mode: {"feature" | "pixel": eval.paths keys the task reads in that mode}; `optional` keys are
    read when present (e.g. CrossTask's flat CSV is needed only by its CTR protocol).
    reader: (dataset, EvalConfig) -> (DataFrame video_id, subdir; list of texts); `data check` samples it.
    """
    name: str
    evaluate: Ref
    table: Ref
    label: str
    inputs_by_mode: dict = field(default_factory=dict)
    optional: tuple = ()
    notebook: str | None = None
    default: bool = True      # run when `eval.tasks` is not given
    reader: Ref | None = None

    def inputs(self, mode: str) -> tuple[str, ...]:
        """The eval.paths keys this task needs in `mode` ("feature" or "pixel")."""
        if mode not in self.inputs_by_mode:
            raise ValueError(f"task {self.name!r} has no inputs for mode {mode!r}; known: {sorted(self.inputs_by_mode)}")
        return tuple(self.inputs_by_mode[mode])

    def evaluator(self) -> Callable:
        return _resolve(self.evaluate)

    def items(self, dataset, config):
        """(videos the task reads: DataFrame video_id, subdir; texts it encodes), or ValueError without a reader."""
        if self.reader is None:
            raise ValueError(f"task {self.name!r} has no reader, so `data check` cannot sample it")
        return _resolve(self.reader)(dataset, config)

    def tabulate(self, long):
        return _resolve(self.table)(long)


def _resolve(ref: Ref) -> Callable:
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


def _modes(prefix: str, *files: str) -> dict:
    """{"feature": (files..., <prefix>_features), "pixel": (files..., <prefix>_videos)}."""
    return {"feature": (*files, f"{prefix}_features"), "pixel": (*files, f"{prefix}_videos")}


_EV = "vttwins.evaluation.tasks"
_TB = "vttwins.evaluation.tables"


def _builtin(name, table, label, files, notebook, optional=()):
    register(Task(name, f"{_EV}:{name}", f"{_TB}:{table}", label, _modes(name, *files), optional, notebook,
                  reader=f"{_EV}:{name}_items"))


_builtin("youcook2", "retrieval_table", "YouCook2-style text-video retrieval", ["youcook2_csv"],
         "03_retrieval_youcook2")
_builtin("msrvtt", "retrieval_table", "MSR-VTT-style text-video retrieval", ["msrvtt_csv"], "04_retrieval_msrvtt")
_builtin("crosstask", "crosstask_tables", "CrossTask step localization, both protocols", ["crosstask_root"],
         "05_step_localization_crosstask", optional=("crosstask_flat_csv",))
_builtin("action", "action_table", "Action recognition: linear probe and zero-shot", ["action_csv"],
         "06_action_recognition")
