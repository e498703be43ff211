"""The README's loss example runs as printed, and its generated results section round-trips."""
import re
import subprocess
import sys

from vttwins import pipeline


def _example(text: str) -> str:
    match = re.search(r"<!-- example: loss[^>]*-->\s*```python\n(.*?)```", text, re.S)
    assert match, "README.md lost its `<!-- example: loss -->` python block"
    return match.group(1)


def test_readme_loss_example_runs():
    code = _example((pipeline.REPO_ROOT / "README.md").read_text(encoding="utf-8"))
    assert len(code.strip().splitlines()) <= 12, "the example is meant to stay about ten lines"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=pipeline.REPO_ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("loss ") and "grad torch.Size([4, 8, 512])" in out.stdout


def test_readme_results_block_is_replaced_between_markers(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n{pipeline.reports.BEGIN}\nold\n{pipeline.reports.END}\ntail\n")
    (tmp_path / "results" / "tables").mkdir(parents=True)
    (tmp_path / "results" / "tables" / "ablation_defaults.csv").write_text(
        "loss,n_seeds,a_mean,a_std\nS2DTW,3,10.0,1.5\n")
    assert pipeline.update_readme(readme, tmp_path / "results")
    text = readme.read_text()
    assert "old" not in text and "10.0 ± 1.5" in text and text.endswith("tail\n")


def test_plus_minus_cells_mark_unresolved_and_undefined_values(tmp_path):
    csv = tmp_path / "t.csv"
    csv.write_text("loss,temperature,a_mean,a_std,a_unresolved,b_mean,b_std,b_unresolved\n"
                   "S2DTW,0.1,10.0,1.5,True,,,False\nMIL-NCE,1.0,12.0,,False,3.0,0.5,False\n")
    lines = pipeline.reports.plus_minus_markdown(csv).splitlines()
    assert lines[0] == "| loss | temperature | a | b |"  # flags fold into their column, never shown raw
    assert lines[2] == "| S2DTW | 0.1 | 10.0 ± 1.5 ~ | – |"
    assert lines[3] == "| MIL-NCE | 1 | 12.0 | 3.0 ± 0.5 |"  # one seed: no std to show
