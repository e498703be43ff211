"""Results are never clobbered, parameters and provenance tell the truth (issue 10, items 2 and 3).

Only the default profile writes the committed `results/` (and the README block); an injected parameter the
notebook does not declare is an error naming it; an injected value wins even when it equals the stored default;
meta.json and the table header record the effective parameters, profile, seeds and code revision.
"""

import hashlib
import json
import re

import pytest

from vttwins.companion import pipeline, results
from vttwins.paths import DEFAULT_RESULTS_DIR, REPO_ROOT, RUNS_DIR

NAME = "00_data"  # the cheapest notebook: parameters n_examples, frames_per_video


def _tree_digest(*paths):
    h = hashlib.sha256()
    for root in paths:
        for f in sorted(root.rglob("*")) if root.is_dir() else [root]:
            if f.is_file():
                h.update(str(f.relative_to(REPO_ROOT)).encode() + f.read_bytes())
    return h.hexdigest()


def _papermill_namespace(defaults, **injected):
    """A kernel's globals after papermill: the parameters cell, then its `# Parameters` cell, in `In`."""
    cell = "# Parameters\n" + "".join(f"{k} = {v!r}\n" for k, v in injected.items())
    return {**defaults, **injected, "In": ["", "n_examples: int = 3", cell, "ctx = pipeline.resolve(...)"]}


def test_only_the_default_profile_writes_committed_results(monkeypatch, tmp_path):
    monkeypatch.delenv(pipeline.RESULTS_ENV, raising=False)
    assert pipeline.results_root("default") == DEFAULT_RESULTS_DIR
    assert pipeline.results_root("smoke") == RUNS_DIR / "smoke" / "results"
    monkeypatch.setenv(pipeline.RESULTS_ENV, str(tmp_path))
    assert pipeline.results_root("smoke") == tmp_path  # an explicit path wins
    monkeypatch.setenv(pipeline.RESULTS_ENV, str(DEFAULT_RESULTS_DIR))
    with pytest.raises(ValueError, match="'smoke' may not write the committed"):
        pipeline.results_root("smoke")
    with pytest.raises(ValueError, match="may not write the committed"):
        pipeline.run_pipeline("smoke", DEFAULT_RESULTS_DIR, only=[NAME])


def test_unknown_injected_parameter_is_an_error_naming_it(monkeypatch):
    monkeypatch.setenv(pipeline.PROFILE_ENV, "smoke")
    defaults = pipeline.notebook_defaults(NAME)
    with pytest.raises(ValueError, match=r"\['n_exampels'\] are not declared"):
        pipeline.resolve(NAME, _papermill_namespace(defaults, n_exampels=1))


def test_injected_value_wins_even_when_equal_to_the_stored_default(monkeypatch, tmp_path):
    monkeypatch.setenv(pipeline.PROFILE_ENV, "smoke")
    monkeypatch.setenv(pipeline.RESULTS_ENV, str(tmp_path))
    defaults = pipeline.notebook_defaults(NAME)
    smoke = pipeline.profile_notebook_params("smoke")[NAME]
    assert smoke["n_examples"] != defaults["n_examples"], "the test needs a profile that differs from the default"
    untouched = pipeline.resolve(NAME, dict(defaults))
    assert untouched.params == smoke
    injected = pipeline.resolve(NAME, _papermill_namespace(defaults, n_examples=defaults["n_examples"]))
    assert injected.n_examples == defaults["n_examples"] and injected.frames_per_video == smoke["frames_per_video"]


def test_meta_and_table_header_record_effective_parameters(monkeypatch, tmp_path):
    import pandas as pd
    from vttwins.companion.config import load_config

    monkeypatch.setenv(pipeline.PROFILE_ENV, "smoke")
    monkeypatch.setenv(pipeline.RESULTS_ENV, str(tmp_path))
    defaults = pipeline.notebook_defaults(NAME)
    ctx = pipeline.resolve(NAME, _papermill_namespace(defaults, n_examples=7))
    cfg = load_config("smoke")
    _, md = results.write_table(pd.DataFrame({"a": [1.0]}), "t", ctx.tables_dir, config=cfg, description="d")
    meta = json.loads((ctx.tables_dir / "t.meta.json").read_text())
    assert meta["parameters"] == ctx.params and meta["parameters"]["n_examples"] == 7
    assert meta["profile"] == "smoke" and meta["notebook"] == NAME and meta["explicit"] == ["n_examples"]
    assert meta["seed"] == cfg.train.seed and meta["seeds"] == [cfg.train.seed]
    assert "notebooks" not in meta["config"], "the profile's notebook block is not what ran"
    header = md.read_text().splitlines()[1]
    assert "profile smoke" in header and '"n_examples": 7' in header and meta["git_revision"] in header


def test_revision_is_a_commit_or_a_commit_plus_source_digest(monkeypatch):
    monkeypatch.delenv(results.REVISION_ENV, raising=False)
    assert re.fullmatch(r"([0-9a-f]{7,}|unknown)(\+src\.[0-9a-f]{12})?", results.git_revision())
    answers = {"rev-parse": "abc1234", "status": ""}
    monkeypatch.setattr(results, "_git", lambda *a: answers.get(a[0], None))
    assert results.git_revision() == "abc1234"
    answers["status"] = " M vttwins/losses.py"
    assert re.fullmatch(r"abc1234\+src\.[0-9a-f]{12}", results.git_revision())
    monkeypatch.setenv(results.REVISION_ENV, "fixed")
    assert results.git_revision() == "fixed"


@pytest.mark.slow
def test_smoke_runs_leave_committed_results_untouched(monkeypatch, tmp_path):
    """`reproduce --profile smoke` with no folder given, and a direct papermill run with an explicit value equal to
    the stored default and one with a misspelt name: results/ and README.md keep their bytes."""
    pm = pytest.importorskip("papermill")
    before = _tree_digest(DEFAULT_RESULTS_DIR, REPO_ROOT / "README.md")
    monkeypatch.delenv(pipeline.RESULTS_ENV, raising=False)
    monkeypatch.setattr(pipeline.context, "RUNS_DIR", tmp_path / "runs")
    pipeline.run_pipeline("smoke", only=[NAME])
    assert (tmp_path / "runs" / "smoke" / "results" / "tables" / "data_summary.csv").is_file()
    monkeypatch.setenv(pipeline.PROFILE_ENV, "smoke")
    monkeypatch.setenv(pipeline.RESULTS_ENV, str(tmp_path / "direct"))
    src, default = str(pipeline.NOTEBOOK_DIR / f"{NAME}.ipynb"), pipeline.notebook_defaults(NAME)["n_examples"]
    pm.execute_notebook(
        src,
        str(tmp_path / "a.ipynb"),
        parameters={"n_examples": default},
        kernel_name="vttwins",
        cwd=str(pipeline.NOTEBOOK_DIR),
        progress_bar=False,
    )
    meta = json.loads((tmp_path / "direct" / "tables" / "data_summary.meta.json").read_text())
    assert meta["parameters"]["n_examples"] == default and meta["profile"] == "smoke"
    with pytest.raises(pm.PapermillExecutionError, match="n_exampels"):
        pm.execute_notebook(
            src,
            str(tmp_path / "b.ipynb"),
            parameters={"n_exampels": 1},
            kernel_name="vttwins",
            cwd=str(pipeline.NOTEBOOK_DIR),
            progress_bar=False,
        )
    assert _tree_digest(DEFAULT_RESULTS_DIR, REPO_ROOT / "README.md") == before
