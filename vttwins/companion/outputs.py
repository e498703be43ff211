"""What a notebook declares it writes: its tables (with their columns) and figures.

    from vttwins.companion.outputs import NotebookSpec, Table
    NotebookSpec("03_retrieval_youcook2", "YouCook2-style retrieval", tables=(Table("retrieval_youcook2", "..."),))

Plain data at the bottom of the house, so a downstream benchmark (vttwins.companion.benchmarks) can carry its
notebook's spec and the pipeline (vttwins.companion.pipeline.specs) can list every notebook's.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: tuple[str, ...] = ()
    nullable: tuple[str, ...] = ()  # numeric columns allowed to hold NaN (e.g. a metric undefined for chance)
    keys: tuple[str, ...] = ()  # columns naming a row for `reproduce --check` (default: the text columns)
    volatile: tuple[str, ...] = ()  # columns naming the code or run (hashes): not compared by the check


@dataclass(frozen=True)
class Figure:
    name: str
    description: str
    caption: str = ""  # one line: what a reader should look at (the gallery in results/README.md)


@dataclass(frozen=True)
class NotebookSpec:
    name: str
    title: str
    tables: tuple[Table, ...] = ()
    figures: tuple[Figure, ...] = ()


# The paired-effects table a downstream notebook writes beside its main table
# (`vttwins.companion.experiments.downstream.model_effects`): one row per number of the task, model a minus model b.
EFFECTS_KEYS = ("task", "protocol", "variant", "metric", "split", "a", "b")
EFFECTS_COLUMNS = (*EFFECTS_KEYS, "diff", "low", "high", "p", "n_seeds", "n_items", "resampled", "unresolved", "effect")


def effects_table(name: str, what: str) -> Table:
    """`<name>_effects`: S2DTW minus MIL-NCE for every number of `what`, paired by training seed, with its 95 %
    interval over seeds, and test items where `resampled` says so (NaN bounds and p with one seed, hence
    nullable)."""
    return Table(
        f"{name}_effects",
        f"{what}: S2DTW minus MIL-NCE per number, paired by training seed, 95 % interval over seeds (and test items "
        "where `resampled` says so), raw p",
        EFFECTS_COLUMNS,
        nullable=("low", "high", "p"),
        keys=EFFECTS_KEYS,
    )
