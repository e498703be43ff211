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
