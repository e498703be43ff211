"""The README's loss example runs as printed, and its generated results section round-trips."""

import re
import subprocess
import sys

import pytest

from vttwins.companion import pipeline


def _example(text: str) -> str:
    match = re.search(r"<!-- example: loss[^>]*-->\s*```python\n(.*?)```", text, re.S)
    assert match, "README.md lost its `<!-- example: loss -->` python block"
    return match.group(1)


def test_readme_loss_example_runs():
    code = _example((pipeline.REPO_ROOT / "README.md").read_text(encoding="utf-8"))
    assert len(code.strip().splitlines()) <= 12, "the example is meant to stay about ten lines"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=pipeline.REPO_ROOT
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("loss ") and "grad torch.Size([4, 8, 512])" in out.stdout


def test_readme_results_block_is_replaced_between_markers(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n{pipeline.reports.BEGIN}\nold\n{pipeline.reports.END}\ntail\n")
    (tmp_path / "results" / "tables").mkdir(parents=True)
    (tmp_path / "results" / "tables" / "ablation_runs.csv").write_text(
        "table,world,loss,seed,yc2_t2v_R@10,crosstask_recall\n"
        "tuned,default,S2DTW,1,9.0,30.0\ntuned,default,S2DTW,2,11.0,30.0\ndefaults,default,S2DTW,1,1.0,1.0\n"
    )
    assert pipeline.update_readme(readme, tmp_path / "results")
    text = readme.read_text()
    # the narrow headline table: tuned rows only, mean [95 % interval] (t on 1 df: 10 +- 12.7 * ~1, cut at 0)
    assert "old" not in text and "| S2DTW | 10.0 [0.0, 22." in text and "| 30.0 [30.0, 30.0] |" in text
    assert text.endswith("tail\n")


def test_plus_minus_cells_mark_unresolved_and_undefined_values(tmp_path):
    csv = tmp_path / "t.csv"
    csv.write_text(
        "loss,temperature,a_mean,a_std,a_unresolved,b_mean,b_std,b_unresolved\n"
        "S2DTW,0.1,10.0,1.5,True,,,False\nMIL-NCE,1.0,12.0,,False,3.0,0.5,False\n"
    )
    lines = pipeline.reports.plus_minus_markdown(csv).splitlines()
    assert lines[0] == "| loss | temperature | a | b |"  # flags fold into their column, never shown raw
    assert lines[2] == "| S2DTW | 0.1 | 10.0 ± 1.5 ~ | – |"
    assert lines[3] == "| MIL-NCE | 1 | 12.0 | 3.0 ± 0.5 |"  # one seed: no std to show


def test_pretraining_steps_come_from_the_runs_table(tmp_path):
    tables = tmp_path / "tables"
    tables.mkdir()
    (tables / "retrieval_youcook2.csv").write_text(
        "model,direction,R@1,R@5,R@10,MedR,MeanR\nS2DTW,t2v,1.0,5.0,10.0,70.0,80.0\n"
    )
    (tables / "pretrain_runs.csv").write_text(
        "run,mode,loss,steps,batch_size,first_loss,last_loss\n"
        "a,feature,s2dtw,150,16,2.8,1.3\nb,feature,mil_nce,150,16,5.3,4.5\n"
        "c,pixel,s2dtw,400,8,2.08,1.98\n"
    )
    text = pipeline.reports.published_markdown(tmp_path)
    assert "pretraining of 150 steps (feature mode), 400 (pixel mode)" in text and "100 steps" not in text
    (tables / "pretrain_runs.csv").unlink()  # no table: no number at all, never a typed one
    assert "steps" not in pipeline.reports.published_markdown(tmp_path).split("Ours")[1].split("\n")[0]


def test_one_run_tables_keep_their_own_float_format(tmp_path):
    csv = tmp_path / "collapse_phase.csv"
    csv.write_text("loss,tau,lr,plateau_share\nS2DTW,0.100,0.0002,1.000\nS2DTW,0.500,0.001,0.000\n")
    lines = pipeline.reports.plus_minus_markdown(csv).splitlines()
    assert lines[2] == "| S2DTW | 0.100 | 0.0002 | 1.000 |"  # was "| S2DTW | 0.1 | 0.0 | 1.0 |"
    assert lines[3] == "| S2DTW | 0.500 | 0.001 | 0.000 |"


def test_recall_at_10_headers_name_their_candidate_counts(tmp_path):
    ablation = tmp_path / "ablation.csv"  # chance R@10 = 100 * 10 / N: 7.25 -> 138 candidates
    ablation.write_text(
        "world,loss,n_seeds,yc2_t2v_R@10_mean,yc2_t2v_R@10_std\ndefault,S2DTW,3,22.0,5.1\ndefault,chance,0,7.25,\n"
    )
    head = pipeline.reports.plus_minus_markdown(ablation).splitlines()[0]
    assert head == "| world | loss | n_seeds | yc2_t2v_R@10 (138 candidates) |"
    retrieval = tmp_path / "retrieval.csv"
    retrieval.write_text(
        "model,direction,R@1,R@5,R@10,MedR,MeanR\nS2DTW,t2v,0.75,4.89,9.77,76.00,88.83\n"
        "chance,t2v,0.38,1.88,3.76,133.50,133.50\nchance,v2t,0.57,2.81,5.58,103.99,113.14\n"
    )
    assert "| R@10 (t2v: 266 candidates) |" in pipeline.reports.plus_minus_markdown(retrieval).splitlines()[0]
    assert pipeline.reports.retrieval_candidates(3.76) == 266
    with pytest.raises(ValueError, match="chance_r10"):
        pipeline.reports.retrieval_candidates(0.0)


def test_gallery_lists_every_figure_with_its_caption_and_the_readme_shows_the_story_figures(tmp_path):
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "ablation_tuned.png").write_bytes(b"png")
    text = pipeline.reports.results_readme_text(pipeline.NOTEBOOKS, tmp_path)
    declared = [f for nb in pipeline.NOTEBOOKS for f in nb.figures]
    assert all(f.caption for f in declared), "every declared figure needs a caption (specs.Figure.caption)"
    for f in declared:
        assert f"figures/{f.name}.png" in text
    tuned = next(f for f in declared if f.name == "ablation_tuned")
    assert (
        f"Look at: {tuned.caption}." in text and "`figures/collapse_phase.png` (10_s2dtw_collapse): not written" in text
    )
    block = pipeline.reports.readme_results_block(pipeline.NOTEBOOKS, tmp_path)
    # no claims table yet: the story figures lead (tests/test_claims.py: the claims lead once they exist)
    assert block.startswith("![") and "](results/figures/ablation_tuned.png)" in block
    assert "data_weak_alignment.png" not in block
