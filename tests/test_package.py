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


def _loaded_after(code: str) -> set[str]:
    """Top-level packages in sys.modules after running `code` in a fresh interpreter."""
    probe = code + "\nimport sys, json; print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return set(__import__("json").loads(out.stdout.strip().splitlines()[-1]))


HEAVY = {"av", "scipy", "pandas", "matplotlib", "sklearn", "seaborn", "papermill"}


def test_the_loss_loads_no_companion_package():
    loaded = _loaded_after("import vttwins.losses")
    assert "torch" in loaded and not loaded & HEAVY, sorted(loaded & HEAVY)


def test_the_command_line_starts_without_torch():
    code = (
        "import sys\nfrom vttwins.__main__ import main\nsys.stderr = open('/dev/null', 'w')\n"
        "assert main(['--help']) == 0"
    )
    loaded = _loaded_after(code)
    assert not loaded & (HEAVY | {"torch", "numba"}), sorted(loaded & (HEAVY | {"torch", "numba"}))


@pytest.mark.parametrize(
    "package",
    [
        "vttwins.companion.training",
        "vttwins.companion.evaluation",
        "vttwins.companion.experiments",
        "vttwins.companion.pipeline",
        "vttwins.models",
        "vttwins.data",
        "vttwins.companion.synth",
    ],
)
def test_package_init_files_import_no_submodule(package):
    code = f"import {package}\nimport sys\nprint([m for m in sys.modules if m.startswith('{package}.')])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.strip() == "[]", out.stdout + out.stderr


def test_a_function_named_like_its_module_stays_the_function():
    code = (
        "import vttwins.companion.evaluation.retrieval, vttwins.companion.synth.generate\n"
        "from vttwins.companion.evaluation import retrieval, step_localization\nfrom vttwins.companion.synth import generate\n"
        "import vttwins.companion.evaluation as E\n"
        "assert callable(retrieval) and callable(step_localization) and callable(generate), (retrieval, generate)\n"
        "assert E.retrieval is retrieval and E.run.__name__ == 'vttwins.companion.evaluation.run'\n"
        "try:\n    E.no_such_name\nexcept AttributeError as err:\n    assert 'no_such_name' in str(err)\n"
        "else:\n    raise SystemExit('no AttributeError')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
