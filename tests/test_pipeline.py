"""vttwins.companion.pipeline: parameter parsing, profile resolution, output checks, results/README.md, and one smoke run."""

import json
import math

import pandas as pd
import pytest

from vttwins.companion import pipeline


def test_parse_parameters_accepts_literals_only():
    assert pipeline.parse_parameters('a: int = 3  # help\nb: list = ["x", 1.5]  # h') == {"a": 3, "b": ["x", 1.5]}
    with pytest.raises(ValueError, match="line 1"):
        pipeline.parse_parameters("a = 3")
    with pytest.raises(ValueError, match="b is not a literal"):
        pipeline.parse_parameters("a: int = 1\nb: int = a + 1")


def test_parameters_cell_must_come_first():
    nb = {"cells": [{"cell_type": "code", "metadata": {}, "source": "x: int = 1"}]}
    with pytest.raises(ValueError, match="tagged 'parameters'"):
        pipeline.parameters_cell(nb)


def test_unknown_profile_and_unknown_notebook_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nosuchprofile"):
        pipeline.profile_notebook_params("nosuchprofile")
    bad = tmp_path / "bad.yaml"
    bad.write_text("notebooks:\n  99_nothing: {}\n")
    with pytest.raises(ValueError, match="99_nothing"):
        pipeline.profile_notebook_params(bad)
    name = pipeline.NOTEBOOKS[0].name
    with pytest.raises(ValueError, match="unknown parameters \\['nosuchkey'\\]"):
        pipeline.check_parameters(name, {**pipeline.notebook_defaults(name), "nosuchkey": 1})


def test_resolve_profile_fills_untouched_defaults_and_keeps_overrides(monkeypatch, tmp_path):
    name = pipeline.NOTEBOOKS[0].name
    defaults = pipeline.notebook_defaults(name)
    key = sorted(defaults)[0]
    other = {k: (v * 2 if isinstance(v, (int, float)) and not isinstance(v, bool) else v) for k, v in defaults.items()}
    sections = {nb.name: pipeline.notebook_defaults(nb.name) for nb in pipeline.NOTEBOOKS}
    sections[name] = other
    profile = tmp_path / "p.yaml"
    profile.write_text(json.dumps({"notebooks": sections}))
    monkeypatch.setenv(pipeline.PROFILE_ENV, str(profile))
    monkeypatch.setenv(pipeline.RESULTS_ENV, str(tmp_path / "res"))
    ctx = pipeline.resolve(name, dict(defaults))
    assert ctx.params == other and ctx.results_dir == tmp_path / "res"
    if isinstance(defaults[key], int) and not isinstance(defaults[key], bool):
        edited = pipeline.resolve(name, {**defaults, key: defaults[key] + 1})  # an edit / papermill -p wins
        assert getattr(edited, key) == defaults[key] + 1
    with pytest.raises(AttributeError, match="nosuch"):
        ctx.nosuch  # noqa: B018


def test_check_outputs_reports_missing_columns_and_non_finite(tmp_path):
    nb = pipeline.NotebookSpec(
        "x", "x", tables=(pipeline.Table("t", "d", ("a", "b")),), figures=(pipeline.Figure("f", "d"),)
    )
    (tmp_path / "tables").mkdir()
    pd.DataFrame({"a": [1.0, math.nan]}).to_csv(tmp_path / "tables" / "t.csv", index=False)
    (tmp_path / "tables" / "t.md").write_text("|a|\n")
    problems = "\n".join(pipeline.check_outputs(nb, tmp_path))
    assert "misses columns ['b']" in problems and "non-finite" in problems and "figure f" in problems


def test_results_readme_lists_outputs_and_labels_published_numbers(tmp_path, monkeypatch):
    table = pipeline.Table("demo_table", "what the demo table shows", ("a",))
    monkeypatch.setattr(pipeline.specs, "NOTEBOOKS", [pipeline.NotebookSpec("00_demo", "demo", tables=(table,))])
    (tmp_path / "tables").mkdir()
    (tmp_path / "tables" / f"{table.name}.csv").write_text("a\n1\n")
    text = pipeline.write_results_readme(tmp_path).read_text()
    assert f"tables/{table.name}.md" in text and table.description in text
    assert "different data set" in text and "9.7 / 27.0 / 38.8" in text


@pytest.mark.slow
def test_smoke_pipeline_writes_every_declared_output(tmp_path):
    """The whole companion on the smoke profile into a temporary folder; run_pipeline itself checks each
    notebook's declared tables (columns present, finite numbers) and figures, and stops at the first failure."""
    pytest.importorskip("papermill")
    records = pipeline.run_pipeline("smoke", tmp_path, write_readme=True)
    assert [r["notebook"] for r in records] == [nb.name for nb in pipeline.NOTEBOOKS]
    for nb in pipeline.NOTEBOOKS:
        assert not pipeline.check_outputs(nb, tmp_path)
        assert (tmp_path / "notebooks" / f"{nb.name}.ipynb").is_file()
    readme = (tmp_path / "README.md").read_text()
    for nb in pipeline.NOTEBOOKS:
        for out in (*nb.tables, *nb.figures):
            assert out.name in readme


def test_a_failing_notebook_stops_the_run_and_names_its_executed_copy(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    pytest.importorskip("papermill")
    nb = nbformat.v4.new_notebook(
        metadata={"kernelspec": {"name": "vttwins", "language": "python", "display_name": "vttwins"}}
    )
    nb.cells = [
        nbformat.v4.new_code_cell("x: int = 1  # help", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("raise RuntimeError('boom')"),
    ]
    (tmp_path / "nb").mkdir()
    nbformat.write(nb, str(tmp_path / "nb" / "00_fail.ipynb"))
    monkeypatch.setattr(pipeline.runner, "NOTEBOOK_DIR", tmp_path / "nb")
    executed = tmp_path / "out" / "00_fail.ipynb"
    executed.parent.mkdir()
    with pytest.raises(pipeline.PipelineError, match="RuntimeError: boom") as err:
        pipeline.run_notebook(pipeline.NotebookSpec("00_fail", "fails"), {"x": 2}, executed, timeout_s=60)
    assert str(executed) in str(err.value) and executed.is_file()
