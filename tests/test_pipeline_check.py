"""`reproduce --check`: a regenerated table is identical, within the spread its reference measured, or outside.

The references are copies of tables written by `results.write_table` (so their meta.json carries the tolerance);
the perturbations are hand-sized against the tolerance rule (2·std·sqrt(2/n) for a mean over n seeds, exact for
chance rows, the printed precision for single-run values).
"""

import shutil
from pathlib import Path

import pandas as pd
import pytest

from vttwins.companion import pipeline, results
from vttwins.companion.pipeline import check
from vttwins.paths import DEFAULT_RESULTS_DIR

ABLATION = pd.DataFrame(
    {"loss": ["S2DTW", "soft-DTW"], "n_seeds": [5, 5], "r10_mean": [20.0, 15.0], "r10_std": [5.0, 0.0]}
)
RETRIEVAL = pd.DataFrame(
    {
        "model": ["S2DTW", "chance", "untrained"],
        "direction": ["t2v"] * 3,
        "R@1": [3.01, 0.38, 0.38],
        "MeanR": [80.5, 133.5, 134.4],
    }
)
SPECS = {"ablation_demo": pipeline.Table("ablation_demo", "d"), "retrieval_demo": pipeline.Table("retrieval_demo", "d")}


@pytest.fixture
def dirs(tmp_path, monkeypatch):
    monkeypatch.setattr(check, "all_tables", lambda: SPECS)
    ref, new = tmp_path / "ref", tmp_path / "new"
    results.write_table(ABLATION, "ablation_demo", ref / "tables", sort_by=[], float_format="%.2f")
    results.write_table(RETRIEVAL, "retrieval_demo", ref / "tables", float_format="%.2f")
    shutil.copytree(ref, new)
    return ref, new


def _rewrite(new, name, **cells):
    """Change cells {column: {row: value}} of a regenerated csv (rows by position)."""
    df = pd.read_csv(new / "tables" / f"{name}.csv")
    for col, rows in cells.items():
        for row, value in rows.items():
            df.loc[row, col] = value
    df.to_csv(new / "tables" / f"{name}.csv", index=False, float_format="%.2f")


def _status(ref, new):
    return {c.table: c for c in check.check_tables(new, ref)}


def test_identical_tables_pass(dirs):
    ref, new = dirs
    assert {t: c.status for t, c in _status(ref, new).items()} == {t: check.IDENTICAL for t in SPECS}


def test_a_mean_moves_within_its_seed_spread_but_not_beyond(dirs):
    ref, new = dirs
    tol = 2 * 5.0 * (2 / 5) ** 0.5  # 6.32: two standard errors of the difference of two 5-seed means
    _rewrite(new, "ablation_demo", r10_mean={0: 20.0 + 6.0})
    assert _status(ref, new)["ablation_demo"].status == check.WITHIN
    _rewrite(new, "ablation_demo", r10_mean={0: 20.0 + 6.5})
    got = _status(ref, new)["ablation_demo"]
    assert got.status == check.OUTSIDE and got.where == "S2DTW: r10_mean"
    assert got.deviation == pytest.approx(6.5) and got.tolerance == pytest.approx(tol)
    _rewrite(new, "ablation_demo", r10_mean={0: 20.0, 1: 15.01})  # a cell whose seeds agreed: printed precision
    assert _status(ref, new)["ablation_demo"].status == check.WITHIN
    _rewrite(new, "ablation_demo", r10_mean={1: 15.02})
    assert _status(ref, new)["ablation_demo"].status == check.OUTSIDE


def test_a_changed_chance_row_fails_and_a_single_run_is_held_to_printed_precision(dirs):
    ref, new = dirs
    _rewrite(new, "retrieval_demo", **{"R@1": {0: 3.02}})  # one unit of "%.2f": a rounding flip
    assert _status(ref, new)["retrieval_demo"].status == check.WITHIN
    _rewrite(new, "retrieval_demo", **{"R@1": {0: 3.01}, "MeanR": {1: 133.51}})  # chance: exact
    got = _status(ref, new)["retrieval_demo"]
    assert got.status == check.OUTSIDE and got.where == "chance / t2v: MeanR" and got.tolerance == 0


def test_missing_rows_and_tables_are_outside(dirs):
    ref, new = dirs
    df = pd.read_csv(new / "tables" / "retrieval_demo.csv")
    df[df["model"] != "untrained"].to_csv(new / "tables" / "retrieval_demo.csv", index=False)
    (new / "tables" / "ablation_demo.csv").unlink()
    got = _status(ref, new)
    assert got["retrieval_demo"].status == check.OUTSIDE and "untrained / t2v" in got["retrieval_demo"].where
    assert got["ablation_demo"].status == check.OUTSIDE and "missing" in got["ablation_demo"].where


def test_report_is_never_written_into_committed_results(dirs, tmp_path):
    ref, new = dirs
    checks = check.check_tables(new, ref)
    with pytest.raises(ValueError, match="may not write into"):
        check.write_report(checks, DEFAULT_RESULTS_DIR / "reproduction_check.md", new, ref)
    text = check.write_report(checks, tmp_path / "check.md", new, ref).read_text()
    assert "| ablation_demo | identical |" in text and "2 of 2 tables agree" in text


def test_committed_results_agree_with_themselves():
    """The committed tables (tolerances stored or, for older ones, derived now) parse and match themselves."""
    # the tables that are committed (a newly declared table appears with the next default reproduction)
    present = [n for n in check.all_tables() if (DEFAULT_RESULTS_DIR / "tables" / f"{n}.csv").is_file()]
    assert len(present) >= 10
    checks = check.check_tables(DEFAULT_RESULTS_DIR, DEFAULT_RESULTS_DIR, present)
    assert all(c.status == check.IDENTICAL for c in checks), [(c.table, c.status) for c in checks]


def test_cli_check_exits_non_zero_when_a_table_is_outside(dirs, tmp_path, monkeypatch):
    ref, new = dirs
    monkeypatch.setattr(pipeline.cli, "RUNS_DIR", tmp_path / "runs")
    demo = [pipeline.NotebookSpec("x", "x", tuple(SPECS.values()))]
    monkeypatch.setattr(pipeline.cli, "chosen_notebooks", lambda only: demo)
    argv = ["--check", "--no-run", "--results", str(new), "--reference", str(ref), "--profile", "smoke"]
    assert pipeline.cli_main(argv) == 0
    _rewrite(new, "retrieval_demo", MeanR={1: 133.6})
    assert pipeline.cli_main(argv) == 1
    report = (tmp_path / "runs" / "smoke" / "reproduction_check.md").read_text()
    assert "| retrieval_demo | outside tolerance |" in report


def test_variation_report_marks_bit_identical_tables(dirs, tmp_path):
    from vttwins.companion.pipeline import variation

    ref, new = dirs
    _rewrite(new, "ablation_demo", r10_mean={0: 21.0})
    runs = {"a": ref, "b": ref, "threads1": new, "workers2": new}
    text = variation.report("smoke", ["x"], runs, list(SPECS))
    same, threads = text.split("### threads 1 vs 2")[0], text.split("### threads 1 vs 2")[1]
    assert "| ablation_demo | bit-identical |" in same and "Profile **smoke** (a small CPU profile" in text
    assert "| ablation_demo | within tolerance | 1 | S2DTW: r10_mean |" in threads


LEGACY = """# Reproducibility: how far the tables move when only the machine's choices change

Generated by `python -m vttwins reproduce --variation --profile default --only 00_data 03_x` at revision `abc`.

## two runs on one machine

| table | result | largest deviation | where | tolerance there |
|---|---|---|---|---|
| data_summary | bit-identical | 0 |  | 0 |
"""


def test_variation_with_given_folders_runs_nothing_and_keeps_other_parts(dirs, tmp_path, monkeypatch):
    """--variants/--variant-results: compare folders as they are; the file keeps the parts of other notebooks
    (a file from before parts existed included) and a rerun of the same notebooks replaces its own part."""
    from vttwins.companion.pipeline import variation

    ref, new = dirs
    _rewrite(new, "ablation_demo", r10_mean={0: 21.0})
    demo = [pipeline.NotebookSpec("01_x", "01_x", tuple(SPECS.values()))]
    every = [pipeline.NotebookSpec(n, n, ()) for n in ("00_data", "01_x", "03_x")]
    monkeypatch.setattr(variation, "chosen_notebooks", lambda only: demo if only else every)
    monkeypatch.setattr(variation, "run_variant", lambda *a, **k: pytest.fail("nothing may run"))
    out = tmp_path / "REPRODUCIBILITY.md"
    out.write_text(LEGACY)
    assert (
        variation.run_variation_study(
            "default", ["01_x"], out=out, variants=["threads1"], given={"a": str(ref), "threads1": str(new)}
        )
        == 0
    )
    text = out.read_text()
    assert text.count("# Reproducibility") == 1 and "## Notebooks 00_data, 03_x" in text
    assert "| data_summary | bit-identical | 0 |  | 0 |" in text  # the legacy part, kept
    part = text.split("## Notebooks 01_x")[1]
    assert "### two runs on one machine\n\nnot run for these notebooks" in part
    assert "| ablation_demo | within tolerance | 1 | S2DTW: r10_mean |" in part.split("### threads 1 vs 2")[1]
    assert f"`threads1`: tables compared as they are from `{new}`" in part
    assert f"--only 01_x --variants threads1 --variant-results a={ref} threads1={new}`" in part
    # the same notebooks again, now identical: their part is replaced, not added
    assert (
        variation.run_variation_study(
            "default", ["01_x"], out=out, variants=["threads1"], given={"a": str(ref), "threads1": str(ref)}
        )
        == 0
    )
    again = out.read_text()
    assert again.count("## Notebooks 01_x") == 1 and "within tolerance" not in again.split("## Notebooks 01_x")[1]
    assert again.index("## Notebooks 00_data") < again.index("## Notebooks 01_x")


def test_variants_read_the_tables_of_notebooks_outside_the_study(tmp_path, monkeypatch):
    """03-06 read 02's ablation_tuning: a variant of `--only 03_x` gets 02's tables from the profile's results
    (replacing an older copy), never those of the notebooks it runs itself; the part says so."""
    from vttwins.companion.pipeline import context, variation

    source = tmp_path / "profile-results"
    monkeypatch.setenv(context.RESULTS_ENV, str(source))
    results.write_table(ABLATION, "ablation_demo", source / "tables", sort_by=[], float_format="%.2f")
    results.write_table(RETRIEVAL, "retrieval_demo", source / "tables", float_format="%.2f")
    every = [
        pipeline.NotebookSpec("02_x", "02_x", (SPECS["ablation_demo"], pipeline.Table("never_written", "d"))),
        pipeline.NotebookSpec("03_x", "03_x", (SPECS["retrieval_demo"],)),
    ]
    monkeypatch.setattr(variation, "chosen_notebooks", lambda only: [n for n in every if not only or n.name in only])
    variant = tmp_path / "variant" / "results"
    (variant / "tables").mkdir(parents=True)
    (variant / "tables" / "ablation_demo.csv").write_text("stale\n")
    assert variation.copy_inputs("smoke", ["03_x"], variant) == ["02_x"]
    copied = sorted(p.name for p in (variant / "tables").iterdir())
    assert copied == ["ablation_demo.csv", "ablation_demo.md", "ablation_demo.meta.json"]
    assert (variant / "tables" / "ablation_demo.csv").read_bytes() == (
        source / "tables" / "ablation_demo.csv"
    ).read_bytes()
    assert variation.copy_inputs("smoke", None, tmp_path / "all") == [] and not (tmp_path / "all").exists()
    text = variation.report("smoke", ["03_x"], {"a": source}, ["retrieval_demo"], inputs=["02_x"], inputs_from="x")
    assert "read the tables of 02_x (not part of this study) from `x`" in text


def test_variation_refuses_unknown_variants_and_malformed_folders(caplog):
    assert pipeline.cli_main(["--variation", "--variants", "threads3"]) == 2
    assert pipeline.cli_main(["--variation", "--variant-results", "threads1"]) == 2
    assert "threads3" in caplog.text and "NAME=DIR" in caplog.text


def _git_tracked_tables():
    import subprocess
    from vttwins.paths import REPO_ROOT

    try:
        out = subprocess.run(
            ["git", "ls-tree", "-r", "--name-only", "HEAD", "results/tables/"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return out


def test_reference_git_head_is_the_committed_tables(tmp_path):
    import subprocess
    from vttwins.paths import REPO_ROOT
    from vttwins.companion.pipeline import check as chk

    tracked = _git_tracked_tables()
    ref = chk.resolve_reference("git:HEAD", tmp_path)
    assert sorted(p.name for p in (ref / "tables").iterdir()) == sorted(Path(n).name for n in tracked)
    name = next(n for n in tracked if n.endswith(".csv"))
    committed = subprocess.run(["git", "show", f"HEAD:{name}"], cwd=REPO_ROOT, capture_output=True).stdout
    assert (ref / "tables" / Path(name).name).read_bytes() == committed
    with pytest.raises(ValueError, match="--reference git:no-such-rev"):
        chk.resolve_reference("git:no-such-rev", tmp_path / "x")
    assert chk.resolve_reference(tmp_path, tmp_path / "y") == tmp_path  # a folder stays a folder


def test_check_refuses_to_compare_a_folder_with_itself(tmp_path):
    from vttwins.companion.pipeline.cli import cli_main

    (tmp_path / "tables").mkdir()
    assert (
        cli_main(["--check", "--no-run", "--results", str(tmp_path), "--reference", str(tmp_path), "--only", "00_data"])
        == 2
    )
