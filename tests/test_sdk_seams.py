"""tools/list publishes exactly the schemas we mean, through the SDK's public seams only.

Each tool is handed to the SDK as a ready ``Tool`` (``ToolSpec.sdk_tool``): its arguments come from the
function as written, its input schema is flattened, its output schema is the outline of its result model,
and the SDK validates every result against that model. Nothing reaches into private SDK members.
"""

from __future__ import annotations

import inspect
import re
import typing
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.server import MCPServer
from mcp.server.mcpserver import Resolve
from mcp.server.mcpserver.utilities.func_metadata import StrictJsonSchema
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, TypeAdapter

from mcp_server.answers.output import outline_schema
from mcp_server.context import Ctx
from mcp_server.server import create_server
from mcp_server.tools.base import ToolSpec
from mcp_server.tools.registry import spec as tool_spec
from tests.helpers import make_settings

pytestmark = pytest.mark.anyio

PACKAGE = Path(__file__).resolve().parents[1] / "mcp_server"


def _arguments(spec: ToolSpec) -> tuple[set[str], set[str]]:
    """The arguments an agent passes, read from the function as written: (all, required)."""
    hints = typing.get_type_hints(spec.fn, include_extras=True)
    names: set[str] = set()
    required: set[str] = set()
    for name, param in inspect.signature(spec.fn).parameters.items():
        hint = hints.get(name)
        if hint is Ctx or (
            typing.get_origin(hint) is typing.Annotated
            and any(isinstance(extra, Resolve) for extra in typing.get_args(hint)[1:])
        ):
            continue  # injected by the SDK: the request context, a user's confirmation
        names.add(name)
        if param.default is inspect.Parameter.empty:
            required.add(name)
    return names, required


@pytest.mark.parametrize("access", ["read-only", "operate", "full"])
async def test_every_listed_schema_is_the_outline_of_its_model_and_the_arguments_of_its_function(
    access: str,
) -> None:
    async with Client(create_server(make_settings("http://127.0.0.1:9", access=access))) as client:
        listed = (await client.list_tools()).tools
    assert listed
    for tool in listed:
        spec = tool_spec(tool.name)
        full = TypeAdapter(spec.output_model).json_schema(schema_generator=StrictJsonSchema)
        assert tool.output_schema == outline_schema(full), tool.name
        names, required = _arguments(spec)
        assert set(tool.input_schema.get("properties", {})) == names, tool.name
        assert set(tool.input_schema.get("required", [])) == required, tool.name
        assert tool.title is None, tool.name  # the title travels in the annotations only
        assert tool.annotations == spec.annotations, tool.name


class _Count(BaseModel):
    total: int


def _spec(structured: dict[str, Any]) -> ToolSpec:
    async def count(ctx: Ctx, limit: int = 5) -> _Count:
        """Count things."""
        raise AssertionError("the SDK calls the handler, never the function as written")

    async def handler(**kwargs: Any) -> CallToolResult:
        return CallToolResult(content=[TextContent(type="text", text="{}")], structured_content=structured)

    return ToolSpec(
        name="count",
        toolset="system",
        level="read",
        title="Count",
        description="Count things.",
        annotations=ToolAnnotations(title="Count", read_only_hint=True),
        fn=count,
        handler=handler,
        output_model=_Count,
    )


async def test_a_result_that_fits_its_model_is_published() -> None:
    async with Client(MCPServer("t", tools=[_spec({"total": 3}).sdk_tool])) as client:
        result = await client.call_tool("count", {"limit": 2})
    assert not result.is_error
    assert result.structured_content == {"total": 3}


async def test_a_result_that_does_not_fit_its_model_is_refused_not_published() -> None:
    async with Client(MCPServer("t", tools=[_spec({"count": "many"}).sdk_tool])) as client:
        result = await client.call_tool("count", {})
    assert result.is_error
    assert result.structured_content is None


def test_no_module_reaches_into_private_sdk_members_or_rewrites_signatures() -> None:
    forbidden = re.compile(
        r"\._(tool|resource|prompt)_manager\b|\._lowlevel_server\b|__signature__|__wrapped__"
        r"|\.(read_resource|call_tool|list_tools)\s*=[^=]|\.(output_model|output_schema|parameters)\s*=[^=]"
    )
    offenders = [
        f"{path.relative_to(PACKAGE.parent)}:{number}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if forbidden.search(line)
    ]
    assert offenders == []
