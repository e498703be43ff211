"""Run configuration: one dataclass per component, profiles in `configs/<name>.yaml`, `key=value` overrides.

    from vttwins.config import load_config
    config = load_config("smoke", ["train.steps=20", "loss.name=mil_nce", "output_dir=runs/x"])
    config.loss.gamma, config.model.mode

A profile is `configs/<name>.yaml` (or any yaml path) with the sections `data, model, loss, optim, train, eval,
grid, notebooks` (`grid` says where the cells of a grid run, never what they compute: docs/cluster.md). Every section except `notebooks` (validated by the pipeline against the notebooks' parameter cells) maps onto a
dataclass; an unknown section or key anywhere
raises `ValueError` naming the dotted key and the keys allowed there. Override values are parsed as YAML
(`train.amp=none`, `loss.gamma=0.05`, `data.synth={n_videos: 64}`); `output_dir=DIR` and `data_dir=DIR` are
shorthands for `train.output_dir` and `data.root`.
"""
from __future__ import annotations

import types
import typing
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any, Mapping

import yaml

# Section dataclasses owned by other rooms, imported from their leaf modules (they import nothing else of ours),
# so reading a config never pulls in training or evaluation code: config.py sits below them, not beside them.
from vttwins.data.synth.config import NoiseConfig, SynthConfig
from vttwins.evaluation.config import EvalConfig
from vttwins.models.model import ModelConfig
from vttwins import objectives
from vttwins.config_ranges import check_finite, check_grid, check_ranges
from vttwins.paths import CONFIG_DIR, profile_path  # noqa: F401  (re-exported)

SECTIONS = ("data", "model", "loss", "optim", "train", "eval", "grid", "notebooks")
ALIASES = {"output_dir": "train.output_dir", "data_dir": "data.root"}
# Live views of the objective registry (vttwins.objectives): a variant registered later is a valid loss.name.
LOSSES = objectives._Names()
SEQUENCE_LOSSES = objectives._Names(sequence=True)


@dataclass
class DataConfig:
    """Where the pretraining videos/captions are and how a training item is cut (docs/formats.md, docs/method.md §7).

    With `video_list_csv` unset the data is SynthHowTo in `root` (default `data/synth/<synth_profile>`),
    generated on first use with `vttwins.data.synth.PROFILES[synth_profile]` updated by `synth`. The clip's
    feature window and the caption length come from the model section (`model.feature_window`, `model.max_words`).
    """
    root: str | None = None                 # SynthHowTo folder; None -> data/synth/<synth_profile>
    synth_profile: str = "smoke"
    synth: dict = field(default_factory=dict)   # overrides of SynthConfig fields
    video_list_csv: str | None = None       # real HowTo100M: set these (None = SynthHowTo)
    caption_root: str | None = None
    video_root: str | None = None           # pixel mode
    feature_root: str | None = None         # feature mode
    dict_path: str | None = None            # dict.npy vocabulary; None -> built from the pretraining captions
    num_workers: int = 0
    n_clips: int = 8
    clip_seconds: float = 3.2
    num_frames: int = 32
    fps: float = 10.0
    size: int = 224
    crop: str = "random"
    hflip: float = 0.5
    on_error: str = "skip"

    @property
    def synthetic(self) -> bool:
        return self.video_list_csv is None


@dataclass
class LossConfig:
    """The training objective (docs/method.md §4–§6); `name` is a key of `vttwins.objectives`.

    `temperature`, `normalize` and `tda` left None take the objective's OWN defaults (`objectives.get(name).defaults`:
    e.g. MIL-NCE raw dot products at temperature 1, clip InfoNCE 0.07), resolved after every override; switching
    `loss.name` by an override resets them unless the same override sets them (see `apply_overrides`).
    """
    name: str = "s2dtw"
    gamma: float = 0.1
    smooth_gamma: float = 0.1
    tau: float = 0.5
    direction: str = "text"
    temperature: float | None = None        # None -> the objective's own (1.0; clip_nce 0.07)
    tda: bool | None = None                 # None -> the objective's own (True only for s2dtw_tda)
    tda_max_shift: int = 2
    tda_sharpness: float = 50.0
    num_candidates: int = 4
    normalize: bool | None = None           # None -> the objective's own (False only for mil_nce)
    learn_gamma: bool = False
    learn_tau: bool = False


@dataclass
class OptimConfig:
    """Adam with a per-step linear warm-up then cosine decay to `min_lr_ratio * lr` (released defaults)."""
    lr: float = 1e-3
    warmup_steps: int = 0
    weight_decay: float = 0.0
    betas: tuple[float, float] = (0.9, 0.999)
    grad_clip: float | None = None          # max global grad norm; None = no clipping
    schedule: str = "cosine"                # "cosine" | "constant"
    min_lr_ratio: float = 0.0


@dataclass
class TrainConfig:
    """Loop, checkpoints and devices. `batch_size` is global (videos per step over all processes)."""
    steps: int | None = None                # exactly one of steps / epochs
    epochs: int | None = None
    batch_size: int = 16
    seed: int = 1
    log_every: int = 10
    checkpoint_every: int = 500
    keep_checkpoints: int = 2
    output_dir: str = "runs/default"
    resume: bool = False
    amp: str = "auto"                       # auto (bf16 on CUDA, off on CPU) | none | bf16 | fp16 (CUDA only)
    device: str = "auto"                    # auto | cpu | cuda
    progress: str = "auto"                  # auto (tqdm on a TTY) | bar | log
    sync_batchnorm: bool = False            # pixel mode, several CUDA processes: BatchNorm statistics over the
                                            #   global batch (torch SyncBatchNorm; CUDA only). Off = per process


@dataclass
class SlurmConfig:
    """`grid.executor=slurm`: submitit's executor, one job per grid cell (an array job). `cluster` local/debug are
    submitit's local-process and in-process executors (no Slurm needed: tests, debugging)."""
    partition: str | None = None            # None = the cluster's default partition
    time: int = 60                          # minutes a cell may run (submitit timeout_min)
    cpus: int = 1                           # CPUs per cell
    gpus: int = 0                           # GPUs per cell
    folder: str = "runs/slurm"              # submitit's job files and logs (on the shared filesystem)
    cluster: str = "slurm"                  # slurm | local | debug


@dataclass
class GridConfig:
    """Where the cells of a grid (notebooks 02, 10, sweeps) run: one task per distinct run, keyed by its run-cache
    key; the results are the same on every executor, so no `grid` key enters a run's key (docs/cluster.md)."""
    executor: str = "local"                 # local (process pool here) | ray | slurm (submitit)
    workers: int = 1                        # local: processes (1 = in this process); ray without an address: the
                                            #   CPUs of the local Ray instance; slurm: cells running at once
    ray_address: str | None = None          # ray: "auto", "ray://host:10001", ...; None = start a local instance
    slurm: SlurmConfig = field(default_factory=SlurmConfig)


EXECUTORS = ("local", "ray", "slurm")


def _section_types() -> dict[str, Any]:
    return {"data": DataConfig, "model": ModelConfig, "loss": LossConfig, "optim": OptimConfig,
            "train": TrainConfig, "eval": EvalConfig, "grid": GridConfig, "notebooks": dict}


@dataclass
class Config:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    grid: GridConfig = field(default_factory=GridConfig)
    notebooks: dict = field(default_factory=dict)


# ------------------------------------------------------------------------------------------- building
def _allowed(cls) -> list[str]:
    return [f.name for f in fields(cls)]


def _coerce(value: Any, hint: Any, key: str) -> Any:
    """Light type check/conversion of a YAML value against a dataclass field's annotation."""
    if hint is Any or value is None:
        return value
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        errors = []
        for option in options:
            try:
                return _coerce(value, option, key)
            except ValueError as exc:
                errors.append(str(exc))
        raise ValueError(errors[0])
    if origin is tuple or hint is tuple:
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"config key '{key}' expects a list, got {value!r}")
        if args and args[-1] is not ... and len(value) != len(args):
            raise ValueError(f"config key '{key}' expects exactly {len(args)} values, got {list(value)!r}")
        return tuple(_coerce(v, a, key) for v, a in zip(value, args)) if args and args[-1] is not ... \
            else tuple(value)
    if origin in (list, dict) or hint in (list, dict):
        if not isinstance(value, origin or hint):
            raise ValueError(f"config key '{key}' expects a {(origin or hint).__name__}, got {value!r}")
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise ValueError(f"config key '{key}' expects true/false, got {value!r}")
        return value
    if hint is float:
        if isinstance(value, str):  # YAML 1.1 reads `1e-4` (no dot) as a string
            try:
                value = float(value)
            except ValueError:
                pass
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"config key '{key}' expects a number, got {value!r}")
        return float(value)
    if hint is int:
        if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, float) and value.is_integer())):
            raise ValueError(f"config key '{key}' expects an integer, got {value!r}")
        return int(value)
    if hint is str:
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise ValueError(f"config key '{key}' expects a string, got {value!r}")
        return str(value)
    return value


def build_dataclass(cls, values: Mapping[str, Any] | None, prefix: str):
    """`cls(**values)` with every key checked: unknown keys raise ValueError naming `prefix.key` and the allowed."""
    values = dict(values or {})
    if not isinstance(values, dict):
        raise ValueError(f"config section '{prefix}' must be a mapping, got {values!r}")
    allowed = _allowed(cls)
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise ValueError(f"unknown config key '{prefix}.{unknown[0]}'; allowed keys in '{prefix}': "
                         f"{', '.join(allowed)}")
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for name, value in values.items():
        hint = hints.get(name, Any)
        if is_dataclass(hint) and isinstance(value, Mapping):
            kwargs[name] = build_dataclass(hint, value, f"{prefix}.{name}")
        else:
            kwargs[name] = _coerce(value, hint, f"{prefix}.{name}")
    return cls(**kwargs)


def config_from_dict(raw: Mapping[str, Any]) -> Config:
    """A `Config` from nested plain data (a profile or a run's `config.json`); strict about every key."""
    raw = dict(raw or {})
    unknown = sorted(set(raw) - set(SECTIONS))
    if unknown:
        raise ValueError(f"unknown config section '{unknown[0]}'; allowed sections: {', '.join(SECTIONS)}")
    sections = {}
    for name, cls in _section_types().items():
        value = raw.get(name) or {}
        if cls is dict:
            if not isinstance(value, dict):
                raise ValueError(f"config section '{name}' must be a mapping, got {value!r}")
            sections[name] = dict(value)
        else:
            sections[name] = build_dataclass(cls, value, name)
    config = Config(**sections)
    _resolve(config)
    validate(config)
    return config


def config_to_dict(config: Config) -> dict[str, Any]:
    """Nested plain data (JSON/YAML-ready) of a `Config`; `config_from_dict` inverts it."""
    def plain(obj):
        if is_dataclass(obj) and not isinstance(obj, type):
            return {f.name: plain(getattr(obj, f.name)) for f in fields(obj)}
        if isinstance(obj, dict):
            return {str(k): plain(v) for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return [plain(v) for v in obj]
        if isinstance(obj, Path):
            return str(obj)
        return obj
    return plain(config)


# ------------------------------------------------------------------------------------------- overrides
def parse_override(item: str) -> tuple[str, Any]:
    """'train.steps=10' -> ('train.steps', 10); the value is parsed as YAML ('none'/'null' -> None)."""
    if "=" not in item:
        raise ValueError(f"override {item!r} is not of the form key=value (e.g. train.steps=10)")
    key, text = item.split("=", 1)
    key = key.strip()
    value = yaml.safe_load(text) if text.strip() else ""
    if isinstance(value, str) and value.lower() == "none":
        value = None
    return ALIASES.get(key, key), value


def _normalise_overrides(overrides) -> list[tuple[str, Any]]:
    if overrides is None:
        return []
    if isinstance(overrides, Mapping):
        return [(ALIASES.get(k, k), v) for k, v in overrides.items()]
    if isinstance(overrides, str):
        raise ValueError("overrides must be a list of 'key=value' strings or a dict, not a single string")
    return [parse_override(item) for item in overrides]


def _switch_objective(raw: dict[str, Any], items: list[tuple[str, Any]]) -> None:
    """An override that changes `loss.name` drops the old objective's derived keys (objectives.DERIVED) unless the
    same overrides set them: they are resolved to the NEW objective's own defaults, never inherited."""
    loss = raw.get("loss") if isinstance(raw.get("loss"), dict) else {}
    new = dict(items).get("loss.name", loss.get("name", "s2dtw"))
    if new == loss.get("name", "s2dtw"):
        return
    for key in objectives.DERIVED:
        if f"loss.{key}" not in dict(items):
            loss.pop(key, None)


def apply_overrides(raw: dict[str, Any], overrides) -> dict[str, Any]:
    """Set dotted keys in nested plain data. Structure is checked later by `config_from_dict`."""
    items = _normalise_overrides(overrides)
    _switch_objective(raw, items)
    for key, value in items:
        parts = key.split(".")
        if not all(parts):
            raise ValueError(f"override key {key!r} is malformed")
        if parts[0] not in SECTIONS:
            raise ValueError(f"unknown config section '{parts[0]}' in override {key!r}; allowed sections: "
                             f"{', '.join(SECTIONS)} (and the shorthands {', '.join(ALIASES)})")
        node = raw
        for part in parts[:-1]:
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            if not isinstance(child, dict):
                raise ValueError(f"override {key!r}: '{part}' is not a section")
            node = child
        node[parts[-1]] = value
    return raw


# ------------------------------------------------------------------------------------------- resolving
def _resolve(config: Config) -> None:
    """Fill derived defaults so that the saved `config.json` says what the run actually used."""
    data, loss = config.data, config.loss
    if data.root is None and data.synthetic:
        data.root = f"data/synth/{data.synth_profile}"
    if loss.name in LOSSES:  # an unknown name is reported by validate()
        objectives.resolve(loss)  # after every override: the objective's own defaults


def _choice(key: str, value, choices) -> None:
    if value not in choices:
        raise ValueError(f"config key '{key}' = {value!r} is not one of {', '.join(map(str, choices))}")


def validate(config: Config) -> None:
    """Cheap checks that need no data or model: choices, signs and ranges (paths and checkpoints: `fit`).

    Every error names the dotted key, the expected range and the value given (`vttwins.errors.ConfigError`).
    Refused because they train to nothing rather than fail: `train.batch_size=1` (every loss here is contrastive
    over the batch, so one video makes it identically 0) and a negative `loss.tau` (docs/method.md §4: the dummy cells
    would *reward* skipping, and the loss sits at log(batch)).
    """
    loss, optim, train, data = config.loss, config.optim, config.train, config.data
    _choice("loss.name", loss.name, LOSSES)
    _choice("loss.direction", loss.direction, ("text", "video", "both"))
    _choice("optim.schedule", optim.schedule, ("cosine", "constant"))
    _choice("train.amp", train.amp, ("auto", "none", "bf16", "fp16"))
    _choice("train.progress", train.progress, ("auto", "bar", "log"))
    _choice("data.on_error", data.on_error, ("skip", "raise"))
    _choice("data.crop", data.crop, ("random", "center"))
    if not (train.device in ("auto", "cpu", "cuda") or train.device.startswith("cuda:")):
        raise ValueError(f"config key 'train.device' = {train.device!r} is not auto, cpu, cuda or cuda:N")
    if (train.steps is None) == (train.epochs is None):
        raise ValueError("set exactly one of 'train.steps' and 'train.epochs' "
                         f"(got steps={train.steps}, epochs={train.epochs})")
    check_finite(config)
    check_ranges(config)
    if loss.name == "mil_nce" and not 1 <= loss.num_candidates <= data.n_clips:
        raise ValueError(f"'loss.num_candidates' must be in [1, data.n_clips={data.n_clips}], "
                         f"got {loss.num_candidates}")
    _check_synth_keys(data.synth)
    check_grid(config.grid, EXECUTORS)


def _check_synth_keys(synth: dict) -> None:
    """`data.synth` overrides SynthConfig fields (and `noise` a NoiseConfig's or a preset name)."""
    for prefix, cls, values in (("data.synth", SynthConfig, synth),
                                ("data.synth.noise", NoiseConfig, synth.get("noise"))):
        if isinstance(values, dict):
            unknown = sorted(set(values) - set(_allowed(cls)))
            if unknown:
                raise ValueError(f"unknown config key '{prefix}.{unknown[0]}'; allowed keys in '{prefix}': "
                                 f"{', '.join(_allowed(cls))}")


# ------------------------------------------------------------------------------------------- loading
def load_config(profile_or_path: str | Path = "default", overrides=None) -> Config:
    """Read a profile (name or yaml path), apply overrides (['a.b=c', ...] or {'a.b': c}), validate strictly."""
    path = profile_path(profile_or_path)
    raw = yaml.safe_load(path.read_text()) or {}
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: a profile must be a mapping of sections, got {type(raw).__name__}")
    raw = apply_overrides(raw, overrides)
    try:
        return config_from_dict(raw)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path}: {exc}") from None


def replace(config: Config, overrides) -> Config:
    """A validated copy of `config` with overrides applied (same syntax as `load_config`)."""
    return config_from_dict(apply_overrides(config_to_dict(config), overrides))


__all__ = ["Config", "DataConfig", "LossConfig", "OptimConfig", "TrainConfig", "GridConfig", "SlurmConfig",
           "load_config", "config_to_dict", "config_from_dict", "apply_overrides", "parse_override", "replace",
           "validate", "LOSSES"]
