"""Package-level checks: the CLI dispatcher and lazy public names."""
import subprocess
import sys

import pytest

import vttwins
from vttwins.__main__ import main


def test_unknown_command_is_usage_error(capsys):
    assert main(["no-such-command"]) == 2
    assert "usage" in capsys.readouterr().err


def test_unknown_public_name_raises():
    with pytest.raises(AttributeError, match="nosuchname"):
        vttwins.nosuchname  # noqa: B018


def test_module_entry_point_runs():
    out = subprocess.run([sys.executable, "-m", "vttwins", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "reproduce" in out.stderr
