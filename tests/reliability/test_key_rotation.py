"""Rotating the API key while the stdio server runs: replace the key file, revoke the old key, keep working.

Keys are made in Zerobyte's web UI and may expire, so a long-running server must pick up a new key from
ZEROBYTE_API_KEY_FILE without a restart: after a 401 it re-reads the file and retries exactly once. These tests
spawn the real ``python -m mcp_server`` over stdio and swap the file atomically, as a secret manager would.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from mcp import Client

from mcp_server.simulator import Simulator, SimulatorServer
from tests.helpers import TEST_KEY, data, seed_world, stdio_params
from tests.reliability.helpers import assert_actionable, sent

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

NEW_KEY = "zb_rotated_key_abcdefghijklmnop"


def rotate(key_file: Path, sim: Simulator, new_key: str, *, keep: tuple[str, ...] = ()) -> None:
    """Write the new key beside the old file and rename it over (atomic), then revoke every other key."""
    fresh = key_file.with_name(key_file.name + ".new")
    fresh.write_text(new_key + "\n")
    fresh.chmod(0o600)
    os.replace(fresh, key_file)
    with sim.lock:
        sim.api_keys = {new_key, *keep}


async def test_after_a_rotation_the_next_call_gets_one_401_then_succeeds_with_the_new_key(
    sim: Simulator, sim_server: SimulatorServer, tmp_path: Path
) -> None:
    world = seed_world(sim)
    params = stdio_params(sim_server.url, tmp_path, "--access", "operate")
    key_file = tmp_path / "api-key"
    async with Client(params, mode="legacy") as client:
        before = data(await client.call_tool("list_volumes", {}))
        rotate(key_file, sim, NEW_KEY)
        mark = len(sim.requests)
        after = data(await client.call_tool("list_volumes", {}))
        volume_requests = sent(sim, mark, path=r"^/api/v1/volumes$")
        created = data(
            await client.call_tool(
                "create_backup_job",
                {
                    "name": "after-rotation",
                    "volume_id": world.docs_volume,
                    "repository_id": world.repo,
                    "schedule": "0 5 * * *",
                },
            )
        )
    assert before["total"] == after["total"] == 2
    assert volume_requests == ["GET /api/v1/volumes", "GET /api/v1/volumes"]  # the 401, then one retry
    assert "after-rotation" in str(created)
    assert sent(sim, mark, method="POST") == ["POST /api/v1/backups"]  # the new key was already in use
    assert [s["name"] for s in sim.schedules.values()].count("after-rotation") == 1


async def test_a_rotation_to_a_key_zerobyte_also_refuses_fails_after_one_retry_with_advice(
    sim: Simulator, sim_server: SimulatorServer, tmp_path: Path
) -> None:
    seed_world(sim)
    params = stdio_params(sim_server.url, tmp_path)
    key_file = tmp_path / "api-key"
    async with Client(params, mode="auto") as client:
        data(await client.call_tool("list_volumes", {}))
        rotate(key_file, sim, "zb_yet_another_key_000000000000")
        key_file.write_text("zb_typo_in_the_new_key_0000000000\n")
        mark = len(sim.requests)
        refused = await client.call_tool("list_volumes", {})
        requests = sent(sim, mark)
        rotate(key_file, sim, TEST_KEY)  # fixed: the same server recovers without a restart
        recovered = data(await client.call_tool("list_volumes", {}))
    assert_actionable(refused, "API key rejected (401)", "Settings → API keys")
    assert requests == ["GET /api/v1/volumes", "GET /api/v1/volumes"]  # one retry, no loop
    assert recovered["total"] == 2
