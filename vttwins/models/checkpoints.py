"""Load the public checkpoints and this project's own; save atomically.

    load_pretrained(model, "s3d_howto100m.pth")      # MIL-NCE: flat state dict, space-to-depth stem
    load_pretrained(model, "pretrained.pth.tar")     # VT-TWINS: same keys with a "module." prefix, plain stem
    save_checkpoint("runs/x/last.pt", {"model": model.state_dict(), "config": cfg, "step": 100, "vocab": words})
    state = load_checkpoint("runs/x/last.pt")

Formats recognised (docs/formats.md): a flat state dict; the same with `module.` (DataParallel / DDP); a training
checkpoint `{"state_dict": ..., "epoch", "optimizer", ...}`; this project's `{"model": ..., "config", "step",
"vocab"}`. Keys are matched to the model by stripping `module.` and adding or stripping one top-level prefix
(`s3d.` when a bare S3D checkpoint meets a pixel-mode VideoTextModel). The S3D stem is switched to match the
checkpoint's conv1 weight. Anything else that does not match raises CheckpointMismatch — no partial silent load.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import tempfile
from pathlib import Path
from typing import Any, Mapping, NamedTuple

import torch
from torch import nn
from vttwins.models.s3dg import S3D

log = logging.getLogger(__name__)
SHOW = 5  # keys listed per category in error messages


class CheckpointMismatch(ValueError):
    """The checkpoint's keys or shapes do not match the model."""


class LoadReport(NamedTuple):
    missing: list[str]
    unexpected: list[str]
    mapping: str  # how checkpoint keys were mapped, e.g. "strip 'module.', add 's3d.'"


def load_checkpoint(path: str | os.PathLike, weights_only: bool = True) -> Any:
    """torch.load on CPU. `weights_only=False` only for trusted files that pickle arbitrary objects."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    try:
        return torch.load(path, map_location="cpu", weights_only=weights_only)
    except Exception as err:  # unpickling errors come in many types; name the file and the way out
        hint = " (if you trust the file, pass weights_only=False)" if weights_only else ""
        raise ValueError(f"could not load checkpoint {path}: {err}{hint}") from err


def save_checkpoint(path: str | os.PathLike, state: Mapping[str, Any]) -> Path:
    """Write `state` atomically: a temp file in the same folder, fsync, then os.replace. Dataclasses -> dicts."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: _plain(v) for k, v in state.items()}
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def checkpoint_state(model: nn.Module, step: int = 0, vocab: list[str] | None = None, **extra) -> dict:
    """This project's checkpoint dict for `model` (a VideoTextModel carries its `config`)."""
    config = getattr(model, "config", None)
    return {
        "model": model.state_dict(),
        "config": _plain(config),
        "step": int(step),
        "vocab": list(vocab) if vocab is not None else None,
        **extra,
    }


def _plain(value):
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: str(v) if isinstance(v, Path) else v for k, v in dataclasses.asdict(value).items()}
    return value


def extract_state_dict(obj: Any) -> tuple[dict[str, torch.Tensor], dict | None]:
    """(state dict, saved config or None) from any recognised checkpoint object."""
    if isinstance(obj, Mapping):
        for key in ("model", "state_dict"):
            if isinstance(obj.get(key), Mapping):
                config = obj.get("config")
                return dict(obj[key]), config if isinstance(config, Mapping) else None
        if obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
            return dict(obj), None
    keys = sorted(obj)[:10] if isinstance(obj, Mapping) else type(obj).__name__
    raise ValueError(
        f"not a recognised checkpoint: expected a state dict, {{'state_dict': ...}} or {{'model': ...}}; found {keys}"
    )


def _candidates(model_keys: set[str], ckpt: dict[str, torch.Tensor]):
    """Yield (description, remapped state dict) for each prefix mapping worth trying."""
    base = {k[len("module.") :] if k.startswith("module.") else k: v for k, v in ckpt.items()}
    strip = "strip 'module.'" if any(k.startswith("module.") for k in ckpt) else "as is"
    yield strip, base
    for top in sorted({k.split(".", 1)[0] for k in model_keys}):
        yield f"{strip}, add '{top}.'", {f"{top}.{k}": v for k, v in base.items()}
    for top in sorted({k.split(".", 1)[0] for k in base}):
        if all(k.startswith(top + ".") for k in base):
            yield f"{strip}, strip '{top}.'", {k[len(top) + 1 :]: v for k, v in base.items()}


def _stem_plan(model: nn.Module, state: dict[str, torch.Tensor]) -> list[tuple[str, nn.Module, bool]]:
    """(state key, S3D, space_to_depth) for every S3D whose stem differs from the checkpoint's conv1 weight."""
    plan = []
    for name, module in model.named_modules():
        if isinstance(module, S3D):
            key = f"{name}.conv1.conv1.weight" if name else "conv1.conv1.weight"
            weight = state.get(key)
            if weight is not None and weight.dim() == 5 and weight.shape[1] in (3, 24):
                if (weight.shape[1] == 24) != module.space_to_depth:
                    plan.append((key, module, weight.shape[1] == 24))
    return plan


def _apply_stems(model: nn.Module, plan) -> None:
    for _, module, s2d in plan:
        log.info("checkpoint has the %s stem; switching the model's stem", "space-to-depth" if s2d else "plain")
        module.set_stem(s2d)
        if hasattr(model, "config") and hasattr(model.config, "space_to_depth"):
            model.config.space_to_depth = s2d


def load_pretrained(model: nn.Module, path_or_state: Any, strict: bool = True, weights_only: bool = True) -> LoadReport:
    """Load a checkpoint (path or already-loaded object) into `model`; see the module docstring.

    strict=False loads the keys present in both (shapes must still agree) and returns what was left out —
    for deliberate partial loads such as the text encoder alone.
    """
    source = str(path_or_state) if isinstance(path_or_state, (str, os.PathLike)) else "checkpoint"
    obj = (
        load_checkpoint(path_or_state, weights_only) if isinstance(path_or_state, (str, os.PathLike)) else path_or_state
    )
    ckpt, saved_config = extract_state_dict(obj)
    model_keys = set(model.state_dict())
    mapping, state = max(_candidates(model_keys, ckpt), key=lambda c: len(model_keys & c[1].keys()))
    plan = _stem_plan(model, state)
    target = {k: v.shape for k, v in model.state_dict().items()}
    for key, module, s2d in plan:  # shapes the stem will have; switched only once everything matches
        target[key] = torch.Size([target[key][0], *((24, 2, 4, 4) if s2d else (3, 3, 7, 7))])
    missing = [k for k in target if k not in state]
    unexpected = [k for k in state if k not in target]
    conflicts = [
        f"{k}: checkpoint {list(state[k].shape)} vs model {list(target[k])}"
        for k in target
        if k in state and state[k].shape != target[k]
    ]
    if conflicts or (strict and (missing or unexpected)):
        raise CheckpointMismatch(
            _mismatch_message(source, mapping, missing, unexpected, conflicts, model, saved_config)
        )
    _apply_stems(model, plan)
    model.load_state_dict({k: v for k, v in state.items() if k in target}, strict=strict)
    if missing or unexpected:
        log.warning("partial load from %s: %d missing, %d unexpected keys", source, len(missing), len(unexpected))
    return LoadReport(missing, unexpected, mapping)


def _mismatch_message(source, mapping, missing, unexpected, conflicts, model, saved_config) -> str:
    def first(items):
        more = f" ... (+{len(items) - SHOW} more)" if len(items) > SHOW else ""
        return "; ".join(items[:SHOW]) + more

    lines = [f"{source} does not match the model (keys mapped: {mapping}):"]
    for label, items in (("missing", missing), ("unexpected", unexpected), ("shape conflicts", conflicts)):
        if items:
            lines.append(f"  {len(items)} {label}: {first(items)}")
    width = getattr(getattr(model, "config", None), "width", getattr(model, "width", 1.0))
    if conflicts and width != 1.0:
        lines.append(f"  the model has width={width}; public checkpoints are full width (width=1.0)")
    if saved_config:
        lines.append(f"  checkpoint config: {dict(saved_config)}")
    return "\n".join(lines)
