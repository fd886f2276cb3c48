"""Issue 12.10: with Zerobyte down, every tool says so and what to check, never "internal error".

The Zerobyte is a real server that was started, used and then stopped (its port now refuses connections),
and a second address where nothing ever listened. Every tool our server offers at ``full`` is called with
well-formed arguments; each must answer the client's unreachable sentence.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from tests.real.conftest import McpConfig, ServerPool, ask, call, mcp_stdio
from tests.real.zbserver import RealZerobyte

pytestmark = pytest.mark.anyio

SAMPLES: dict[str, Any] = {
    "task_id": "01a21f51-07ec-7000-91f2-0123456789ab",
    "destination_id": 1,
    "snapshot_ids": ["abcd1234"],
    "snapshot_id": "abcd1234",
    "paths": ["/srv/data/a.txt"],
    "path": "/srv/data/a.txt",
    "pattern": "a.txt",
    "source": "/srv/data",
    "location": "/srv/repos",
    "schedule": "0 3 1 1 *",
    "events": ["failure"],
    "name": "unreachable-test",
}


# Optional arguments some tools need before they would ask Zerobyte anything.
EXTRA: dict[str, dict[str, Any]] = {
    "create_notification_destination": {"url": "https://hooks.example.com/x"},
    "tag_snapshots": {"add_tags": ["keep"]},
    "list_snapshots": {"repository_id": "abcd1234"},
    "find_file": {"repository_id": "abcd1234"},
    "read_snapshot_file": {"repository_id": "abcd1234"},
    "route_notifications": {"job_id": "abcd1234"},
    "show_snapshots": {"backup_job_id": "abcd1234"},
}


def _sample(name: str, schema: dict[str, Any], restore_root: str) -> Any:
    if name == "target_path":
        return restore_root
    if name in SAMPLES:
        return SAMPLES[name]
    if name.endswith("_id"):
        return "abcd1234"
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "integer":
        return max(1, int(schema.get("minimum", 1)))
    if kind == "number":
        return 1
    if kind == "boolean":
        return False
    if kind == "array":
        return ["x"]
    return "x"


def _arguments(tool: Any, restore_root: str) -> dict[str, Any]:
    schema = tool.input_schema
    props: dict[str, Any] = schema.get("properties", {})
    required = {name: _sample(name, props.get(name, {}), restore_root) for name in schema.get("required", [])}
    return {**required, **EXTRA.get(tool.name, {})}


@pytest.fixture
def closed_port() -> Iterator[str]:
    """An address that refuses connections: a socket bound but never listening (held, so no one else takes it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


async def _every_tool(zb: RealZerobyte, folder: Path) -> dict[str, str]:
    restore_root = folder / "restores"
    restore_root.mkdir(parents=True)
    answers: dict[str, str] = {}
    config = McpConfig(access="full", restore_roots=(str(restore_root),), wait_seconds=5)
    async with mcp_stdio(zb, folder / "mcp", config) as client:
        tools = (await client.list_tools()).tools
        assert len(tools) > 40

        async def one(tool: Any) -> None:
            answer = await ask(client, tool.name, **_arguments(tool, str(restore_root)))
            assert answer.is_error, f"{tool.name} answered without Zerobyte: {answer.text}"
            answers[tool.name] = answer.text

        # All at once: each call spends its retries' back-off waiting, not working.
        async with anyio.create_task_group() as group:
            for tool in tools:
                group.start_soon(one, tool)
    assert len(answers) == len(tools)
    return answers


def _not_actionable(answers: dict[str, str]) -> dict[str, str]:
    return {
        name: text
        for name, text in answers.items()
        if "Cannot connect to Zerobyte" not in text or "internal error" in text or "Error executing tool" in text
    }


async def test_every_tool_says_zerobyte_is_unreachable_when_the_real_server_was_stopped(
    zb_pool: ServerPool, data_root: Path
) -> None:
    zb = zb_pool.start("v0.42")
    async with mcp_stdio(zb, data_root / "before") as client:
        assert (await call(client, "list_volumes"))["total"] == 0  # it answered while it ran
    zb.stop()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", int(zb.url.rsplit(":", 1)[1])), timeout=2).close()
    answers = await _every_tool(zb, data_root)
    assert _not_actionable(answers) == {}
    assert all("connection refused" in text for text in answers.values())


async def test_every_tool_says_so_when_nothing_ever_listened_at_the_address(closed_port: str, data_root: Path) -> None:
    nowhere = RealZerobyte(
        url=closed_port,
        api_key="zb_never_used_0123456789",
        admin_user="",
        admin_password="",
        state=data_root,
        version="none",
        home=data_root,
    )
    answers = await _every_tool(nowhere, data_root)
    assert _not_actionable(answers) == {}
