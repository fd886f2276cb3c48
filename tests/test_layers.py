"""The layers of docs/architecture.md hold: who may import whom, read from the source itself."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "mcp_server"


def _imports(path: Path) -> set[str]:
    """Absolute names of the package modules ``path`` imports (relative imports resolved)."""
    module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                name = f"{base}.{node.module}" if node.module else base
            else:
                name = node.module or ""
            found.add(name)
            found.update(f"{name}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith(("mcp_server", "tests"))}


# The packages in layers, lowest first: a module imports only from its own package or from a lower layer.
# The simulator stands beside the stack and may use only the cron parser (it and the tools must agree on runs).
LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"__init__", "safety", "cron"}),  # the version; redaction, audit, tokens, retention rules; cron
    frozenset({"config"}),
    frozenset({"zerobyte"}),  # the client and version adaptation: knows nothing of MCP
    frozenset({"answers"}),  # names, notation, output shaping, task views, the agent-facing failure
    frozenset({"catalog"}),
    frozenset({"context"}),
    frozenset({"tools"}),
    frozenset({"resources", "prompts"}),
    frozenset({"server"}),
    frozenset({"cli", "__main__"}),
)
BESIDE = {"simulator": {"cron"}}


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        found[".".join(parts[:-1]) if parts[-1] == "__init__" else ".".join(parts)] = path
    return found


def _unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _rank(unit: str) -> int:
    return next(i for i, layer in enumerate(LAYERS) if unit in layer)


def test_every_package_has_a_layer_and_imports_point_down_only() -> None:
    modules = _modules()
    units = {_unit(name) for name in modules}
    placed = set().union(*LAYERS) | set(BESIDE)
    assert units <= placed, f"packages without a layer: {sorted(units - placed)}"
    upward = []
    for name, path in modules.items():
        here = _unit(name)
        for imported in {n if n in modules else n.rsplit(".", 1)[0] for n in _imports(path)} & set(modules):
            there = _unit(imported)
            if there == here:
                continue
            ok = there in BESIDE[here] if here in BESIDE else there not in BESIDE and _rank(there) <= _rank(here)
            if not ok:
                upward.append(f"{name} imports {imported}")
    assert upward == []


def test_top_level_stays_small() -> None:
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= 8, top


def test_the_zerobyte_client_knows_nothing_of_mcp_or_the_layers_above_it() -> None:
    for path in sorted((PACKAGE / "zerobyte").glob("*.py")):
        source = path.read_text(encoding="utf-8")
        assert "import mcp" not in source and "from mcp" not in source, path.name
        outside = {n for n in _imports(path) if not n.startswith("mcp_server.zerobyte")}
        assert {n for n in outside if not n.startswith("mcp_server.safety.redact")} == set(), (path.name, outside)


def test_following_tasks_and_resources_use_no_tool_module() -> None:
    for name in ("tools/follow.py", "resources.py", "answers/task_views.py"):
        tool_modules = {n for n in _imports(PACKAGE / name) if n.startswith("mcp_server.tools.")}
        # The registry (catalogue, registry) is how they reach a tool's answer: by name, never a module.
        allowed = {"base", "catalogue", "registry", "follow"}
        assert {n.split(".")[2] for n in tool_modules} <= allowed, (name, tool_modules)


def test_tool_machinery_and_confirmation_never_import_the_server_not_even_for_types() -> None:
    for name in ("tools/base.py", "tools/confirm.py", "tools/follow.py", "context.py"):
        imported = _imports(PACKAGE / name)
        assert imported, name
        assert not [n for n in imported if n.startswith(("mcp_server.server", "mcp_server.cli"))], name


def test_test_modules_share_helpers_and_never_import_one_another() -> None:
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sorted((ROOT / "tests").rglob("*.py"))
        if "real" not in path.parts  # the real-server harness keeps its own fixtures module
        for name in _imports(path)
        if name.rsplit(".", 1)[-1].startswith("test_") or ".test_" in name or name.startswith("tests.conftest")
    ]
    assert offenders == []


def _module_graph() -> dict[str, set[str]]:
    """Which package modules each module imports, type-only and function-local imports included.

    ``from pkg import name`` counts as importing ``pkg.name`` when that is a module, otherwise ``pkg``.
    """
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                origin = (f"{base}.{node.module}" if node.module else base) if node.level else node.module or ""
                found.update(f"{origin}.{a.name}" if f"{origin}.{a.name}" in modules else origin for a in node.names)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
        graph[name] = (found & set(modules)) - {name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _a_circle_through(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """One import path from the component's first module back to it, inside the component (breadth first)."""
    start, members = component[0], set(component)
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for target in sorted(graph[node] & members):
            if target == start:
                return [*paths[node], start]
            if target not in paths:
                paths[target] = [*paths[node], target]
                queue.append(target)
    return component  # unreachable for a strongly connected component


def test_the_cycle_finder_finds_a_cycle_and_only_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set(), "c": {"a", "b"}}) == []
    assert _a_circle_through({"a": {"b", "c"}, "b": {"a"}, "c": {"b"}}, ["a", "b", "c"]) == ["a", "b", "a"]


def test_no_modules_import_one_another_in_a_circle_not_even_for_types() -> None:
    graph = _module_graph()
    assert "mcp_server.simulator.engine" in graph["mcp_server.simulator.runners"]  # the graph sees imports at all
    circles = [" -> ".join(_a_circle_through(graph, component)) for component in _cycles(graph)]
    assert circles == [], "modules importing each other in a circle:\n" + "\n".join(circles)
