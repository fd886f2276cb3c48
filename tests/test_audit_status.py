"""The audit line's ``zerobyte_status`` is the status Zerobyte really answered to the call's write.

It comes from the Zerobyte client's answer hook (``audit.answered``), not from each tool: a refused write
shows Zerobyte's error status, a call that wrote nothing shows none, and reads never count.
"""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest

from mcp_server.simulator import Simulator, SimulatorServer
from tests.helpers import connect, seed_world, writes

pytestmark = pytest.mark.anyio


async def test_each_audit_line_has_the_status_zerobyte_answered_to_its_write(
    sim: Simulator, sim_server: SimulatorServer, era: str, tmp_path: Path
) -> None:
    world = seed_world(sim)
    log = tmp_path / "audit.jsonl"
    async with connect(sim_server, era, audit_log=log) as client:
        await client.call_tool("list_volumes", {})  # a read: not audited
        await client.call_tool("unlock_repository", {"repository_id": world.repo})
        await client.call_tool("mount_volume", {"volume_id": "nOsUcH01"})
        await client.call_tool(
            "create_backup_job",
            {
                "name": "nightly-docs",
                "volume_id": world.docs_volume,
                "repository_id": world.repo,
                "schedule": "0 3 1 1 *",
            },
        )
        await client.call_tool("delete_volume", {"volume_id": world.docs_volume})  # a preview: nothing written
    lines = [json.loads(line) for line in (await anyio.Path(log).read_text()).splitlines()]
    assert [(line["tool"], line["outcome"], line.get("zerobyte_status")) for line in lines] == [
        ("unlock_repository", "ok", 200),
        ("mount_volume", "error", 404),
        ("create_backup_job", "created", 201),
        ("delete_volume", "confirmation_required", None),
    ]
    assert writes(sim) == [
        f"POST /api/v1/repositories/{world.repo}/unlock",
        "POST /api/v1/volumes/nOsUcH01/mount",
        "POST /api/v1/backups",
    ]
