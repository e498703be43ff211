"""The fair ablation of notebook 02, one call per table: defaults, tuning on val, tuned on test, truth columns.

    setup = worlds_setup(base, {"default": {}, "seed4242": {...}}, n_heldout=40)   # per world: train/val/test
    tuning = tuning_table(setup, losses, 12, 4, 0, [1], root, tasks)          # val split: 12 trials per objective
    defaults = test_table(setup, ex.loss_cells(losses), seeds, root, tasks)    # (a) each at its own defaults
    table_a = with_chance_rows(defaults[1], defaults[0], reference_rows(setup, defaults[0], root))
    tuned = test_table(setup, tuning.chosen_cells(tuning), seeds, root, tasks)  # (b) each at its best on val
                                                                              #     (dict: world -> cells)

Reported numbers are on the `test` half of each world's downstream sets; `val` only chooses settings.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Sequence

import pandas as pd

from vttwins.companion.config import Config
from vttwins.companion.synth import synth_paths

from . import effects, fair, sanity, truth, tuning
from .examples import heldout_videos
from .grids import ABLATION_METRICS, grid_jobs, job_items, run_jobs, summarize, wide

SELECT = ("yc2_t2v_R@10", "crosstask_recall")  # the validation score: mean of these two (percent, higher better)
LOWER_IS_BETTER = ("yc2_t2v_MedR",)


@dataclasses.dataclass
class World:
    """One SynthHowTo world: training config, val/test evaluation configs, held-out pretraining videos."""

    name: str
    config: Config
    val: Config
    test: Config
    heldout: object  # SynthPaths of the held-out (never trained on) pretraining videos


def heldout(config: Config, n: int):
    """`n` held-out pretraining videos of the config's world (generated once into `<root>-heldout<n>`)."""
    out = Path(f"{config.data.root}-heldout{n}")
    paths = synth_paths(out)
    return paths if paths.howto_csv.is_file() else heldout_videos(config, n, out)


def worlds_setup(base: Config, worlds: dict[str, dict], n_heldout: int) -> dict[str, World]:
    """Each world (name -> SynthConfig overrides; {} = the base world) with its splits and held-out videos."""
    out = {}
    for name, synth in worlds.items():
        cfg = fair.world_config(base, name, synth)
        out[name] = World(
            name, cfg, fair.split_config(cfg, "val"), fair.split_config(cfg, "test"), heldout(cfg, n_heldout)
        )
    return out


def _jobs(setup: dict[str, World], cells, seeds: Sequence[int], root, split: str) -> list:
    jobs = []
    for w in setup.values():
        own = cells[w.name] if isinstance(cells, dict) else cells
        labelled = [({"world": w.name, **labels}, overrides) for labels, overrides in own]
        jobs += grid_jobs(w.config, labelled, seeds, root, eval_base=getattr(w, split))
    return jobs


def items_table(setup: dict[str, World], cells, seeds: Sequence[int], root, tasks, eval_changes=None) -> pd.DataFrame:
    """Per-item scores (run, metric, item, score, weight) of the TEST evaluations of `test_table`'s runs (read from
    their eval caches), for the paired effects that resample test items too (`effects`, `claims`)."""
    return job_items(_jobs(setup, cells, seeds, root, "test"), tasks, eval_changes)


def _runs(
    setup: dict[str, World], cells, seeds: Sequence[int], root, tasks, split: str, eval_changes, workers, grid=None
) -> pd.DataFrame:
    """Wide table (one row per world x cell x seed) of the cells trained on each world, scored on `split`;
    `cells` is one list for every world or a dict world -> its own list (the settings tuned on that world)."""
    return wide(run_jobs(_jobs(setup, cells, seeds, root, split), tasks, eval_changes, workers=workers, grid=grid))


def with_truth(runs: pd.DataFrame, setup: dict[str, World], root) -> pd.DataFrame:
    """`runs` plus the alignment-vs-truth columns (truth.COLUMNS) of each run on its world's held-out videos."""
    scores = [truth.score_run(Path(root) / r.run, setup[r.world].heldout) for r in runs.itertuples()]
    return pd.concat([runs.reset_index(drop=True), pd.DataFrame(scores)[list(truth.COLUMNS)]], axis=1)


def tuning_table(
    setup, losses, n_trials, extra_trials, search_seed, seeds, root, tasks, eval_changes=None, workers=1, grid=None
) -> pd.DataFrame:
    """The tuning search on the VAL split: `n_trials` seeded random-search trials per objective over its own knobs
    (`tuning.draw_trials`, the same count for all), then for each (world, objective) whose best trial sits at the
    edge of a range, `extra_trials` more in the widened range (`tuning.extension_trials`). One row per world x
    trial: its knobs, mean/std over `seeds`, `val_score` (mean of SELECT) and `chosen` (the best per world and
    objective over both rounds; ties keep the earlier trial, so the defaults win a tie). `grid`: where the runs
    go (a `GridConfig`, docs/cluster.md; None = a local pool of `workers`)."""
    base = next(iter(setup.values())).config.loss
    first = tuning.draw_trials(losses, n_trials, search_seed, base)
    kw = dict(seeds=seeds, root=root, tasks=tasks, eval_changes=eval_changes, workers=workers, grid=grid)
    table = _score_trials(setup, {w: first for w in setup}, **kw)
    by_world: dict[str, list] = {}
    for _, row in table[table["chosen"]].iterrows():
        extra = tuning.extension_trials(row, extra_trials, search_seed, first_trial=int(n_trials))
        if len(extra):
            by_world.setdefault(row["world"], []).append(extra)
    if by_world:
        second = _score_trials(setup, {w: pd.concat(parts, ignore_index=True) for w, parts in by_world.items()}, **kw)
        table = _choose(pd.concat([table, second], ignore_index=True))
    return table


def _score_trials(
    setup, trials: dict[str, pd.DataFrame], seeds, root, tasks, eval_changes, workers, grid=None
) -> pd.DataFrame:
    """Trial rows (per world) with their val mean/std over `seeds` and the `chosen` flag."""
    keys = ["world", "loss", "round", "trial"]
    cells = {w: tuning.trial_cells(t) for w, t in trials.items()}
    runs = _runs({w: setup[w] for w in cells}, cells, seeds, root, tasks, "val", eval_changes, workers, grid)
    summary = summarize(runs, keys, list(ABLATION_METRICS))
    specs = pd.concat([t.assign(world=w) for w, t in trials.items()], ignore_index=True)
    table = specs[["world", *tuning.TRIAL_COLUMNS]].merge(summary, on=keys, how="left", validate="one_to_one")
    return _choose(table)


def _choose(table: pd.DataFrame) -> pd.DataFrame:
    """`val_score` = mean of the SELECT means; `chosen` = the first best row per world and objective."""
    out = table.assign(val_score=table[[f"{m}_mean" for m in SELECT]].mean(axis=1))
    best = out.groupby(["world", "loss"], sort=False)["val_score"].idxmax()
    return out.assign(chosen=out.index.isin(best.dropna().to_numpy()))


def test_table(
    setup, cells, seeds, root, tasks, eval_changes=None, workers=1, grid=None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per-run wide table with truth columns, mean/std per world x objective with `_unresolved` flags) on TEST.

    `<m>_unresolved`: the paired 95 % interval (over shared seeds) of the row minus its world's best row contains 0
    (`effects.unresolved_vs_best`); `<m>_vs_best` prints that paired difference."""
    runs = with_truth(_runs(setup, cells, seeds, root, tasks, "test", eval_changes, workers, grid), setup, root)
    by = ["world", "loss"] + [c for c in tuning.KEYS if c in runs]  # knobs an objective lacks: NaN
    metrics = list(ABLATION_METRICS) + list(truth.COLUMNS)
    summary = summarize(runs, by, metrics)
    return runs, effects.unresolved_vs_best(summary, runs, ["world"], metrics, LOWER_IS_BETTER)


def reference_rows(setup: dict[str, World], runs: pd.DataFrame, root) -> pd.DataFrame:
    """Chance, untrained, diagonal and oracle rows of the truth columns per world (untrained: the initial model of
    each seed; diagonal and oracle: `sanity.reference_rows`, model-free)."""
    rows = []
    for w in setup.values():
        rows.append({"world": w.name, "loss": "chance", **truth.chance_row(w.heldout)})
        sel = runs[runs.world == w.name].drop_duplicates("seed")
        untrained = pd.DataFrame(
            [truth.score_run(Path(root) / r.run, w.heldout, untrained=True) for r in sel.itertuples()]
        )
        rows.append({"world": w.name, "loss": "untrained", **untrained.mean(numeric_only=True).to_dict()})
        for ref in sanity.reference_rows(truth.truth_matrices(w.heldout)):  # what a diagonal / the truth gets
            rows.append(
                {
                    "world": w.name,
                    "loss": ref["model"].split(" (")[0],
                    **{k: ref[k] for k in (*truth.COLUMNS, "videos")},
                }
            )
    return pd.DataFrame(rows)


def with_chance_rows(summary: pd.DataFrame, runs: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    """`summary` (a test table) followed by one `chance` row per world: the downstream metrics' computed chance
    (the mean of the runs' `<metric>_chance`, the same candidates and steps) and the truth columns' chance row of
    `reference` (`reference_rows`). No seeds (`n_seeds` 0), no std, never flagged unresolved."""
    rows = []
    for world in dict.fromkeys(summary["world"]):
        row = {"world": world, "loss": "chance", "n_seeds": 0}
        sel = runs[runs["world"] == world]
        for m in ABLATION_METRICS:
            if f"{m}_chance" in sel:
                row[f"{m}_mean"] = float(sel[f"{m}_chance"].mean())
        ref = reference[(reference["world"] == world) & (reference["loss"] == "chance")]
        for m in truth.COLUMNS:
            if len(ref) and m in ref:
                row[f"{m}_mean"] = float(ref[m].iloc[0])
        rows.append(row)
    chance = pd.DataFrame(rows)
    for col in summary.columns:
        if col.endswith("_unresolved"):
            chance[col] = False
    out = pd.concat([summary, chance], ignore_index=True)
    return out[list(summary.columns)]
