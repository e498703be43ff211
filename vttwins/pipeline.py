"""The companion's runner: the ordered notebooks, their parameters per profile, papermill, declared outputs.

    python -m vttwins reproduce --profile default              # every notebook -> results/, results/notebooks/
    python -m vttwins reproduce --profile smoke --results /tmp/r --only 00_data 02_ablation_dtw_variants

Each notebook's first cell is tagged `parameters` (literals only, `name: type = value  # help`); the profile file
`configs/<profile>.yaml` sets exactly those names in its `notebooks.<notebook>` section, and an unknown or missing
name is an error. The next cell calls `resolve(...)`, which applies the active profile: papermill-injected or
edited values win, untouched stored defaults follow `VTTWINS_PROFILE` (so nbval runs the smoke profile).
"""
from __future__ import annotations

import argparse
import ast
import json
import logging
import math
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

import yaml

from vttwins import results as _results
from vttwins.experiments import reports

log = logging.getLogger(__name__)

from vttwins.paths import CONFIG_DIR, NOTEBOOK_DIR, REPO_ROOT, profile_path  # noqa: F401  (re-exported)
KERNEL = "vttwins"
PROFILE_ENV = "VTTWINS_PROFILE"
RESULTS_ENV = "VTTWINS_RESULTS"
CELL_TIMEOUT_S = {"smoke": 300, "default": 1800, "paper": 24 * 3600}


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: tuple[str, ...] = ()
    nullable: tuple[str, ...] = ()   # numeric columns allowed to hold NaN (e.g. a metric undefined for chance)


@dataclass(frozen=True)
class Figure:
    name: str
    description: str


@dataclass(frozen=True)
class NotebookSpec:
    name: str
    title: str
    tables: tuple[Table, ...] = ()
    figures: tuple[Figure, ...] = ()


_M = ("yc2_t2v_R@10", "crosstask_recall")  # ablation metrics every grid table must carry
_STATS = tuple(f"{m}_{s}" for m in _M for s in ("mean", "std"))
_STD = tuple(c for c in _STATS if c.endswith("_std"))  # one seed -> no std
_TRUTH = ("pair_precision_mean", "pair_recall_mean", "skip_caption_recall_mean", "skip_clip_recall_mean")
_TRUTH_NULL = tuple(f"{m}_{s}" for m in ("pair_precision", "pair_recall", "skip_caption_precision",
                                          "skip_caption_recall", "skip_clip_precision", "skip_clip_recall")
                    for s in ("mean", "std")) + ("pair_precision", "pair_recall", "skip_caption_precision",
                                                 "skip_caption_recall", "skip_clip_precision", "skip_clip_recall")
_RETRIEVAL = ("model", "direction", "R@1", "R@5", "R@10", "MedR", "MeanR")
NOTEBOOKS: list[NotebookSpec] = [
    NotebookSpec("00_data", "SynthHowTo: the data and its weak alignment",
                 tables=(Table("data_summary", "SynthHowTo counts per set and the measured narration noise",
                               ("quantity", "value")),),
                 figures=(Figure("data_weak_alignment", "frames, true step segments and shifted narration of "
                                 "example videos: what weak alignment looks like"),
                          Figure("data_caption_offsets", "distribution of caption-minus-step offsets"))),
    NotebookSpec("01_pretrain", "VT-TWINS pretraining (S2DTW), feature mode and a pixel-mode run",
                 tables=(Table("pretrain_runs", "the pretraining runs: mode, loss, steps, batch, first and last "
                               "logged loss", ("run", "mode", "loss", "steps", "first_loss", "last_loss")),
                         Table("pretrain_pixel_eval", "the pixel-mode S2DTW run against its untrained model and "
                               "chance (YouCook2 t2v retrieval, CrossTask)",
                               ("benchmark", "variant", "metric", "trained", "untrained", "chance"))),
                 figures=(Figure("pretrain_loss_curve", "training loss per step of each pretraining run"),)),
    NotebookSpec("02_ablation_dtw_variants", "A fair ablation: objectives on two worlds, alignment against the "
                 "truth, one noise knob at a time",
                 tables=(Table("ablation_defaults", "(a) each objective at its own defaults: test split, both "
                               "worlds, mean and std over seeds, alignment-vs-truth columns",
                               ("world", "loss", "n_seeds", *_STATS, *_TRUTH), (*_STD, *_TRUTH_NULL)),
                         Table("ablation_tuned", "(b) each objective at its best temperature/normalisation on val: "
                               "test split, both worlds", ("world", "loss", "temperature", "normalize", "n_seeds",
                                                           *_STATS, *_TRUTH), (*_STD, *_TRUTH_NULL)),
                         Table("ablation_tuning", "the tuning sweep on the val split (same grid per objective)",
                               ("world", "loss", "temperature", "normalize", "n_seeds", *_STATS), _STD),
                         Table("ablation_truth_reference", "chance and untrained rows of the alignment-vs-truth "
                               "columns", ("world", "loss", *_TRUTH), _TRUTH_NULL),
                         Table("ablation_knobs", "one-knob narration sweeps (time shift, filler rate, narrated "
                               "steps) per objective", ("loss", "knob", "level", "n_seeds", *_STATS), _STD),
                         Table("ablation_runs", "every reported ablation run with its table, world, cell, seed and "
                               "metrics", ("table", "seed", *_M),
                               ("world", "temperature", "normalize", "knob", "level", *_TRUTH_NULL))),
                 figures=(Figure("ablation_defaults", "(a) defaults per objective and world, with truth columns"),
                          Figure("ablation_tuned", "(b) tuned per objective and world"),
                          Figure("ablation_knobs", "metric vs one narration knob at a time"))),
    NotebookSpec("03_retrieval_youcook2", "YouCook2-style text-video retrieval",
                 tables=(Table("retrieval_youcook2", "YouCook2-style retrieval, text->video and video->text, "
                               "per model with computed chance", _RETRIEVAL),)),
    NotebookSpec("04_retrieval_msrvtt", "MSR-VTT-style text-video retrieval",
                 tables=(Table("retrieval_msrvtt", "MSR-VTT-style retrieval, text->video and video->text, "
                               "per model with computed chance", _RETRIEVAL),)),
    NotebookSpec("05_step_localization_crosstask", "CrossTask step localization, both protocols",
                 tables=(Table("step_localization_crosstask", "CrossTask standard and ordered recall and CTR "
                               "accuracy, mean over tasks", ("model", "protocol", "metric", "value", "chance")),
                         Table("step_localization_crosstask_per_task", "CrossTask metrics per task",
                               ("model", "protocol", "task", "value", "chance")))),
    NotebookSpec("06_action_recognition", "Action recognition: linear probe and zero-shot",
                 tables=(Table("action_recognition", "action recognition top-1: linear probe and zero-shot, per "
                               "split and mean", ("model", "protocol", "mean")),)),
    NotebookSpec("07_alignment_paths", "Alignment paths: DTW vs soft-DTW vs S2DTW, before and after training",
                 tables=(Table("alignment_paths", "hard paths on held-out videos: matched pairs on a true step, "
                               "skipped clips and captions", ("video_id", "stage", "method", "precision")),
                         Table("alignment_truth", "pair and skip precision/recall vs the true step match over every "
                               "held-out video, per stage and method", ("stage", "method", "pair_precision",
                                                                        "pair_recall", "videos"),
                               ("pair_precision", "pair_recall", "skip_caption_precision", "skip_caption_recall",
                                "skip_clip_precision", "skip_clip_recall")),),
                 figures=(Figure("alignment_paths_before", "cost, smoothed cost, soft alignment E, hard path and "
                                 "truth on held-out videos before training"),
                          Figure("alignment_paths_after", "the same after S2DTW pretraining"))),
    NotebookSpec("08_benchmarks", "Speed and memory against the peers",
                 tables=(Table("benchmarks_index", "the benchmark files and the revision they measured",
                               ("benchmark", "title", "records")),),
                 figures=(Figure("benchmarks_overview", "time per case of every benchmark"),
                          Figure("benchmarks_alignment", "S2DTW loss time vs batch and soft-DTW throughput vs "
                                 "sequence length, against tslearn, pysdtw and a naive autograd loop"))),
    NotebookSpec("10_s2dtw_collapse", "The S2DTW collapse: where the log-B plateau happens, and why",
                 tables=(Table("collapse_phase", "share of seeds at the log-B plateau per objective x temperature x "
                               "tau x lr, with the detector's read-outs", ("loss", "temperature", "tau", "lr",
                                                                          "plateau_share", "late_skip_share")),
                         Table("collapse_runs", "every collapse run with its plateau flag and detector read-outs",
                               ("loss", "lr", "tau", "temperature", "seed", "final_loss", "gap_to_logB"))),
                 figures=(Figure("collapse_phase", "share of seeds stuck at log B over lr x tau"),
                          Figure("collapse_detector", "skip share per step of the highest-lr, highest-tau runs"))),
]


def spec(name: str) -> NotebookSpec:
    for nb in NOTEBOOKS:
        if nb.name == name:
            return nb
    raise ValueError(f"unknown notebook {name!r}; known: {[nb.name for nb in NOTEBOOKS]}")


class PipelineError(RuntimeError):
    """A notebook failed or did not write what it declares; the message names the executed copy to open."""


# ----------------------------------------------------------------------------------------------- parameters
def parameters_cell(nb: dict) -> dict:
    """The first code cell, which must be tagged `parameters`."""
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    if not code or "parameters" not in code[0].get("metadata", {}).get("tags", []):
        raise ValueError("the first code cell of a notebook must be tagged 'parameters'")
    return code[0]


def parse_parameters(source: str) -> dict[str, Any]:
    """`name: type = literal  # help` lines -> {name: value}; anything else is a ValueError naming the line."""
    values: dict[str, Any] = {}
    for node in ast.parse(source).body:
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None):
            raise ValueError(f"parameters cell line {node.lineno}: expected `name: type = literal  # help`")
        try:
            values[node.target.id] = ast.literal_eval(node.value)
        except ValueError as err:
            raise ValueError(f"parameters cell line {node.lineno}: {node.target.id} is not a literal") from err
    return values


def notebook_defaults(name: str, notebook_dir: str | os.PathLike = NOTEBOOK_DIR) -> dict[str, Any]:
    """The stored parameters of `notebooks/NAME.ipynb` (read without papermill)."""
    path = Path(notebook_dir) / f"{name}.ipynb"
    if not path.is_file():
        raise FileNotFoundError(f"notebook {path} does not exist")
    cell = parameters_cell(json.loads(path.read_text(encoding="utf-8")))
    source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
    return parse_parameters(source)


def profile_notebook_params(profile: str | os.PathLike) -> dict[str, dict[str, Any]]:
    """The `notebooks:` section of a profile: {notebook name: {parameter: value}}, checked against NOTEBOOKS."""
    path = profile_path(profile)
    section = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("notebooks")
    if not isinstance(section, dict):
        raise ValueError(f"{path}: has no `notebooks:` section mapping notebook names to parameters")
    names = [nb.name for nb in NOTEBOOKS]
    unknown = sorted(set(section) - set(names))
    if unknown:
        raise ValueError(f"{path}: notebooks.{unknown[0]} is not a notebook (known: {names})")
    return {name: dict(section.get(name) or {}) for name in names}


def check_parameters(name: str, params: dict[str, Any], where: str = "profile") -> None:
    """The keys a profile sets for notebook `name` must be exactly its parameters-cell names."""
    declared = notebook_defaults(name)
    unknown = sorted(set(params) - set(declared))
    missing = sorted(set(declared) - set(params))
    if unknown or missing:
        raise ValueError(f"{where}: notebooks.{name} sets unknown parameters {unknown} / misses {missing}; "
                         f"the notebook's parameters cell declares {sorted(declared)}")


@dataclass
class NotebookContext:
    """What the resolve cell hands a notebook: its parameters for the active profile and where things go."""
    name: str
    profile: str
    params: dict[str, Any]
    results_dir: Path
    data_root: Path = field(default_factory=lambda: REPO_ROOT / "data")
    runs_root: Path = field(default_factory=lambda: REPO_ROOT / "runs")

    def __getattr__(self, key: str) -> Any:
        try:
            return self.__dict__["params"][key]
        except KeyError:
            raise AttributeError(f"notebook {self.__dict__.get('name')!r} has no parameter {key!r}") from None

    @property
    def profile_name(self) -> str:
        return Path(self.profile).stem

    @property
    def runs_dir(self) -> Path:
        """Where this profile's companion runs live (cached by config: see vttwins.experiments)."""
        return self.runs_root / f"companion-{self.profile_name}"

    def config(self, overrides: Sequence[str] | dict = ()):
        """The profile's run config (`vttwins.config.load_config`) with `overrides` applied; a relative data root
        is taken from the repository root (notebooks run with cwd = notebooks/)."""
        from vttwins.config import load_config, replace
        cfg = load_config(self.profile, list(overrides) if not isinstance(overrides, dict) else overrides)
        if cfg.data.root and not Path(cfg.data.root).is_absolute():
            cfg = replace(cfg, {"data.root": str(REPO_ROOT / cfg.data.root)})
        return cfg

    @property
    def tables_dir(self) -> Path:
        return self.results_dir / "tables"

    @property
    def figures_dir(self) -> Path:
        return self.results_dir / "figures"


def active_profile() -> str:
    return os.environ.get(PROFILE_ENV, "default")


def results_root() -> Path:
    return Path(os.environ.get(RESULTS_ENV, REPO_ROOT / "results"))


def resolve(name: str, namespace: dict[str, Any]) -> NotebookContext:
    """The resolve cell. For each declared parameter: a value changed from the stored default (papermill `-p`, an
    edit) wins; an untouched one takes the active profile's value (`VTTWINS_PROFILE`, default `default`)."""
    defaults = notebook_defaults(name)
    profile = active_profile()
    chosen = profile_notebook_params(profile)[name]
    check_parameters(name, chosen, where=str(profile_path(profile)))
    params = {}
    for key, default in defaults.items():
        value = namespace.get(key, default)
        params[key] = value if value != default else chosen[key]
    ctx = NotebookContext(name, profile, params, results_root())
    log.info("%s: profile %s, parameters %s", name, profile, params)
    return ctx


# ----------------------------------------------------------------------------------------------- outputs
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


# ----------------------------------------------------------------------------------------------- README files
def write_results_readme(results_dir: str | os.PathLike, profile: str = "default") -> Path:
    """`RESULTS/README.md`: every table and figure with one line, and the published numbers as context."""
    text = reports.results_readme_text(NOTEBOOKS, results_dir, profile)
    return _results.atomic_write_text(Path(results_dir) / "README.md", text)


def update_readme(readme: str | os.PathLike, results_dir: str | os.PathLike) -> bool:
    """Refresh the generated results section of the top-level README (False when its markers are absent)."""
    return reports.update_readme(NOTEBOOKS, readme, results_dir)


# ----------------------------------------------------------------------------------------------- runner
@contextmanager
def _environment(**values: str) -> Iterator[None]:
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


def run_notebook(nb: NotebookSpec, params: dict[str, Any], executed: Path, timeout_s: int) -> None:
    import papermill as pm

    try:
        pm.execute_notebook(str(NOTEBOOK_DIR / f"{nb.name}.ipynb"), str(executed), parameters=params,
                            kernel_name=KERNEL, cwd=str(NOTEBOOK_DIR), execution_timeout=timeout_s,
                            progress_bar=False, log_output=False, report_mode=False)
    except pm.PapermillExecutionError as err:
        raise PipelineError(f"{nb.name} failed in cell {err.exec_count}: {err.ename}: {err.evalue}\n"
                            f"open the executed notebook {executed} to see the failing cell") from None
    finally:
        if executed.is_file():  # executed copies are committed: no absolute paths of this machine in them
            _results.strip_machine_paths_in_file(executed)


def code_digest() -> str:
    """The source digest of the run cache (vttwins.experiments.runs), fixed for the whole pipeline run."""
    from vttwins.experiments.runs import source_digest
    return os.environ.get("VTTWINS_SOURCE_DIGEST") or source_digest()


def run_pipeline(profile: str = "default", results_dir: str | os.PathLike | None = None, *,
                 only: Sequence[str] | None = None, timeout_s: int | None = None,
                 write_readme: bool = True) -> list[dict[str, Any]]:
    """Run the notebooks in order; executed copies go to `RESULTS/notebooks/`. Stops at the first failure."""
    results_dir = Path(results_dir) if results_dir is not None else REPO_ROOT / "results"
    params = profile_notebook_params(profile)
    chosen = [nb for nb in NOTEBOOKS if not only or nb.name in only]
    if only and len(chosen) != len(set(only)):
        raise ValueError(f"--only names unknown notebooks: {sorted(set(only) - {nb.name for nb in chosen})}")
    for nb in chosen:  # fail before running anything when a profile and a notebook disagree
        check_parameters(nb.name, params[nb.name], where=str(profile_path(profile)))
    name = Path(profile).stem
    timeout_s = timeout_s or CELL_TIMEOUT_S.get(name, 3600)
    (results_dir / "notebooks").mkdir(parents=True, exist_ok=True)
    records = []
    env = {PROFILE_ENV: str(profile), RESULTS_ENV: str(results_dir.resolve()), "PYDEVD_DISABLE_FILE_VALIDATION": "1",
           "VTTWINS_SOURCE_DIGEST": code_digest()}
    with _environment(**env):
        for i, nb in enumerate(chosen, 1):
            executed = results_dir / "notebooks" / f"{nb.name}.ipynb"
            log.info("[%d/%d] %s (profile %s) ...", i, len(chosen), nb.name, name)
            start = time.perf_counter()
            run_notebook(nb, params[nb.name], executed, timeout_s)
            problems = check_outputs(nb, results_dir)
            if problems:
                raise PipelineError("\n".join(problems) + f"\nopen the executed notebook {executed}")
            seconds = time.perf_counter() - start
            log.info("[%d/%d] %s done in %.0f s", i, len(chosen), nb.name, seconds)
            records.append({"notebook": nb.name, "seconds": round(seconds, 1)})
    if write_readme:
        write_results_readme(results_dir, profile=name)
        if not only and results_dir.resolve() == (REPO_ROOT / "results").resolve():
            update_readme(REPO_ROOT / "README.md", results_dir)
    return records


def cli_main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vttwins reproduce", description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="default", help="configs/<profile>.yaml or a path to one")
    parser.add_argument("--results", default=None, help="results folder (default: results/ of the checkout)")
    parser.add_argument("--only", nargs="+", default=None, help="run only these notebooks (in pipeline order)")
    parser.add_argument("--timeout", type=int, default=None, help="per-cell timeout in seconds")
    args = parser.parse_args(argv)
    logging.getLogger("papermill").setLevel(logging.WARNING)  # our progress lines name each notebook already
    start = time.perf_counter()
    try:
        records = run_pipeline(args.profile, args.results, only=args.only, timeout_s=args.timeout)
    except PipelineError as err:
        log.error("%s", err)
        return 1
    log.info("pipeline done in %.0f s: %s", time.perf_counter() - start,
             ", ".join(f"{r['notebook']} {r['seconds']:.0f}s" for r in records))
    return 0
