"""The cold-start shortcuts keep their promises: same catalogue, nothing heavy imported before it is needed.

Start-up skips work the SDK would do (deriving output JSON schemas at registration) and imports that a
server does not need (the write tool modules at read-only, httpx before the first call). These tests
check each shortcut gives exactly what the long way gives, so bench/ figures never cost correctness.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest
from mcp.server.mcpserver.utilities.func_metadata import StrictJsonSchema
from pydantic import TypeAdapter

from mcp_server import tools
from mcp_server.answers.output import outline_model, outline_schema
from mcp_server.server import create_server
from mcp_server.tools.base import declared
from mcp_server.tools.catalogue import CATALOGUE, TOOLSETS
from mcp_server.tools.listing import MANIFEST, DeferredTool, render_manifest
from mcp_server.tools.registry import Registry
from mcp_server.tools.registry import spec as tool_spec
from tests.helpers import make_settings


def test_every_tool_output_outline_equals_the_outline_of_its_full_json_schema() -> None:
    for spec in Registry.everything():
        # StrictJsonSchema raises where the SDK would refuse the model at registration.
        full = TypeAdapter(spec.output_model).json_schema(schema_generator=StrictJsonSchema)
        assert outline_model(spec.output_model) == outline_schema(full), spec.name


def test_the_catalogue_holds_exactly_the_functions_the_tool_modules_declare() -> None:
    package = Path(tools.__file__).parent
    found: dict[str, str] = {}
    for info in pkgutil.walk_packages([str(package)], prefix=f"{tools.__name__}."):
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if declared(value) is not None and value.__module__ == module.__name__:
                found[name] = info.name.removeprefix(f"{tools.__name__}.")
    assert found == {e.name: e.module for e in CATALOGUE}
    assert len({e.name for e in CATALOGUE}) == len(CATALOGUE)
    assert set(TOOLSETS) == {e.toolset for e in CATALOGUE}


def test_a_read_only_server_is_built_without_httpx_a_tool_module_or_a_config_parser() -> None:
    code = (
        "import json, sys\n"
        "from mcp_server.config import load_settings\n"
        "from mcp_server.server import create_server\n"
        "env = {'ZEROBYTE_URL': 'http://127.0.0.1:9', 'ZEROBYTE_API_KEY': 'zb_startup_key_0123456789'}\n"
        "server = create_server(load_settings(env=env))\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    loaded = set(json.loads(out.stdout))
    # tools/list comes from the manifest: no tool module is imported before its first call.
    write_tools = ("acting", "run", "task_control", "tagging", "restore", "destroy", "configure")
    read_tools = ("health", "volumes", "repositories", "backups", "tasks", "notifications", "system", "snapshots")
    heavy = (
        "httpx",
        "tomllib",
        "mcp_server.tools.confirm",
        "mcp_server.tools.follow",
        "mcp_server.tools.mirror_sync",
        "mcp_server.simulator",
    )
    for name in (*heavy, *(f"mcp_server.tools.{module}" for module in (*write_tools, *read_tools))):
        assert name not in loaded, name


def test_the_manifest_is_what_the_tools_themselves_publish() -> None:
    """Regenerate with ``python -m mcp_server.tools.listing`` after changing a tool's signature or docs."""
    assert json.loads(MANIFEST.read_text(encoding="utf-8")) == json.loads(render_manifest()), (
        "mcp_server/tools/manifest.json is stale: run python -m mcp_server.tools.listing"
    )


@pytest.mark.anyio
@pytest.mark.parametrize("access", ["read-only", "operate", "full"])
async def test_a_server_lists_from_the_manifest_exactly_what_building_every_tool_lists(access: str) -> None:
    settings = make_settings("http://127.0.0.1:9", access=access)
    listed = await create_server(settings).list_tools()
    built = [tool_spec(t.name).sdk_tool for t in listed]
    assert all(isinstance(t, DeferredTool) for t in create_server(settings)._tool_manager.list_tools())
    assert [t.name for t in listed] == list(Registry.offered(settings).ordered)
    for mcp_tool, real in zip(listed, built, strict=True):
        assert mcp_tool.input_schema == real.parameters, real.name
        assert mcp_tool.output_schema == real.output_schema, real.name
        assert (mcp_tool.title, mcp_tool.description, mcp_tool.annotations) == (
            real.title,
            real.description,
            real.annotations,
        ), real.name
