"""The companion's runner: papermill over the ordered notebooks and the declared-output checks (CLI: cli.py).

    python -m vttwins reproduce --profile default              # every notebook -> results/, results/notebooks/
    python -m vttwins reproduce --profile smoke --results /tmp/r --only 00_data 02_ablation_dtw_variants

The resolve cell of each notebook (`vttwins.companion.pipeline.context.resolve`) applies the profile this runner passes
through `VTTWINS_PROFILE`; the tables and figures a notebook must write are declared in `vttwins.companion.pipeline.specs`.
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

from vttwins.companion import results as _results
from vttwins.paths import DEFAULT_RESULTS_DIR, NOTEBOOK_DIR, REPO_ROOT, profile_name, profile_path
from vttwins.companion.pipeline.context import (
    PROFILE_ENV,
    RESULTS_ENV,
    check_parameters,
    check_results_dir,
    profile_notebook_params,
    results_root,
)
from vttwins.companion.pipeline.progress import follow_notebook
from vttwins.companion.pipeline.readme import update_readme, write_results_readme
from vttwins.companion.pipeline.specs import NOTEBOOKS, NotebookSpec
from vttwins.companion.pipeline.world import WORLD_ENV, parse_world, to_env

log = logging.getLogger(__name__)

KERNEL = "vttwins"
CELL_TIMEOUT_S = {"smoke": 900, "default": 3600, "paper": 24 * 3600}  # generous: a loaded 2-core machine is slow


class PipelineError(RuntimeError):
    """A notebook failed or did not write what it declares; the message names the executed copy to open."""


def check_outputs(nb: NotebookSpec, results_dir: str | os.PathLike) -> list[str]:
    """Problems with the declared outputs of one notebook (empty when every table and figure is there and sane)."""
    import pandas as pd

    results_dir, problems = Path(results_dir), []
    for table in nb.tables:
        csv, md = results_dir / "tables" / f"{table.name}.csv", results_dir / "tables" / f"{table.name}.md"
        if not (csv.is_file() and md.is_file()):
            problems.append(f"{nb.name}: table {table.name} was not written ({csv})")
            continue
        df = pd.read_csv(csv)
        missing = [c for c in table.columns if c not in df.columns]
        if missing or df.empty:
            problems.append(f"{nb.name}: table {table.name} has no rows or misses columns {missing}")
        for col in df.select_dtypes("number").columns:
            if col in table.nullable:
                continue
            if not all(math.isfinite(v) for v in df[col].astype(float)):
                problems.append(f"{nb.name}: table {table.name} column {col} has non-finite values")
    for figure in nb.figures:
        png = results_dir / "figures" / f"{figure.name}.png"
        if not png.is_file() or png.stat().st_size < 1000:
            problems.append(f"{nb.name}: figure {figure.name} was not written ({png})")
    return problems


@contextmanager
def kernel_environment(**values: str) -> Iterator[None]:
    """Set environment variables for the kernels papermill starts (they inherit ours), restore afterwards."""
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run_notebook(
    nb: NotebookSpec, params: dict[str, Any], executed: Path, timeout_s: int, log_output: bool = False
) -> None:
    """Execute one notebook with papermill. `log_output`: its outputs go to papermill's logger as they come
    (`progress.follow_notebook` routes them to the live display)."""
    import papermill as pm
    from nbclient.exceptions import CellTimeoutError

    try:
        pm.execute_notebook(
            str(NOTEBOOK_DIR / f"{nb.name}.ipynb"),
            str(executed),
            parameters=params,
            kernel_name=KERNEL,
            cwd=str(NOTEBOOK_DIR),
            execution_timeout=timeout_s,
            progress_bar=False,
            log_output=log_output,
            report_mode=False,
        )
    except pm.PapermillExecutionError as err:
        raise PipelineError(
            f"{nb.name} failed in cell {err.exec_count}: {err.ename}: {err.evalue}\n"
            f"open the executed notebook {executed} to see the failing cell"
        ) from None
    except CellTimeoutError:
        raise PipelineError(
            f"{nb.name}: a cell ran longer than {timeout_s} s (--timeout to allow more)\n"
            f"open the executed notebook {executed} to see which"
        ) from None
    finally:
        if executed.is_file():  # executed copies are committed: no absolute paths of this machine in them
            _results.strip_machine_paths_in_file(executed)


def run_source_digest() -> str:
    """The source digest of the run cache (vttwins.companion.experiments.runs), fixed for the whole pipeline run."""
    from vttwins.companion.experiments.runs import source_digest  # deferred: torch

    return os.environ.get("VTTWINS_SOURCE_DIGEST") or source_digest()


def run_pipeline(
    profile: str = "default",
    results_dir: str | os.PathLike | None = None,
    *,
    only: Sequence[str] | None = None,
    timeout_s: int | None = None,
    write_readme: bool = True,
    worlds: Sequence[str] = (),
    progress: bool = True,
    log_output: bool = False,
) -> list[dict[str, Any]]:
    """Run the notebooks in order; executed copies go to `RESULTS/notebooks/`. Stops at the first failure.

    `progress`: a live line per notebook on stderr (runs done / total, the run training, ETA; plain lines when
    stderr is not a TTY) and each distinct warning of the notebook once, counted (`pipeline.progress`);
    `log_output`: also stream the notebook's own log lines. Neither changes a result.

    `results_dir` defaults to `results_root(profile)`: `results/` for the default profile, `runs/<profile>/results/`
    for any other (or `VTTWINS_RESULTS`). `worlds`: world texts (`vttwins.companion.pipeline.world.parse_world`) added to
    every notebook's `worlds` parameter; their results never go to `results/`. Only a full default-profile run
    into `results/`, with no folder given, refreshes the top-level README's results block."""
    name = profile_name(profile)
    added = [parse_world(text) for text in worlds]  # a malformed world fails before anything runs
    explicit = results_dir is not None or bool(os.environ.get(RESULTS_ENV))
    results_dir = Path(results_dir) if results_dir is not None else results_root(profile, added)
    check_results_dir(name, results_dir, added)
    params = profile_notebook_params(profile)
    chosen = chosen_notebooks(only)
    for nb in chosen:  # fail before running anything when a profile and a notebook disagree
        check_parameters(nb.name, params[nb.name], where=str(profile_path(profile)))
    timeout_s = timeout_s or CELL_TIMEOUT_S.get(name, 3600)
    (results_dir / "notebooks").mkdir(parents=True, exist_ok=True)
    records = []
    env = {
        PROFILE_ENV: str(profile),
        RESULTS_ENV: str(results_dir.resolve()),
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        "VTTWINS_SOURCE_DIGEST": run_source_digest(),
        _results.REVISION_ENV: _results.git_revision(),
        WORLD_ENV: to_env(added) if added else "",
    }
    with kernel_environment(**env):
        for i, nb in enumerate(chosen, 1):
            executed = results_dir / "notebooks" / f"{nb.name}.ipynb"
            log.info("[%d/%d] %s (profile %s) -> %s ...", i, len(chosen), nb.name, name, results_dir)
            start = time.perf_counter()
            if progress or log_output:
                kernel_log = Path(tempfile.gettempdir()) / f"vttwins-{nb.name}-kernel.log"
                with follow_notebook(
                    nb.name, _cell_count(nb), log_output=log_output, show=progress, kernel_log=kernel_log
                ):
                    run_notebook(nb, params[nb.name], executed, timeout_s, log_output=True)
            else:
                run_notebook(nb, params[nb.name], executed, timeout_s)
            problems = check_outputs(nb, results_dir)
            if problems:
                raise PipelineError("\n".join(problems) + f"\nopen the executed notebook {executed}")
            seconds = time.perf_counter() - start
            log.info("[%d/%d] %s done in %.0f s", i, len(chosen), nb.name, seconds)
            records.append({"notebook": nb.name, "seconds": round(seconds, 1)})
        write_claims_step(results_dir)
    if write_readme:
        write_results_readme(results_dir, profile=name)
        if not only and not explicit and name == "default" and results_dir.resolve() == DEFAULT_RESULTS_DIR.resolve():
            update_readme(REPO_ROOT / "README.md", results_dir)
    return records


def _cell_count(nb: NotebookSpec) -> int:
    """Cells of the notebook as papermill numbers them: every cell (markdown too), plus the injected parameters."""
    import json

    return len(json.loads((NOTEBOOK_DIR / f"{nb.name}.ipynb").read_text(encoding="utf-8")).get("cells", [])) + 1


def write_claims_step(results_dir: str | os.PathLike) -> bool:
    """The post-step after the notebooks: `results/CLAIMS.md`, `tables/claims` and `tables/tda_permutations`
    from the tables the notebooks wrote (02's ablation_runs, 10's collapse_runs); False when 02 has not run."""
    from vttwins.companion.experiments import claims, tda  # deferred: scipy, torch

    tables = Path(results_dir) / "tables"
    if not (tables / "ablation_runs.csv").is_file():
        log.info("no %s: CLAIMS.md is written once notebook 02 has run", tables / "ablation_runs.csv")
        return False
    tda.write_tda_table(tables)
    claims.write_claims(results_dir)
    return True


def chosen_notebooks(only: Sequence[str] | None) -> list[NotebookSpec]:
    chosen = [nb for nb in NOTEBOOKS if not only or nb.name in only]
    if only and len(chosen) != len(set(only)):
        raise ValueError(f"--only names unknown notebooks: {sorted(set(only) - {nb.name for nb in chosen})}")
    return chosen
