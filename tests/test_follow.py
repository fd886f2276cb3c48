"""Following tasks: progress notifications, the bounded wait, wait_for_task, and a cancelled MCP call.

A simulated backup reports progress about every 50 ms; the tests read what the MCP client received and
what the simulator did, on both protocol eras.
"""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest

from mcp_server.simulator import Simulator, SimulatorServer
from mcp_server.tools.follow import progress_message
from mcp_server.zerobyte.models import Task
from tests.helpers import connect, data, seed_world, text

pytestmark = [pytest.mark.anyio, pytest.mark.both_eras]


async def test_progress_notifications_arrive_during_a_backup_and_the_summary_is_right(
    sim: Simulator, sim_server: SimulatorServer, era: str
) -> None:
    world = seed_world(sim)
    updates: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        updates.append((progress, total, message))

    async with connect(sim_server, era, access="operate") as client:
        result = await client.call_tool("run_backup", {"job_id": world.job}, progress_callback=on_progress)
        outcome = data(result)
        listed = data(await client.call_tool("list_snapshots", {"repository_id": world.repo, "limit": 50}))
    assert len(updates) >= 3
    values = [u[0] for u in updates]
    assert values == sorted(values) and len(set(values)) == len(values)  # strictly increasing
    assert all(u[1] == 100 for u in updates) and values[-1] == 100
    running = [m for _, _, m in updates[:-1] if m and "%" in m]
    assert running and any("files" in m for m in running)
    assert updates[-1][2] == "backup: succeeded (success)"
    assert outcome["outcome"] == "success" and outcome["result"]["files_new"] is not None
    assert outcome["result"]["snapshot_id"][:8] in json.dumps(listed)


async def test_past_the_wait_the_answer_is_still_running_and_wait_for_task_finishes_it(
    sim: Simulator, sim_server: SimulatorServer, era: str
) -> None:
    world = seed_world(sim)
    sim.task_seconds = 2.0
    async with connect(sim_server, era, access="operate") as client:
        early = data(await client.call_tool("run_backup", {"job_id": world.job, "wait_seconds": 0.2}))
        late = data(await client.call_tool("wait_for_task", {"task_id": early["id"]}))
    assert early["outcome"] == "running" and early["status"] in ("queued", "running")
    assert f"wait_for_task (task_id='{early['id']}')" in early["next_step"] and "goes on" in early["next_step"]
    assert late["id"] == early["id"] and late["outcome"] == "success" and late["result"]["snapshot_id"]
    assert "photos-daily" in late["target"]


async def test_wait_seconds_above_the_maximum_is_refused(sim: Simulator, sim_server: SimulatorServer, era: str) -> None:
    world = seed_world(sim)
    task = sim.add_task("backup", job=world.job)
    async with connect(sim_server, era, access="operate") as client:
        result = await client.call_tool("wait_for_task", {"task_id": task["id"], "wait_seconds": 3600})
        finished = data(await client.call_tool("wait_for_task", {"task_id": task["id"]}))
    assert result.is_error and "wait_seconds" in text(result)
    assert finished["outcome"] == "success"


async def test_cancelling_the_mcp_call_stops_following_but_the_backup_goes_on(
    sim: Simulator, sim_server: SimulatorServer, era: str, tmp_path: Path
) -> None:
    world = seed_world(sim)
    sim.task_seconds = 1.5
    log = tmp_path / "audit.jsonl"
    async with connect(sim_server, era, access="operate", audit_log=log) as client:
        with anyio.move_on_after(0.4):
            await client.call_tool("run_backup", {"job_id": world.job})
        # The server writes the audit line once its handler has unwound from the cancel: poll until then.
        with anyio.fail_after(5):
            while not log.exists() or not log.read_text().strip():  # noqa: ASYNC110
                await anyio.sleep(0.02)
    (line,) = [json.loads(x) for x in log.read_text().splitlines()]
    assert line["tool"] == "run_backup" and line["outcome"] == "cancelled"
    assert "goes on" in line["details"]["following"]
    finished = sim.wait_task(line["task_id"])
    assert finished["status"] == "succeeded"


def test_progress_messages_give_percent_bytes_files_and_time_left() -> None:
    running = Task.model_validate(
        {
            "id": "01a21f54-c565-7000-9f09-c2de53237551",
            "kind": "backup",
            "status": "running",
            "progress": {
                "progress": {
                    "percent_done": 0.42,
                    "bytes_done": 1_500_000_000,
                    "total_bytes": 3_000_000_000,
                    "files_done": 1234,
                    "total_files": 5000,
                    "seconds_remaining": 150,
                }
            },
        }
    )
    message = progress_message(running)
    assert message.startswith("backup: 42% · ") and "1,234 of 5,000 files" in message and "~2 min left" in message
    queued = Task.model_validate({"id": running.id, "kind": "forget", "status": "queued"})
    assert progress_message(queued) == "forget: queued, waiting for the repository"
