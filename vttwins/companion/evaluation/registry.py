"""The one registry of downstream tasks: name -> evaluator, table, labels, notebook and the inputs it reads.

    from vttwins.companion.evaluation.registry import TASKS, Task, register
    TASKS["youcook2"].inputs("feature")            # ('youcook2_csv', 'youcook2_features')
    register(Task("toy", evaluate=my_eval, table=my_table, label="Toy retrieval", inputs_by_mode=...))

Everything that knows about a benchmark reads this table: `EvalConfig.tasks` validation, `evaluate_run` and the
`evaluate` CLI, `experiments.downstream` (the notebooks' tables), `data check`, the pipeline's notebook specs
(`vttwins.companion.pipeline.specs.NOTEBOOKS`) and the docs (docs/data.md). Each built-in benchmark is one module of
`vttwins/companion/evaluation/benchmarks/` holding its evaluator, reader, table reference, notebook spec and SynthHowTo
writer in one `Task`; it is registered below, one line each, in the order `eval.tasks` runs them by default.
A third-party benchmark module calls `register(Task(...))` itself.
"""

from __future__ import annotations

from .benchmarks import action, crosstask, msrvtt, youcook2
from .task import TASKS, Ref, Task, default_tasks, get, modes, register, unregister

__all__ = ["TASKS", "Ref", "Task", "default_tasks", "get", "modes", "register", "unregister"]

register(youcook2.BENCHMARK)
register(msrvtt.BENCHMARK)
register(crosstask.BENCHMARK)
register(action.BENCHMARK)
