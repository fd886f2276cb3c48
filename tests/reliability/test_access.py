"""Access control from the agent's side: tools above the access level do not exist, and tokens cannot be cheated.

tests/test_confirm.py covers a token reused, moved to other arguments or another tool, a forged expiry and
garbage. This adds what an adversarial agent would try next: calling a hidden tool by name (or a lookalike
name), tampering with the MAC, splicing two tokens, a token from before a restart, and two concurrent calls
racing one token. In every case Zerobyte must receive nothing (or exactly one write for the one honest use).
"""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from mcp.types import CallToolResult

from mcp_server.simulator import Simulator, SimulatorServer
from mcp_server.tools.catalogue import CATALOGUE, LEVELS
from tests.helpers import World, data, sample_arguments, seed_world, text, writes
from tests.reliability.helpers import assert_actionable, connect

pytestmark = pytest.mark.anyio

SCHEMAS: dict[str, dict[str, Any]] = {}


async def _schemas(sim_server: SimulatorServer) -> dict[str, dict[str, Any]]:
    """Input schemas of every tool, as a `full` server lists them."""
    if not SCHEMAS:
        async with connect(sim_server.url, access="full") as client:
            SCHEMAS.update({t.name: t.input_schema for t in (await client.list_tools()).tools})
    return SCHEMAS


@pytest.mark.parametrize("access", ["read-only", "operate"])
async def test_a_tool_above_the_access_level_is_unknown_by_name_and_zerobyte_hears_nothing(
    sim: Simulator, sim_server: SimulatorServer, era: str, access: str
) -> None:
    world = seed_world(sim)
    schemas = await _schemas(sim_server)
    hidden = sorted(e.name for e in CATALOGUE if e.level not in LEVELS[access])
    assert "delete_volume" in hidden and ("run_backup" in hidden) == (access == "read-only")
    lookalikes = ["Delete_Volume", "delete_volume ", "../delete_volume", "delete-volume", "restore_in_place\x00"]
    async with connect(sim_server.url, era, access=access) as client:
        # The first listing asks Zerobyte what it supports (once); nothing after it may reach Zerobyte.
        listed = {t.name for t in (await client.list_tools()).tools}
        sim.requests.clear()
        for name in hidden + lookalikes:
            arguments = sample_arguments(schemas.get(name.strip(), {"required": []}), world)
            result = await client.call_tool(name, {**arguments, "confirm_token": "zbc1.9999999999.x.y"})
            assert result.is_error and "Unknown tool" in text(result), (name, text(result))
    assert not listed & set(hidden)
    assert sim.requests == []


async def _token(client: Any, tool: str, arguments: dict[str, Any]) -> str:
    preview = data(await client.call_tool(tool, arguments))
    assert preview["outcome"] == "confirmation_required", preview
    token: str = preview["confirm_token"]
    return token


def _restore(world: World) -> dict[str, Any]:
    return {"repository_id": world.repo, "snapshot_id": world.snapshots[-1], "paths": ["/srv/photos/n.txt"]}


async def test_tampered_and_spliced_tokens_are_refused_and_nothing_is_sent(
    sim: Simulator, sim_server: SimulatorServer
) -> None:
    world = seed_world(sim)
    one = {"repository_id": world.repo, "snapshot_ids": [world.snapshots[0]]}
    two = {"repository_id": world.repo, "snapshot_ids": [world.snapshots[1]]}
    async with connect(sim_server.url, access="full") as client:
        token_one = await _token(client, "delete_snapshots", one)
        token_two = await _token(client, "delete_snapshots", two)
        prefix, expires, nonce, mac = token_one.split(".")
        _, expires_two, nonce_two, mac_two = token_two.split(".")
        flipped = mac[:-1] + ("A" if mac[-1] != "A" else "B")
        attempts = {
            "mac flipped": (one, f"{prefix}.{expires}.{nonce}.{flipped}"),
            "nonce of another token": (one, f"{prefix}.{expires}.{nonce_two}.{mac}"),
            "mac of another token": (one, f"{prefix}.{expires_two}.{nonce_two}.{mac_two}"),
            "widened to two snapshots": ({**one, "snapshot_ids": world.snapshots[:2]}, token_one),
            "another repository": ({**one, "repository_id": world.offsite}, token_one),
            "upper-cased": (one, token_one.upper()),
            "truncated": (one, token_one[:-4]),
        }
        results: dict[str, CallToolResult] = {}
        for label, (arguments, token) in attempts.items():
            results[label] = await client.call_tool("delete_snapshots", {**arguments, "confirm_token": token})
        assert writes(sim) == []
        honest = data(await client.call_tool("delete_snapshots", {**one, "confirm_token": token_one}))
    for label, result in results.items():
        message = assert_actionable(result)
        reasons = ("not valid", "other arguments", "not a token", "nothing was changed")
        assert any(p in message for p in reasons), (label, message)
    assert honest["outcome"] == "success"
    assert writes(sim) == [f"DELETE /api/v1/repositories/{world.repo}/snapshots"]


async def test_a_token_from_before_a_restart_is_refused(sim: Simulator, sim_server: SimulatorServer) -> None:
    world = seed_world(sim)
    async with connect(sim_server.url, access="full") as before_restart:
        token = await _token(before_restart, "delete_volume", {"volume_id": world.docs_volume})
    async with connect(sim_server.url, access="full") as after_restart:
        result = await after_restart.call_tool(
            "delete_volume", {"volume_id": world.docs_volume, "confirm_token": token}
        )
    assert_actionable(result, "not valid", "restarted", "without confirm_token")
    assert writes(sim) == []


async def test_two_concurrent_calls_racing_one_token_act_exactly_once(
    sim: Simulator, sim_server: SimulatorServer, era: str
) -> None:
    world = seed_world(sim)
    arguments = _restore(world)
    results: list[CallToolResult] = []
    async with connect(sim_server.url, era, access="full") as client:
        token = await _token(client, "restore_in_place", arguments)

        async def use() -> None:
            results.append(await client.call_tool("restore_in_place", {**arguments, "confirm_token": token}))

        async with anyio.create_task_group() as tg:
            for _ in range(5):
                tg.start_soon(use)
    succeeded = [r for r in results if not r.is_error]
    refused = [r for r in results if r.is_error]
    assert len(succeeded) == 1 and data(succeeded[0])["outcome"] == "success"
    assert len(refused) == 4
    for result in refused:
        assert_actionable(result, "already used", "without confirm_token")
    assert writes(sim) == [f"POST /api/v1/repositories/{world.repo}/restore"]
