"""Load what a training run produced: `load_trained(run_dir_or_file) -> (model, tokenizer, config)`.

model, tokenizer, config = load_trained("runs/default")           # model.pt, else the newest checkpoint
model, tokenizer, config = load_trained("runs/default/checkpoints/step_00000500.pt")
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from vttwins.companion.config import Config, config_from_dict
from vttwins.models import ModelConfig, Tokenizer, build_model
from vttwins.companion.training import state as st


def trained_file(path: str | os.PathLike) -> Path:
    """The weights file of a run directory (`model.pt`, else its newest checkpoint), or `path` itself."""
    path = Path(path)
    if path.is_file():
        return path
    if not path.is_dir():
        raise FileNotFoundError(f"no run directory or checkpoint file at {path}")
    if (path / "model.pt").is_file():
        return path / "model.pt"
    latest = st.latest_checkpoint(path)
    if latest is None:
        raise FileNotFoundError(f"{path} holds neither model.pt nor checkpoints/step_*.pt (did training run?)")
    return latest


def load_trained(path: str | os.PathLike, device: str = "cpu"):
    """-> (VideoTextModel in eval mode on `device`, Tokenizer, Config) of a run directory or checkpoint file."""
    file = trained_file(path)
    state = st.load_state(file)
    missing = [k for k in ("model", "model_config", "vocab", "config") if k not in state]
    if missing:
        raise ValueError(
            f"{file} is not a vttwins training output (missing {missing}); for public checkpoints "
            "use vttwins.models.checkpoints.load_pretrained"
        )
    config: Config = config_from_dict(state["config"])
    fields = {f.name for f in dataclasses.fields(ModelConfig)}
    model_config = ModelConfig(**{k: v for k, v in state["model_config"].items() if k in fields})
    model_config.checkpoint = None  # the trained weights replace whatever the run started from
    model = build_model(model_config, vocab=list(state["vocab"]))
    model.load_state_dict(state["model"])
    return model.to(device).eval(), Tokenizer(list(state["vocab"])), config
