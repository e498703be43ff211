"""SynthHowTo: a deterministic, weakly aligned miniature of HowTo100M and its downstream sets, in the real formats.

    python -m vttwins data synth --profile smoke --out data/synth/smoke

    from vttwins.data.synth import PROFILES, ensure_synth
    paths = ensure_synth("data/synth/smoke", PROFILES["smoke"])        # SynthPaths: every file the loaders need
    paths = ensure_synth("data/synth/clean", PROFILES["smoke"].with_noise("clean"))
"""
from .cli import build_config, cli_main
from .config import NOISE_PRESETS, PROFILES, NoiseConfig, SynthConfig
from .generate import GENERATOR_VERSION, ensure_synth, generate
from .paths import SynthPaths, synth_paths
from .world import World, build_world

__all__ = ["GENERATOR_VERSION", "NOISE_PRESETS", "PROFILES", "NoiseConfig", "SynthConfig", "SynthPaths", "World",
           "build_config", "build_world", "cli_main", "ensure_synth", "generate", "synth_paths"]
