"""ruff (the rules of pyproject.toml [tool.ruff]) over the package, tests, benchmarks and tools."""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_finds_nothing():
    exe = Path(sys.executable).parent / "ruff"
    if not exe.exists():
        pytest.skip("ruff is not installed (pip install -e '.[test]')")
    done = subprocess.run([str(exe), "check", "--no-cache", "vttwins", "tests", "benchmarks", "tools"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
