"""Factories the training loop calls: data, vocabulary, model, loss, optimizer -- each checks its config first.

Everything that can fail on a bad config (paths, loss name, checkpoint architecture) fails here, before the
first step.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from torch import nn

from vttwins import objectives
from vttwins.companion.config import Config
from vttwins.companion import synth
from vttwins.data.errors import SKIPPABLE
from vttwins.data.features import shared_reads_enabled
from vttwins.models import Tokenizer
from vttwins.companion.training.optim import Adam

log = logging.getLogger(__name__)


# ------------------------------------------------------------------------------------------- data
def synth_config(config: Config):
    """The SynthConfig of `data.synth_profile` with the `data.synth` overrides (keys checked by the config)."""
    if config.data.synth_profile not in synth.PROFILES:
        raise ValueError(
            f"config key 'data.synth_profile' = {config.data.synth_profile!r} is not one of "
            f"{', '.join(sorted(synth.PROFILES))}"
        )
    base = synth.PROFILES[config.data.synth_profile]
    try:
        return base.replace(**config.data.synth) if config.data.synth else base
    except (TypeError, ValueError) as exc:
        raise ValueError(f"config key 'data.synth': {exc}") from None


def data_paths(config: Config, generate: bool = True) -> dict[str, Path | None]:
    """Resolved pretraining paths {video_list_csv, caption_root, video_root, feature_root, dict_path}.

    SynthHowTo (no `data.video_list_csv`) is generated into `data.root` when missing and `generate` is true.
    Every path the model's mode needs must exist; a missing one raises FileNotFoundError naming its config key.
    """
    data, mode = config.data, config.model.mode
    if data.synthetic:
        if data.root is not None and Path(data.root).exists() and not Path(data.root).is_dir():
            raise NotADirectoryError(f"config key 'data.root' (data_dir): {data.root} is a file, not a folder")

        scfg = synth_config(config)
        paths = synth.ensure_synth(data.root, scfg) if generate else synth.synth_paths(data.root)
        found = {
            "video_list_csv": paths.howto_csv,
            "caption_root": paths.howto_captions,
            "video_root": paths.howto_videos,
            "feature_root": paths.howto_features,
        }
    else:
        found = {
            k: Path(getattr(data, k)) if getattr(data, k) else None
            for k in ("video_list_csv", "caption_root", "video_root", "feature_root")
        }
    found["dict_path"] = Path(data.dict_path) if data.dict_path else None
    needed = ["video_list_csv", "caption_root", "video_root" if mode == "pixel" else "feature_root"]
    needed += ["dict_path"] if data.dict_path else []
    for key in needed:
        if found[key] is None:
            raise ValueError(f"config key 'data.{key}' must be set for model.mode={mode!r} on real data")
        if not found[key].exists():
            raise FileNotFoundError(f"config key 'data.{key}': {found[key]} does not exist")
        if key in ("video_root", "feature_root") and not found[key].is_dir():
            raise NotADirectoryError(f"config key 'data.{key}': {found[key]} is a file, not a folder")
        if key in ("video_list_csv", "dict_path") and found[key].is_dir():
            raise IsADirectoryError(f"config key 'data.{key}': {found[key]} is a folder, not a file")
    return found


def check_data(config: Config, paths: dict) -> None:
    """The pretraining rows of `data check` on the resolved `paths`, before the first step: a broken input is a
    ValueError naming it; under data.on_error="skip" bad files only warn (the dataset skips them) unless none is
    left. Headers, captions and lengths of every file are read; the values of 2 sampled feature files."""
    from vttwins.data.check import check_for_training  # deferred: av, pandas

    # the runs of one grid worker train on the same files: a passed check is not repeated while every file under
    # the checked paths keeps its path, mtime and size (a changed, added or removed file checks again)
    key = (
        config.model.mode,
        config.data.on_error,
        config.model.feature_dim,
        *(_tree_state(p) for p in paths.values() if p is not None),
    )
    if key in _CHECKED and shared_reads_enabled():
        return
    check_for_training(paths, config.model.mode, config.data.on_error, config.model.feature_dim)
    if len(_CHECKED) >= 8:
        _CHECKED.pop(next(iter(_CHECKED)))
    _CHECKED[key] = True


_CHECKED: dict[tuple, bool] = {}


def _tree_state(path: Path) -> tuple:
    """(path, mtime, size) of a file, or of every file below a folder, sorted: what a passed check depends on."""
    path = Path(path)
    if not path.is_dir():
        return (_stat(path),)
    return tuple(sorted(_stat(f) for f in path.rglob("*") if f.is_file()))


_TEXTS: dict[tuple, list[str]] = {}  # caption_texts per state of its files, for the runs of one process


def caption_texts(video_list_csv: Path, caption_root: Path) -> list[str]:
    """Every non-empty caption of the listed videos, in video-id order, read like the dataset reads them
    (unreadable caption files are skipped here exactly as the dataset will skip them). Read once per process
    and per state of the files (path, mtime, size of the list and of every caption file)."""
    from vttwins.data.captions import CaptionStore  # deferred: pandas
    from vttwins.data.howto100m import read_howto_csv  # deferred: av, pandas

    store = CaptionStore(caption_root)
    ids = sorted(read_howto_csv(video_list_csv)["video_id"].astype(str))
    key = tuple(_stat(p) for p in [Path(video_list_csv), *(store.path_of(vid) for vid in ids)])
    if key in _TEXTS and shared_reads_enabled():
        return list(_TEXTS[key])
    texts = []
    for vid in ids:
        try:
            texts += [str(t) for t in store.get(vid)["text"]]
        except SKIPPABLE as err:
            log.debug("vocabulary: skipping captions of %s (%s)", vid, err)
    if len(_TEXTS) >= 8:
        _TEXTS.pop(next(iter(_TEXTS)))
    _TEXTS[key] = texts
    return list(texts)


def _stat(path: Path) -> tuple[str, int, int]:
    try:
        st = path.stat()
        return str(path.resolve()), st.st_mtime_ns, st.st_size
    except OSError:
        return str(path), -1, -1


def build_tokenizer(paths: dict):
    """`dict.npy` when `data.dict_path` is set, else a deterministic vocabulary over the pretraining captions."""
    if paths["dict_path"] is not None:
        return Tokenizer.from_dict_npy(paths["dict_path"])
    texts = caption_texts(paths["video_list_csv"], paths["caption_root"])
    if not texts:
        raise ValueError(f"no captions found under {paths['caption_root']} to build a vocabulary from")
    return Tokenizer.from_corpus(texts)


def build_dataset(config: Config, paths: dict, tokenizer):
    """The pretraining dataset. Feature mode in the main process (`data.num_workers=0`) gathers whole batches from
    the data set's table, read once per process (`vttwins.data.howto_table`; the same tensors as the per-item
    path, which `VTTWINS_DATA_PATH=reference` selects and pixel mode / DataLoader workers use)."""
    from vttwins.data.howto100m import HowToPretrainDataset  # deferred: av, pandas
    from vttwins.data.howto_table import table_dataset  # deferred: av, pandas

    d, m = config.data, config.model
    pixel = m.mode == "pixel"
    dataset = HowToPretrainDataset(
        paths["video_list_csv"],
        paths["caption_root"],
        video_root=paths["video_root"] if pixel else None,
        feature_root=None if pixel else paths["feature_root"],
        n_clips=d.n_clips,
        clip_seconds=d.clip_seconds,
        num_frames=d.num_frames,
        fps=d.fps,
        size=d.size,
        crop=d.crop,
        hflip=d.hflip,
        feature_window=m.feature_window,
        tokenizer=tokenizer,
        max_words=m.max_words,
        on_error=d.on_error,
        seed=config.train.seed,
        feature_dim=None if pixel else m.feature_dim,
    )
    return dataset if pixel or d.num_workers > 0 else table_dataset(dataset, tokenizer)


# ------------------------------------------------------------------------------------------- loss
def build_loss(config: Config) -> nn.Module:
    """The loss module of `config.loss` (resolved): the builder of its objective in `vttwins.objectives`."""
    if config.loss.name not in objectives.names():
        raise ValueError(
            f"config key 'loss.name' = {config.loss.name!r} is unknown; choose from {', '.join(objectives.names())}"
        )
    return objectives.build(config.loss)


def build_optimizer(module: nn.Module, config: Config) -> Adam:
    """Adam over the trainable parameters: `training.optim.Adam`, bit-identical to `torch.optim.Adam` (see there why)."""
    c = config.optim
    params = [p for p in module.parameters() if p.requires_grad]
    return Adam(params, lr=c.lr, betas=tuple(c.betas), weight_decay=c.weight_decay)


# ------------------------------------------------------------------------------------------- device
def resolve_device(config: Config, local_rank: int = 0) -> torch.device:
    want = config.train.device
    if want == "auto":
        want = "cuda" if torch.cuda.is_available() else "cpu"
    if want.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ValueError(f"config key 'train.device' = {config.train.device!r} but CUDA is not available")
        return torch.device(want if ":" in want else f"cuda:{local_rank}")
    return torch.device("cpu")


def resolve_amp(config: Config, device: torch.device) -> torch.dtype | None:
    """The autocast dtype, or None. AMP runs on CUDA only; asking for it on CPU is an error, not a fallback."""
    amp = config.train.amp
    if amp == "none" or (amp == "auto" and device.type != "cuda"):
        return None
    if device.type != "cuda":
        raise ValueError(
            f"config key 'train.amp' = {amp!r} needs a CUDA device (running on {device}); use train.amp=none or auto"
        )
    if amp == "auto":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.bfloat16 if amp == "bf16" else torch.float16
