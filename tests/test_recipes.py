"""CONTRIBUTING's three recipes, each followed by a toy from this file alone, up to a smoke reproduction's tables.

    OMP_NUM_THREADS=1 .venv/bin/pytest -q tests/test_recipes.py      # about a minute on 2 cores

- variant: one `objectives.register(Objective(...))` -> a row of an ablation-style table (grid -> summary -> CSV);
- backend: one `Backend(...)` entry in `BACKENDS` -> the DP under that toy variant's training run;
- benchmark: one module (written into tmp_path, imported from there) that calls `register(Task(...))` -> its
  notebook is listed by the pipeline, it runs through `experiments.downstream` and its declared table passes the
  runner's output check; a second toy module brings its own SynthHowTo split (`Task.synth`), which the generator
  makes and writes through the module's functions.
No file of the package is touched: everything registered here is unregistered afterwards.
"""

from __future__ import annotations

import importlib
import sys
import textwrap

import pandas as pd
import pytest

from vttwins import objectives

from vttwins.companion import results
from vttwins.alignment import backends, dp_torch
from vttwins.companion.config import load_config
from vttwins.companion.experiments import downstream, grids
from vttwins.companion.pipeline import runner, specs

CALLS = {"forward": 0}


# The toy backend's kernels (backends.py's module-level contract): the torch backend's, counted.
def forward(D, lp, lq, gamma, need_grad):
    CALLS["forward"] += 1
    return dp_torch.forward(D, lp, lq, gamma, need_grad)


def backward(ctx):
    return dp_torch.backward(ctx)


def _smoke(tmp_path, *overrides):
    return load_config(
        "smoke",
        [
            f"output_dir={tmp_path / 'runs'}",
            "train.steps=2",
            "train.progress=log",
            "eval.max_videos=4",
            "eval.max_clips=20",
            *overrides,
        ],
    )


@pytest.fixture(scope="module")
def variant_grid(tmp_path_factory):
    """The variant and backend recipes: register both, run a one-cell grid at the smoke profile, write the table."""
    tmp = tmp_path_factory.mktemp("recipes")
    objectives.register(
        objectives.Objective(
            "toy_recipe",
            "toy recipe",
            "#123456",
            objectives.build_sequence,
            alignment={"smooth": True, "weak": False, "hard": True},
        )
    )
    backends.BACKENDS["toy_recipe_dp"] = backends.Backend("toy_recipe_dp", __name__, ("cpu",))  # one entry
    backends.set_backend("toy_recipe_dp")
    try:
        base = _smoke(tmp)
        jobs = grids.grid_jobs(base, grids.loss_cells(["toy_recipe"]), seeds=[1], runs_root=tmp / "grid")
        records = grids.run_jobs(jobs, tasks=["youcook2"])
        metric = {"yc2_t2v_R@10": grids.ABLATION_METRICS["yc2_t2v_R@10"]}
        summary = grids.summarize(grids.wide(records, metric), by=["loss"])
        csv, _ = results.write_table(summary, "toy_ablation", tmp / "tables")
    finally:
        backends.set_backend("auto")
        del backends.BACKENDS["toy_recipe_dp"]
        objectives.unregister("toy_recipe")
    return pd.read_csv(csv), dict(CALLS)


def test_toy_variant_is_a_row_of_the_ablation_table(variant_grid):
    table, _ = variant_grid
    assert table["loss"].tolist() == ["toy recipe"]  # the registry's label, through the grid's live views
    assert table["n_seeds"].tolist() == [1] and 0.0 <= float(table["yc2_t2v_R@10_mean"].iloc[0]) <= 100.0
    assert "toy_recipe" not in objectives.names()  # cleaned up: nothing of the package was changed


def test_toy_backend_ran_the_variants_training(variant_grid):
    _, calls = variant_grid
    assert calls["forward"] > 0  # every DP of the run went through the toy backend (set_backend chose it)


BENCHMARK_MODULE = '''
"""A toy benchmark: one module, one registration (clips counted, chance = half of them)."""
from vttwins.companion.evaluation.common import make_table
from vttwins.companion.benchmarks.task import Task, register
from vttwins.companion.outputs import NotebookSpec, Table


def evaluate(model, dataset, tokenizer, config):
    from vttwins.companion.evaluation.retrieval import read_pairs

    pairs = read_pairs(dataset, "youcook2", config)
    return make_table([dict(task="toy_bench", protocol="count", variant="all", metric="clips", split="val",
                            value=float(len(pairs)), chance=len(pairs) / 2, n=len(pairs))])


def table(long):
    return long[["model", "value", "chance"]]


SPEC = NotebookSpec("99_toy_bench", "Toy: clips counted",
                    tables=(Table("toy_bench_counts", "clips counted per model", ("model", "value", "chance")),))
BENCHMARK = register(Task("toy_bench", evaluate, table, "Toy: clips counted",
                          {"feature": ("youcook2_csv", "youcook2_features")}, default=False, spec=SPEC))
'''


@pytest.fixture
def toy_benchmark(tmp_path, monkeypatch):
    from vttwins.companion.benchmarks.registry import unregister

    (tmp_path / "toy_bench_module.py").write_text(textwrap.dedent(BENCHMARK_MODULE))
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("toy_bench_module")
    try:
        yield module.BENCHMARK
    finally:
        unregister("toy_bench")
        sys.modules.pop("toy_bench_module", None)


def test_toy_benchmark_module_reaches_its_declared_table(toy_benchmark, tmp_path):
    spec = toy_benchmark.spec
    assert spec in list(specs.NOTEBOOKS) and specs.NOTEBOOKS[-1].name == "99_toy_bench"  # ordered by number
    assert toy_benchmark.notebook == "99_toy_bench" and "toy_bench" not in load_config("smoke").eval.tasks
    assert runner.check_outputs(spec, tmp_path / "results")  # nothing written yet: the check reports it
    long = downstream.model_scores(_smoke(tmp_path), tmp_path / "runs", ["untrained"], "toy_bench")
    table = downstream.task_table(long, "toy_bench")
    results.write_table(table, spec.tables[0].name, tmp_path / "results" / "tables")
    assert runner.check_outputs(spec, tmp_path / "results") == []
    rows = table.set_index("model")
    assert rows.loc["untrained", "value"] == 2 * rows.loc["chance", "value"] > 0  # chance = half the clips


def test_each_builtin_benchmark_names_parts_that_exist():
    """Every built-in Task's string references resolve (evaluator, reader, table, SynthHowTo writer) and its
    notebook spec is the pipeline's entry for that notebook."""
    from vttwins.companion.synth import downstream as synth_writers
    from vttwins.companion.synth.videos import SET_CODE
    from vttwins.companion.benchmarks.registry import TASKS
    from vttwins.companion.benchmarks.task import resolve

    assert list(TASKS)[:4] == ["youcook2", "msrvtt", "crosstask", "action"]
    for name in ("youcook2", "msrvtt", "crosstask", "action"):
        task = TASKS[name]
        assert callable(task.evaluator()) and callable(resolve(task.reader)) and callable(resolve(task.table))
        split = task.synth
        assert resolve(split.write).__module__ == resolve(split.summary).__module__ == synth_writers.__name__
        assert resolve(split.make).__name__ == f"make_{name}" and callable(resolve(split.count))
        assert split.seed_code == SET_CODE[name]  # the seed its maker draws from (videos.video_rng)
        assert specs.spec(task.notebook) is task.spec and task.spec.tables


SPLIT_MODULE = '''
"""A toy benchmark with its own SynthHowTo split: one module, one registration, no file of the package edited."""
import csv

import numpy as np
import pandas as pd

from vttwins.companion.benchmarks.split import SynthSplit
from vttwins.companion.benchmarks.task import Task, register
from vttwins.companion.evaluation.common import dataset_path
from vttwins.companion.synth.videos import split_rng


def count(config):
    return config.youcook2_videos // 4  # 2 at the smoke profile


def layout(root):
    return {"toy_split_csv": root / "toy" / "items.csv", "toy_split_features": root / "toy" / "features"}


def make(config, paths, index):
    value = float(split_rng(config, 9, index).random())
    np.save(paths.toy_split_features / f"item{index}.npy", np.full((2, 4), value, dtype=np.float32))
    return {"video_id": f"item{index}", "value": value}


def write(paths, config, world, records):
    with open(paths.toy_split_csv, "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["video_id", "value", "task"])
        out.writerows([r["video_id"], r["value"], world.tasks[0].task_id] for r in records)


def summary(records):
    return {"toy_items": len(records)}


def reader(dataset, config):
    items = pd.read_csv(dataset_path(dataset, "toy_split", "csv"))
    return items.assign(subdir=""), [f"{t} {v}" for t, v in zip(items["task"], items["video_id"])]


SPLIT = SynthSplit("toy", seed_code=9, count=count, make=make, write=write, summary=summary,
                   readme="- `toy/` — the toy benchmark's items.\\n", layout=layout, folders=("toy_split_features",))
BENCHMARK = register(Task("toy_split", "unused:evaluate", "unused:table", "Toy split",
                          {"feature": ("toy_split_csv", "toy_split_features")}, default=False, reader=reader,
                          synth=SPLIT))
'''


def test_toy_benchmark_module_brings_its_own_synth_split(tmp_path, monkeypatch):
    """A folder made before the toy is registered lacks its split, so `ensure_synth` makes the folder again; the
    toy's items are drawn from its own seed code (checked against SeedSequence by hand), written by its own writer,
    counted in meta.json, described in README.md and read back by its reader; the built-in files keep their bytes
    (hashes committed in tests/fixtures/synth/, made before the splits moved behind `Task.synth`)."""
    import json

    import numpy as np

    from vttwins.companion.evaluation.config import EvalConfig
    from vttwins.companion.evaluation.inputs import missing_inputs
    from vttwins.companion.benchmarks.registry import unregister
    from vttwins.companion.synth import PROFILES, ensure_synth, synth_paths
    from test_data_synth_bytes import file_hashes, read_list

    cfg = PROFILES["smoke"].replace(render_videos=False)
    before = ensure_synth(tmp_path / "s", cfg, workers=1)
    assert not hasattr(before, "toy_split_csv")
    (tmp_path / "toy_split_module.py").write_text(textwrap.dedent(SPLIT_MODULE))
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        task = importlib.import_module("toy_split_module").BENCHMARK
        paths = ensure_synth(tmp_path / "s", cfg, workers=2)  # worker processes run the module's maker
        seeds = [np.random.SeedSequence(cfg.seed, spawn_key=(2, 9, i)) for i in range(2)]
        expected = [float(np.random.default_rng(s).random()) for s in seeds]
        items, texts = task.items(paths, EvalConfig())
        assert items["video_id"].tolist() == ["item0", "item1"] and np.allclose(items["value"], expected)
        first_task = json.loads(paths.world.read_text())["tasks"][0]["task_id"]  # the writer got the world
        assert texts == [f"{first_task} item{i}" for i in range(2)]
        assert np.load(paths.toy_split_features / "item1.npy")[1, 3] == np.float32(expected[1])
        assert json.loads(paths.meta.read_text())["counts"]["toy_items"] == 2
        assert "- `toy/` — the toy benchmark's items.\n" in paths.readme.read_text()
        assert missing_inputs("toy_split", "feature", paths) == []
        pinned, _ = read_list("smoke_features.sha256")
        got = file_hashes(paths.root)
        rewritten = {"meta.json", "manifest.json", "README.md"}  # its counts and line; ensure_synth's manifest
        assert {k for k in got if not k.startswith("toy/")} == set(pinned)
        assert {k: got[k] for k in pinned if k not in rewritten} == {
            k: v for k, v in pinned.items() if k not in rewritten
        }
    finally:
        unregister("toy_split")
        sys.modules.pop("toy_split_module", None)
    assert not hasattr(synth_paths(tmp_path / "s"), "toy_split_csv")  # unregistered: no longer a path name
