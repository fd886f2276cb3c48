"""tools/list is product: every tool is described, annotated, flat, and the catalogue fits its budget.

The budgets are the ones docs/tools.md records ("Tool catalogue"); counted as JSON characters / 4.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from mcp import Client

from mcp_server.server import create_server
from tests.helpers import BUDGETS, make_settings

pytestmark = pytest.mark.anyio


async def _tools(access: str, era: str = "legacy") -> list[dict[str, Any]]:
    settings = make_settings("http://127.0.0.1:9", access=access)
    async with Client(create_server(settings), mode=era) as client:
        listed = await client.list_tools()
    return [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in listed.tools]


def _walk(node: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if isinstance(node, dict):
        out.append(node)
        for value in node.values():
            out.extend(_walk(value))
    elif isinstance(node, list):
        for value in node:
            out.extend(_walk(value))
    return out


# Arguments whose name says all a description would (ids are short ids, the server instructions say once).
SELF_EVIDENT = frozenset(
    {
        "repository_id",
        "volume_id",
        "job_id",
        "backup_job_id",
        "task_id",
        "destination_id",
        "tag",
        "host",
        "kind",
        "outcome",
        "page",
        "limit",
    }
)


@pytest.mark.parametrize("access", ["read-only", "operate", "full"])
async def test_every_tool_is_described_annotated_and_flat(access: str) -> None:
    tools = await _tools(access)
    assert tools
    for tool in tools:
        name = tool["name"]
        assert re.fullmatch(r"[a-z][a-z0-9_]{2,40}", name), name
        assert 20 <= len(tool["description"]) <= 300, name
        notes = tool["annotations"]
        for hint in ("title", "readOnlyHint", "openWorldHint"):
            assert hint in notes, (name, hint)
        # destructive/idempotent mean something only for a tool that writes (MCP spec): only those carry them.
        for hint in ("destructiveHint", "idempotentHint"):
            assert (hint in notes) is (not notes["readOnlyHint"]), (name, hint)
        schema = tool["inputSchema"]
        text = json.dumps(schema)
        assert "$ref" not in text and "$defs" not in text, name
        for prop, spec in schema.get("properties", {}).items():
            assert spec.get("description") or prop in SELF_EVIDENT, f"{name}.{prop} has no description"
            assert spec.get("type") != "object", f"{name}.{prop}: arguments must be flat"
        assert "$ref" not in json.dumps(tool.get("outputSchema", {})), name


async def test_read_only_tools_all_say_read_only_and_write_tools_do_not() -> None:
    read = {t["name"] for t in await _tools("read-only")}
    for tool in await _tools("full"):
        notes = tool["annotations"]
        if tool["name"] in read:
            assert notes["readOnlyHint"] is True, tool["name"]
        if not notes["readOnlyHint"]:
            assert tool["name"] not in read, tool["name"]
        if notes.get("destructiveHint"):
            assert notes["readOnlyHint"] is False, tool["name"]


async def test_access_levels_nest() -> None:
    read = {t["name"] for t in await _tools("read-only")}
    operate = {t["name"] for t in await _tools("operate")}
    full = {t["name"] for t in await _tools("full")}
    assert read < operate <= full


@pytest.mark.parametrize("access", sorted(BUDGETS))
async def test_tools_list_fits_its_token_budget(access: str) -> None:
    size = len(json.dumps({"tools": await _tools(access)}, separators=(",", ":")))
    assert size / 4 <= BUDGETS[access], f"{access}: {size / 4:.0f} tokens > budget {BUDGETS[access]}"
