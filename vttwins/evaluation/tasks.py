"""The registered tasks' evaluators, one uniform signature: (model, dataset, tokenizer, EvalConfig) -> DataFrame.

    df = youcook2(model, synth_paths, tokenizer, EvalConfig())   # = retrieval(model, ..., protocol="youcook2")

`registry.py` names these as "vttwins.evaluation.tasks:<name>" so that the registry stays a leaf module.
"""
from __future__ import annotations

import pandas as pd

from .action_recognition import action_recognition
from .config import EvalConfig
from .retrieval import retrieval
from .step_localization import step_localization


def youcook2(model, dataset, tokenizer, config: EvalConfig) -> pd.DataFrame:
    return retrieval(model, dataset, "youcook2", tokenizer, config)


def msrvtt(model, dataset, tokenizer, config: EvalConfig) -> pd.DataFrame:
    return retrieval(model, dataset, "msrvtt", tokenizer, config)


def crosstask(model, dataset, tokenizer, config: EvalConfig) -> pd.DataFrame:
    return step_localization(model, dataset, "crosstask", tokenizer, config)


def action(model, dataset, tokenizer, config: EvalConfig) -> pd.DataFrame:
    return action_recognition(model, dataset, tokenizer, config, kind=config.action_dataset)
