"""SynthHowTo's bytes are pinned: the smoke profile, generated here, hashes to the lists committed in
tests/fixtures/synth/ (made by the generator before the benchmark splits moved behind `Task.synth`).

    OMP_NUM_THREADS=1 .venv/bin/pytest -q tests/test_data_synth_bytes.py      # about 10 s

Every file is compared (sha256 over its bytes, by relative path), meta.json, manifest.json and README.md included.
The MP4 files are compared only under the PyAV version the list names (another libavcodec may encode the same
frames to other bytes); the features, captions, annotations and set files never depend on it.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from vttwins.companion.synth import PROFILES, generate

FIXTURES = Path(__file__).parent / "fixtures" / "synth"


def file_hashes(root: Path) -> dict[str, str]:
    """{relative posix path: sha256 hex} of every file under `root`."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def read_list(name: str) -> tuple[dict[str, str], str | None]:
    """The committed {path: sha256} and the PyAV version named in its header (None: no video in it)."""
    lines = (FIXTURES / name).read_text().splitlines()
    version = re.search(r"PyAV ([\w.]+)", lines[0])
    pairs = (line.split(" ", 1) for line in lines[1:] if line.strip())
    return {path: digest for digest, path in pairs}, version.group(1) if version else None


@pytest.mark.parametrize(
    "listing, changes", [("smoke.sha256", {}), ("smoke_features.sha256", {"render_videos": False})]
)
def test_smoke_profile_bytes_are_the_committed_ones(listing, changes, tmp_path):
    expected, av_version = read_list(listing)
    got = file_hashes(generate(tmp_path / "s", PROFILES["smoke"].replace(**changes), workers=1).root)
    assert sorted(got) == sorted(expected)  # the same files, no more, no fewer
    if av_version is not None:
        av = pytest.importorskip("av")
        if av.__version__ != av_version:
            got = {k: v for k, v in got.items() if not k.endswith(".mp4")}
            expected = {k: v for k, v in expected.items() if not k.endswith(".mp4")}
    differ = sorted(k for k in expected if got[k] != expected[k])
    assert not differ, f"{len(differ)} files changed, e.g. {differ[:5]}"
    assert any(k.endswith(".mp4") for k in expected) == (not changes)  # the list pins videos iff it renders them
