"""Legacy mode behaves like Zerobyte v0.40/v0.41: no history, 200 runs, stop and progress routes."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from mcp_server.simulator import Simulator, SimulatorServer
from mcp_server.simulator.testing import World, build_sample_world, fast_simulator, http_client


@pytest.fixture
def legacy() -> Iterator[tuple[Simulator, World, httpx.Client]]:
    sim = fast_simulator(legacy=True)
    world = build_sample_world(sim)
    with SimulatorServer(sim) as srv, http_client(f"{srv.url}/api/v1") as c:
        yield sim, world, c
    sim.close()


def _wait_status(client: httpx.Client, schedule: str, status: str) -> dict[str, object]:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        job: dict[str, object] = client.get(f"/backups/{schedule}").json()
        if job["lastBackupStatus"] == status:
            return job
        time.sleep(0.02)
    raise AssertionError(f"job never reached {status}")


def test_there_is_no_task_history(legacy: tuple[Simulator, World, httpx.Client]) -> None:
    _, _, client = legacy
    r = client.get("/tasks/history")
    assert r.status_code == 404
    # v0.41 has GET /tasks/{taskId}, so "history" is looked up as a task id
    assert r.json() == {"message": "Task not found"}
    assert client.get("/system/updates").json()["currentVersion"] == "v0.41.0"


def test_run_answers_200_success_and_the_job_goes_in_progress_then_success(
    legacy: tuple[Simulator, World, httpx.Client],
) -> None:
    _, world, client = legacy
    r = client.post(f"/backups/{world.schedule}/run")
    assert r.status_code == 200
    assert r.json() == {"success": True}
    assert client.get(f"/backups/{world.schedule}").json()["lastBackupStatus"] == "in_progress"
    _wait_status(client, world.schedule, "success")
    assert len(client.get(f"/repositories/{world.repository}/snapshots").json()) == 1


def test_progress_is_an_object_while_running_and_null_otherwise(legacy: tuple[Simulator, World, httpx.Client]) -> None:
    sim, world, client = legacy
    assert client.get(f"/backups/{world.schedule}/progress").json() is None
    sim.task_seconds = 1.0
    client.post(f"/backups/{world.schedule}/run")
    deadline = time.monotonic() + 3
    progress = None
    while progress is None and time.monotonic() < deadline:
        progress = client.get(f"/backups/{world.schedule}/progress").json()
        time.sleep(0.02)
    assert progress is not None
    assert progress["scheduleId"] == world.schedule
    assert progress["volumeName"] == "sample-files"
    assert "percent_done" in progress
    tasks = client.get("/tasks").json()
    assert tasks[0]["resourceId"] == str(world.schedule_id)


def test_stop_cancels_the_running_backup(legacy: tuple[Simulator, World, httpx.Client]) -> None:
    sim, world, client = legacy
    assert client.post(f"/backups/{world.schedule}/stop").status_code == 409
    sim.task_seconds = 2.0
    client.post(f"/backups/{world.schedule}/run")
    assert client.post(f"/backups/{world.schedule}/stop").json() == {"success": True}
    job = _wait_status(client, world.schedule, "warning")
    assert job["lastBackupError"] == "Backup was stopped by the user"


def test_forget_and_mirror_sync_answer_200_success(legacy: tuple[Simulator, World, httpx.Client]) -> None:
    sim, world, client = legacy
    target = sim.add_repository("mirror")
    sim.add_mirror(world.schedule, target["shortId"])
    sim.add_snapshot(world.repository, job=world.schedule, time_ms=sim.now_ms())
    assert client.post(f"/backups/{world.schedule}/forget").json() == {"success": True}
    r = client.post(f"/backups/{world.schedule}/mirrors/{target['shortId']}/sync", json={})
    assert (r.status_code, r.json()) == (200, {"success": True})
    assert len(client.get(f"/repositories/{target['shortId']}/snapshots").json()) == 1


def test_modern_server_has_no_stop_or_progress(client: httpx.Client, world: World) -> None:
    assert client.post(f"/backups/{world.schedule}/stop").status_code == 404
    assert client.get(f"/backups/{world.schedule}/progress").status_code == 404
