"""House habits that a tool checks (docs/STYLE habits, issue 21): no private name of one of our modules is used
from another module, and every import of our own modules inside a function says what it defers.

Both checks read the source with `ast` (nothing is imported), and each is shown to fail on a planted violation.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "vttwins"
DEFERRED = "# deferred:"
# (file, name) pairs allowed to use a private name of another module: none.
ALLOWED_PRIVATE: set = set()


def _modules(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every .py file of the package under `root`."""
    out = {}
    for path in sorted((root / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _source_module(module: str, path: Path, node: ast.ImportFrom) -> str:
    """Absolute dotted name of the module an ImportFrom reads (relative imports resolved against `module`)."""
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _is_ours(name: str) -> bool:
    return name == PACKAGE or name.startswith(PACKAGE + ".")


def private_uses(root: Path) -> list[tuple[str, int, str]]:
    """(file, line, name) of every private name of one of our modules used from another module:
    `from X import _name` and `alias._name` where `alias` is bound to one of our modules by an import."""
    modules = _modules(root)
    found = []
    for module, path in modules.items():
        tree = ast.parse(path.read_text(), str(path))
        rel = path.relative_to(root).as_posix()
        aliases = {}  # local name -> our module it is bound to
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                source = _source_module(module, path, node)
                if not _is_ours(source):
                    continue
                for a in node.names:
                    if _private(a.name) and source != module:
                        found.append((rel, node.lineno, a.name))
                    if f"{source}.{a.name}" in modules:
                        aliases[a.asname or a.name] = f"{source}.{a.name}"
            elif isinstance(node, ast.Import):
                for a in node.names:
                    if _is_ours(a.name):
                        aliases[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and _private(node.attr)
                and isinstance(node.value, ast.Name)
                and aliases.get(node.value.id, module) != module
            ):
                found.append((rel, node.lineno, node.attr))
    return sorted(set(found))


def _function_imports(tree: ast.AST):
    """Import nodes inside a function or method body (at any depth)."""
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(fn):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    yield node


def _imports_ours(node: ast.Import | ast.ImportFrom) -> bool:
    if isinstance(node, ast.ImportFrom):
        return node.level > 0 or _is_ours(node.module or "")
    return any(_is_ours(a.name) for a in node.names)


def undeclared_deferred_imports(root: Path) -> list[tuple[str, int]]:
    """(file, line) of every function-level import of one of our modules without a `# deferred: <what>` comment on
    its line(s) or on a comment line just before it."""
    found = set()
    for path in _modules(root).values():
        text = path.read_text()
        lines = text.splitlines()
        for node in _function_imports(ast.parse(text, str(path))):
            before = lines[node.lineno - 2] if node.lineno >= 2 else ""
            span = lines[node.lineno - 1 : node.end_lineno] + ([before] if before.lstrip().startswith("#") else [])
            if _imports_ours(node) and not any(DEFERRED in line for line in span):
                found.add((path.relative_to(root).as_posix(), node.lineno))
    return sorted(found)


def test_no_private_name_is_used_across_our_modules():
    uses = [u for u in private_uses(ROOT) if (u[0], u[2]) not in ALLOWED_PRIVATE]
    assert uses == [], "make the name public or move the helper where it is used:\n" + "\n".join(map(str, uses))


def test_every_function_level_import_of_ours_says_what_it_defers():
    bad = undeclared_deferred_imports(ROOT)
    assert bad == [], (
        "move these imports to module level, or say on the same or previous line "
        f"`{DEFERRED} <heavy dependency or cycle>`:\n" + "\n".join(map(str, bad))
    )


@pytest.fixture
def planted(tmp_path):
    """A toy package `vttwins` under tmp_path with one file per planted case."""

    def plant(files: dict[str, str]) -> Path:
        for name, body in {"__init__.py": "", "sub/__init__.py": "", **files}.items():
            (tmp_path / PACKAGE / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / PACKAGE / name).write_text(textwrap.dedent(body))
        return tmp_path

    return plant


def test_the_private_name_check_finds_planted_uses(planted):
    root = planted(
        {
            "a.py": "def _helper():\n    return 1\n\n\ndef public():\n    return _helper()\n",
            "b.py": "from __future__ import annotations\nfrom .a import _helper\n",  # line 2
            "sub/c.py": "from vttwins import a\nfrom ..a import public\n\n\nx = a._helper() + public()\n",  # line 5
            "sub/d.py": "import vttwins.a as m\nimport os\n\nprint(m.__name__, os._exit, m.public)\n",  # fine
            "e.py": "class K:\n    _n = 1\n\n\ndef f(k):\n    return k._n + K._n\n",  # not a module's attribute
        }
    )
    assert private_uses(root) == [("vttwins/b.py", 2, "_helper"), ("vttwins/sub/c.py", 5, "_helper")]


def test_the_deferred_import_check_finds_planted_imports(planted):
    root = planted(
        {
            "a.py": "import os\n\n\ndef f():\n    import json\n    from . import sub\n    return json, sub, os\n",
            "b.py": textwrap.dedent("""\
            def g():
                # deferred: torch
                from vttwins.sub import x
                import vttwins.a  # deferred: a cycle through config
                from .a import (f,
                                f as h)
                return x, f, h


            class C:
                def m(self):
                    from ..vttwins import a
                    return a
            """),
        }
    )
    assert undeclared_deferred_imports(root) == [("vttwins/a.py", 6), ("vttwins/b.py", 5), ("vttwins/b.py", 12)]


# ------------------------------------------------------------------------------------------- one rule, one place
@pytest.mark.parametrize("value", ["raise", "skip", "ignore", "Skip", ""])
def test_every_on_error_setting_accepts_exactly_the_one_constant(value):
    """`vttwins.data.errors.ON_ERROR` is the rule; the data set, `data.on_error` and `eval.on_error` follow it (the
    two config checks are still copies until the config rewrite reads the constant: this keeps them equal)."""
    from vttwins.companion.config import load_config
    from vttwins.data.errors import ON_ERROR, check_on_error
    from vttwins.companion.evaluation.config import EvalConfig

    makers = [check_on_error, lambda v: EvalConfig(on_error=v), lambda v: load_config("smoke", [f"data.on_error={v}"])]
    assert set(ON_ERROR) == {"raise", "skip"}
    for make in makers:
        if value in ON_ERROR:
            make(value)
        else:
            with pytest.raises(ValueError, match="on_error"):
                make(value)
