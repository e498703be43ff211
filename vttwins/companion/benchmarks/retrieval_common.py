"""What the two text-video retrieval benchmarks (YouCook2-style, MSR-VTT-style) share: their notebook spec.

spec = retrieval_spec("03_retrieval_youcook2", "youcook2", "YouCook2-style")
"""

from __future__ import annotations

from vttwins.companion.outputs import NotebookSpec, Table, effects_table

RETRIEVAL_COLUMNS = ("model", "direction", "R@1", "R@5", "R@10", "MedR", "MeanR")


def retrieval_spec(notebook: str, protocol: str, style: str) -> NotebookSpec:
    """The notebook of one retrieval benchmark: its table `retrieval_<protocol>` with RETRIEVAL_COLUMNS and the
    paired effects `retrieval_<protocol>_effects`."""
    return NotebookSpec(
        notebook,
        f"{style} text-video retrieval",
        tables=(
            Table(
                f"retrieval_{protocol}",
                f"{style} retrieval, text->video and video->text, per model with computed chance",
                RETRIEVAL_COLUMNS,
            ),
            effects_table(f"retrieval_{protocol}", f"{style} retrieval"),
        ),
    )
