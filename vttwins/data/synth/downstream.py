"""Writers of the set-level files (CSV/JSON/txt) from the per-video records of videos.py, in the real layouts."""
from __future__ import annotations

import csv
import json

import numpy as np

from .config import SynthConfig
from .paths import SynthPaths
from .world import World


def write_howto(paths: SynthPaths, records: list[dict]) -> None:
    # Real HowTo100M lists carry extra columns; the loaders read only `video_path`.
    with open(paths.howto_csv, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["video_id", "video_path", "task_id", "duration"])
        for r in records:
            w.writerow([r["video_id"], r["video_path"], r["task_id"], r["duration"]])


def write_youcook2(paths: SynthPaths, records: list[dict]) -> None:
    with open(paths.youcook2_csv, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["end", "start", "task", "text", "video_id"])  # the released column order
        for r in records:
            for row in r["rows"]:
                w.writerow([row["end"], row["start"], row["task"], row["text"], row["video_id"]])
    database = {r["video_id"]: {"duration": float(r["duration"]), "subset": "validation", "recipe_type": r["task_id"],
                                "annotations": [{"segment": [row["start"], row["end"]], "id": i, "sentence": row["text"]}
                                                for i, row in enumerate(r["rows"])]}
                for r in records}
    with open(paths.youcook2_json, "w") as f:
        json.dump({"database": database}, f, indent=1)


def write_msrvtt(paths: SynthPaths, records: list[dict]) -> None:
    with open(paths.msrvtt_csv, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["key", "vid_key", "video_id", "sentence"])
        for r in records:
            w.writerow([r["key"], r["vid_key"], r["video_id"], r["sentence"]])


def write_crosstask(paths: SynthPaths, world: World, records: list[dict]) -> None:
    root = paths.crosstask_root
    with open(root / "tasks_primary.txt", "w") as f:
        for t in world.tasks:
            steps = ",".join(world.step_name(v, o) for v, o in t.steps)
            f.write(f"{t.task_id}\n{t.title}\nhttps://synthhowto.invalid/{t.title.replace(' ', '-')}\n"
                    f"{len(t.steps)}\n{steps}\n\n")
    for name, split in (("videos.csv", "train"), ("videos_val.csv", "val")):
        with open(root / name, "w", newline="") as f:
            w = csv.writer(f)
            for r in records:
                if r["split"] == split:
                    w.writerow([r["task_id"], r["video_id"], f"https://synthhowto.invalid/watch?v={r['video_id']}"])
    for r in records:
        with open(root / "annotations" / f"{r['task_id']}_{r['video_id']}.csv", "w", newline="") as f:
            w = csv.writer(f)
            for s in r["segments"]:
                w.writerow([s["step"], f"{s['start']:.2f}", f"{s['end']:.2f}"])
    with open(paths.crosstask_flat_csv, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["end", "start", "task_id", "text", "video_id"])
        for r in records:
            for s in r["segments"]:
                w.writerow([f"{s['end']:.2f}", f"{s['start']:.2f}", r["task_id"], s["text"], r["video_id"]])


def action_splits(config: SynthConfig, records: list[dict]) -> np.ndarray:
    """(n_clips, 3) split codes: per class and split, 60% train (1), 30% test (2), the rest unused (0)."""
    codes = np.zeros((len(records), 3), dtype=np.int64)
    verbs = np.array([r["verb"] for r in records])
    for s in range(3):
        rng = np.random.default_rng(np.random.SeedSequence(config.seed, spawn_key=(3, s)))
        for v in np.unique(verbs):
            idx = rng.permutation(np.nonzero(verbs == v)[0])
            n_train = max(1, int(round(0.6 * idx.size)))
            n_test = max(1, int(round(0.3 * idx.size))) if idx.size > 1 else 0
            codes[idx[:n_train], s] = 1
            codes[idx[n_train:n_train + n_test], s] = 2
    return codes


def write_actions(paths: SynthPaths, config: SynthConfig, records: list[dict]) -> None:
    codes = action_splits(config, records)
    with open(paths.action_csv, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["video_id", "label", "split1", "split2", "split3"])
        for r, c in zip(records, codes):
            w.writerow([r["video_id"], f"{r['action']}_test", *c.tolist()])
    for action in sorted({r["action"] for r in records}):  # official HMDB split files
        for s in range(3):
            with open(paths.action_splits / f"{action}_test_split{s + 1}.txt", "w") as f:
                for r, c in zip(records, codes):
                    if r["action"] == action:
                        f.write(f"{r['video_id']} {c[s]}\n")
