"""The real ``zerobyte-mcp`` process over stdio, spawned by the SDK's client the way Claude Desktop or Cursor do.

This is the only test that proves the console script, the settings from the environment, the key file and
stdout-as-protocol work together: nothing but JSON-RPC may reach stdout.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters

from mcp_server.simulator import Simulator, SimulatorServer
from tests.helpers import TEST_KEY, stdio_params

pytestmark = [pytest.mark.anyio, pytest.mark.slow, pytest.mark.both_eras]


async def test_the_stdio_server_lists_tools_and_answers_list_volumes_on_both_eras(
    sim: Simulator, sim_server: SimulatorServer, tmp_path: Path, era: str
) -> None:
    sim.add_volume("photos", path="/srv/photos")
    sim.add_volume("nas-share", backend="nfs", config={"backend": "nfs", "server": "nas.lan", "exportPath": "/x"})
    async with Client(stdio_params(sim_server.url, tmp_path), mode=era) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        result = await client.call_tool("list_volumes", {})
        missing = await client.call_tool("get_volume", {"volume_id": "nOsUcH01"})
    assert "list_volumes" in tools
    assert tools["list_volumes"].annotations is not None
    assert tools["list_volumes"].annotations.read_only_hint is True
    assert not result.is_error
    data: dict[str, Any] = result.structured_content or {}
    assert data["total"] == 2
    by_name = {v["name"]: v for v in data["volumes"]}
    assert by_name["photos"]["source"] == "/srv/photos"
    assert by_name["nas-share"]["source"] == "nas.lan:/x"
    assert missing.is_error
    text = missing.content[0].text  # type: ignore[union-attr]
    assert "nOsUcH01" in text
    assert "Error executing tool" not in text


async def test_python_m_mcp_server_and_the_console_script_are_the_same_program(
    sim_server: SimulatorServer, tmp_path: Path
) -> None:
    script = Path(sys.executable).with_name("zerobyte-mcp")
    if not script.exists():
        pytest.skip("the zerobyte-mcp console script is not installed next to this Python")
    params = stdio_params(sim_server.url, tmp_path)
    params = StdioServerParameters(command=str(script), args=[], env=params.env, cwd=params.cwd)
    async with Client(params, mode="legacy") as client:
        info = client.server_info
        names = {tool.name for tool in (await client.list_tools()).tools}
    assert info is not None
    assert info.name == "zerobyte"
    assert "backup_health" in names
    assert os.access(script, os.X_OK)


async def test_over_stdio_each_access_level_registers_exactly_its_tools(
    sim: Simulator, sim_server: SimulatorServer, tmp_path: Path
) -> None:
    from mcp_server.tools.catalogue import CATALOGUE, LEVELS

    for access, levels in LEVELS.items():
        expected = {e.name for e in CATALOGUE if e.level in levels}
        params = stdio_params(sim_server.url, tmp_path, "--access", access)
        async with Client(params, mode="legacy") as client:
            names = {tool.name for tool in (await client.list_tools()).tools}
        assert names == expected, access
    assert [r for r in sim.requests if r.method != "GET"] == []


async def test_over_stdio_a_backup_reports_progress_and_a_confirmed_delete_acts_once(
    sim: Simulator, sim_server: SimulatorServer, tmp_path: Path, era: str
) -> None:
    sim.task_seconds = 1.0
    volume = sim.add_volume("photos", path="/srv/photos", files={"a.jpg": 1000, "b.jpg": 2000})
    repo = sim.add_repository("nas")
    job = sim.add_backup_job("photos-daily", volume=volume["shortId"], repository=repo["shortId"])
    audit = tmp_path / "audit.jsonl"
    params = stdio_params(sim_server.url, tmp_path, "--access", "full", ZEROBYTE_MCP_AUDIT_LOG=str(audit))
    seen: list[float] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append(progress)

    async with Client(params, mode=era) as client:
        backup = await client.call_tool("run_backup", {"job_id": job["shortId"]}, progress_callback=on_progress)
        assert not backup.is_error, backup.content
        snapshot = (backup.structured_content or {})["result"]["snapshot_id"]
        args = {"repository_id": repo["shortId"], "snapshot_ids": [snapshot]}
        preview = await client.call_tool("delete_snapshots", args)
        token = (preview.structured_content or {})["confirm_token"]
        deleted = await client.call_tool("delete_snapshots", {**args, "confirm_token": token})
        replayed = await client.call_tool("delete_snapshots", {**args, "confirm_token": token})
    assert seen, "no progress notification crossed stdio"
    assert (preview.structured_content or {})["outcome"] == "confirmation_required"
    assert snapshot in json.dumps(preview.structured_content)
    assert not deleted.is_error, deleted.content
    assert replayed.is_error or (replayed.structured_content or {}).get("outcome") != "success"
    deletes = [r for r in sim.requests if r.method == "DELETE"]
    assert len(deletes) == 1
    lines = [json.loads(line) for line in audit.read_text().splitlines()]
    assert [line["tool"] for line in lines] == [
        "run_backup",
        "delete_snapshots",
        "delete_snapshots",
        "delete_snapshots",
    ]
    assert TEST_KEY not in audit.read_text()
