"""The companion pipeline in three rooms (and the README writer apart):

- `specs`   — the ordered notebooks and the tables and figures each declares (`NOTEBOOKS`, `spec`);
- `context` — what notebooks import: the parameters-cell parser, the profile's notebook parameters, `resolve`;
- `runner`  — papermill over the notebooks and the declared-output checks (`cli` holds `python -m vttwins
  reproduce`, `check` the reproduction check, `variation` the variation study);
- `readme`  — `results/README.md` and the generated block of the top-level README.

The names notebooks and tests use are re-exported here (`pipeline.resolve(...)`, `pipeline.NOTEBOOKS`).
Names resolve lazily (`vttwins.exports`): `python -m vttwins reproduce --help` loads no notebook machinery.
"""

from vttwins.exports import lazy_exports

_NAMES = {  # module -> the names re-exported from it
    "vttwins.paths": "CONFIG_DIR NOTEBOOK_DIR REPO_ROOT profile_path",
    "vttwins.companion.pipeline.context": "PROFILE_ENV RESULTS_ENV NotebookContext active_profile check_results_dir "
    "injected_parameters log_to_stdout check_parameters notebook_defaults "
    "parameters_cell parse_parameters profile_notebook_params resolve results_root",
    "vttwins.companion.pipeline.readme": "update_readme write_results_readme",
    "vttwins.companion.pipeline.runner": "CELL_TIMEOUT_S KERNEL PipelineError check_outputs run_source_digest run_notebook "
    "run_pipeline",
    "vttwins.companion.pipeline.cli": "cli_main",
    "vttwins.companion.pipeline.specs": "NOTEBOOKS Figure NotebookSpec Table spec",
}
__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {name: module for module, names in _NAMES.items() for name in names.split()},
    modules={"reports": "vttwins.companion.experiments.reports"},
)  # tests read its README markers
