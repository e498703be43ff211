"""Application code behind the notebooks: cached runs, experiment grids, data and alignment examples.

    from vttwins.companion import experiments as ex
    run_dir = ex.ensure_run(config, "runs/companion-default/pretrain", "s2dtw")   # trains once per config+code
    records = ex.run_jobs(ex.grid_jobs(config, ex.loss_cells(ex.SHORT), [1, 2, 3], "runs/x"), ["youcook2"],
                          grid=config.grid)                                 # local | ray | slurm: docs/cluster.md

Like `training`, this is application code: no maths of its own, only the bookkeeping that lets a notebook ask
for "the S2DTW run of this profile" and get the same run directory every time.
Names resolve lazily (`vttwins.exports`): a notebook pays for the grid, the explorer or the stats when it uses them.
"""

from vttwins.exports import lazy_exports

_NAMES = {  # submodule -> the names it exports
    "grids": "ABLATION_METRICS KNOBS LOSS_VARIANTS SHORT Job chance_levels grid_jobs knob_base_levels knob_cells "
    "knob_effects loss_cells mean_std_table noise_cells run_jobs select summarize sweep_cells wide",
    "explorer": "AlignmentExplorer Choice",
    "benchmarks": "alignment_shapes benchmark_index load_benchmarks run_benchmark_scripts",
    "downstream": "action_table crosstask_tables mean_over_seeds model_effects model_items_by_seed model_scores "
    "model_scores_by_seed pixel_run_table pretrained_run retrieval_table task_table",
    "examples": "alignment_rows alignment_summary howto_ids caption_offsets constant_cosine_s2dtw data_summary "
    "example_video heldout_videos",
    "runs": "ensure_data ensure_run evaluate find_run read_metrics run_key run_summary source_digest",
}
__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {name: f"{__name__}.{module}" for module, names in _NAMES.items() for name in names.split()},
    modules=(
        "ablation",
        "claims",
        "collapse",
        "convergence",
        "effects",
        "executors",
        "fair",
        "sanity",
        "tda",
        "truth",
        "tuning",
    ),
)
