"""The grid on every executor (vttwins.companion.experiments.executors, docs/cluster.md): the smoke grid gives the same
records on the local pool, a local Ray instance and submitit's local executor; a grid that stopped resumes with the
runs missing from the cache only; the `grid` section never enters a run's key.

The grid: MIL-NCE and S2DTW, one seed, 3 steps on an 8-video SynthHowTo, evaluated on YouCook2 and CrossTask
(two runs per executor, each a few seconds of training plus a worker's start-up).
"""

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from vttwins.companion import experiments as ex
from vttwins.companion.config import GridConfig, load_config, replace
from vttwins.companion.experiments import executors
from vttwins.companion.pipeline import cli
from vttwins.companion.pipeline.context import GRID_ENV, NotebookContext

TINY = {
    "num_tasks": 4,
    "num_verbs": 6,
    "num_objects": 8,
    "steps_per_task": [3, 5],
    "howto_videos": 8,
    "youcook2_videos": 3,
    "msrvtt_videos": 4,
    "crosstask_videos": 6,
    "action_clips_per_class": 2,
    "render_videos": False,
}
TASKS, EVAL = ["youcook2", "crosstask"], {"max_clips": 40, "max_videos": 4}


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    root = tmp_path_factory.mktemp("grid")
    cfg = load_config(
        "smoke",
        {
            "data.root": str(root / "synth"),
            "data.synth": TINY,
            "train.steps": 3,
            "grid.workers": 2,
            "grid.slurm.folder": str(root / "submitit"),
        },
    )
    ex.ensure_data(cfg)
    return cfg


def _jobs(base, runs_root):
    return ex.grid_jobs(base, ex.loss_cells(["mil_nce", "s2dtw"]), [1], runs_root)


def _grid(base, runs_root, **grid):
    """The long records of the smoke grid on the executor `grid` describes, and its per-loss summary table."""
    cfg = replace(base, {f"grid.{k}": v for k, v in grid.items()})
    records = ex.run_jobs(_jobs(base, runs_root), TASKS, EVAL, grid=cfg.grid)
    return records, ex.summarize(ex.wide(records), ["loss"])


def _finished(runs_root):
    return sorted(p.parent.name for p in runs_root.glob("*/model.pt"))


@pytest.fixture(scope="module")
def reference(base, tmp_path_factory):
    """The smoke grid on today's local pool (2 processes of one thread)."""
    runs = tmp_path_factory.mktemp("local")
    records, table = _grid(base, runs, executor="local")
    assert len(_finished(runs)) == 2 and table["n_seeds"].tolist() == [1, 1]
    return runs, records, table


def _same(got, reference):
    records, table = got
    pd.testing.assert_frame_equal(records, reference[1], check_exact=True)
    pd.testing.assert_frame_equal(table, reference[2], check_exact=True)


@pytest.mark.slow
def test_ray_local_instance_gives_the_local_tables(base, reference, tmp_path, monkeypatch):
    ray = pytest.importorskip("ray", reason="Ray is in the `cluster` extra: pip install 'vttwins[cluster]'")
    started = []
    real_init = ray.init
    monkeypatch.setattr(ray, "init", lambda **kw: (started.append(kw), real_init(**kw))[1])
    try:  # no grid.ray_address: the executor starts a local instance for the grid and shuts it down after it
        _same(_grid(base, tmp_path, executor="ray"), reference)
        assert not ray.is_initialized()
    finally:
        ray.shutdown()
    env = {"env_vars": {"OMP_WAIT_POLICY": "passive"}}
    assert started == [
        {"num_cpus": 2, "include_dashboard": False, "object_store_memory": 100 * 2**20, "runtime_env": env}
    ]
    assert len(_finished(tmp_path)) == 2


def test_pool_workers_wait_passively_unless_the_user_says_otherwise(tmp_path, monkeypatch):
    """Spawned cells get OMP_WAIT_POLICY=passive (spinning OpenMP threads of one cell slow the others many-fold);
    a value already in the environment is kept, and the driver's environment is left as it was."""
    grid = GridConfig(executor="local", workers=2)
    for preset, want in ((None, "passive"), ("active", "active")):
        if preset is None:
            monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
        else:
            monkeypatch.setenv("OMP_WAIT_POLICY", preset)
        out = [tmp_path / f"{preset}-{i}.txt" for i in range(2)]
        cmds = [f'printf %s "$OMP_WAIT_POLICY" > {o}' for o in out]
        executors.run_cells(os.system, cmds, ["a", "b"], grid, in_process=False)
        assert [o.read_text() for o in out] == [want, want]
        assert os.environ.get("OMP_WAIT_POLICY") == preset


def test_a_worker_whose_driver_died_starts_no_cell(monkeypatch):
    """Killing a notebook kernel left its pool workers taking cell after cell from the queue (seen here)."""
    import multiprocessing

    import torch

    started = []

    class Dead:
        pid, is_alive = 12345, staticmethod(lambda: False)

    monkeypatch.setattr(torch, "set_num_threads", lambda n: None)  # this test process keeps its threads
    monkeypatch.setattr(multiprocessing, "parent_process", lambda: Dead())
    with pytest.raises(RuntimeError, match="12345 has exited"):
        executors._one_thread(started.append, "cell")
    monkeypatch.setattr(multiprocessing, "parent_process", lambda: None)  # Ray / submitit: no driver to watch
    executors._one_thread(started.append, "cell")
    assert started == ["cell"]


@pytest.mark.slow
def test_submitit_local_executor_gives_the_local_tables(base, reference, tmp_path):
    pytest.importorskip("submitit", reason="submitit is in the `cluster` extra: pip install 'vttwins[cluster]'")
    _same(_grid(base, tmp_path, executor="slurm", **{"slurm.cluster": "local"}), reference)
    assert len(_finished(tmp_path)) == 2
    assert list(Path(base.grid.slurm.folder).rglob("*_result.pkl"))  # submitit's files: in grid.slurm.folder


@pytest.mark.slow
def test_a_stopped_grid_resumes_with_the_missing_runs_only(base, reference, tmp_path, monkeypatch):
    """A grid stopped during its second run (that folder has no model.pt yet) resumes on another executor:
    the finished run is not touched, the interrupted one runs again, the records are the uninterrupted ones."""
    pytest.importorskip("submitit")
    runs = tmp_path / "runs"
    shutil.copytree(reference[0], runs)
    kept, cut = sorted(runs.iterdir())
    (cut / "model.pt").unlink()
    shutil.rmtree(cut / "eval")
    before = (kept / "model.pt").stat().st_mtime_ns
    submitted = []
    real = ex.grids.run_cells
    monkeypatch.setattr(
        ex.grids,
        "run_cells",
        lambda fn, items, keys, grid, **kw: (submitted.extend(keys), real(fn, items, keys, grid, **kw)),
    )
    _same(_grid(base, runs, executor="slurm", **{"slurm.cluster": "local"}), reference)
    assert submitted == [cut.name.rsplit("-", 1)[1]]  # one task, named by the run-cache key of the missing run
    assert (kept / "model.pt").stat().st_mtime_ns == before and _finished(runs) == sorted([kept.name, cut.name])
    submitted.clear()
    _same(_grid(base, runs, executor="local"), reference)  # complete: nothing is submitted at all
    assert submitted == []


@pytest.mark.slow
def test_collapse_runs_already_in_the_cache_are_not_submitted(base, reference, monkeypatch):
    calls = []
    monkeypatch.setattr(ex.collapse, "run_cells", lambda fn, items, keys, grid, **kw: calls.append(keys))
    runs = ex.collapse.train_jobs(_jobs(base, reference[0]), grid=base.grid)
    assert calls == [[]] and sorted(d.name for _, d in runs) == _finished(reference[0])


def test_cells_that_finish_elsewhere_name_the_shared_folder(base, tmp_path, monkeypatch):
    """A cluster whose workers write into a runs folder this machine cannot see: the error says so."""
    monkeypatch.setattr(ex.grids, "run_cells", lambda *a, **kw: None)  # tasks 'ran', nothing arrived here
    with pytest.raises(FileNotFoundError, match="filesystem every worker shares"):
        _grid(base, tmp_path, executor="ray")


# ------------------------------------------------------------------------------------------- the setting
def test_the_grid_section_is_validated_and_never_in_a_run_key():
    plain = load_config("smoke")
    assert plain.grid.executor == "local" and plain.grid.workers == 2
    ray = load_config("smoke", ["grid.executor=ray", "grid.ray_address=auto", "grid.slurm.partition=gpu"])
    assert ex.run_key(ray) == ex.run_key(plain) and ray.grid.slurm.partition == "gpu"
    for bad, key in (
        ("grid.executor=dask", "grid.executor"),
        ("grid.workers=0", "grid.workers"),
        ("grid.slurm.cluster=pbs", "grid.slurm.cluster"),
        ("grid.slurm.time=0", "grid.slurm.time"),
        ("grid.slurm.qos=high", "grid.slurm.qos"),
    ):
        with pytest.raises(ValueError, match=key.replace(".", r"\.")):
            load_config("smoke", [bad])


def test_notebooks_take_the_grid_from_the_environment(monkeypatch, tmp_path):
    ctx = NotebookContext("02_ablation_dtw_variants", "smoke", {}, tmp_path)
    monkeypatch.setenv(GRID_ENV, "grid.executor=slurm 'grid.slurm.partition=big gpu' grid.workers=8")
    cfg = ctx.config({"train.steps": 2})
    assert (cfg.grid.executor, cfg.grid.slurm.partition, cfg.grid.workers, cfg.train.steps) == (
        "slurm",
        "big gpu",
        8,
        2,
    )
    monkeypatch.setenv(GRID_ENV, "train.steps=2")
    with pytest.raises(ValueError, match=GRID_ENV):
        ctx.config()


def test_reproduce_takes_grid_overrides_only(monkeypatch):
    monkeypatch.setenv(GRID_ENV, "")  # restored after the test
    assert cli.cli_main(["--profile", "smoke", "train.steps=2"]) == 2  # refused before any notebook runs
    assert cli.cli_main(["--profile", "smoke", "grid.executor=dask"]) == 2
    cli._set_grid("smoke", ["grid.executor=ray", "grid.ray_address=auto"])
    assert os.environ[GRID_ENV] == "grid.executor=ray grid.ray_address=auto"
