"""Where a SynthHowTo folder keeps each file: `synth_paths(out_dir)` -> SynthPaths (the loaders' inputs).

Layout (each set in its real layout, see docs/formats.md):

    meta.json, README.md, world.json
    howto100m/videos.csv  captions/<vid>.json  videos/<vid>.mp4  features/<vid>.mp4.npy  annotations/<vid>.json
    youcook2/validation_youcook.csv  youcookii_annotations_trainval.json  videos/<task>/<vid>.mp4  features/
    msrvtt/MSRVTT_JSFUSION_test.csv  videos/<vid>.mp4  features/
    crosstask/crosstask_release/{tasks_primary.txt, videos.csv, videos_val.csv, annotations/<task>_<vid>.csv}
    crosstask/crosstask_flat.csv  videos/<task>/<vid>.mp4  features/
    actions/hmdb_style.csv  videos/<action>/<file>.mp4  features/  splits/<action>_test_split{1,2,3}.txt

A registered benchmark with its own split names its files in `SynthSplit.layout` (vttwins.companion.benchmarks):
they are `extra` here and read as attributes (`paths.toy_csv`), like the built-in fields.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from vttwins.companion.benchmarks.registry import synth_splits
from vttwins.companion.benchmarks.split import resolve


@dataclass(frozen=True)
class SynthPaths:
    root: Path
    meta: Path
    world: Path
    readme: Path
    howto_csv: Path
    howto_captions: Path
    howto_videos: Path
    howto_features: Path
    howto_annotations: Path
    youcook2_csv: Path
    youcook2_json: Path
    youcook2_videos: Path
    youcook2_features: Path
    msrvtt_csv: Path
    msrvtt_videos: Path
    msrvtt_features: Path
    crosstask_root: Path
    crosstask_flat_csv: Path
    crosstask_videos: Path
    crosstask_features: Path
    action_csv: Path
    action_videos: Path
    action_features: Path
    action_splits: Path
    extra: Mapping[str, Path] = field(default_factory=dict, hash=False)  # registered splits' own files

    def __getattr__(self, name: str) -> Path:
        extra = self.__dict__.get("extra") or {}  # not self.extra: unpickling asks before the fields exist
        if name in extra:
            return extra[name]
        raise AttributeError(f"SynthPaths has no {name!r} (fields and the registered splits' files: {sorted(extra)})")

    def files(self) -> dict[str, Path]:
        """{name: path} of every field (not `extra` itself) and of every registered split's file."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "extra"}
        return {**out, **self.extra}

    def folders(self) -> list[Path]:
        return [
            self.howto_captions,
            self.howto_videos,
            self.howto_features,
            self.howto_annotations,
            self.youcook2_videos,
            self.youcook2_features,
            self.msrvtt_videos,
            self.msrvtt_features,
            self.crosstask_root / "annotations",
            self.crosstask_videos,
            self.crosstask_features,
            self.action_videos,
            self.action_features,
            self.action_splits,
        ]


def synth_paths(out_dir: str | Path) -> SynthPaths:
    """The paths of a SynthHowTo folder (whether or not it has been generated yet)."""
    r = Path(out_dir)
    return SynthPaths(**_builtin(r), extra=_extra(r))


def _extra(root: Path) -> dict[str, Path]:
    """The files the registered benchmarks' own splits declare (`SynthSplit.layout`), by name."""
    names = {f.name for f in dataclasses.fields(SynthPaths)}
    out: dict[str, Path] = {}
    for split in synth_splits():
        if split.layout is None:
            continue
        for name, path in resolve(split.layout)(root).items():
            if name in names or name in out:
                raise ValueError(f"SynthSplit {split.folder!r}: path name {name!r} is already taken")
            out[name] = Path(path)
    return out


def _builtin(r: Path) -> dict[str, Path]:
    h, y, m, c, a = r / "howto100m", r / "youcook2", r / "msrvtt", r / "crosstask", r / "actions"
    return dict(
        root=r,
        meta=r / "meta.json",
        world=r / "world.json",
        readme=r / "README.md",
        howto_csv=h / "videos.csv",
        howto_captions=h / "captions",
        howto_videos=h / "videos",
        howto_features=h / "features",
        howto_annotations=h / "annotations",
        youcook2_csv=y / "validation_youcook.csv",
        youcook2_json=y / "youcookii_annotations_trainval.json",
        youcook2_videos=y / "videos",
        youcook2_features=y / "features",
        msrvtt_csv=m / "MSRVTT_JSFUSION_test.csv",
        msrvtt_videos=m / "videos",
        msrvtt_features=m / "features",
        crosstask_root=c / "crosstask_release",
        crosstask_flat_csv=c / "crosstask_flat.csv",
        crosstask_videos=c / "videos",
        crosstask_features=c / "features",
        action_csv=a / "hmdb_style.csv",
        action_videos=a / "videos",
        action_features=a / "features",
        action_splits=a / "splits",
    )
