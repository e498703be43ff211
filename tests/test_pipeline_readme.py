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
