"""The package's structure: no import cycles, no private names across packages, short modules.

Every import counts, inside functions and under ``TYPE_CHECKING`` too (as
``/work/shared/tools/import_cycles.py`` counts them): a cycle is a design knot whether or not it
breaks at run time. The ``*_FOR_NOW`` sets list what is known to remain outside the core and
must be exact (an entry that no longer happens fails too), so each fix empties them a little.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = "errlens"
MAX_LINES = 500

# Cycles (strongly connected components, module names without "errlens.") still to break,
# all outside the core (base, data, slicing, suspects, the Analysis facade); emptied as the
# engines, views, widgets and changelog are reshaped.
ALLOWED_FOR_NOW: set[frozenset[str]] = set()

# (importer, imported module, private name) still imported across packages.
PRIVATE_FOR_NOW: set[tuple[str, str, str]] = set()

# Modules still over MAX_LINES lines.
LONG_FOR_NOW: set[str] = set()


def _modules() -> dict[str, Path]:
    out = {}
    for path in (SRC / PACKAGE).rglob("*.py"):
        name = ".".join(path.relative_to(SRC).with_suffix("").parts)
        out[name.removesuffix(".__init__")] = path
    return out


MODULES = _modules()


def _resolve(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _package(module: str) -> str:
    return module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]


def _imports(module: str) -> list[tuple[str, str | None]]:
    """(imported module, imported name or None) for every import statement of ``module``."""
    path = MODULES[module]
    out: list[tuple[str, str | None]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = _package(module).split(".")
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join(parts + ([base] if base else []))
            out += [(base, alias.name) for alias in node.names]
    return out


def _graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {m: set() for m in MODULES}
    for module in MODULES:
        for base, name in _imports(module):
            if not base.startswith(PACKAGE):
                continue
            full = f"{base}.{name}" if name and f"{base}.{name}" in MODULES else base
            target = _resolve(full)
            # a package's own __init__ runs first anyway: not an edge from its submodules
            inside = MODULES[target].name == "__init__.py" and module.startswith(target + ".")
            if target and target != module and not inside:
                edges[module].add(target)
    return edges


def _cycles(edges: dict[str, set[str]]) -> set[frozenset[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: set[frozenset[str]] = set()
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.add(frozenset(m.removeprefix(PACKAGE + ".") for m in component))
    return found


def test_the_cycle_finder_sees_a_type_only_cycle() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(edges) == {frozenset("abc")}


def test_no_import_cycles() -> None:
    cycles = _cycles(_graph())
    assert cycles - ALLOWED_FOR_NOW == set(), "new import cycles (break them, see STYLE.md)"
    assert ALLOWED_FOR_NOW - cycles == set(), "cycles gone: remove them from ALLOWED_FOR_NOW"


def _private_imports() -> set[tuple[str, str, str]]:
    """(importer, module, name) for ``from module import _name`` across packages."""
    found = set()
    for module in MODULES:
        for base, name in _imports(module):
            if not base.startswith(PACKAGE) or not name or not name.startswith("_"):
                continue
            if name.startswith("__"):
                continue
            # the owner of a private submodule is the package it is in, else the module's own
            owner = base if f"{base}.{name}" in MODULES else _package(_resolve(base) or base)
            if owner != _package(module):
                found.add((module.removeprefix(PACKAGE + "."),
                           base.removeprefix(PACKAGE + "."), name))
    return found


def test_no_private_names_across_packages() -> None:
    found = _private_imports()
    assert found - PRIVATE_FOR_NOW == set(), "private names imported from another package"
    assert PRIVATE_FOR_NOW - found == set(), "fixed: remove them from PRIVATE_FOR_NOW"


def test_modules_are_short() -> None:
    long = {
        module.removeprefix(PACKAGE + ".")
        for module, path in MODULES.items()
        if len(path.read_text(encoding="utf-8").splitlines()) > MAX_LINES
    }
    assert long - LONG_FOR_NOW == set(), f"modules over {MAX_LINES} lines: split them"
    assert LONG_FOR_NOW - long == set(), "short now: remove them from LONG_FOR_NOW"
