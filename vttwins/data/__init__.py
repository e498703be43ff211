"""vttwins.data — files to tensors: SynthHowTo, PyAV video reading, HowTo100M pretraining, downstream readers.

    from vttwins.data import HowToPretrainDataset, read_clip, read_youcook2_csv
    from vttwins.companion.synth import PROFILES, ensure_synth

Names resolve lazily so `vttwins.companion.synth` (numpy + PyAV) never imports torch.
"""
from __future__ import annotations

import importlib

_EXPORTS = {
    "DataFileError": "vttwins.data.errors",
    "ErrorPolicy": "vttwins.data.errors",
    "read_clip": "vttwins.data.video",
    "read_video": "vttwins.data.video",
    "probe_video": "vttwins.data.video",
    "find_video": "vttwins.data.video",
    "load_features": "vttwins.data.features",
    "feature_window": "vttwins.data.features",
    "feature_path": "vttwins.data.features",
    "CaptionStore": "vttwins.data.captions",
    "HowToPretrainDataset": "vttwins.data.howto100m",
    "collate_pretrain": "vttwins.data.howto100m",
    "read_howto_csv": "vttwins.data.howto100m",
    "read_youcook2_csv": "vttwins.data.youcook2",
    "read_youcook2_json": "vttwins.data.youcook2",
    "read_msrvtt_csv": "vttwins.data.msrvtt",
    "read_crosstask": "vttwins.data.crosstask",
    "read_crosstask_flat": "vttwins.data.crosstask",
    "CrossTaskData": "vttwins.data.crosstask",
    "CrossTaskTask": "vttwins.data.crosstask",
    "read_action_csv": "vttwins.data.actions",
    "read_hmdb_splits": "vttwins.data.actions",
    "read_ucf_splits": "vttwins.data.actions",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'vttwins.data' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__():
    return __all__
