"""Task routes: active list and filters, any-status get, cancel rules, history paging, restarts."""

from __future__ import annotations

import httpx

from mcp_server.simulator import Simulator
from mcp_server.simulator.testing import World, wait_task


def test_tasks_lists_active_tasks_only_and_filters(sim: Simulator, client: httpx.Client, world: World) -> None:
    sim.task_seconds = 1.0
    task_id = client.post(f"/backups/{world.schedule}/run").json()["taskId"]
    assert [t["id"] for t in client.get("/tasks").json()] == [task_id]
    params = {"kind": "backup", "resourceType": "backup_schedule", "resourceId": world.schedule}
    assert [t["id"] for t in client.get("/tasks", params=params).json()] == [task_id]
    assert client.get("/tasks", params={"kind": "restore"}).json() == []
    lonely = client.get("/tasks", params={"resourceType": "repository"})
    assert lonely.status_code == 400
    assert lonely.json()["success"] is False
    assert client.get("/tasks", params={"kind": "nap"}).status_code == 400
    client.post(f"/tasks/{task_id}/cancel")
    wait_task(client, task_id)
    assert [t for t in client.get("/tasks").json() if t["kind"] == "backup"] == []
    assert client.get(f"/tasks/{task_id}").json()["status"] == "cancelled"


def test_unknown_task_is_a_404(client: httpx.Client) -> None:
    r = client.get("/tasks/01a21f55-0000-7000-0000-000000000000")
    assert r.status_code == 404
    assert r.json() == {"message": "Task not found"}
    assert client.post("/tasks/nope/cancel").status_code == 404


def test_history_pages_by_25_newest_first_with_targets(sim: Simulator, client: httpx.Client, world: World) -> None:
    ids = sim.add_history(60, job=world.schedule)
    sim.add_task("restore", repository=world.repository, snapshot_id="6a3d7826")
    page1 = client.get("/tasks/history").json()
    assert (page1["page"], page1["pageSize"], page1["totalItems"], page1["totalPages"]) == (1, 25, 61, 3)
    assert page1["organizationId"] == sim.organization_id
    restore = page1["items"][0]
    assert restore["target"] == {
        "kind": "repository",
        "label": "6a3d7826",
        "secondary": "local-repo",
        "repositoryShortId": world.repository,
        "snapshotId": "6a3d7826",
    }
    assert page1["items"][1]["id"] == ids[-1]
    assert page1["items"][1]["target"] == {
        "kind": "backupSchedule",
        "label": "sample-daily",
        "secondary": None,
        "scheduleShortId": world.schedule,
    }
    page3 = client.get("/tasks/history", params={"page": 3}).json()
    assert len(page3["items"]) == 11
    assert client.get("/tasks/history", params={"page": 9}).json()["items"] == []
    failed = client.get("/tasks/history", params={"outcome": "error"}).json()
    assert failed["totalItems"] == 6
    assert all(i["message"] for i in failed["items"])
    warned = client.get("/tasks/history", params={"outcome": "warning", "kind": "backup"}).json()
    assert warned["totalItems"] > 0
    assert warned["items"][0]["message"].startswith("error: open")
    for bad in ({"page": "0"}, {"page": "-1"}, {"page": "1.5"}, {"page": "x"}, {"outcome": "meh"}, {"kind": "nap"}):
        assert client.get("/tasks/history", params=bad).status_code == 400


def test_history_outcome_running_means_active(sim: Simulator, client: httpx.Client, world: World) -> None:
    sim.task_seconds = 1.0
    task_id = client.post(f"/backups/{world.schedule}/run").json()["taskId"]
    running = client.get("/tasks/history", params={"outcome": "running"}).json()
    assert [i["id"] for i in running["items"]] == [task_id]
    assert running["items"][0]["outcome"] == "running"
    client.post(f"/tasks/{task_id}/cancel")
    wait_task(client, task_id)
    item = client.get("/tasks/history", params={"outcome": "cancelled"}).json()["items"][0]
    assert item["message"] == "Task was cancelled by the user"


def test_restart_marks_active_tasks_stale(sim: Simulator, client: httpx.Client, world: World) -> None:
    sim.task_seconds = 5.0
    task_id = client.post(f"/backups/{world.schedule}/run").json()["taskId"]
    sim.restart()
    dto = client.get(f"/tasks/{task_id}").json()
    assert dto["status"] == "stale"
    assert dto["error"] == "Zerobyte was restarted before this task completed"
    assert dto["finishedAt"] is not None
    job = client.get(f"/backups/{world.schedule}").json()
    assert job["lastBackupStatus"] == "warning"
    assert client.get("/tasks/history", params={"outcome": "stale"}).json()["totalItems"] == 1
    assert client.post(f"/tasks/{task_id}/cancel").status_code == 409


def test_restart_can_finish_running_tasks_instead(sim: Simulator, client: httpx.Client, world: World) -> None:
    sim.task_seconds = 5.0
    task_id = client.post(f"/backups/{world.schedule}/run").json()["taskId"]
    sim.restart(finish_tasks=True)
    assert client.get(f"/tasks/{task_id}").json()["status"] == "succeeded"


def test_add_task_seeds_finished_tasks_of_every_status(sim: Simulator, client: httpx.Client, world: World) -> None:
    for status in ("succeeded", "failed", "cancelled", "stale"):
        dto = sim.add_task("backup", job=world.schedule, status=status)
        assert client.get(f"/tasks/{dto['id']}").json() == dto
    outcomes = [i["outcome"] for i in client.get("/tasks/history").json()["items"]]
    assert sorted(outcomes) == ["cancelled", "error", "stale", "success"]
