"""What a downstream benchmark tells SynthHowTo about its synthetic split: `SynthSplit`, carried as `Task.synth`.

    SynthSplit("toy", seed_code=9, count="my_pkg.toy:count", make="my_pkg.toy:make", write="my_pkg.toy:write",
               summary="my_pkg.toy:summary", layout="my_pkg.toy:layout", folders=("toy_features",))

`vttwins.companion.synth.generate` iterates over the registered benchmarks (registry order) and, for each split,
runs `make` for indices 0 .. count-1 (in worker processes), then `write` once with the records, then `summary`
for its counts in meta.json and README.md. Functions may be "module:function" strings (resolved when generating),
so a benchmark module loads nothing of the generator; the built-ins name theirs in `vttwins.companion.synth`
(`videos.make_*`, `downstream.write_*`, `downstream.*_summary`). A leaf: it imports only the standard library.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable, Union

Ref = Union[str, Callable]
HOWTO_SEED_CODE = 1  # the pretraining videos' spawn key; no split may take it


@dataclass(frozen=True)
class SynthSplit:
    """One benchmark's part of SynthHowTo.

    folder: its sub-folder of the SynthHowTo root (removed before generating, so no stale file survives).
    seed_code: video i of the split draws from `SeedSequence(seed, spawn_key=(2, seed_code, i))`
        (`vttwins.companion.synth.videos.split_rng`); unique among the registered splits, never 1 (HowTo).
    count: (SynthConfig) -> int, how many videos (items) it has.
    make: (SynthConfig, SynthPaths, index) -> record dict (JSON-able); writes that item's own files.
    write: (SynthPaths, SynthConfig, World, records in index order) -> None; writes the set-level files.
    summary: (records) -> dict of counts, merged in this order into meta.json's and README.md's `counts`.
    readme: its lines of the folder's README.md (markdown list items, ending in a newline).
    layout: (root: Path) -> {name: Path}, names of its files on `SynthPaths` beyond the built-in fields
        (`paths.<name>`, and the `eval.paths` keys its reader looks up); None for the built-ins.
    folders: names of `layout` entries that are folders, created before `make` runs.
    """

    folder: str
    seed_code: int
    count: Ref
    make: Ref
    write: Ref
    summary: Ref
    readme: str = ""
    layout: Ref | None = None
    folders: tuple = ()

    def __post_init__(self):
        if not self.folder or "/" in self.folder or self.folder.startswith("."):
            raise ValueError(f"SynthSplit.folder must be one plain folder name, got {self.folder!r}")
        if not isinstance(self.seed_code, int) or self.seed_code < 2:
            raise ValueError(f"SynthSplit.seed_code must be an int >= 2 (1 is HowTo), got {self.seed_code!r}")


def resolve(ref: Ref) -> Callable:
    """A callable, or the function a "module:function" string names (imported now)."""
    if callable(ref):
        return ref
    module, sep, name = ref.partition(":")
    if not sep or not module or not name:
        raise ValueError(f"expected a callable or a 'module:function' string, got {ref!r}")
    return getattr(importlib.import_module(module), name)
