"""Pretraining: `fit(config) -> run_dir`, `load_trained(path)`, and the `train` command.

    from vttwins.companion.config import load_config
    from vttwins.companion.training import fit, load_trained
    run_dir = fit(load_config("smoke", ["output_dir=runs/smoke"]))
    model, tokenizer, config = load_trained(run_dir)

Run directory: `config.json` (resolved), `provenance.json`, `metrics.jsonl` (one record per logged step),
`checkpoints/step_XXXXXXXX.pt` (rotating resume state), `model.pt` (final weights, model config, vocabulary).
Modules: `loop` (fit), `distributed` (process group, all-gather with backward), `state` (schedule, data order,
RNG, checkpoint files), `builders` (data, vocabulary, loss, optimizer from a Config), `trained`, `cli`.
Names resolve lazily (`vttwins.exports`): `python -m vttwins train --help` does not wait for torch.
"""

from vttwins.exports import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "fit": "vttwins.companion.training.loop",
        "TrainingInterrupted": "vttwins.companion.training.loop",
        "TrainStep": "vttwins.companion.training.loop",
        "load_trained": "vttwins.companion.training.trained",
        "trained_file": "vttwins.companion.training.trained",
        "cli_main": "vttwins.companion.training.cli",
    },
)
