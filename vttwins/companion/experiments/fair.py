"""A fair ablation: worlds, a validation/test split of the downstream sets (the tuning search: `tuning`).

    world = world_config(base, "w4242", {"seed": 4242, "noise": {"offset_std": 6.0, "filler_rate": 0.3}})
    val, test = split_config(world, "val"), split_config(world, "test")     # eval.paths -> half of each set
    cells = transfer_cells(tuning.chosen_cells(table), worlds, source="default")   # untuned worlds: default's

The downstream sets of SynthHowTo are split by video, deterministically (sorted ids, alternating): the even ones
are `val` (used only to choose settings), the odd ones `test` (the reported numbers). Nothing here trains.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Sequence

import pandas as pd

from vttwins.companion.config import Config, replace

from .runs import ensure_data

log = logging.getLogger(__name__)
SPLITS = ("val", "test")


def world_config(base: Config, name: str, synth: dict) -> Config:
    """`base` on another SynthHowTo world: `synth` (SynthConfig overrides, e.g. seed and noise) on top of the
    base's `data.synth`, generated into `<base root>-<name>` features-only; an empty `synth` is the base world."""
    if not synth:
        return base
    noise = {**dict(base.data.synth.get("noise") or {}), **dict(synth.get("noise") or {})}
    merged = {**base.data.synth, **synth, "render_videos": False, **({"noise": noise} if noise else {})}
    return replace(base, {"data.root": f"{base.data.root}-{name}", "data.synth": merged})


def _half(ids: Sequence[str], split: str) -> set[str]:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    return set(sorted(set(map(str, ids)))[SPLITS.index(split) :: 2])


def _read_list(path: Path) -> pd.DataFrame | None:
    """A CrossTask video list (no header: task, video_id, url), None when absent or empty."""
    if not path.is_file() or path.stat().st_size == 0:
        return None
    return pd.read_csv(path, header=None, dtype=str)


def write_split(paths, split: str, out_dir: str | Path) -> dict[str, str]:
    """Write the `split` half (by video) of SynthHowTo's YouCook2-style CSV, of all CrossTask videos (as the
    `videos_val.csv` the protocol reads) and of the CrossTask flat CSV under `out_dir`; return the `eval.paths` entries that point evaluation at them."""
    out = Path(out_dir)
    yc2 = pd.read_csv(paths.youcook2_csv, dtype={"video_id": str})
    keep = _half(yc2["video_id"], split)
    (out / "youcook2").mkdir(parents=True, exist_ok=True)
    yc2[yc2["video_id"].isin(keep)].to_csv(out / "youcook2" / Path(paths.youcook2_csv).name, index=False)
    release = out / "crosstask_release"
    if release.exists():
        shutil.rmtree(release)
    shutil.copytree(paths.crosstask_root, release)  # annotations are small text files
    # every CrossTask video (the release's train and val lists: none is seen in pretraining) is split in halves,
    # and the half goes into videos_val.csv, the list the zero-shot protocol reads (eval.crosstask_split = "val")
    lists = [df for df in (_read_list(release / n) for n in ("videos.csv", "videos_val.csv")) if df is not None]
    videos = pd.concat(lists, ignore_index=True)
    videos[videos[1].isin(_half(videos[1], split))].to_csv(release / "videos_val.csv", header=False, index=False)
    (release / "videos.csv").write_text("")
    flat = pd.read_csv(paths.crosstask_flat_csv, dtype={"video_id": str, "task_id": str})
    flat[flat["video_id"].isin(_half(flat["video_id"], split))].to_csv(out / "crosstask_flat.csv", index=False)
    return {
        "youcook2_csv": str(out / "youcook2" / Path(paths.youcook2_csv).name),
        "crosstask_root": str(release),
        "crosstask_flat_csv": str(out / "crosstask_flat.csv"),
    }


def split_config(config: Config, split: str) -> Config:
    """`config` whose evaluation reads only the `split` half of its world's downstream sets (written on first use
    next to the world's folder, `<root>-split-<split>`)."""
    paths = ensure_data(config)
    if paths is None:
        raise ValueError("split_config needs SynthHowTo (data.video_list_csv unset): real sets have their own splits")
    entries = write_split(paths, split, f"{config.data.root}-split-{split}")
    return replace(config, {"eval.paths": entries})


# ------------------------------------------------------------------------------------------- tuning
def transfer_cells(cells: dict[str, list], worlds: Sequence[str], source: str) -> dict[str, list]:
    """Per world, its own tuned cells (`tuning.chosen_cells`) when it was tuned, else the cells tuned on `source`: settings
    chosen once on one world's val split and applied unchanged to the others (a test of whether they transfer)."""
    if source not in cells:
        raise ValueError(f"tune_worlds: {source!r} was not tuned (tuned: {sorted(cells)})")
    return {w: cells.get(w, cells[source]) for w in worlds}
