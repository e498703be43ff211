"""The companion pipeline in three rooms (and the README writer apart):

- `specs`   — the ordered notebooks and the tables and figures each declares (`NOTEBOOKS`, `spec`);
- `context` — what notebooks import: the parameters-cell parser, the profile's notebook parameters, `resolve`;
- `runner`  — papermill over the notebooks and the declared-output checks (`cli` holds `python -m vttwins
  reproduce`, `check` the reproduction check, `variation` the variation study);
- `readme`  — `results/README.md` and the generated block of the top-level README.

The names notebooks and tests use are re-exported here (`pipeline.resolve(...)`, `pipeline.NOTEBOOKS`).
"""
from vttwins.experiments import reports  # noqa: F401  (re-exported: tests read its README markers)
from vttwins.paths import CONFIG_DIR, NOTEBOOK_DIR, REPO_ROOT, profile_path  # noqa: F401
from vttwins.pipeline.context import (PROFILE_ENV, RESULTS_ENV, NotebookContext, active_profile,  # noqa: F401
                                      check_results_dir, injected_parameters, log_to_stdout,
                                      check_parameters, notebook_defaults, parameters_cell, parse_parameters,
                                      profile_notebook_params, resolve, results_root)
from vttwins.pipeline.readme import update_readme, write_results_readme  # noqa: F401
from vttwins.pipeline.runner import (CELL_TIMEOUT_S, KERNEL, PipelineError, check_outputs,  # noqa: F401
                                     code_digest, run_notebook, run_pipeline)
from vttwins.pipeline.cli import cli_main  # noqa: F401
from vttwins.pipeline.specs import NOTEBOOKS, Figure, NotebookSpec, Table, spec  # noqa: F401
