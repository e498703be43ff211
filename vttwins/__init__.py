"""vttwins — the runnable, tested companion to VT-TWINS (Ko et al., CVPR 2022).

    import vttwins
    loss = vttwins.SequenceContrastiveLoss()          # S2DTW sequence-contrastive loss (released defaults)
    d = vttwins.s2dtw(x, y)                           # x: (B, N, D), y: (B, M, D) -> (B,)

Public names are resolved lazily, so importing the package stays cheap and the alignment core never pulls in
the data or model code.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    "pairwise_cost": "vttwins.alignment",
    "soft_dtw": "vttwins.alignment",
    "s2dtw": "vttwins.alignment",
    "s2dtw_matrix": "vttwins.alignment",
    "soft_alignment": "vttwins.alignment",
    "hard_path": "vttwins.alignment",
    "SequenceContrastiveLoss": "vttwins.losses",
    "MILNCELoss": "vttwins.losses",
    "ClipInfoNCELoss": "vttwins.losses",
    "TemporalDataAugmentation": "vttwins.losses",
    "S3D": "vttwins.models",
    "Tokenizer": "vttwins.models",
    "FeatureVideoEncoder": "vttwins.models",
    "VideoTextModel": "vttwins.models",
    "load_pretrained": "vttwins.models.checkpoints",
    "HowToPretrainDataset": "vttwins.data",
    "fit": "vttwins.companion.training",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'vttwins' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__():
    return __all__
