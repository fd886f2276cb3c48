"""restore (operate): bounded target paths, refused before anything is sent."""

from __future__ import annotations

import pytest

from mcp_server.simulator import Simulator, SimulatorServer
from tests.helpers import connect, seed_world, text, writes

pytestmark = pytest.mark.anyio


async def test_an_overlong_restore_target_is_refused_and_nothing_is_sent(
    sim: Simulator, sim_server: SimulatorServer, era: str
) -> None:
    world = seed_world(sim)
    args = {"repository_id": world.repo, "snapshot_id": world.snapshots[-1], "paths": ["/srv/photos/n.txt"]}
    async with connect(sim_server, era, access="operate", restore_allowed_roots=("/srv",)) as client:
        too_long = await client.call_tool("restore", {**args, "target_path": "/srv/" + "x" * 5000})
        fresh = await client.call_tool("restore", {**args, "target_path": "/srv/restored-photos"})
    assert too_long.is_error and "too long" in text(too_long)
    assert not fresh.is_error, text(fresh)
    assert [w for w in writes(sim) if "restore" in w] == [f"POST /api/v1/repositories/{world.repo}/restore"]
