"""Where things are: the one module that knows the repository layout and how a profile name becomes a file.

    from vttwins.paths import REPO_ROOT, profile_path
    profile_path("smoke")            # -> <repo>/configs/smoke.yaml
    profile_path("my/profile.yaml")  # an existing yaml path is taken as it is

A leaf: imports nothing of vttwins. Every other module that needs the checkout's folders reads them from here.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = REPO_ROOT / "configs"
NOTEBOOK_DIR = REPO_ROOT / "notebooks"
BENCHMARK_SCRIPTS_DIR = REPO_ROOT / "benchmarks"
DEFAULT_RESULTS_DIR = REPO_ROOT / "results"
DATA_DIR = REPO_ROOT / "data"
RUNS_DIR = REPO_ROOT / "runs"


def known_profiles() -> list[str]:
    return sorted(p.stem for p in CONFIG_DIR.glob("*.yaml"))


def profile_path(profile_or_path: str | os.PathLike) -> Path:
    """'smoke' -> configs/smoke.yaml; a path ending in .yaml/.yml/.json (or any existing file) is taken as it is.

    Raises FileNotFoundError naming the file and the known profiles."""
    path = Path(profile_or_path)
    if path.suffix in (".yaml", ".yml", ".json") or path.exists():
        if not path.is_file():
            raise FileNotFoundError(f"config file {path} does not exist (profiles: {known_profiles()})")
        return path
    candidate = CONFIG_DIR / f"{profile_or_path}.yaml"
    if not candidate.is_file():
        raise FileNotFoundError(
            f"no profile {str(profile_or_path)!r}: {candidate} does not exist (profiles: {known_profiles()})"
        )
    return candidate


def profile_name(profile_or_path: str | os.PathLike) -> str:
    """'smoke' -> 'smoke'; 'configs/paper.yaml' -> 'paper'."""
    return Path(profile_or_path).stem
