"""results.py: deterministic tables, provenance beside them, atomic writes."""
import json

import numpy as np
import pandas as pd
import pytest

from vttwins import results


def _df():
    return pd.DataFrame({"loss": ["s2dtw", "mil_nce", "dtw"], "r1": [0.25, 1 / 3, 0.1], "seed": [1, 2, 3]})


def test_table_is_sorted_formatted_and_stable(tmp_path):
    csv, md = results.write_table(_df(), "t", tmp_path, columns=["loss", "r1"], description="demo")
    text = csv.read_text()
    assert text.splitlines() == ["loss,r1", "dtw,0.1000", "mil_nce,0.3333", "s2dtw,0.2500"]
    assert "| dtw | 0.1000 |" in md.read_text()
    first = (csv.read_bytes(), md.read_bytes())
    results.write_table(_df(), "t", tmp_path, columns=["loss", "r1"], description="demo")
    assert (csv.read_bytes(), md.read_bytes()) == first  # no timestamps: same input, same bytes
    meta = json.loads((tmp_path / "t.meta.json").read_text())
    assert meta["description"] == "demo" and "torch" in meta["versions"]


def test_missing_column_is_named(tmp_path):
    with pytest.raises(ValueError, match="r5"):
        results.write_table(_df(), "t", tmp_path, columns=["loss", "r5"])


def test_benchmark_records_round_trip(tmp_path):
    recs = [{"impl": "ours", "ms": 1.5, "ratio": np.float64(2.0)}]
    js, md = results.write_benchmark(recs, "b", tmp_path, title="Bench", notes=["2 threads"])
    payload = json.loads(js.read_text())
    assert payload["records"][0]["ratio"] == 2.0 and payload["provenance"]["git_revision"]
    assert "2 threads" in md.read_text() and "| ours | 1.500 | 2.000 |" in md.read_text()
    with pytest.raises(ValueError, match="no records"):
        results.write_benchmark([], "b", tmp_path)


def test_read_table_names_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        results.read_table("nope", tmp_path)


def test_machine_paths_are_stripped_from_provenance(tmp_path):
    inside = results.REPO_ROOT / "data" / "synth" / "default"
    meta = results.provenance(config={"root": inside, "log": f"wrote {inside}/x.csv"})
    assert meta["config"] == {"root": "data/synth/default", "log": "wrote data/synth/default/x.csv"}
    f = tmp_path / "nb.ipynb"
    f.write_text(f'{{"input_path": "{results.REPO_ROOT}/notebooks/00_data.ipynb"}}')
    results.strip_machine_paths_in_file(f)
    assert f.read_text() == '{"input_path": "notebooks/00_data.ipynb"}'
