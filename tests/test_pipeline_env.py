"""environment.yml (conda) names the same dependencies and extras as pyproject.toml and the Makefile."""

import re
import tomllib

import yaml

from vttwins.companion.pipeline import REPO_ROOT


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
    assert sorted(requirements) == sorted(project["dependencies"]), (
        "environment.yml pip list must equal pyproject.toml [project.dependencies]"
    )
    extras = set(re.fullmatch(r"-e \.\[([\w,]+)\]", editable[0]).group(1).split(","))
    # every extra but `gpu` (triton for CUDA machines; the test extra already brings triton for the interpreter),
    # directly or through another extra (`companion` = `vttwins[data,eval]` + its own)
    included = {
        x
        for name in extras
        for req in project["optional-dependencies"][name]
        if (m := re.fullmatch(r"vttwins\[([\w,]+)\]", req))
        for x in m.group(1).split(",")
    }
    assert extras | included == set(project["optional-dependencies"]) - {"gpu"}, (
        "install every extra pyproject.toml defines"
    )
    makefile = (REPO_ROOT / "Makefile").read_text()
    assert set(re.search(r"^EXTRAS := (.+)$", makefile, re.M).group(1).split(",")) == extras
    assert "-c constraints.txt" in makefile, "make installs the exact pins of constraints.txt"


def test_constraints_pin_within_pyproject_ranges():
    """constraints.txt pins exact versions, each allowed by pyproject.toml's ranges."""
    from packaging.requirements import Requirement  # noqa: PLC0415 (pip's own dependency)

    pins = {}
    for line in (REPO_ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            pins[name.lower()] = version
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    for req in map(Requirement, project["dependencies"]):
        assert req.name.lower() in pins, f"{req.name} has no exact pin in constraints.txt"
        assert req.specifier.contains(pins[req.name.lower()]), f"{req.name}=={pins[req.name.lower()]} vs {req}"
