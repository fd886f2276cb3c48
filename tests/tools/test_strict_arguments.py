"""Tool arguments are strict (issue 11): a boolean is not an id, a string is not a number; nothing is sent."""

from __future__ import annotations

import pytest

from mcp_server.simulator import Simulator, SimulatorServer
from tests.helpers import connect, seed_world, text

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("tool", "arguments", "field"),
    [
        ("get_notification_destination", {"destination_id": True}, "destination_id"),
        ("delete_notification_destination", {"destination_id": True}, "destination_id"),
        ("list_snapshots", {"limit": 10.5}, "limit"),
        ("tag_snapshots", {"snapshot_ids": ["abcd1234"], "add_tags": "t"}, "add_tags"),
        ("run_backup", {"wait": "yes"}, "wait"),
    ],
)
async def test_a_value_of_the_wrong_type_is_refused_not_coerced(
    sim: Simulator, sim_server: SimulatorServer, era: str, tool: str, arguments: dict[str, object], field: str
) -> None:
    world = seed_world(sim)
    ids = {"repository_id": world.repo} if tool != "run_backup" else {"job_id": world.job}
    before = len(sim.requests)
    async with connect(sim_server, era) as client:
        result = await client.call_tool(tool, {**ids, **arguments} if "destination_id" not in arguments else arguments)
    assert result.is_error and field in text(result)
    assert sim.requests[before:] == []  # refused before any request, reads included
