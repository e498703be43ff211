"""The registry's machinery, re-exported: it lives in `vttwins.companion.benchmarks.task` (and `.split`).

from vttwins.companion.evaluation.task import Task, register
"""

from __future__ import annotations

from vttwins.companion.benchmarks.split import SynthSplit
from vttwins.companion.benchmarks.task import TASKS, Ref, Task, default_tasks, get, modes, register, resolve, unregister

__all__ = ["TASKS", "Ref", "SynthSplit", "Task", "default_tasks", "get", "modes", "register", "resolve", "unregister"]
