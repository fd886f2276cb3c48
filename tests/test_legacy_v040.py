"""Zerobyte v0.40 (the first release with API keys): no tasks API at all, and some operations answer synchronously.

Self-hosters who enabled API keys as soon as they shipped still run v0.40 (API.md §9): doctor, snapshot delete and
tag are done before the answer, restore has no task behind its id, and every task route is a 404 route miss. Each
tool must tell the real outcome there, never "unexpected answer" or a raw 404.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from mcp import Client
from mcp.types import CallToolResult, TextContent

from mcp_server.cli.check import run_check
from mcp_server.server import create_server
from mcp_server.simulator import Simulator, SimulatorServer
from tests.helpers import TEST_KEY, make_settings

pytestmark = pytest.mark.anyio

DAY_MS = 86_400_000
T0 = 1_780_000_000_000
NO_TASKS_API = "This Zerobyte (v0.40) has no tasks API"


@pytest.fixture
def v040() -> Simulator:
    return Simulator(api_keys=[TEST_KEY], legacy=True, legacy_version="v0.40", task_seconds=0.4, progress_interval=0.05)


@pytest.fixture
def v040_server(v040: Simulator) -> Iterator[SimulatorServer]:
    with SimulatorServer(v040) as running:
        yield running


def _world(sim: Simulator) -> dict[str, Any]:
    sim.add_volume("photos", path="/srv/photos", files={"a.jpg": 1000, "albums": {"b.jpg": 2000}})
    sim.add_volume("staging", path="/srv/restore")
    repo = sim.add_repository("nas", status="error", last_error="repository is already locked")
    job = sim.add_backup_job("photos-nightly", volume="photos", repository="nas", last_status="success")
    snaps = [sim.add_snapshot("nas", job="photos-nightly", time_ms=T0 + i * DAY_MS)["short_id"] for i in range(3)]
    return {"repo": repo["shortId"], "job": job["shortId"], "snaps": snaps}


@asynccontextmanager
async def _agent(server: SimulatorServer, era: str, **changes: Any) -> AsyncIterator[Client]:
    async with Client(create_server(make_settings(server.url, **changes)), mode=era) as client:
        yield client


def _text(result: CallToolResult) -> str:
    return " ".join(c.text for c in result.content if isinstance(c, TextContent))


def _ok(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, _text(result)
    data: dict[str, Any] | None = result.structured_content
    assert data is not None
    return data


def _snapshot_ids(sim: Simulator, repo: str) -> list[str]:
    with sim.lock:
        found = sim.find_repository(repo)
        assert found is not None
        return [s.short_id for s in sim.snapshots_of(found)]


async def test_read_tools_answer_on_v040(v040: Simulator, v040_server: SimulatorServer, era: str) -> None:
    world = _world(v040)
    async with _agent(v040_server, era) as client:
        volumes = _ok(await client.call_tool("list_volumes", {}))
        health = _ok(await client.call_tool("backup_health", {}))
        snapshots = _ok(await client.call_tool("list_snapshots", {"repository_id": world["repo"]}))
    assert {v["name"] for v in volumes["volumes"]} == {"photos", "staging"}
    assert "photos-nightly" in str(health)
    assert {s["id"] for s in snapshots["snapshots"]} == set(world["snaps"])


async def test_run_backup_on_v040_is_followed_through_the_job_status(
    v040: Simulator, v040_server: SimulatorServer, era: str
) -> None:
    world = _world(v040)
    async with _agent(v040_server, era, access="operate") as client:
        outcome = _ok(await client.call_tool("run_backup", {"job_id": world["job"], "wait_seconds": 20}))
    assert (outcome["status"], outcome["outcome"]) == ("finished", "success")
    assert "photos-nightly" in outcome["target"]
    asked = {r.path for r in v040.requests}
    assert f"/api/v1/backups/{world['job']}/run" in asked
    # Only the capability probes touch task routes; the run itself is followed through the job.
    assert {p for p in asked if p.startswith("/api/v1/tasks")} <= {"/api/v1/tasks", "/api/v1/tasks/history"}


async def test_doctor_on_v040_reports_the_repository_it_left_healthy(
    v040: Simulator, v040_server: SimulatorServer, era: str
) -> None:
    world = _world(v040)
    async with _agent(v040_server, era, access="operate") as client:
        outcome = _ok(await client.call_tool("run_doctor", {"repository_id": world["repo"]}))
    assert (outcome["status"], outcome["outcome"]) == ("finished", "success")
    assert "id" not in outcome  # no task, and no made-up id an agent would try to follow
    assert "repository 'nas'" in outcome["target"] and "error" not in outcome
    with v040.lock:
        repo = v040.find_repository(world["repo"])
        assert repo is not None and repo["status"] == "healthy"


async def test_doctor_on_v040_that_leaves_errors_says_so(v040: Simulator, v040_server: SimulatorServer) -> None:
    world = _world(v040)
    v040.doctor_outcome = "error"
    async with _agent(v040_server, "auto", access="operate") as client:
        outcome = _ok(await client.call_tool("run_doctor", {"repository_id": world["repo"]}))
    assert outcome["outcome"] == "error"
    assert "repository contains errors" in outcome["error"]
    assert "status error" in outcome["next_step"]


async def test_delete_snapshots_on_v040_with_a_confirmation_token_deletes_them_synchronously(
    v040: Simulator, v040_server: SimulatorServer, era: str
) -> None:
    world = _world(v040)
    going = world["snaps"][:2]
    arguments = {"repository_id": world["repo"], "snapshot_ids": going}
    async with _agent(v040_server, era, access="full") as client:
        first = _ok(await client.call_tool("delete_snapshots", arguments))
        assert _snapshot_ids(v040, world["repo"]) == world["snaps"]
        done = _ok(await client.call_tool("delete_snapshots", {**arguments, "confirm_token": first["confirm_token"]}))
    assert first["outcome"] == "confirmation_required"
    assert done["outcome"] == "success", done
    assert "Deleted 2 snapshot(s) from repository 'nas'" in done["message"]
    assert "done synchronously by Zerobyte v0.40" in done["message"]
    assert _snapshot_ids(v040, world["repo"]) == world["snaps"][2:]


async def test_tag_snapshots_on_v040_maps_old_ids_to_the_new_ones(
    v040: Simulator, v040_server: SimulatorServer, era: str
) -> None:
    world = _world(v040)
    old = world["snaps"][0]
    async with _agent(v040_server, era, access="operate") as client:
        result = _ok(
            await client.call_tool(
                "tag_snapshots", {"repository_id": world["repo"], "snapshot_ids": [old], "add_tags": ["keep"]}
            )
        )
    assert (result["status"], result["outcome"]) == ("finished", "success")
    assert "id" not in result
    (retagged,) = result["retagged"]
    now = _snapshot_ids(v040, world["repo"])
    assert retagged["old_id"] == old and retagged["new_id"] != old
    assert retagged["new_id"] in now and old not in now
    assert set(retagged["tags"]) == {world["job"], "keep"}


async def test_restore_on_v040_says_it_cannot_be_followed_and_where_the_files_land(
    v040: Simulator, v040_server: SimulatorServer, era: str
) -> None:
    world = _world(v040)
    arguments = {
        "repository_id": world["repo"],
        "snapshot_id": world["snaps"][-1],
        "paths": ["/srv/photos/a.jpg"],
        "target_path": "/srv/restore/back",
    }
    async with _agent(v040_server, era, access="operate", restore_allowed_roots=("/srv/restore",)) as client:
        result = _ok(await client.call_tool("restore", arguments))
    assert result["outcome"] == "running"
    assert result["landed"] == ["/srv/photos/a.jpg -> /srv/restore/back/a.jpg"]
    assert "cannot report its end" in result["message"]
    assert NO_TASKS_API in result["task"]["next_step"] and "/srv/restore/back" in result["task"]["next_step"]
    assert [r["target"] for r in v040.restores] == ["/srv/restore/back"]


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("list_active_tasks", {}),
        ("get_task", {"task_id": "0199b5d6-3c2e-7000-8000-000000000001"}),
        ("wait_for_task", {"task_id": "0199b5d6-3c2e-7000-8000-000000000001"}),
        ("cancel_task", {"task_id": "0199b5d6-3c2e-7000-8000-000000000001"}),
    ],
)
async def test_task_tools_on_v040_say_there_is_no_tasks_api(
    v040_server: SimulatorServer, era: str, tool: str, arguments: dict[str, Any]
) -> None:
    async with _agent(v040_server, era, access="operate") as client:
        result = await client.call_tool(tool, arguments)
    message = _text(result)
    assert result.is_error
    assert message.startswith(NO_TASKS_API), message
    assert "under way" not in message and "was not found" not in message


async def test_task_history_on_v040_says_to_upgrade(v040_server: SimulatorServer) -> None:
    async with _agent(v040_server, "auto") as client:
        result = await client.call_tool("task_history", {})
    assert result.is_error
    assert "has no task history" in _text(result) and "upgrade Zerobyte" in _text(result)


def test_check_on_v040_reports_no_tasks_api_and_what_adapts(v040_server: SimulatorServer) -> None:
    out = io.StringIO()
    code = run_check(make_settings(v040_server.url, access="full"), out=out)
    report = out.getvalue()
    assert code == 0, report
    assert "Zerobyte version: v0.40.0" in report
    assert "tasks API: no; task history: no" in report
    assert "get_task: NOT AVAILABLE: no tasks API (v0.40)" in report
    assert "run_doctor: works differently: done synchronously by v0.40" in report
    assert "restore: works differently: v0.40 gives no task" in report


def test_the_v040_simulator_answers_task_routes_with_a_text_route_miss(v040_server: SimulatorServer) -> None:
    headers = {"x-api-key": TEST_KEY}
    with httpx.Client(base_url=v040_server.url, headers=headers) as http:
        for path in ("/api/v1/tasks", "/api/v1/tasks/history", "/api/v1/events", "/api/v1/tasks/abc"):
            answer = http.get(path)
            assert answer.status_code == 404, path
            assert not answer.headers["content-type"].startswith("application/json"), path
