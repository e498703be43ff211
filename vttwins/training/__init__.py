"""Pretraining: `fit(config) -> run_dir`, `load_trained(path)`, and the `train` command.

    from vttwins.config import load_config
    from vttwins.training import fit, load_trained
    run_dir = fit(load_config("smoke", ["output_dir=runs/smoke"]))
    model, tokenizer, config = load_trained(run_dir)

Run directory: `config.json` (resolved), `provenance.json`, `metrics.jsonl` (one record per logged step),
`checkpoints/step_XXXXXXXX.pt` (rotating resume state), `model.pt` (final weights, model config, vocabulary).
Modules: `loop` (fit), `distributed` (process group, all-gather with backward), `state` (schedule, data order,
RNG, checkpoint files), `builders` (data, vocabulary, loss, optimizer from a Config), `trained`, `cli`.
"""
from vttwins.training.cli import cli_main
from vttwins.training.loop import TrainingInterrupted, TrainStep, fit
from vttwins.training.trained import load_trained, trained_file

__all__ = ["fit", "load_trained", "trained_file", "cli_main", "TrainingInterrupted", "TrainStep"]
