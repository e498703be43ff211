"""vttwins.evaluation — the downstream protocols of METHOD.md §8 on a trained model.

    from vttwins.evaluation import EvalConfig, retrieval, step_localization, action_recognition, evaluate_run
    df = retrieval(model, synth_paths, protocol="youcook2", tokenizer=tok)   # tidy DataFrame with a chance column
    tables = evaluate_run("runs/x")                                          # writes runs/x/eval/<task>.csv
    python -m vttwins evaluate --run runs/x [--tasks youcook2 crosstask]

Every function returns a tidy DataFrame with the columns `COLUMNS`; every row carries the chance level of its
metric, computed from the evaluated data (`chance.py`). Tie rule: pessimistic (see `metrics.py`).
"""
from __future__ import annotations

import importlib

from .config import TASKS, EvalConfig

_LAZY = {
    "retrieval": "vttwins.evaluation.retrieval",
    "step_localization": "vttwins.evaluation.step_localization",
    "action_recognition": "vttwins.evaluation.action_recognition",
    "evaluate_run": "vttwins.evaluation.run",
    "evaluate_model": "vttwins.evaluation.run",
    "cli_main": "vttwins.evaluation.run",
    "COLUMNS": "vttwins.evaluation.common",
}

__all__ = ["EvalConfig", "TASKS"] + sorted(_LAZY)


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'vttwins.evaluation' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
