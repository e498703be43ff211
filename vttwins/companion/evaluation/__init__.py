"""vttwins.companion.evaluation — the downstream protocols of docs/method.md §8 on a trained model.

    from vttwins.companion.evaluation import EvalConfig, retrieval, step_localization, action_recognition, evaluate_run
    df = retrieval(model, synth_paths, protocol="youcook2", tokenizer=tok)   # tidy DataFrame with a chance column
    tables = evaluate_run("runs/x")                                          # writes runs/x/eval/<task>.csv
    TASKS["youcook2"]                                                        # the task registry (companion/benchmarks/registry.py)
    python -m vttwins evaluate --run runs/x [--tasks youcook2 crosstask]

Every function returns a tidy DataFrame with the columns `COLUMNS`; every row carries the chance level of its
metric, computed from the evaluated data (`chance.py`). Tie rule: pessimistic (see `metrics.py`).
Names resolve lazily (`vttwins.exports`), so `vttwins.companion.config` (which reads `evaluation.config`) loads no evaluator,
scipy or scikit-learn. `retrieval`, `step_localization` and `action_recognition` are the functions, not the
modules of the same name, however those are imported.
"""

from vttwins.exports import lazy_exports

_SHADOWED = ("action_recognition", "retrieval", "step_localization")
__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        **{name: f"vttwins.companion.evaluation.{name}" for name in _SHADOWED},
        "cli_main": "vttwins.companion.evaluation.cli",
        "COLUMNS": "vttwins.companion.evaluation.common",
        "KEYS": "vttwins.companion.evaluation.common",
        "EvalConfig": "vttwins.companion.evaluation.config",
        "TASKS": "vttwins.companion.benchmarks.registry",
        "Task": "vttwins.companion.benchmarks.registry",
        "register": "vttwins.companion.benchmarks.registry",
        "evaluate_model": "vttwins.companion.evaluation.run",
        "evaluate_run": "vttwins.companion.evaluation.run",
    },
    shadowed=_SHADOWED,
)
