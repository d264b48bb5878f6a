"""The package layers: no import cycle between the project's packages, and core at the bottom.

Every project .py file is parsed with ``ast`` (nothing is imported), including imports inside
functions and ``if TYPE_CHECKING:`` blocks: a lazy import is still a dependency. Each import
is mapped to the top-level project package it reaches, which gives a graph of packages.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("core", "models", "store", "providers", "activities", "workflows", "portflow", "api", "devtools")
MODULES = ("worker", "starter")  # top-level modules, each its own node
PROJECT = frozenset(PACKAGES + MODULES)
BOTTOM = "core"

Graph = Mapping[str, Iterable[str]]


def project_files() -> list[Path]:
    files = [ROOT / f"{name}.py" for name in MODULES]
    for package in PACKAGES:
        files += sorted((ROOT / package).rglob("*.py"))
    return files


def _node_of(path: Path) -> str:
    return path.relative_to(ROOT).parts[0].removesuffix(".py")


def _module_of(path: Path) -> list[str]:
    """``providers/carrier/base.py`` -> ``["providers", "carrier", "base"]``; a package's
    ``__init__.py`` is the package itself."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return parts[:-1] if parts[-1] == "__init__" else parts


def imports_of(path: Path) -> list[tuple[str, int, str]]:
    """The project packages ``path`` imports: (package, line, the import as written)."""
    source = path.read_text()
    found = []
    for node in ast.walk(ast.parse(source, filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the file's own package upwards
                package = _module_of(path)
                if path.name != "__init__.py":
                    package = package[:-1]
                base = package[: len(package) - (node.level - 1)]
                targets = [".".join([*base, *([node.module] if node.module else [])])]
            else:
                targets = [node.module or ""]
        else:
            continue
        for target in targets:
            top = target.split(".")[0]
            if top in PROJECT:
                found.append((top, node.lineno, ast.get_source_segment(source, node) or target))
    return found


def package_graph() -> tuple[dict[str, set[str]], dict[tuple[str, str], str]]:
    """Edges between project packages, and for each edge one import line that makes it."""
    graph: dict[str, set[str]] = {name: set() for name in PROJECT}
    why: dict[tuple[str, str], str] = {}
    for path in project_files():
        source = _node_of(path)
        for target, line, text in imports_of(path):
            if target == source:
                continue
            graph[source].add(target)
            first_line = " ".join(text.split())
            why.setdefault((source, target), f"{path.relative_to(ROOT)}:{line}: {first_line}")
    return graph, why


def find_cycles(graph: Graph) -> list[list[str]]:
    """One cycle (``[a, b, ..., a]``) per strongly connected component of more than one node
    (Tarjan's algorithm), so every tangle of packages is named once."""
    nodes = sorted(set(graph) | {t for targets in graph.values() for t in targets})
    edges = {n: sorted(graph.get(n, ())) for n in nodes}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in edges[v]:
                components.append(sorted(component))

    for v in nodes:
        if v not in index:
            connect(v)

    cycles = []
    for component in sorted(components):
        members = set(component)
        start = component[0]
        # a shortest way back to start, inside the component (breadth first)
        came_from: dict[str, str] = {}
        frontier = [start]
        while frontier and start not in came_from:
            following = []
            for v in frontier:
                for w in edges[v]:
                    if w in members and w not in came_from:
                        came_from[w] = v
                        following.append(w)
            frontier = following
        path = [start]
        v = came_from[start]
        while v != start:
            path.append(v)
            v = came_from[v]
        path.append(start)
        cycles.append(path[::-1] if len(path) > 2 else path)
    return cycles


def _describe(cycle: list[str], why: Mapping[tuple[str, str], str]) -> str:
    steps = [f"    {a} -> {b}: {why.get((a, b), '?')}" for a, b in zip(cycle, cycle[1:])]
    return " -> ".join(cycle) + "\n" + "\n".join(steps)


# --- the cycle finder itself, on made-up graphs ----------------------------------------


def test_the_cycle_finder_names_each_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"f"}, "f": {"e"}, "g": {"a"}}
    cycles = find_cycles(graph)
    assert len(cycles) == 2
    first, second = cycles
    assert first[0] == first[-1] == "a" and set(first) == {"a", "b", "c"} and len(first) == 4
    assert second in (["e", "f", "e"], ["f", "e", "f"])
    for cycle in cycles:  # every step is an edge of the graph
        assert all(b in graph[a] for a, b in zip(cycle, cycle[1:]))


def test_the_cycle_finder_accepts_a_layered_graph() -> None:
    layered = {"top": {"mid", "bottom"}, "mid": {"bottom"}, "bottom": set(), "side": {"bottom"}}
    assert find_cycles(layered) == []
    assert find_cycles({**layered, "bottom": {"top"}}) != []


def test_the_description_names_an_import_per_edge() -> None:
    text = _describe(["a", "b", "a"], {("a", "b"): "a/x.py:3: import b", ("b", "a"): "b/y.py:9: import a"})
    assert "a -> b -> a" in text and "a/x.py:3: import b" in text and "b/y.py:9: import a" in text


def test_relative_imports_are_resolved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tests.test_layers as layers

    pkg = tmp_path / "store" / "sub"
    pkg.mkdir(parents=True)
    (pkg / "mod.py").write_text("from .. import db\nfrom ...models import request\n")
    monkeypatch.setattr(layers, "ROOT", tmp_path)
    assert [t for t, _, _ in layers.imports_of(pkg / "mod.py")] == ["store", "models"]


# --- the project --------------------------------------------------------------------------


def test_every_project_package_is_scanned() -> None:
    for package in PACKAGES:
        assert (ROOT / package / "__init__.py").exists(), f"{package}/ is not a package any more: update PACKAGES"
    assert len(project_files()) > 50


def test_no_import_cycle_between_packages() -> None:
    graph, why = package_graph()
    cycles = find_cycles(graph)
    assert not cycles, "import cycles between packages:\n" + "\n".join(_describe(c, why) for c in cycles)


def test_core_imports_no_project_package() -> None:
    graph, why = package_graph()
    above = sorted(graph[BOTTOM])
    assert not above, f"{BOTTOM}/ is the bottom layer and must import nothing of the project:\n" + "\n".join(
        f"    {why[(BOTTOM, p)]}" for p in above
    )
