"""The house's import rules, checked on the source: no import cycle inside vttwins/, and alignment/ stays liftable.

Edges are every `import` / `from ... import` in a module, at module level or inside a function (a lazy import is
still a dependency). `from pkg import name` points at `pkg.name` when that is a module, else at `pkg` itself.
A package's `__init__` is a node of its own; importing a submodule does not add an edge to its parent package
(Python runs the parent's `__init__` first, but that is packaging, not a dependency the module chose).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "vttwins"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _targets(node: ast.AST, module: str, is_package: bool, known: set[str]) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        stem = ".".join(base + ([node.module] if node.module else []))
    else:
        stem = node.module or ""
    return [f"{stem}.{a.name}" if f"{stem}.{a.name}" in known else stem for a in node.names]


def import_graph() -> dict[str, set[str]]:
    """{module: set of vttwins modules it imports}."""
    mods = _modules()
    known = set(mods)
    graph = {}
    for name, path in mods.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        edges = set()
        for node in ast.walk(tree):
            for target in _targets(node, name, path.name == "__init__.py", known):
                while target and target not in known and "." in target:  # `import vttwins.x.y as z` etc.
                    target = target.rsplit(".", 1)[0]
                if target in known and target != name:
                    edges.add(target)
        graph[name] = edges
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a list of modules (first == last), or None. Iterative DFS, three colours."""
    colour = dict.fromkeys(graph, 0)
    for root in sorted(graph):
        if colour[root]:
            continue
        stack = [(root, iter(sorted(graph[root])))]
        path = [root]
        colour[root] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                colour[node] = 2
                stack.pop()
                path.pop()
            elif colour[child] == 1:
                return path[path.index(child) :] + [child]
            elif colour[child] == 0:
                colour[child] = 1
                path.append(child)
                stack.append((child, iter(sorted(graph[child]))))
    return None


def test_cycle_finder_finds_a_planted_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle_inside_vttwins():
    graph = import_graph()
    assert len(graph) > 40 and "vttwins.companion.config" in graph
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_alignment_imports_nothing_else_of_vttwins():
    graph = import_graph()
    outside = {
        (m, t)
        for m, ts in graph.items()
        if m.startswith("vttwins.alignment")
        for t in ts
        if not t.startswith("vttwins.alignment")
    }
    assert not outside, f"vttwins.alignment must import only torch/numpy/numba (and itself): {sorted(outside)}"


LEAVES = (
    "vttwins.paths",
    "vttwins._io",
    "vttwins.errors",
    "vttwins.companion.config_ranges",
    "vttwins.companion.evaluation.config",
    "vttwins.companion.synth.config",
    "vttwins.companion.outputs",
    # the registry and the built-in benchmarks' declarations (evaluators and SynthHowTo functions named by string)
    "vttwins.companion.benchmarks",
    "vttwins.companion.benchmarks.task",
    "vttwins.companion.benchmarks.split",
    "vttwins.companion.benchmarks.registry",
    "vttwins.companion.benchmarks.retrieval_common",
    *(f"vttwins.companion.benchmarks.{b}" for b in ("youcook2", "msrvtt", "crosstask", "action")),
)


@pytest.mark.parametrize("leaf", LEAVES)
def test_leaf_modules_import_only_leaves(leaf):
    """A leaf may lean on another leaf (EvalConfig validates task names against the task registry), no further."""
    graph = import_graph()
    beyond = sorted(graph[leaf] - set(LEAVES))
    assert not beyond, f"{leaf} is a leaf: it may import only {LEAVES}, not {beyond}"


def test_reading_a_config_does_not_load_training_code():
    code = (
        "import sys, vttwins.companion.config; "
        "bad = [m for m in sys.modules if m.startswith(('vttwins.companion.training', 'vttwins.companion.pipeline'))]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


# ------------------------------------------------------------------ import-linter: the layers of .importlinter
ROOT = PACKAGE.parent


def _lint_imports(root: Path) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).parent / "lint-imports"
    if not exe.exists():
        pytest.skip("import-linter is not installed (pip install -e '.[test]')")
    env = {"PATH": str(exe.parent), "PYTHONPATH": str(root), "HOME": str(root), "LC_ALL": "C.UTF-8"}
    return subprocess.run(
        [str(exe), "--config", str(root / ".importlinter"), "--no-cache"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_import_linter_contracts_are_kept():
    done = _lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "broken" in done.stdout and " 0 broken" in done.stdout


def test_import_linter_finds_a_planted_violation(tmp_path):
    """The contracts can fail: a lazy import of the companion inside alignment/ breaks three of them."""
    import shutil

    shutil.copytree(PACKAGE, tmp_path / "vttwins", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / ".importlinter", tmp_path / ".importlinter")
    costs = tmp_path / "vttwins" / "alignment" / "costs.py"
    costs.write_text(costs.read_text() + "\n\ndef _planted():\n    import vttwins.companion.config  # noqa\n")
    done = _lint_imports(tmp_path)
    assert done.returncode != 0
    text = " ".join(done.stdout.split())
    for name in (
        "The core library imports nothing of the companion",
        "alignment/ imports nothing else of vttwins (liftable into another project)",
        "Layers of the package: the companion on top of the core (| = independent siblings)",
    ):
        assert f"{name} BROKEN" in text, done.stdout
    assert "models need neither PyAV, scipy, scikit-learn, pandas nor matplotlib KEPT" in text
    assert (
        "Layers inside the companion: a module imports only from layers below it (| = independent siblings) KEPT"
        in text
    )
