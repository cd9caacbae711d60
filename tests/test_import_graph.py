"""The import graph of musebench/ and reference_model/, read from the source (ast), checked for the
one-way flow docs/architecture.md draws: suite -> plan -> cache -> metrics -> results -> report/gate.

- reference_model/ never imports musebench (it is the standalone reference implementation);
- report/ and gate/ read result files only: they import nothing from runner/ or cli/;
- no package imports the command line (cli/), and the library never imports training recipes;
- no cycle among packages through module-level imports (what runs at import time). Imports inside
  functions (lazy, for start-up time) are listed by `lazy_cycles()`; they are not refused here yet.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOPS = ("musebench", "reference_model")


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(imported module, inside a function?) for every import statement of one file."""
    name = _module(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: list[tuple[str, bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            lazy = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.Import):
                found.extend((alias.name, lazy) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level:  # relative: from . import x / from ..a import b
                    base = package.split(".")[: len(package.split(".")) - child.level + 1]
                    target = ".".join(base + ([child.module] if child.module else []))
                else:
                    target = child.module or ""
                found.append((target, lazy))
                found.extend((f"{target}.{alias.name}", lazy) for alias in child.names)
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue  # typing only: never runs
            visit(child, lazy)

    visit(ast.parse(path.read_text(encoding="utf-8")), False)
    return found


def _package(module: str) -> str:
    return ".".join(module.split(".")[:2])


def graph(include_lazy: bool) -> dict[str, set[str]]:
    """package -> packages it imports (musebench.x / reference_model.y), self-edges dropped."""
    files = [p for top in TOPS for p in (ROOT / top).rglob("*.py")]
    known = {_package(_module(p)) for p in files}
    edges: dict[str, set[str]] = defaultdict(set)
    for path in files:
        source = _package(_module(path))
        for target, lazy in _imports(path):
            if (include_lazy or not lazy) and target.split(".")[0] in TOPS:
                target_package = _package(target)
                if target_package in known and target_package != source:
                    edges[source].add(target_package)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one package (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            connect(v)
    return found


def lazy_cycles() -> list[list[str]]:
    return cycles(graph(include_lazy=True))


def test_no_package_cycle_at_import_time():
    assert cycles(graph(include_lazy=False)) == []


def test_reference_model_never_imports_musebench():
    offenders = [(str(p.relative_to(ROOT)), t) for p in (ROOT / "reference_model").rglob("*.py")
                 for t, _ in _imports(p) if t.split(".")[0] == "musebench"]
    assert offenders == []


def test_report_and_gate_read_results_only():
    edges = graph(include_lazy=True)
    for reader in ("musebench.report", "musebench.gate"):
        assert not edges[reader] & {"musebench.runner", "musebench.cli"}, (reader, sorted(edges[reader]))


def test_nothing_imports_the_command_line_or_recipes():
    edges = graph(include_lazy=True)
    offenders = {source: sorted(targets & {"musebench.cli", "musebench.train"}) for source, targets in edges.items()
                 if source not in ("musebench.cli", "musebench.__main__", "musebench.train") and targets & {"musebench.cli", "musebench.train"}}
    assert offenders == {}
    recipes = [(str(p.relative_to(ROOT)), t) for top in TOPS for p in (ROOT / top).rglob("*.py")
               for t, _ in _imports(p) if t.split(".")[0] == "recipes"]
    assert recipes == []


def test_the_walk_sees_a_known_edge():
    # a graph read wrong would pass every test above vacuously
    assert "musebench.results" in graph(include_lazy=False)["musebench.runner"]
