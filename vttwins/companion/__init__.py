"""vttwins.companion — the application on top of the core library: configs, training, evaluation, the study
(experiments), the notebook pipeline, results tables and figures, and SynthHowTo (the embedded data set).

The core library (`vttwins.alignment`, `vttwins.losses`, `vttwins.objectives`, `vttwins.models`, the readers and
writers of `vttwins.data`) imports nothing from here (`.importlinter`); a researcher who wants only the loss needs
none of it. Submodules load on first use:

    from vttwins.companion import config, training, results
    from vttwins.companion.synth import ensure_synth
"""

from __future__ import annotations

from vttwins.exports import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {},
    modules=[
        "config",
        "config_ranges",
        "training",
        "evaluation",
        "experiments",
        "pipeline",
        "results",
        "plots",
        "plots_compare",
        "stats",
        "figure_check",
        "synth",
        "outputs",
    ],
)
