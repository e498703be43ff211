"""README writing: `RESULTS/README.md` (every declared table and figure, one line each) and the generated results
block of the top-level README. Only the `default` profile's run into `results/` refreshes the top-level README.

The text itself is built by `vttwins.companion.experiments.reports`; this module hands it the declared outputs.
"""

from __future__ import annotations

import os
from pathlib import Path

from vttwins.companion import results as _results
from vttwins.companion.experiments import reports
from vttwins.companion.pipeline import specs


def write_results_readme(results_dir: str | os.PathLike, profile: str = "default") -> Path:
    """`RESULTS/README.md`: every table and figure with one line, and the published numbers as context."""
    text = reports.results_readme_text(specs.NOTEBOOKS, results_dir, profile)
    return _results.atomic_write_text(Path(results_dir) / "README.md", text)


def update_readme(readme: str | os.PathLike, results_dir: str | os.PathLike) -> bool:
    """Refresh the generated results section of the top-level README (False when its markers are absent)."""
    return reports.update_readme(specs.NOTEBOOKS, readme, results_dir)
