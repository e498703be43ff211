"""The one registry of training objectives: `loss.name` -> builder, options, own defaults, label, colour.

    from vttwins import objectives
    obj = objectives.get("mil_nce")
    obj.label, obj.color, obj.sequence, obj.defaults      # 'MIL-NCE', '#27ae60', False, {'temperature': 1.0, ...}
    objectives.names(sequence=True)                       # the DTW-family losses, registration order

Config validation (`loss.name`), the loss builder, the ablation grids, the plots and the tables all read this
registry. Adding a DTW variant = its alignment options (flags of `vttwins.alignment.s2dtw_matrix`) + one
`register(Objective(...))` + its tests (docs/method.md §4-§6 for the released members).

`defaults` are the objective's OWN values of the derived loss keys (`DERIVED`: temperature, normalize, tda). The
config leaves them unset (None) until the objective is known and resolves them after every override, so one
objective never inherits another's (a grid cell `loss.name=mil_nce` built from an S2DTW profile is not
L2-normalised). This module imports nothing of vttwins at import time: `config` sits to its left.
"""

from __future__ import annotations

import dataclasses
from types import MappingProxyType
from typing import Any, Callable, Mapping

DERIVED = ("temperature", "normalize", "tda")  # loss keys whose default depends on the objective


@dataclasses.dataclass(frozen=True)
class Objective:
    """One training objective.

    name: the `loss.name` value. label: the name in tables and figures. color: matplotlib colour.
    build: `build(loss_config) -> nn.Module` (the loss config's derived keys already resolved).
    alignment: for sequence losses, keyword flags of `s2dtw_matrix` (`smooth`, `weak`) plus `hard` (gamma
    forced to 0); None for clip-level losses. defaults: the objective's own values of `DERIVED`.
    options: extra keyword arguments the builder passes to the loss (e.g. a skip-cost schedule).
    in_study: listed by `losses: all` in a profile (notebook 02's grid); False for a diagnostic variant that a
    profile names explicitly when it wants it.
    """

    name: str
    label: str
    color: str
    build: Callable[[Any], Any]
    alignment: Mapping[str, bool] | None = None
    defaults: Mapping[str, Any] = dataclasses.field(
        default_factory=lambda: {"temperature": 1.0, "normalize": True, "tda": False}
    )
    options: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    description: str = ""
    in_study: bool = True

    @property
    def sequence(self) -> bool:
        """True for the DTW-family (sequence-contrastive) losses: they see whole sequences, not clip pairs."""
        return self.alignment is not None


_REGISTRY: dict[str, Objective] = {}


def register(objective: Objective, replace: bool = False) -> Objective:
    """Add an objective; an existing name raises ValueError unless `replace`."""
    if objective.name in _REGISTRY and not replace:
        raise ValueError(f"objective {objective.name!r} is already registered")
    missing = sorted(set(DERIVED) - set(objective.defaults))
    if missing:
        raise ValueError(f"objective {objective.name!r}: defaults must set {', '.join(DERIVED)}; missing {missing}")
    if objective.alignment is not None:
        unknown = sorted(set(objective.alignment) - {"smooth", "weak", "hard"})
        if unknown:
            raise ValueError(
                f"objective {objective.name!r}: unknown alignment option {unknown[0]!r} (allowed: smooth, weak, hard)"
            )
    _REGISTRY[objective.name] = objective
    return objective


def unregister(name: str) -> None:
    """Remove an objective (tests that register a toy variant clean up with this)."""
    get(name)
    del _REGISTRY[name]


def get(name: str) -> Objective:
    """The objective named `name` (a `loss.name` or a table label); unknown raises ValueError listing the names."""
    if name in _REGISTRY:
        return _REGISTRY[name]
    for obj in _REGISTRY.values():
        if obj.label == name:
            return obj
    raise ValueError(f"unknown objective {name!r}; choose from {', '.join(_REGISTRY)}")


def names(sequence: bool | None = None, in_study: bool | None = None) -> tuple[str, ...]:
    """Registered names in registration order; `sequence=True/False` keeps only sequence / clip losses,
    `in_study=True` only those a profile's `losses: all` lists."""
    return tuple(
        n
        for n, o in _REGISTRY.items()
        if (sequence is None or o.sequence == sequence) and (in_study is None or o.in_study == in_study)
    )


def label(name: str) -> str:
    return get(name).label


def color(name: str, fallback: str = "C0") -> str:
    """Colour of an objective by name or label; `fallback` for anything else (e.g. 'untrained', 'chance')."""
    try:
        return get(str(name)).color
    except ValueError:
        return fallback


def resolve(loss) -> None:
    """Fill the unset (None) derived keys of a LossConfig with its objective's own defaults, in place."""
    obj = get(loss.name)
    for key in DERIVED:
        if getattr(loss, key) is None:
            setattr(loss, key, obj.defaults[key])


class RegisteredNames:
    """A live, read-only sequence view of registered names (config validation reads the current registry)."""

    def __init__(self, sequence: bool | None = None):
        self._sequence = sequence

    def __iter__(self):
        return iter(names(self._sequence))

    def __contains__(self, name) -> bool:
        return name in names(self._sequence)

    def __len__(self) -> int:
        return len(names(self._sequence))

    def __getitem__(self, i):
        return names(self._sequence)[i]

    def __repr__(self) -> str:
        return repr(names(self._sequence))


# ------------------------------------------------------------------------------------------- builders
def build_sequence(loss, objective: Objective):
    """SequenceContrastiveLoss of a DTW-family objective from a resolved LossConfig; `options["loss_class"]` (a
    name in vttwins.losses) picks a subclass, the other options are its extra keyword arguments."""
    import torch
    from torch import nn

    from vttwins import losses  # deferred: torch

    options = dict(objective.options)
    cls = getattr(losses, options.pop("loss_class", "SequenceContrastiveLoss"))

    def maybe_param(value, learn):
        return nn.Parameter(torch.tensor(float(value))) if learn else value

    if objective.alignment.get("hard") and loss.learn_gamma:
        raise ValueError(f"loss.learn_gamma=true does nothing for loss.name={loss.name!r} (hard DTW forces gamma = 0)")
    sharpness = options.pop("sharpness", loss.tda_sharpness)  # a variant may fix its own TDA sharpness
    if sharpness != loss.tda_sharpness and loss.tda_sharpness != _DEFAULT_SHARPNESS:
        raise ValueError(
            f"loss.tda_sharpness={loss.tda_sharpness} is ignored by loss.name={loss.name!r}, which fixes "
            f"sharpness {sharpness}; use s2dtw_tda with loss.tda_sharpness instead"
        )
    return cls(
        alignment=dict(objective.alignment),
        gamma=maybe_param(loss.gamma, loss.learn_gamma),
        smooth_gamma=loss.smooth_gamma,
        tau=maybe_param(loss.tau, loss.learn_tau),
        direction=loss.direction,
        temperature=loss.temperature,
        tda=loss.tda,
        max_shift=loss.tda_max_shift,
        sharpness=sharpness,
        **options,
    )


def _clip_only(loss) -> None:
    if loss.learn_gamma or loss.learn_tau or loss.tda:
        raise ValueError(f"loss.learn_gamma/learn_tau/tda apply to the sequence losses only, not {loss.name!r}")


def _build_mil_nce(loss, objective):
    from vttwins.losses import MILNCELoss  # deferred: torch

    _clip_only(loss)
    return MILNCELoss(num_candidates=loss.num_candidates, temperature=loss.temperature)


def _build_clip_nce(loss, objective):
    from vttwins.losses import ClipInfoNCELoss  # deferred: torch

    _clip_only(loss)
    return ClipInfoNCELoss(temperature=loss.temperature)


def build(loss):
    """The loss module of a resolved LossConfig (its objective's builder)."""
    obj = get(loss.name)
    return obj.build(loss, obj)


_DEFAULT_SHARPNESS = 50.0  # LossConfig.tda_sharpness's default (docs/method.md §5)


def _d(temperature=1.0, normalize=True, tda=False):
    return MappingProxyType({"temperature": temperature, "normalize": normalize, "tda": tda})


def _a(smooth, weak, hard=False):
    return MappingProxyType({"smooth": smooth, "weak": weak, "hard": hard})


# Registration order = the order of ablation tables and bars: clip baselines, then DTW components added one by one.
for _obj in (
    Objective(
        "mil_nce",
        "MIL-NCE",
        "#27ae60",
        _build_mil_nce,
        None,
        _d(1.0, False),
        description="clip-level MIL-NCE, raw dot products (docs/method.md §6)",
    ),
    Objective(
        "clip_nce",
        "clip InfoNCE",
        "#8e44ad",
        _build_clip_nce,
        None,
        _d(0.07, True),
        description="symmetric clip-level InfoNCE on cosines, CLIP temperature 0.07",
    ),
    Objective(
        "dtw",
        "hard DTW",
        "#7f8c8d",
        build_sequence,
        _a(False, False, hard=True),
        _d(),
        description="hard DTW on -<x, y> (gamma forced to 0)",
    ),
    Objective(
        "soft_dtw", "soft-DTW", "#2471a3", build_sequence, _a(False, False), _d(), description="soft-DTW on -<x, y>"
    ),
    Objective(
        "s2dtw_smooth_only",
        "soft-DTW + smoothing",
        "#5dade2",
        build_sequence,
        _a(True, False),
        _d(),
        description="soft-DTW on the locally smoothed cost (docs/method.md §3)",
    ),
    Objective(
        "s2dtw_weak_only",
        "soft-DTW + weak alignment",
        "#f1948a",
        build_sequence,
        _a(False, True),
        _d(),
        description="soft-DTW on the weak-alignment lattice with skip cost tau",
    ),
    Objective(
        "s2dtw",
        "S2DTW",
        "#c0392b",
        build_sequence,
        _a(True, True),
        _d(),
        description="the released S2DTW: smoothing + weak alignment (docs/method.md §3-§4)",
    ),
    Objective(
        "s2dtw_tda",
        "S2DTW + TDA",
        "#e67e22",
        build_sequence,
        _a(True, True),
        _d(tda=True),
        description="S2DTW with temporal data augmentation (docs/method.md §5)",
    ),
    Objective(
        "s2dtw_tda_strong",
        "S2DTW + strong TDA",
        "#f5b041",
        build_sequence,
        _a(True, True),
        _d(tda=True),
        options=MappingProxyType({"sharpness": 10.0}),
        description="S2DTW with TDA at sharpness 10: the released 50 keeps the identity for almost every "
        "sequence (results/tables/tda_permutations.md), so this variant is the one that permutes",
        in_study=False,
    ),
    Objective(
        "s2dtw_skip_warmup",
        "S2DTW + skip-cost warm-up",
        "#7b241c",
        build_sequence,
        _a(True, True),
        _d(),
        options=MappingProxyType({"loss_class": "SkipCostWarmupLoss", "tau_start": 2.0, "warmup_steps": 50}),
        description="opt-in collapse remedy: skip cost 2 -> tau over the first 50 steps (not released)",
    ),
):
    register(_obj)
