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


def test_the_request_context_is_a_leaf_below_tools_confirmation_and_the_server() -> None:
    imported = _imports(PACKAGE / "context.py") | _imports(PACKAGE / "tokens.py")
    assert imported, "the scan found no imports at all"
    for above in ("mcp_server.server", "mcp_server.tools", "mcp_server.confirm", "mcp_server.follow"):
        assert not [name for name in imported if name.startswith(above)], above


def test_tool_machinery_and_confirmation_never_import_the_server_not_even_for_types() -> None:
    for name in ("tools/base.py", "confirm.py", "follow.py", "task_views.py"):
        imported = _imports(PACKAGE / name)
        assert "mcp_server.context" in imported or name == "task_views.py", name
        assert not [n for n in imported if n.startswith("mcp_server.server")], name


def test_the_zerobyte_client_knows_nothing_of_mcp_or_the_layers_above_it() -> None:
    for path in sorted((PACKAGE / "zerobyte").glob("*.py")):
        source = path.read_text(encoding="utf-8")
        assert "import mcp" not in source and "from mcp" not in source, path.name
        outside = {n for n in _imports(path) if not n.startswith("mcp_server.zerobyte")}
        assert outside <= {"mcp_server.redact", "mcp_server.redact.redact_text"}, (path.name, outside)


def test_following_tasks_and_resources_use_no_tool_module() -> None:
    for name in ("follow.py", "resources.py", "task_views.py"):
        tool_modules = {n for n in _imports(PACKAGE / name) if n.startswith("mcp_server.tools.")}
        # The registry (catalogue, registry) is how they reach a tool's answer: by name, never a module.
        assert {n.split(".")[2] for n in tool_modules} <= {"base", "catalogue", "registry"}, (name, tool_modules)


def test_test_modules_share_helpers_and_never_import_one_another() -> None:
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sorted((ROOT / "tests").rglob("*.py"))
        if "real" not in path.parts  # the real-server harness keeps its own fixtures module
        for name in _imports(path)
        if name.rsplit(".", 1)[-1].startswith("test_") or ".test_" in name or name.startswith("tests.conftest")
    ]
    assert offenders == []
