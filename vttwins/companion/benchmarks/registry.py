"""The one registry of downstream tasks: name -> evaluator, table, labels, notebook and the inputs it reads.

    from vttwins.companion.benchmarks.registry import TASKS, Task, register
    TASKS["youcook2"].inputs("feature")            # ('youcook2_csv', 'youcook2_features')
    register(Task("toy", evaluate=my_eval, table=my_table, label="Toy retrieval", inputs_by_mode=...))

Everything that knows about a benchmark reads this table: `EvalConfig.tasks` validation, `evaluate_run` and the
`evaluate` CLI, `experiments.downstream` (the notebooks' tables), `data check`, the pipeline's notebook specs
(`vttwins.companion.pipeline.specs.NOTEBOOKS`), SynthHowTo's generator (`vttwins.companion.synth.generate` makes
and writes each `Task.synth` split) and the docs (docs/data.md). Each built-in benchmark is one module of
`vttwins/companion/benchmarks/` holding its evaluator, reader, table reference, notebook spec and SynthHowTo split in
one `Task`; it is registered below, one line each, in the order `eval.tasks` runs them by default (and SynthHowTo
writes them). A third-party benchmark module calls `register(Task(...))` itself.

This package sits at the bottom of the companion (below `synth`), so the generator can read it;
`vttwins.companion.benchmarks.registry` re-exports it.
"""

from __future__ import annotations

from . import action, crosstask, msrvtt, youcook2
from .split import SynthSplit
from .task import TASKS, Ref, Task, default_tasks, get, modes, register, unregister

__all__ = [
    "TASKS",
    "Ref",
    "SynthSplit",
    "Task",
    "default_tasks",
    "get",
    "modes",
    "register",
    "synth_splits",
    "unregister",
]

register(youcook2.BENCHMARK)
register(msrvtt.BENCHMARK)
register(crosstask.BENCHMARK)
register(action.BENCHMARK)


def synth_splits() -> list[SynthSplit]:
    """The SynthHowTo splits of the registered benchmarks, in registry order (a split shared by two is listed once)."""
    out: list[SynthSplit] = []
    for task in TASKS.values():
        if task.synth is not None and task.synth not in out:
            out.append(task.synth)
    return out
