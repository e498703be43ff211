"""HMDB51 / UCF101 action sets: the `video_id,label,split1,split2,split3` CSV and the official split files.

All readers return [video_id, label, label_index, split1, split2, split3] (split: 1 train, 2 test, 0 unused;
label_index 0-based). HMDB: label `<action>_test` -> `<action>`, label_index = rank of the action name, videos at
`<root>/<action>/<video_id>`. UCF: label = 1-based class index -> label_index = label - 1, label = the class
folder of `video_id` (`ApplyEyeMakeup/v_...avi`).
"""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from ._csv import drop_duplicates, numeric, read_table, row_number
from .errors import DataFileError

COLUMNS = ["video_id", "label", "label_index", "split1", "split2", "split3"]


def read_action_csv(path: str | Path, dataset: str = "hmdb") -> pd.DataFrame:
    if dataset not in ("hmdb", "ucf"):
        raise ValueError(f"dataset must be 'hmdb' or 'ucf', got {dataset!r}")
    df = read_table(path, ["video_id", "label", "split1", "split2", "split3"], dtype={"video_id": str, "label": str})
    df = numeric(df, ["split1", "split2", "split3"], path, int)
    for col in ("split1", "split2", "split3"):  # any other code would silently drop the row from every split
        bad = ~df[col].isin([0, 1, 2])
        if bad.any():
            pos = int(bad.to_numpy().nonzero()[0][0])
            raise DataFileError(path, f"line {row_number(df, pos)}: {col}={df[col].iloc[pos]} "
                                      "(expected 0 unused, 1 train, 2 test)")
    if (df["video_id"].str.strip() == "").any() or (df["label"].str.strip() == "").any():
        pos = int(((df["video_id"].str.strip() == "") | (df["label"].str.strip() == "")).to_numpy().nonzero()[0][0])
        raise DataFileError(path, f"line {row_number(df, pos)}: empty video_id or label")
    df = drop_duplicates(df, path)
    if df["video_id"].duplicated().any():
        vid = df["video_id"][df["video_id"].duplicated()].iloc[0]
        raise DataFileError(path, f"video {vid!r} is listed twice with different labels or splits")
    if dataset == "hmdb":
        df["label"] = df["label"].str.replace(r"_test$", "", regex=True)
        classes = sorted(df["label"].unique())
        df["label_index"] = df["label"].map({c: i for i, c in enumerate(classes)}).astype(int)
    else:
        df = numeric(df, ["label"], path, int)
        if (df["label"] < 1).any():
            pos = int((df["label"] < 1).to_numpy().nonzero()[0][0])
            raise DataFileError(path, f"line {row_number(df, pos)}: UCF label {df['label'].iloc[pos]} "
                                      "(expected a 1-based class index)")
        df["label_index"] = df["label"] - 1
        df["label"] = df["video_id"].map(lambda v: v.split("/")[0] if "/" in v else "")
    return df[COLUMNS].reset_index(drop=True)


def read_hmdb_splits(directory: str | Path) -> pd.DataFrame:
    """From `<action>_test_split{1,2,3}.txt` files (lines `<file> <0|1|2>`)."""
    directory = Path(directory)
    files = sorted(directory.glob("*_test_split[123].txt"))
    if not files:
        raise FileNotFoundError(f"no <action>_test_split{{1,2,3}}.txt files in {directory}")
    codes: dict[tuple[str, str], dict[str, int]] = {}
    for f in files:
        m = re.fullmatch(r"(.+)_test_split([123])\.txt", f.name)
        action, split = m.group(1), f"split{m.group(2)}"
        for n, line in enumerate(f.read_text().splitlines(), 1):
            if not line.strip():
                continue
            parts = line.split()
            if len(parts) != 2 or parts[1] not in ("0", "1", "2"):
                raise DataFileError(f, f"line {n}: expected '<file> <0|1|2>', got {line!r}")
            codes.setdefault((parts[0], action), {})[split] = int(parts[1])
    classes = sorted({a for _, a in codes})
    rows = [{"video_id": v, "label": a, "label_index": classes.index(a),
             **{s: c.get(s, 0) for s in ("split1", "split2", "split3")}} for (v, a), c in sorted(codes.items())]
    return pd.DataFrame(rows, columns=COLUMNS)


def read_ucf_splits(directory: str | Path) -> pd.DataFrame:
    """From `classInd.txt`, `trainlist0{k}.txt` (`<class>/<file> <label>`), `testlist0{k}.txt` (`<class>/<file>`)."""
    directory = Path(directory)
    ind = read_table(directory / "classInd.txt", ["index", "name"], header=False, names=["index", "name"], sep=" ")
    classes = dict(zip(ind["name"].astype(str), numeric(ind, ["index"], directory / "classInd.txt", int)["index"]))
    codes: dict[str, dict[str, int]] = {}
    for k in (1, 2, 3):
        for name, value in ((f"trainlist0{k}.txt", 1), (f"testlist0{k}.txt", 2)):
            f = directory / name
            if not f.is_file():
                continue
            for line in f.read_text().splitlines():
                if line.strip():
                    codes.setdefault(line.split()[0], {})[f"split{k}"] = value
    rows = []
    for vid, c in sorted(codes.items()):
        label = vid.split("/")[0]
        if label not in classes:
            raise DataFileError(directory / "classInd.txt", f"class {label!r} of {vid} not listed")
        rows.append({"video_id": vid, "label": label, "label_index": classes[label] - 1,
                     **{s: c.get(s, 0) for s in ("split1", "split2", "split3")}})
    return pd.DataFrame(rows, columns=COLUMNS)
