"""The docs live in the repository: every `docs/method.md §N` citation names a real section, nothing points outside.

Section numbers of docs/method.md are parsed from its headings (`## 3. S2DTW`, `### 3.2 Local ...`). Citations are
`docs/method.md §N` (also the older spelling `METHOD.md §N`, which maps 1:1 onto docs/method.md), ranges
(`§4–§6`, `§3-§4`), lists (`§2, §7`), `section N` and `§N step k` (= §N.k).
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]
METHOD = ROOT / "docs" / "method.md"
TEXT_SUFFIXES = {".py", ".md", ".ipynb", ".yaml", ".yml", ".toml", ".cfg", ".txt", ".cff", ".json"}
TEXT_NAMES = {"Makefile"}
SKIP_DIRS = {".git", ".venv", "data", "runs", "__pycache__", ".ipynb_checkpoints"}

HEADING = re.compile(r"^#{2,6}\s+(\d+(?:\.\d+)*)\.?\s", re.MULTILINE)
NUMBER = r"\d+(?:\.\d+)*"
# one citation run after the file name: "§3", "§3-§4", "§4–§6", "§2, §7", "section 9", "§3 steps 2-3"
CITATION = re.compile(
    r"(?:docs/method\.md|METHOD\.md)((?:\s*(?:,|and|-|–|to)?\s*(?:§\s*|sections?\s+)"
    + NUMBER
    + r"(?:\s+steps?\s+\d+(?:\s*[-–]\s*\d+)?)?)+)"
)
CITED = re.compile(r"(?:§\s*|sections?\s+)(" + NUMBER + r")(?:\s+steps?\s+(\d+)(?:\s*[-–]\s*(\d+))?)?")
RANGE = re.compile(r"§\s*(\d+)\s*[-–]\s*§?\s*(\d+)\b")
# pointers outside the repository, spelled in pieces so this file does not match itself
OUTSIDE = [
    re.compile(p)
    for p in (
        re.escape("../" + "shared"),
        re.escape("shared" + "/spec"),
        r"(?<!docs/)\b" + "METHOD" + r"\.md",
        r"(?<!docs/)\b" + "FORMATS" + r"\.md",
    )
]


def _tracked_files() -> list[Path]:
    """Files under version control (git ls-files), or every file outside generated folders without git."""
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=60)
        files = [ROOT / p for p in out.stdout.decode().split("\0") if p]
    except (OSError, subprocess.SubprocessError):
        files = []
        for folder, dirs, names in os.walk(ROOT):
            dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
            files += [Path(folder) / n for n in names]
    return [f for f in files if f.is_file() and (f.suffix in TEXT_SUFFIXES or f.name in TEXT_NAMES)]


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")


def method_sections() -> set[str]:
    """Every section number that docs/method.md defines, with each parent ("3.2" implies "3")."""
    found = set(HEADING.findall(_read(METHOD)))
    parents = {".".join(s.split(".")[:k]) for s in found for k in range(1, s.count(".") + 1)}
    return found | parents


def cited_sections(text: str) -> set[str]:
    """Section numbers cited as `docs/method.md §...` / `METHOD.md §...` in text (ranges expanded)."""
    cited = set()
    for run in CITATION.findall(text):
        for number, step_lo, step_hi in CITED.findall(run):
            cited.add(number)
            if step_lo:
                cited.update(f"{number}.{k}" for k in range(int(step_lo), int(step_hi or step_lo) + 1))
        for lo, hi in RANGE.findall(run):
            cited.update(str(k) for k in range(int(lo), int(hi) + 1))
    return cited


def test_method_headings_are_numbered_like_the_citations():
    sections = method_sections()
    assert {str(k) for k in range(1, 10)} <= sections  # §1..§9, the numbering the code has always cited
    assert {"3.1", "3.2", "3.3", "3.4", "3.5"} <= sections  # the S2DTW steps


def test_citation_parser_reads_every_spelling():
    text = (
        "see METHOD.md §3 steps 2-3, docs/method.md §4–§6 and (docs/method.md §2, §7); METHOD.md section 9. "
        "METHOD.md §8."
    )
    assert cited_sections(text) == {"3", "3.2", "3.3", "4", "5", "6", "2", "7", "9", "8"}
    assert cited_sections("docs/method.md §12") == {"12"}
    assert "12" not in method_sections()


def test_every_cited_section_exists():
    sections = method_sections()
    files = [f for f in _tracked_files() if f != Path(__file__).resolve()]  # this file cites a missing § on purpose
    missing = [
        f"{f.relative_to(ROOT)}: §{n}" for f in files for n in sorted(cited_sections(_read(f))) if n not in sections
    ]
    assert not missing, "citations of sections docs/method.md does not have:\n" + "\n".join(missing)


def test_nothing_points_outside_the_repository():
    hits = []
    for f in _tracked_files():
        rel = f.relative_to(ROOT)
        if rel.parts[0] == "docs" or f == Path(__file__).resolve():
            continue
        for n, line in enumerate(_read(f).splitlines(), 1):
            if any(p.search(line) for p in OUTSIDE):
                hits.append(f"{rel}:{n}: {line.strip()[:100]}")
    assert not hits, f"{len(hits)} lines point outside the repository:\n" + "\n".join(hits)
