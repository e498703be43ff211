"""Lazy re-exports for package `__init__` files (PEP 562), so importing a package costs only what is used.

    from vttwins.exports import lazy_exports
    __getattr__, __dir__, __all__ = lazy_exports(__name__, {"fit": "vttwins.companion.training.loop"}, modules=["state"])

A name of `exports` is read from its module on first access (and kept on the package); a name of `modules` (or any
other submodule) is the submodule itself. `shadowed`: exported functions named like the submodule that defines
them (`evaluation.retrieval`): importing that submodule, which sets the package attribute to the module, leaves
the function there instead (as an eager `from .retrieval import retrieval` did). A leaf: imports nothing of vttwins.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Callable, Iterable


def lazy_exports(
    package: str, exports: dict[str, str], modules: Iterable[str] | dict[str, str] = (), shadowed: Iterable[str] = ()
) -> tuple[Callable[[str], object], Callable[[], list[str]], list[str]]:
    """(`__getattr__`, `__dir__`, `__all__`) for the package named `package`. `modules`: submodule names, or
    {name: module path} for a module of another package re-exported under `name`."""
    modules = dict(modules) if isinstance(modules, dict) else {m: f"{package}.{m}" for m in modules}
    names = sorted({*exports, *modules})
    if shadowed:
        _keep_functions(package, frozenset(shadowed))

    def __getattr__(name: str):
        if name in exports:
            value = getattr(importlib.import_module(exports[name]), name)
            setattr(sys.modules[package], name, value)  # once: later lookups skip __getattr__
            return value
        try:
            return importlib.import_module(modules.get(name, f"{package}.{name}"))
        except ModuleNotFoundError as err:
            if err.name != f"{package}.{name}":
                raise
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None

    def __dir__() -> list[str]:
        return names

    return __getattr__, __dir__, names


def _keep_functions(package: str, names: frozenset[str]) -> None:
    """Give the package module a class whose attribute `name` (in `names`) stays the function `name` of the
    submodule when the import system stores the submodule there."""

    class Package(types.ModuleType):
        def __setattr__(self, name, value):
            if name in names and isinstance(value, types.ModuleType) and hasattr(value, name):
                value = getattr(value, name)
            super().__setattr__(name, value)

    sys.modules[package].__class__ = Package
