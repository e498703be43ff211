"""Run configuration: one (pydantic) dataclass per component, profiles in `configs/<name>.yaml`, overrides.

    from vttwins.companion.config import load_config
    config = load_config("smoke", ["train.steps=20", "loss.name=mil_nce", "output_dir=runs/x"])
    config.loss.gamma, config.model.mode

A profile is `configs/<name>.yaml` (or any yaml path) with the sections `data, model, loss, optim, train, eval,
grid, notebooks` (`grid` says where the cells of a grid run, never what they compute: docs/cluster.md). Every
section except `notebooks` (validated by the pipeline against the notebooks' parameter cells) maps onto a
dataclass. pydantic checks them (`extra="forbid"`, `Field(ge=...)` bounds, `Literal` choices; objective and task
names against their registries at validation time) and every error is one line in one format
(`vttwins.companion.config_ranges`): `optim.lr=-1: must be > 0`, `loss.name='foo': must be one of [...]`, or for an unknown
section or key `unknown config key 'train.stepz'; allowed keys in 'train': ...`. Override values are parsed as YAML
(`train.amp=none`, `loss.gamma=0.05`, `data.synth={n_videos: 64}`); `output_dir=DIR` and `data_dir=DIR` are
shorthands for `train.output_dir` and `data.root`. `eval.tasks: all` and, in a notebook's parameters,
`losses: all` / `*_losses: all` / `tasks: all` are every registered name (read when the config is validated).

A YAML of your own names the profile it extends with `base: <profile>` (e.g. `base: default`): the profile is read
first and the file's sections are merged over it key by key. Without `base:` the keys a file leaves out take the
code's defaults (the dataclasses below), not a profile's; loading such a file logs one line that says so.
"""

from __future__ import annotations

import logging
from dataclasses import field, fields, is_dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Mapping, get_args

import yaml
from pydantic import Field, TypeAdapter, ValidationError, field_validator
from pydantic.dataclasses import dataclass

# Section dataclasses owned by other rooms, imported from their leaf modules (they import nothing else of ours),
# so reading a config never pulls in training or evaluation code: config.py sits below them, not beside them.
from vttwins.companion.synth.config import NoiseConfig, SynthConfig
from vttwins.companion.evaluation.config import EvalConfig, registered_tasks
from vttwins.models.model import ModelConfig
from vttwins import objectives
from vttwins.companion.config_ranges import SECTION, Bool, Float, Int, config_error, strict_scalars
from vttwins.paths import CONFIG_DIR, profile_path  # noqa: F401  (re-exported)

log = logging.getLogger(__name__)
ALIASES = {"output_dir": "train.output_dir", "data_dir": "data.root"}
# Live views of the objective registry (vttwins.objectives): a variant registered later is a valid loss.name.
LOSSES = objectives.RegisteredNames()
SEQUENCE_LOSSES = objectives.RegisteredNames(sequence=True)


@dataclass(config=SECTION)
class DataConfig:
    """Where the pretraining videos/captions are and how a training item is cut (docs/formats.md, docs/method.md §7).

    With `video_list_csv` unset the data is SynthHowTo in `root` (default `data/synth/<synth_profile>`),
    generated on first use with `vttwins.companion.synth.PROFILES[synth_profile]` updated by `synth`. The clip's
    feature window and the caption length come from the model section (`model.feature_window`, `model.max_words`).
    """

    root: str | None = None  # SynthHowTo folder; None -> data/synth/<synth_profile>
    synth_profile: str = "smoke"
    synth: dict = field(default_factory=dict)  # overrides of SynthConfig fields
    video_list_csv: str | None = None  # real HowTo100M: set these (None = SynthHowTo)
    caption_root: str | None = None
    video_root: str | None = None  # pixel mode
    feature_root: str | None = None  # feature mode
    dict_path: str | None = None  # dict.npy vocabulary; None -> built from the pretraining captions
    num_workers: Int = Field(0, ge=0)
    n_clips: Int = Field(8, ge=1)
    clip_seconds: Float = Field(3.2, gt=0)
    num_frames: Int = Field(32, ge=1)
    fps: Float = Field(10.0, gt=0)
    size: Int = Field(224, ge=1)
    crop: Literal["random", "center"] = "random"
    hflip: Float = Field(0.5, ge=0, le=1)
    on_error: Literal["skip", "raise"] = "skip"

    @property
    def synthetic(self) -> bool:
        return self.video_list_csv is None


@dataclass(config=SECTION)
class LossConfig:
    """The training objective (docs/method.md §4–§6); `name` is a key of `vttwins.objectives`.

    `temperature`, `normalize` and `tda` left None take the objective's OWN defaults (`objectives.get(name).defaults`:
    e.g. MIL-NCE raw dot products at temperature 1, clip InfoNCE 0.07), resolved after every override; switching
    `loss.name` by an override resets them unless the same override sets them (see `apply_overrides`).
    """

    name: str = "s2dtw"
    gamma: Float = Field(0.1, ge=0)
    smooth_gamma: Float = Field(0.1, ge=0)
    tau: Float = Field(
        0.5, ge=0, description="a negative tau rewards skipping: the loss stays at log(batch) and nothing is learned"
    )
    direction: Literal["text", "video", "both"] = "text"
    temperature: Float | None = Field(None, gt=0)  # None -> the objective's own (1.0; clip_nce 0.07)
    tda: Bool | None = None  # None -> the objective's own (True only for s2dtw_tda)
    tda_max_shift: Int = Field(2, ge=0)
    tda_sharpness: Float = Field(50.0, gt=0)
    num_candidates: Int = Field(4, ge=1)
    normalize: Bool | None = None  # None -> the objective's own (False only for mil_nce)
    learn_gamma: Bool = False
    learn_tau: Bool = False

    @field_validator("name")
    @classmethod
    def _registered(cls, name: str) -> str:
        """Read the objective registry now (not at import): a variant registered later is a valid name."""
        if name not in LOSSES:
            raise ValueError(f"must be one of {list(LOSSES)}")
        return name


Beta = Annotated[Float, Field(ge=0, lt=1)]


@dataclass(config=SECTION)
class OptimConfig:
    """Adam with a per-step linear warm-up then cosine decay to `min_lr_ratio * lr` (released defaults)."""

    lr: Float = Field(1e-3, gt=0)
    warmup_steps: Int = Field(0, ge=0)
    weight_decay: Float = Field(0.0, ge=0)
    betas: tuple[Beta, Beta] = (0.9, 0.999)
    grad_clip: Float | None = Field(None, gt=0)  # max global grad norm; None = no clipping
    schedule: Literal["cosine", "constant"] = "cosine"
    min_lr_ratio: Float = Field(0.0, ge=0, le=1)


@dataclass(config=SECTION)
class TrainConfig:
    """Loop, checkpoints and devices. `batch_size` is global (videos per step over all processes)."""

    steps: Int | None = Field(None, ge=1)  # exactly one of steps / epochs
    epochs: Int | None = Field(None, ge=1)
    batch_size: Int = Field(
        16, ge=2, description="every loss contrasts the videos of a batch; with 1 the loss is identically 0"
    )
    seed: Int = Field(1, ge=0)
    log_every: Int = Field(10, ge=1)
    checkpoint_every: Int = Field(500, ge=1)
    keep_checkpoints: Int = Field(2, ge=1)
    output_dir: str = "runs/default"
    resume: Bool = False
    amp: Literal["auto", "none", "bf16", "fp16"] = "auto"  # auto (bf16 on CUDA, off on CPU); fp16 CUDA only
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    progress: Literal["auto", "bar", "log"] = "auto"  # auto (tqdm on a TTY) | bar | log
    sync_batchnorm: Bool = False  # pixel mode, several CUDA processes: BatchNorm statistics over the
    #   global batch (torch SyncBatchNorm; CUDA only). Off = per process

    @field_validator("device")
    @classmethod
    def _device(cls, device: str) -> str:
        if device not in ("auto", "cpu", "cuda") and not device.startswith("cuda:"):
            raise ValueError("must be auto, cpu, cuda or cuda:N")
        return device


@dataclass(config=SECTION)
class SlurmConfig:
    """`grid.executor=slurm`: submitit's executor, one job per grid cell (an array job). `cluster` local/debug are
    submitit's local-process and in-process executors (no Slurm needed: tests, debugging)."""

    partition: str | None = None  # None = the cluster's default partition
    time: Int = Field(60, ge=1)  # minutes a cell may run (submitit timeout_min)
    cpus: Int = Field(1, ge=1)  # CPUs per cell
    gpus: Int = Field(0, ge=0)  # GPUs per cell
    folder: str = "runs/slurm"  # submitit's job files and logs (on the shared filesystem)
    cluster: Literal["slurm", "local", "debug"] = "slurm"


Executor = Literal["local", "ray", "slurm"]
EXECUTORS = get_args(Executor)


@dataclass(config=SECTION)
class GridConfig:
    """Where the cells of a grid (notebooks 02, 10, sweeps) run: one task per distinct run, keyed by its run-cache
    key; the results are the same on every executor, so no `grid` key enters a run's key (docs/cluster.md)."""

    executor: Executor = "local"  # local (process pool here) | ray | slurm (submitit)
    workers: Int = Field(1, ge=1)  # local: processes (1 = in this process); ray without an address: the
    #   CPUs of the local Ray instance; slurm: cells running at once
    ray_address: str | None = None  # ray: "auto", "ray://host:10001", ...; None = start a local instance
    slurm: SlurmConfig = field(default_factory=SlurmConfig)


@dataclass(config=SECTION)
class Config:
    data: DataConfig = field(default_factory=DataConfig)
    model: Annotated[ModelConfig, strict_scalars(ModelConfig)] = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    grid: GridConfig = field(default_factory=GridConfig)
    notebooks: dict = field(default_factory=dict)


SECTIONS = tuple(f.name for f in fields(Config))
_ADAPTER = TypeAdapter(Config)


# ------------------------------------------------------------------------------------------- building
def config_from_dict(raw: Mapping[str, Any], training: bool = True) -> Config:
    """A `Config` from nested plain data (a profile or a run's `config.json`); strict about every key.

    training=False skips what only training needs (one of train.steps / train.epochs): `data check` reads data
    configs that never train."""
    if not isinstance(raw or {}, Mapping):
        raise ValueError(f"a config must be a mapping of sections, got {raw!r}")
    raw = {name: ({} if value is None else value) for name, value in dict(raw or {}).items()}
    try:
        config = _ADAPTER.validate_python(raw)
    except ValidationError as exc:
        raise config_error(exc, Config) from None
    _resolve(config)
    _cross_checks(config, training)
    return config


def config_to_dict(config: Config) -> dict[str, Any]:
    """Nested plain data (JSON/YAML-ready: tuples as lists) of a `Config`, keys in field order; `config_from_dict`
    inverts it. This dict is what a run folder's `config.json` holds and what its run-cache key hashes."""

    def plain(obj):  # by hand, not pydantic's dump: that turns NaN in `notebooks` into None and warns on a Path
        if is_dataclass(obj) and not isinstance(obj, type):
            return {f.name: plain(getattr(obj, f.name)) for f in fields(obj)}
        if isinstance(obj, dict):
            return {str(k): plain(v) for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return [plain(v) for v in obj]
        return str(obj) if isinstance(obj, Path) else obj

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
            raise ValueError(
                f"unknown config section '{parts[0]}' in override {key!r}; allowed sections: "
                f"{', '.join(SECTIONS)} (and the shorthands {', '.join(ALIASES)})"
            )
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
    if config.data.root is None and config.data.synthetic:
        config.data.root = f"data/synth/{config.data.synth_profile}"
    objectives.resolve(config.loss)  # after every override: the objective's own defaults
    config.notebooks = expand_all(config.notebooks)


def expand_all(notebooks: dict) -> dict:
    """`losses: all` / `*_losses: all` / `tasks: all` in a notebook's parameters -> every registered name, read
    from the registries now (a variant or task registered after import is included); for losses, every objective
    with `in_study` (a diagnostic variant such as `s2dtw_tda_strong` is named explicitly when wanted)."""

    def expand(key: str, value):
        if value != "all":
            return value
        if key == "losses" or key.endswith("_losses"):
            return list(objectives.names(in_study=True))
        return registered_tasks() if key == "tasks" or key.endswith("_tasks") else value

    return {
        name: {k: expand(k, v) for k, v in params.items()} if isinstance(params, dict) else params
        for name, params in notebooks.items()
    }


def validate(config: Config, training: bool = True) -> None:
    """Every check of `config_from_dict` on a `Config` built or changed in code (choices, signs, ranges, keys).

    Refused because they train to nothing rather than fail: `train.batch_size=1` (every loss here is contrastive
    over the batch, so one video makes it identically 0) and a negative `loss.tau` (docs/method.md §4: the dummy cells
    would *reward* skipping, and the loss sits at log(batch))."""
    config_from_dict(config_to_dict(config), training)


def _cross_checks(config: Config, training: bool) -> None:
    """What one field's type and range cannot say: checks across keys, the synth keys, the lr warning."""
    train, loss, data = config.train, config.loss, config.data
    if training and (train.steps is None) == (train.epochs is None):
        raise ValueError(
            f"set exactly one of 'train.steps' and 'train.epochs' (got steps={train.steps}, epochs={train.epochs})"
        )
    if loss.name == "mil_nce" and not 1 <= loss.num_candidates <= data.n_clips:
        raise ValueError(f"loss.num_candidates={loss.num_candidates!r}: must be in [1, data.n_clips={data.n_clips}]")
    _check_synth_keys(data.synth)
    if config.optim.lr > MAX_USUAL_LR:
        log.warning(
            "config key 'optim.lr' = %g is far above any usual Adam learning rate (<= %g): training will "
            "likely diverge (released: 1e-3)",
            config.optim.lr,
            MAX_USUAL_LR,
        )


MAX_USUAL_LR = 1.0  # Adam at lr > 1 moves every weight by ~lr per step: never a setting, always a slip


def _check_synth_keys(synth: dict) -> None:
    """`data.synth` overrides SynthConfig fields (and `noise` a NoiseConfig's or a preset name)."""
    for prefix, cls, values in (
        ("data.synth", SynthConfig, synth),
        ("data.synth.noise", NoiseConfig, synth.get("noise")),
    ):
        allowed = [f.name for f in fields(cls)]
        unknown = sorted(set(values) - set(allowed)) if isinstance(values, dict) else []
        if unknown:
            raise ValueError(
                f"unknown config key '{prefix}.{unknown[0]}'; allowed keys in '{prefix}': {', '.join(allowed)}"
            )


# ------------------------------------------------------------------------------------------- loading
def load_config(profile_or_path: str | Path = "default", overrides=None, training: bool = True) -> Config:
    """Read a profile (name or yaml path), apply overrides (['a.b=c', ...] or {'a.b': c}), validate strictly.

    A file with `base: <profile>` is merged over that profile (`read_profile`); training=False: see
    `config_from_dict`."""
    path = profile_path(profile_or_path)
    raw = apply_overrides(read_profile(path), overrides)
    try:
        return config_from_dict(raw, training)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path}: {exc}") from None


def read_profile(path: Path, seen: tuple = ()) -> dict:
    """The plain data of a YAML profile, with its `base:` profile (recursively) underneath, merged key by key."""
    raw = yaml.safe_load(Path(path).read_text()) or {}
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: a profile must be a mapping of sections, got {type(raw).__name__}")
    base = raw.pop("base", None)
    if base is None:
        if Path(path).resolve().parent != CONFIG_DIR.resolve() and not seen:
            log.info(
                "%s has no `base:`, so the keys it leaves out take the code defaults (vttwins.companion.config), not a "
                "profile's; add `base: default` to start from configs/default.yaml",
                path,
            )
        return raw
    base_path = profile_path(str(base))
    if base_path.resolve() in seen or base_path.resolve() == Path(path).resolve():
        raise ValueError(f"{path}: `base: {base}` makes a cycle of profiles")
    return merge(read_profile(base_path, (*seen, Path(path).resolve())), raw)


def merge(base: dict, top: dict) -> dict:
    """`top` over `base`: nested mappings merged key by key, anything else replaced (a new dict)."""
    out = dict(base)
    for key, value in top.items():
        out[key] = merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def replace(config: Config, overrides) -> Config:
    """A validated copy of `config` with overrides applied (same syntax as `load_config`)."""
    return config_from_dict(apply_overrides(config_to_dict(config), overrides))


__all__ = [
    "Config",
    "DataConfig",
    "LossConfig",
    "OptimConfig",
    "TrainConfig",
    "GridConfig",
    "SlurmConfig",
    "load_config",
    "read_profile",
    "config_to_dict",
    "config_from_dict",
    "apply_overrides",
    "parse_override",
    "replace",
    "validate",
    "expand_all",
    "LOSSES",
]
