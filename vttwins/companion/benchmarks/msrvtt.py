"""MSR-VTT-style text-video retrieval: the benchmark's one `Task` (`BENCHMARK`).

    from vttwins.companion.benchmarks.registry import TASKS
    TASKS["msrvtt"].evaluator()(model, dataset, tokenizer, EvalConfig())   # tidy rows, one per metric

Reader: `vttwins.data.msrvtt` (read_msrvtt_csv);
table: `vttwins.companion.evaluation.tables.retrieval_table`; notebook 04.
SynthHowTo split: `SPLIT` (`vttwins.companion.synth`: maker `videos.make_msrvtt`,
writer `downstream.write_msrvtt`).
Evaluator, reader and SynthHowTo functions are named by string (why: `vttwins.companion.benchmarks`).
"""

from __future__ import annotations

from .split import SynthSplit
from .task import Task, modes
from .retrieval_common import retrieval_spec

_EV = "vttwins.companion.evaluation.tasks"  # evaluator and reader, named so the registry imports nothing heavy
_SY = "vttwins.companion.synth."  # SynthHowTo maker, writer, counts

SPLIT = SynthSplit(
    "msrvtt",
    seed_code=3,
    count=f"{_SY}downstream:msrvtt_count",
    make=f"{_SY}videos:make_msrvtt",
    write=f"{_SY}downstream:write_msrvtt",
    summary=f"{_SY}downstream:msrvtt_summary",
    readme=("- `msrvtt/` — `key,vid_key,video_id,sentence`, short single-step videos.\n"),
)


BENCHMARK = Task(
    "msrvtt",
    f"{_EV}:msrvtt",
    "vttwins.companion.evaluation.tables:retrieval_table",
    "MSR-VTT-style text-video retrieval",
    modes("msrvtt", "msrvtt_csv"),
    reader=f"{_EV}:msrvtt_items",
    spec=retrieval_spec("04_retrieval_msrvtt", "msrvtt", "MSR-VTT-style"),
    synth=SPLIT,
)
