"""The registered tasks' evaluators, one uniform signature: (model, dataset, tokenizer, EvalConfig) -> DataFrame.

    df = youcook2(model, synth_paths, tokenizer, EvalConfig())   # = retrieval(model, ..., protocol="youcook2")

`registry.py` names these as "vttwins.evaluation.tasks:<name>" so that the registry stays a leaf module.
"""
from __future__ import annotations

import logging

import pandas as pd

from .action_recognition import action_recognition
from .common import dataset_path
from .config import EvalConfig
from .retrieval import retrieval
from .step_localization import step_localization

log = logging.getLogger(__name__)


def youcook2(model, dataset, tokenizer, config: EvalConfig) -> pd.DataFrame:
    return retrieval(model, dataset, "youcook2", tokenizer, config)


def msrvtt(model, dataset, tokenizer, config: EvalConfig) -> pd.DataFrame:
    return retrieval(model, dataset, "msrvtt", tokenizer, config)


def crosstask(model, dataset, tokenizer, config: EvalConfig) -> pd.DataFrame:
    """Standard and ordered recall; CTR accuracy too when the flat CSV (`crosstask_flat_csv`) is there."""
    flat = dataset_path(dataset, "crosstask", "flat_csv", required=False)
    if flat is not None and flat.exists():
        return step_localization(model, dataset, "crosstask", tokenizer, config)
    log.warning("crosstask: no flat CSV (eval.paths.crosstask_flat_csv = %s), so the CTR protocol is skipped; "
                "docs/data.md shows how to write one", flat)
    return step_localization(model, dataset, "crosstask", tokenizer, config, variants=("standard", "ordered"))


def action(model, dataset, tokenizer, config: EvalConfig) -> pd.DataFrame:
    return action_recognition(model, dataset, tokenizer, config, kind=config.action_dataset)
