"""results.py: deterministic tables, provenance beside them, atomic writes."""

import json

import numpy as np
import pandas as pd
import pytest

from vttwins.companion import results


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


def test_meta_seeds_come_from_the_table(tmp_path):
    per_seed = pd.DataFrame({"loss": ["a", "a", "b"], "seed": [2, 1, 1], "r1": [0.1, 0.2, 0.3]})
    results.write_table(per_seed, "runs", tmp_path)
    assert json.loads((tmp_path / "runs.meta.json").read_text())["seeds"] == [1, 2]
    summary = pd.DataFrame({"metric": ["r1", "r5"], "n_seeds": [2, 2], "mean": [0.1, 0.2]})
    results.set_context(seeds=[1])  # what a notebook without a seeds parameter records: the config's one seed
    try:
        results.write_table(summary, "summary", tmp_path)
        meta = json.loads((tmp_path / "summary.meta.json").read_text())
        assert meta["seeds"] is None and meta["n_seeds"] == [2]
        results.write_table(summary, "summary", tmp_path, seeds=[2, 1])
        assert json.loads((tmp_path / "summary.meta.json").read_text())["seeds"] == [1, 2]
        assert "seeds [1, 2]" in (tmp_path / "summary.md").read_text()
        with pytest.raises(ValueError, match="n_seeds"):
            results.write_table(summary, "summary", tmp_path, seeds=[1])
    finally:
        results.set_context()


def test_meta_seeds_skip_rows_without_a_seed_count(tmp_path):
    """A table whose reference rows (chance, a claim without seeds) have no n_seeds still gets its counts."""
    import pandas as pd
    from vttwins.companion.results import table_seeds

    df = pd.DataFrame({"n_seeds": [3, float("nan"), 3, 2]})
    assert table_seeds(df, None) == {"seeds": None, "n_seeds": [2, 3]}


def test_items_are_written_gzipped_byte_identical_and_read_back(tmp_path):
    import pandas as pd
    from vttwins.companion.experiments.claims import _read
    from vttwins.companion.results import write_items

    df = pd.DataFrame(
        {
            "run": ["b", "a", "a"],
            "metric": ["m"] * 3,
            "item": ["x", "y", "x"],
            "score": [1.0, 0.5, 0.0],
            "weight": [1.0, 2.0, 1.0],
        }
    )
    path = write_items(df, "items", tmp_path / "tables", sort_by=["run", "item"])
    first = path.read_bytes()
    write_items(df.sample(frac=1, random_state=1), "items", tmp_path / "tables", sort_by=["run", "item"])
    assert path.read_bytes() == first and path.name == "items.csv.gz"  # no timestamp inside the gzip
    back = _read(tmp_path, "items")
    assert back[["run", "item"]].values.tolist() == [["a", "x"], ["a", "y"], ["b", "x"]]
    assert back["score"].tolist() == [0.0, 0.5, 1.0] and not (tmp_path / "tables" / "items.md").exists()
