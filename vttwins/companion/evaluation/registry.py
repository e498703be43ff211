"""The downstream-task registry, re-exported: it lives in `vttwins.companion.benchmarks.registry` (below SynthHowTo,
whose generator reads it).

    from vttwins.companion.evaluation.registry import TASKS, Task, register
"""

from __future__ import annotations

from vttwins.companion.benchmarks.registry import (
    TASKS,
    Ref,
    SynthSplit,
    Task,
    default_tasks,
    get,
    modes,
    register,
    synth_splits,
    unregister,
)

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
