"""CrossTask step localization (standard and ordered recall, CTR accuracy): the benchmark's one `Task`.

    from vttwins.companion.evaluation.registry import TASKS
    TASKS["crosstask"].evaluator()(model, dataset, tokenizer, EvalConfig())   # tidy rows, one per metric

Reader: `vttwins.data.crosstask` (read_crosstask, read_crosstask_flat); SynthHowTo writer:
`vttwins.companion.synth.downstream.write_crosstask`; tables: `vttwins.companion.evaluation.tables.crosstask_tables`; notebook 05.
Evaluator and reader: `vttwins.companion.evaluation.tasks` (named by string: `vttwins.companion.config` imports the registry, and
the evaluators import `evaluation.config` back, so an import here would be a cycle).
"""

from __future__ import annotations

from vttwins.companion.outputs import NotebookSpec, Table

from ..task import Task, modes

_EV = "vttwins.companion.evaluation.tasks"  # evaluator and reader, named so the registry imports nothing heavy


SPEC = NotebookSpec(
    "05_step_localization_crosstask",
    "CrossTask step localization, both protocols",
    tables=(
        Table(
            "step_localization_crosstask",
            "CrossTask standard and ordered recall and CTR accuracy, mean over tasks",
            ("model", "protocol", "metric", "value", "chance"),
        ),
        Table(
            "step_localization_crosstask_per_task",
            "CrossTask metrics per task",
            ("model", "protocol", "task", "value", "chance"),
        ),
    ),
)

BENCHMARK = Task(
    "crosstask",
    f"{_EV}:crosstask",
    "vttwins.companion.evaluation.tables:crosstask_tables",
    "CrossTask step localization, both protocols",
    modes("crosstask", "crosstask_root"),
    optional=("crosstask_flat_csv",),
    reader=f"{_EV}:crosstask_items",
    spec=SPEC,
    synth="vttwins.companion.synth.downstream:write_crosstask",
)
