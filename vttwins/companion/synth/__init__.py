"""SynthHowTo: a deterministic, weakly aligned miniature of HowTo100M and its downstream sets, in the real formats.

    python -m vttwins data synth --profile smoke --out data/synth/smoke

    from vttwins.companion.synth import PROFILES, ensure_synth
    paths = ensure_synth("data/synth/smoke", PROFILES["smoke"])        # SynthPaths: every file the loaders need
    paths = ensure_synth("data/synth/clean", PROFILES["smoke"].with_noise("clean"))

Names resolve lazily (`vttwins.exports`): reading `PROFILES` or a `SynthConfig` loads neither the generator nor PyAV.
"""

from vttwins.exports import lazy_exports

_S = "vttwins.companion.synth."
__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "build_config": _S + "cli",
        "cli_main": _S + "cli",
        "NOISE_PRESETS": _S + "config",
        "PROFILES": _S + "config",
        "NoiseConfig": _S + "config",
        "SynthConfig": _S + "config",
        "GENERATOR_VERSION": _S + "generate",
        "ensure_synth": _S + "generate",
        "generate": _S + "generate",
        "SynthPaths": _S + "paths",
        "synth_paths": _S + "paths",
        "World": _S + "world",
        "build_world": _S + "world",
    },
    shadowed=("generate",),
)  # the function, not the module generate.py
