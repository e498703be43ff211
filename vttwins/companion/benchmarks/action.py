"""Action recognition (linear probe and zero-shot, HMDB/UCF-style splits): the benchmark's one `Task`.

    from vttwins.companion.benchmarks.registry import TASKS
    TASKS["action"].evaluator()(model, dataset, tokenizer, EvalConfig())   # tidy rows, one per metric

Reader: `vttwins.data.actions` (read_action_csv);
table: `vttwins.companion.evaluation.tables.action_table`; notebook 06.
SynthHowTo split: `SPLIT` (`vttwins.companion.synth`: maker `videos.make_action`,
writer `downstream.write_actions`).
Evaluator, reader and SynthHowTo functions are named by string (why: `vttwins.companion.benchmarks`).
"""

from __future__ import annotations

from vttwins.companion.outputs import NotebookSpec, Table, effects_table

from .split import SynthSplit
from .task import Task, modes

_EV = "vttwins.companion.evaluation.tasks"  # evaluator and reader, named so the registry imports nothing heavy
_SY = "vttwins.companion.synth."  # SynthHowTo maker, writer, counts

SPLIT = SynthSplit(
    "actions",
    seed_code=5,
    count=f"{_SY}downstream:action_count",
    make=f"{_SY}videos:make_action",
    write=f"{_SY}downstream:write_actions",
    summary=f"{_SY}downstream:action_summary",
    readme=(
        "- `actions/` — HMDB-style `video_id,label,split1,split2,split3` (class = verb) and official split files.\n"
    ),
)


SPEC = NotebookSpec(
    "06_action_recognition",
    "Action recognition: linear probe and zero-shot",
    tables=(
        Table(
            "action_recognition",
            "action recognition top-1: linear probe and zero-shot, per split and mean",
            ("model", "protocol", "mean"),
        ),
        effects_table("action_recognition", "Action recognition"),
    ),
)

BENCHMARK = Task(
    "action",
    f"{_EV}:action",
    "vttwins.companion.evaluation.tables:action_table",
    "Action recognition: linear probe and zero-shot",
    modes("action", "action_csv"),
    reader=f"{_EV}:action_items",
    spec=SPEC,
    synth=SPLIT,
)
