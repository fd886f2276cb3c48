"""The audit log records every attempt to change something, refused ones included, and how it was approved."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mcp_server.simulator import Simulator, SimulatorServer
from tests.helpers import answering, connect, data, seed_world

pytestmark = pytest.mark.anyio


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


async def test_refused_calls_are_audited_argument_errors_unknown_tools_and_the_access_level(
    sim: Simulator, sim_server: SimulatorServer, era: str, tmp_path: Path
) -> None:
    world = seed_world(sim)
    audit = tmp_path / "audit.jsonl"
    async with connect(sim_server, era, access="operate", audit_log=audit) as client:
        above = await client.call_tool("delete_volume", {"volume_id": world.volume})
        wrong = await client.call_tool("run_backup", {"job_id": world.job, "wait": "soon"})
        unknown = await client.call_tool("drop_all_backups", {"really": True})
        await client.call_tool("get_volume", {"volume_id": 5})
    assert above.is_error and wrong.is_error and unknown.is_error
    by_tool = {line["tool"]: line for line in lines(audit)}
    assert (
        by_tool["delete_volume"]["outcome"] == "refused" and "access level full" in by_tool["delete_volume"]["message"]
    )
    assert by_tool["delete_volume"]["arguments"] == {"volume_id": world.volume}
    assert by_tool["run_backup"]["outcome"] == "refused" and "wait" in by_tool["run_backup"]["message"]
    assert by_tool["drop_all_backups"]["outcome"] == "unknown_tool"
    assert "get_volume" not in by_tool  # reads are not audited, refused or not


async def test_the_audit_line_says_how_a_destructive_call_was_approved(
    sim: Simulator, sim_server: SimulatorServer, era: str, tmp_path: Path
) -> None:
    world = seed_world(sim)
    audit = tmp_path / "audit.jsonl"
    async with connect(sim_server, era, audit_log=audit) as client:
        preview = data(await client.call_tool("delete_volume", {"volume_id": world.docs_volume}))
        await client.call_tool(
            "delete_volume", {"volume_id": world.docs_volume, "confirm_token": preview["confirm_token"]}
        )
    async with connect(sim_server, era, audit_log=audit, elicit=answering("accept")) as client:
        await client.call_tool("delete_backup_job", {"job_id": world.job})
    async with connect(sim_server, era, audit_log=audit, confirm_destructive=False) as client:
        await client.call_tool("delete_repository", {"repository_id": world.offsite})
    approved = {
        line["tool"]: line.get("details", {}).get("approved_by") for line in lines(audit) if line["outcome"] == "done"
    }
    assert approved == {"delete_volume": "token", "delete_backup_job": "elicitation", "delete_repository": "disabled"}
