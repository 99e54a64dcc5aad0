"""The shape of the package: layers, no import circles, modules of a readable size.

Every module of ``src/popsim`` is parsed (not imported) and its imports of other popsim modules
collected, at module level and inside functions alike. The layers of the package map in
``popsim/__init__.py`` may import only from layers before them (and from their own layer);
no two modules may import each other through any chain; no module is over 600 lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "popsim"

#: the package map's layers, in reading order: a module may import from its layer and earlier ones
LAYERS = ["errors", "io", "workload", "scenario", "provenance", "model", "api", "experiments",
          "validation", "calibration", "reports", "app", "cli", "__main__"]
MAX_LINES = 600


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """popsim modules imported anywhere in ``path`` (relative imports resolved)."""
    name = _module_name(path)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if not mod.startswith("popsim"):
                continue
            for alias in node.names:  # "from . import x" imports the module x
                sub = f"{mod}.{alias.name}"
                found.add(sub if (SRC.parent / Path(*sub.split("."))).with_suffix(".py").exists()
                          or (SRC.parent / Path(*sub.split("."))).is_dir() else mod)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("popsim"))
    found.discard(name)
    return found


MODULES = {_module_name(p): p for p in sorted(SRC.rglob("*.py"))}
GRAPH = {name: {m for m in _imports(p) if m in MODULES} for name, p in MODULES.items()}


def _layer(module: str) -> int:
    parts = module.split(".")
    if len(parts) == 1:  # the package itself (its lazy names) sits above everything
        return len(LAYERS)
    if parts[1] not in LAYERS:
        pytest.fail(f"{module}: its top-level name {parts[1]!r} is not in the layer list "
                    f"of tests/test_architecture.py (add it where it belongs)")
    return LAYERS.index(parts[1])


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_only_from_lower_layers(module):
    upward = sorted(m for m in GRAPH[module] if m != "popsim" and _layer(m) > _layer(module))
    assert not upward, f"{module} imports upward: {upward}"


def test_no_import_circles():
    # Tarjan's strongly connected components over the module graph
    index, low, on_stack, stack, cycles = {}, {}, set(), [], []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in GRAPH:
        if v not in index:
            visit(v)
    # a package's __init__ re-exporting its own modules is not a circle
    real = [c for c in cycles if not all(m.startswith(min(c, key=len)) for m in c)]
    assert not real, f"import circles: {real}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_size(module):
    n = len(MODULES[module].read_text(encoding="utf-8").splitlines())
    assert n <= MAX_LINES, f"{module} has {n} lines (at most {MAX_LINES}): split it by concept"


def test_graph_sees_imports():
    # guard against a parser that silently finds nothing
    assert "popsim.model.households" in GRAPH["popsim.model.model"]
    assert "popsim.errors" in GRAPH["popsim.scenario.loader"]
