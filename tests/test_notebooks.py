"""Stored-notebook hygiene and the notebook <-> profile parameter contract (no kernel is started here).

Policy: templates in notebooks/ are stored with every output stripped, except cells whose first line is
`# NBVAL_CHECK_OUTPUT` (small, deterministic, text-only outputs that nbval compares); executed copies with all
outputs live in results/notebooks/, written by the pipeline.
"""

import ast
import json

import pytest

from vttwins.companion import pipeline

NB_DIR = pipeline.NOTEBOOK_DIR
NAMES = [nb.name for nb in pipeline.NOTEBOOKS]
PROFILES = sorted(p.stem for p in pipeline.CONFIG_DIR.glob("*.yaml"))
CHECKED = "# NBVAL_CHECK_OUTPUT"


def _load(name):
    return json.loads((NB_DIR / f"{name}.ipynb").read_text(encoding="utf-8"))


def _source(cell):
    return cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])


def test_notebook_folder_matches_the_pipeline_list():
    stored = sorted(p.stem for p in NB_DIR.glob("*.ipynb"))
    assert stored == sorted(NAMES), (
        "every notebook must be listed in vttwins.companion.pipeline.NOTEBOOKS and vice versa"
    )
    assert NAMES == sorted(NAMES) and all(n[:2].isdigit() and n[2] == "_" for n in NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_kernel_and_parameters_cell(name):
    nb = _load(name)
    assert nb["metadata"]["kernelspec"]["name"] == pipeline.KERNEL
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert "parameters" in code[0]["metadata"].get("tags", []), "first code cell must be tagged parameters"
    assert all("parameters" not in c["metadata"].get("tags", []) for c in code[1:]), "one parameters cell only"
    lines = [ln for ln in _source(code[0]).splitlines() if ln.strip()]
    for line in lines:  # `name: type = literal  # help`, one per line
        node = ast.parse(line).body[0]
        assert isinstance(node, ast.AnnAssign) and "  # " in line, f"{name}: parameter line {line!r}"
        assert line.count("=") == 1, f"{name}: papermill cannot parse a second '=' (in the help?): {line!r}"
        value = ast.literal_eval(node.value)
        assert type(value).__name__ == ast.unparse(node.annotation), f"{name}: {line!r} type does not match"
    assert f'pipeline.resolve("{name}", globals())' in _source(code[1]), "second code cell resolves the profile"
    assert "pipeline.log_to_stdout()" in _source(code[1]) and "basicConfig" not in _source(code[1]), (
        "notebooks log INFO to stdout (stderr reads as an error in JupyterLab)"
    )


@pytest.mark.parametrize("name", NAMES)
def test_outputs_are_stripped_and_cells_are_thin(name):
    ids = [cell.get("id") for cell in _load(name)["cells"]]
    assert all(ids) and len(set(ids)) == len(ids), f"{name}: every cell needs a unique id (nbformat 4.5): {ids}"
    for cell in _load(name)["cells"]:
        if cell["cell_type"] != "code":
            assert not cell.get("attachments"), f"{name}: markdown attachments are not allowed"
            continue
        source = _source(cell)
        tree = ast.parse("\n".join(ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!"))))
        defs = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
        assert not defs, f"{name}: define functions/classes in the package, not in a notebook cell"
        if source.splitlines()[0] == CHECKED:
            assert cell["outputs"], f"{name}: a checked cell stores the output nbval compares"
            assert all(
                o["output_type"] == "stream" or set(o.get("data", {})) <= {"text/plain"} for o in cell["outputs"]
            ), f"{name}: checked cells keep text outputs only"
            assert len(json.dumps(cell["outputs"])) < 2000
        else:
            assert cell["outputs"] == [] and cell["execution_count"] is None, (
                f"{name}: stored outputs must be stripped (policy in tests/test_notebooks.py)"
            )


@pytest.mark.parametrize("profile", PROFILES)
def test_profile_sets_exactly_each_notebooks_parameters(profile):
    papermill = pytest.importorskip("papermill")
    sections = pipeline.profile_notebook_params(profile)
    for name in NAMES:
        inspected = papermill.inspect_notebook(str(NB_DIR / f"{name}.ipynb"))
        assert set(sections[name]) == set(inspected), f"configs/{profile}.yaml notebooks.{name}"
        assert set(inspected) == set(pipeline.notebook_defaults(name))
        for key, value in sections[name].items():
            declared = inspected[key]["inferred_type_name"]
            assert type(value).__name__ == declared or (declared == "float" and isinstance(value, int)), (
                f"configs/{profile}.yaml notebooks.{name}.{key} = {value!r} is not a {declared}"
            )


def test_stored_defaults_are_the_default_profile():
    """Opening a notebook in JupyterLab without VTTWINS_PROFILE runs the CPU reproduction."""
    sections = pipeline.profile_notebook_params("default")
    for name in NAMES:
        assert pipeline.notebook_defaults(name) == sections[name], name
