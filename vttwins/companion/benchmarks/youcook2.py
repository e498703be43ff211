"""YouCook2-style text-video retrieval: the benchmark's one `Task` (`BENCHMARK`).

    from vttwins.companion.benchmarks.registry import TASKS
    TASKS["youcook2"].evaluator()(model, dataset, tokenizer, EvalConfig())   # tidy rows, one per metric

Reader: `vttwins.data.youcook2` (read_youcook2_csv);
table: `vttwins.companion.evaluation.tables.retrieval_table`; notebook 03.
SynthHowTo split: `SPLIT` (`vttwins.companion.synth`: maker `videos.make_youcook2`,
writer `downstream.write_youcook2`).
Evaluator, reader and SynthHowTo functions are named by string (why: `vttwins.companion.benchmarks`).
"""

from __future__ import annotations

from .split import SynthSplit
from .task import Task, modes
from .retrieval_common import retrieval_spec

_EV = "vttwins.companion.evaluation.tasks"  # evaluator and reader, named so the registry imports nothing heavy
_SY = "vttwins.companion.synth."  # SynthHowTo maker, writer, counts

SPLIT = SynthSplit(
    "youcook2",
    seed_code=2,
    count=f"{_SY}downstream:youcook2_count",
    make=f"{_SY}videos:make_youcook2",
    write=f"{_SY}downstream:write_youcook2",
    summary=f"{_SY}downstream:youcook2_summary",
    readme=(
        "- `youcook2/` — validation CSV `end,start,task,text,video_id` (held-out paraphrases) and the official-style"
        " JSON;\n"
        "  videos `videos/<task>/<vid>.mp4`.\n"
    ),
)


BENCHMARK = Task(
    "youcook2",
    f"{_EV}:youcook2",
    "vttwins.companion.evaluation.tables:retrieval_table",
    "YouCook2-style text-video retrieval",
    modes("youcook2", "youcook2_csv"),
    reader=f"{_EV}:youcook2_items",
    spec=retrieval_spec("03_retrieval_youcook2", "youcook2", "YouCook2-style"),
    synth=SPLIT,
)
