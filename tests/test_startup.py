"""The cold-start shortcuts keep their promises: same catalogue, nothing heavy imported before it is needed.

Start-up skips work the SDK would do (deriving output JSON schemas at registration) and imports that a
server does not need (the operations module at read-only, httpx before the first call). These tests
check each shortcut gives exactly what the long way gives, so bench/ figures never cost correctness.
"""

from __future__ import annotations

import json
import subprocess
import sys

from mcp.server.mcpserver.utilities.func_metadata import StrictJsonSchema
from pydantic import TypeAdapter

from mcp_server import tools
from mcp_server.output import outline_model, outline_schema
from mcp_server.tools.base import REGISTRY


def test_every_tool_output_outline_equals_the_outline_of_its_full_json_schema() -> None:
    tools.load()
    assert REGISTRY
    for spec in REGISTRY.values():
        # StrictJsonSchema raises where the SDK would refuse the model at registration.
        full = TypeAdapter(spec.output_model).json_schema(schema_generator=StrictJsonSchema)
        assert outline_model(spec.output_model) == outline_schema(full), spec.name


def test_the_module_level_table_names_every_level_each_tool_module_declares() -> None:
    tools.load()
    declared: dict[str, set[str]] = {name: set() for name in tools.MODULES}
    for spec in REGISTRY.values():
        declared[spec.handler.__module__.rsplit(".", 1)[-1]].add(spec.level)
    assert declared == {name: set(levels) for name, levels in tools.MODULE_LEVELS.items()}


def test_a_read_only_server_is_built_without_httpx_the_write_tools_or_a_config_parser() -> None:
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
    assert "mcp_server.tools.snapshots" in loaded
    for heavy in ("httpx", "tomllib", "mcp_server.tools.operations", "mcp_server.confirm", "mcp_server.simulator"):
        assert heavy not in loaded, heavy
