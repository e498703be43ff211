"""CrossTask step localization (standard and ordered recall, CTR accuracy): the benchmark's one `Task`.

    from vttwins.companion.benchmarks.registry import TASKS
    TASKS["crosstask"].evaluator()(model, dataset, tokenizer, EvalConfig())   # tidy rows, one per metric

Reader: `vttwins.data.crosstask` (read_crosstask, read_crosstask_flat);
tables: `vttwins.companion.evaluation.tables.crosstask_tables`; notebook 05.
SynthHowTo split: `SPLIT` (`vttwins.companion.synth`: maker `videos.make_crosstask`,
writer `downstream.write_crosstask`).
Evaluator, reader and SynthHowTo functions are named by string (why: `vttwins.companion.benchmarks`).
"""

from __future__ import annotations

from vttwins.companion.outputs import NotebookSpec, Table, effects_table

from .split import SynthSplit
from .task import Task, modes

_EV = "vttwins.companion.evaluation.tasks"  # evaluator and reader, named so the registry imports nothing heavy
_SY = "vttwins.companion.synth."  # SynthHowTo maker, writer, counts

SPLIT = SynthSplit(
    "crosstask",
    seed_code=4,
    count=f"{_SY}downstream:crosstask_count",
    make=f"{_SY}videos:make_crosstask",
    write=f"{_SY}downstream:write_crosstask",
    summary=f"{_SY}downstream:crosstask_summary",
    readme=(
        "- `crosstask/` — official layout in `crosstask_release/` plus the flattened `crosstask_flat.csv`; videos\n"
        "  `videos/<task>/<vid>.mp4`.\n"
    ),
)


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
        effects_table("step_localization_crosstask", "CrossTask step localization"),
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
    synth=SPLIT,
)
