"""What a notebook imports: its parameters cell read as literals, the active profile's values, and `resolve`.

    ctx = pipeline.resolve("03_retrieval_youcook2", globals())   # the second cell of every notebook
    ctx.models, ctx.tables_dir, ctx.config()

Each notebook's first cell is tagged `parameters` (literals only, `name: type = value  # help`); the profile file
`configs/<profile>.yaml` sets exactly those names in its `notebooks.<notebook>` section, and an unknown or missing
name is an error.
"""

from __future__ import annotations

import ast
import json
import logging
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import yaml

from vttwins.companion import results as _results
from vttwins.companion.config import expand_all
from vttwins.paths import DATA_DIR, DEFAULT_RESULTS_DIR, NOTEBOOK_DIR, REPO_ROOT, RUNS_DIR, profile_name, profile_path
from vttwins.companion.pipeline import world as _world
from vttwins.companion.pipeline.specs import NOTEBOOKS

log = logging.getLogger(__name__)

PROFILE_ENV = "VTTWINS_PROFILE"
RESULTS_ENV = "VTTWINS_RESULTS"
GRID_ENV = "VTTWINS_GRID"  # `grid.*` overrides for every notebook's config: `reproduce ... grid.executor=ray`


def check_grid_overrides(items: Sequence[str], where: str) -> list[str]:
    """`items` ('grid.executor=ray', ...) when every one sets a `grid.` key: the executor of the grids is the only
    setting a reproduction takes from outside its profile (it changes where runs go, never a result)."""
    from vttwins.companion.config import parse_override  # deferred: torch

    for item in items:
        key, _ = parse_override(item)
        if not key.startswith("grid."):
            raise ValueError(
                f"{where}: {item!r} is not a grid.* override; only where the grids run (grid.executor, "
                "grid.workers, grid.ray_address, grid.slurm.*) may be set here: a profile sets the rest"
            )
    return list(items)


def grid_overrides() -> list[str]:
    """The `grid.*` overrides in `VTTWINS_GRID` (shell words: 'grid.executor=slurm grid.slurm.partition=gpu')."""
    import shlex

    return check_grid_overrides(shlex.split(os.environ.get(GRID_ENV, "")), GRID_ENV)


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
    return expand_all({name: dict(section.get(name) or {}) for name in names})


def check_parameters(name: str, params: dict[str, Any], where: str = "profile") -> None:
    """The keys a profile sets for notebook `name` must be exactly its parameters-cell names."""
    declared = notebook_defaults(name)
    unknown = sorted(set(params) - set(declared))
    missing = sorted(set(declared) - set(params))
    if unknown or missing:
        raise ValueError(
            f"{where}: notebooks.{name} sets unknown parameters {unknown} / misses {missing}; "
            f"the notebook's parameters cell declares {sorted(declared)}"
        )


@dataclass
class NotebookContext:
    """What the resolve cell hands a notebook: its parameters for the active profile and where things go."""

    name: str
    profile: str
    params: dict[str, Any]
    results_dir: Path
    data_root: Path = field(default_factory=lambda: DATA_DIR)
    # VTTWINS_RUNS: a run cache apart (the variation study keeps each variant's runs separate)
    runs_root: Path = field(default_factory=lambda: Path(os.environ.get("VTTWINS_RUNS", RUNS_DIR)))

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
        """Where this profile's companion runs live (cached by config: see vttwins.companion.experiments)."""
        return self.runs_root / f"companion-{self.profile_name}"

    def config(self, overrides: Sequence[str] | dict = ()):
        """The profile's run config (`vttwins.companion.config.load_config`) with the `grid.*` overrides of `VTTWINS_GRID`,
        then `overrides`, applied; a relative data root is taken from the repository root (notebooks run with
        cwd = notebooks/)."""
        from vttwins.companion.config import load_config, parse_override, replace  # deferred: torch

        items = overrides.items() if isinstance(overrides, dict) else map(parse_override, overrides)
        cfg = load_config(self.profile, {**dict(map(parse_override, grid_overrides())), **dict(items)})
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


def results_root(profile: str | os.PathLike | None = None, worlds: list | None = None) -> Path:
    """Where a profile's tables and figures go: `VTTWINS_RESULTS` when set, else `results/` for the `default`
    profile (the committed results) and `runs/<profile>/results/` for every other profile, or for any profile
    run with an added world (`worlds`, default: those in `VTTWINS_WORLD`).

    Raises ValueError when a non-default profile, or an added world, would write into the committed `results/`."""
    name = profile_name(profile if profile is not None else active_profile())
    worlds = _world.from_env() if worlds is None else worlds
    explicit = os.environ.get(RESULTS_ENV)
    committed = name == "default" and not worlds
    root = Path(explicit) if explicit else DEFAULT_RESULTS_DIR if committed else RUNS_DIR / name / "results"
    check_results_dir(name, root, worlds)
    return root


def check_results_dir(profile: str, results_dir: str | os.PathLike, worlds: list | None = None) -> None:
    """Only the `default` profile, on its own worlds, may write the committed `results/` (its tables back the
    README's numbers)."""
    if Path(results_dir).resolve() != DEFAULT_RESULTS_DIR.resolve():
        return
    if profile_name(profile) != "default":
        raise ValueError(
            f"profile {profile_name(profile)!r} may not write the committed {DEFAULT_RESULTS_DIR} "
            f"(only the default profile does); unset {RESULTS_ENV} or point it elsewhere"
        )
    if worlds:
        raise ValueError(
            f"a run with an added world ({', '.join(n for n, _ in worlds)}) may not write the "
            f"committed {DEFAULT_RESULTS_DIR}; unset {RESULTS_ENV} or point it elsewhere"
        )


def injected_parameters(namespace: dict[str, Any]) -> dict[str, Any]:
    """The names papermill injected (`-p NAME VALUE`): its `# Parameters` cell, read from IPython's input history
    (`In`) of the kernel the notebook runs in; {} outside papermill."""
    history = namespace.get("In") or namespace.get("_ih") or []
    cells = [src for src in history if isinstance(src, str) and src.lstrip().startswith("# Parameters")]
    if not cells:
        return {}
    values = {}
    for node in ast.parse(cells[-1]).body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    values[target.id] = namespace.get(target.id)
    return values


def log_to_stdout(level: int = logging.INFO) -> None:
    """Notebook logging: INFO lines on stdout (stderr shows in red in JupyterLab and reads as an error)."""
    logging.basicConfig(level=level, format="%(name)s: %(message)s", stream=sys.stdout, force=True)


def resolve(name: str, namespace: dict[str, Any]) -> NotebookContext:
    """The resolve cell. For each declared parameter: an explicit value wins — injected by papermill (`-p`, even
    when equal to the stored default) or edited in the parameters cell (differs from the stored default); every
    other one takes the active profile's value (`VTTWINS_PROFILE`, default `default`). Worlds given to
    `reproduce --world` (`VTTWINS_WORLD`) are then added to a `worlds` parameter (`vttwins.companion.pipeline.world`).

    Raises ValueError naming an injected parameter the notebook does not declare (a typo such as `n_exampels`),
    and when a non-default profile would write the committed `results/`."""
    defaults = notebook_defaults(name)
    injected = injected_parameters(namespace)
    unknown = sorted(set(injected) - set(defaults))
    if unknown:
        raise ValueError(
            f"notebook {name}: parameters {unknown} are not declared by its parameters cell "
            f"(declared: {sorted(defaults)})"
        )
    profile = active_profile()
    chosen = profile_notebook_params(profile)[name]
    check_parameters(name, chosen, where=str(profile_path(profile)))
    explicit = {key for key, default in defaults.items() if key in injected or namespace.get(key, default) != default}
    params = {key: namespace[key] if key in explicit else chosen[key] for key in defaults}
    worlds = _world.from_env()  # `reproduce --world ...`: added to the notebook's `worlds`, if it has them
    params = _world.add_worlds(params, worlds)
    ctx = NotebookContext(name, profile, params, results_root(profile, worlds))
    _results.set_context(
        notebook=name,
        profile=profile_name(profile),
        parameters=params,
        explicit=sorted(explicit),
        seeds=params.get("seeds"),
    )
    log.info(
        "%s: profile %s, parameters %s (explicit: %s), results in %s",
        name,
        profile_name(profile),
        params,
        sorted(explicit) or "none",
        ctx.results_dir,
    )
    return ctx
