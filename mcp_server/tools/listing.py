"""tools/list without importing a tool: each offered tool's published definition read from ``manifest.json``.

Building a tool's SDK ``Tool`` imports its module (with the models and helpers it needs) and derives its
argument model and schemas: most of what our cold start adds to a bare MCPServer. A server instead lists
the definitions written in ``manifest.json`` (generated from the tools themselves: ``python -m
mcp_server.tools.listing``; tests/test_startup.py fails when it differs from what the code gives) and
imports a tool's module on its first call, when :class:`DeferredTool` hands the call to the real Tool.
A tool the manifest lacks is built the long way, so a stale manifest costs time, never a wrong answer.
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase, FuncMetadata
from mcp.types import ToolAnnotations
from pydantic import Field

from .catalogue import CATALOGUE
from .registry import spec

if TYPE_CHECKING:
    from mcp.server.mcpserver import Context

__all__ = ["MANIFEST", "DeferredTool", "build_manifest", "listed_tool"]

MANIFEST = Path(__file__).with_name("manifest.json")


@functools.cache
def _manifest() -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(MANIFEST.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


class _Deferred(ArgModelBase):
    """Stands in for a deferred tool's argument model until its first call builds the real one."""


_NO_METADATA = FuncMetadata(arg_model=_Deferred)


async def _never(**_: Any) -> None:  # a DeferredTool runs the real Tool, never this
    raise RuntimeError("a deferred tool runs through its real Tool")


class DeferredTool(Tool):
    """A tool as tools/list shows it; the first call imports its module and runs the real Tool."""

    listed_output: dict[str, Any] | None = Field(default=None, exclude=True)

    @functools.cached_property
    def output_schema(self) -> dict[str, Any] | None:
        return self.listed_output

    async def run(self, arguments: dict[str, Any], context: Context[Any, Any], convert_result: bool = False) -> Any:
        return await spec(self.name).sdk_tool.run(arguments, context, convert_result=convert_result)


def listed_tool(name: str) -> Tool:
    """The Tool a server registers for ``name``: deferred when the manifest has it, else the real one."""
    listed = _manifest().get(name)
    if listed is None:
        return spec(name).sdk_tool
    return DeferredTool(
        fn=_never,
        name=name,
        title=listed.get("title"),
        description=listed["description"],
        parameters=listed["inputSchema"],
        fn_metadata=_NO_METADATA,
        is_async=True,
        annotations=ToolAnnotations.model_validate(listed["annotations"]) if listed.get("annotations") else None,
        listed_output=listed.get("outputSchema"),
        meta=listed.get("_meta"),
    )


def build_manifest() -> dict[str, dict[str, Any]]:
    """Every tool's published definition, built from its code (imports every tool module)."""
    out: dict[str, dict[str, Any]] = {}
    for found in CATALOGUE:
        real = spec(found.name).sdk_tool
        listed: dict[str, Any] = {"description": real.description, "inputSchema": real.parameters}
        if real.title is not None:
            listed["title"] = real.title
        if real.output_schema is not None:
            listed["outputSchema"] = real.output_schema
        if real.annotations is not None:
            listed["annotations"] = real.annotations.model_dump(mode="json", by_alias=True, exclude_none=True)
        if real.meta:
            listed["_meta"] = real.meta
        out[found.name] = listed
    return out


def render_manifest() -> str:
    return json.dumps(build_manifest(), indent=1, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    MANIFEST.write_text(render_manifest(), encoding="utf-8")
    print(f"wrote {MANIFEST} ({len(CATALOGUE)} tools)", file=sys.stderr)
