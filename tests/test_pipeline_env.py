"""environment.yml (conda) names the same dependencies and extras as pyproject.toml and the Makefile."""
import re
import tomllib

import yaml

from vttwins.pipeline import REPO_ROOT


def _conda_pip():
    env = yaml.safe_load((REPO_ROOT / "environment.yml").read_text())
    assert "conda-forge" in env["channels"] and "python=3.11" in env["dependencies"]
    return next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    pip = _conda_pip()
    editable = [p for p in pip if p.startswith("-e ")]
    assert len(editable) == 1, "environment.yml installs the project once, editable, with its extras"
    requirements = [p for p in pip if not p.startswith("-e ")]
    assert sorted(requirements) == sorted(project["dependencies"]), \
        "environment.yml pip list must equal pyproject.toml [project.dependencies]"
    extras = set(re.fullmatch(r"-e \.\[([\w,]+)\]", editable[0]).group(1).split(","))
    assert extras == set(project["optional-dependencies"]), "install every extra pyproject.toml defines"
    makefile = (REPO_ROOT / "Makefile").read_text()
    assert set(re.search(r"^EXTRAS := (.+)$", makefile, re.M).group(1).split(",")) == extras
