"""vttwins.evaluation — the downstream protocols of docs/method.md §8 on a trained model.

    from vttwins.evaluation import EvalConfig, retrieval, step_localization, action_recognition, evaluate_run
    df = retrieval(model, synth_paths, protocol="youcook2", tokenizer=tok)   # tidy DataFrame with a chance column
    tables = evaluate_run("runs/x")                                          # writes runs/x/eval/<task>.csv
    TASKS["youcook2"]                                                        # the task registry (registry.py)
    python -m vttwins evaluate --run runs/x [--tasks youcook2 crosstask]

Every function returns a tidy DataFrame with the columns `COLUMNS`; every row carries the chance level of its
metric, computed from the evaluated data (`chance.py`). Tie rule: pessimistic (see `metrics.py`).
"""
from __future__ import annotations

# Eager on purpose: the modules retrieval.py / step_localization.py / action_recognition.py share their names with
# the functions, and a lazily imported submodule would shadow the function on the package.
from .action_recognition import action_recognition
from .cli import cli_main
from .common import COLUMNS, KEYS
from .config import EvalConfig
from .registry import TASKS, Task, register
from .retrieval import retrieval
from .run import evaluate_model, evaluate_run
from .step_localization import step_localization

__all__ = ["COLUMNS", "EvalConfig", "KEYS", "TASKS", "Task", "action_recognition", "cli_main", "evaluate_model",
           "evaluate_run", "register", "retrieval", "step_localization"]
