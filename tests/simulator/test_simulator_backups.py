"""Backup schedule routes: CRUD quirks, runs and their outcomes, forget, notifications, mirrors, reorder."""

from __future__ import annotations

import time

import httpx

from mcp_server.simulator import Simulator
from mcp_server.simulator.testing import World, wait_task


def _create(client: httpx.Client, world: World, **extra: object) -> httpx.Response:
    body: dict[str, object] = {
        "name": "nightly",
        "volumeId": world.volume,
        "repositoryId": world.repository,
        "enabled": True,
        "cronExpression": "0 3 * * *",
    }
    body.update(extra)
    return client.post("/backups", json=body)


def test_list_and_get_return_schedule_full_with_nested_volume_and_repository(
    client: httpx.Client, world: World
) -> None:
    listed = client.get("/backups").json()
    assert len(listed) == 1
    full = client.get(f"/backups/{world.schedule}").json()
    assert full == listed[0]
    assert client.get(f"/backups/{world.schedule_id}").json() == full
    assert full["volume"]["shortId"] == world.volume
    assert "organizationId" not in full["volume"] and "agentId" not in full["volume"]
    assert "stats" not in full["repository"] and "organizationId" not in full["repository"]
    assert full["repositoryId"] == full["repository"]["id"]
    assert full["retryDelay"] == 15 and full["maxRetries"] == 2


def test_backup_for_volume_is_200_null_when_there_is_none(client: httpx.Client, world: World) -> None:
    assert client.get(f"/backups/volume/{world.volume}").json()["shortId"] == world.schedule
    r = client.get("/backups/volume/zzzzzzzz")
    assert r.status_code == 200
    assert r.text == "null"


def test_create_returns_a_plain_schedule_and_rejects_duplicates_and_bad_cron(
    client: httpx.Client, world: World
) -> None:
    r = _create(client, world, retentionPolicy={"keepLast": 5}, tags=["ignored"], excludePatterns=["*.tmp"])
    assert r.status_code == 201
    created = r.json()
    assert "volume" not in created and "repository" not in created
    assert created["excludeIfPresent"] == [] and created["customResticParams"] == []
    assert created["nextBackupAt"] % 3_600_000 == 3 * 3_600_000 % 3_600_000
    assert "tags" not in created
    dup = _create(client, world)
    assert dup.status_code == 409
    assert dup.json() == {"message": "A backup schedule with this name already exists"}
    bad = _create(client, world, name="other", cronExpression="every day")
    assert bad.status_code == 400
    assert bad.json() == {"message": "Invalid cron expression"}
    empty = _create(client, world, name="other", cronExpression="")
    assert empty.json() == {"message": "Enabled schedules require a cron expression"}
    disabled = _create(client, world, name="manual-only", cronExpression="", enabled=False).json()
    assert disabled["nextBackupAt"] is None
    assert _create(client, world, name="x", volumeId="nope1234").status_code == 404


def test_patch_requires_repository_and_cron(client: httpx.Client, world: World) -> None:
    r = client.patch(f"/backups/{world.schedule}", json={"name": "renamed"})
    assert r.status_code == 400
    body = r.json()
    assert body["success"] is False
    assert [i["path"] for i in body["error"]] == [["repositoryId"], ["cronExpression"]]
    assert body["data"] == {"name": "renamed"}


def test_patch_resets_omitted_retries_and_keeps_omitted_retention(client: httpx.Client, world: World) -> None:
    base = {"repositoryId": world.repository, "cronExpression": "30 2 * * *"}
    five = client.patch(f"/backups/{world.schedule}", json={**base, "maxRetries": 5, "retryDelay": 30}).json()
    assert (five["maxRetries"], five["retryDelay"]) == (5, 30)
    omitted = client.patch(f"/backups/{world.schedule}", json=base).json()
    assert (omitted["maxRetries"], omitted["retryDelay"]) == (2, 15)
    assert omitted["retentionPolicy"] == {"keepLast": 5, "keepDaily": 7}
    cleared = client.patch(f"/backups/{world.schedule}", json={**base, "retentionPolicy": {}}).json()
    assert cleared["retentionPolicy"] is None
    assert cleared["cronExpression"] == "30 2 * * *"


def test_run_answers_202_then_a_second_run_conflicts(sim: Simulator, client: httpx.Client, world: World) -> None:
    r = client.post(f"/backups/{world.schedule}/run")
    assert r.status_code == 202
    assert r.json()["status"] == "started"
    again = client.post(f"/backups/{world.schedule}/run")
    assert again.status_code == 409
    assert again.json() == {"message": "Backup is already running for this schedule"}
    assert client.get(f"/backups/{world.schedule}").json()["lastBackupStatus"] == "in_progress"
    wait_task(client, r.json()["taskId"])


def test_unknown_schedule_run_is_a_404(client: httpx.Client) -> None:
    r = client.post("/backups/nope1234/run")
    assert r.status_code == 404
    assert r.json() == {"message": "Backup schedule not found"}


def test_successful_backup_creates_a_snapshot_updates_the_job_and_queues_forget(
    client: httpx.Client, world: World
) -> None:
    task_id = client.post(f"/backups/{world.schedule}/run").json()["taskId"]
    running = client.get("/tasks").json()
    assert [t["id"] for t in running] == [task_id]
    done = wait_task(client, task_id)
    assert done["status"] == "succeeded"
    assert done["input"] == {
        "kind": "backup",
        "scheduleId": world.schedule_id,
        "scheduleShortId": world.schedule,
        "manual": True,
    }
    assert done["targetAgentId"] == "local"
    result = done["result"]
    assert result["exitCode"] == 0 and result["warningDetails"] is None
    summary = result["result"]
    assert summary["files_new"] == 5 and summary["message_type"] == "summary"
    assert len(summary["snapshot_id"]) == 64
    snaps = client.get(f"/repositories/{world.repository}/snapshots").json()
    assert snaps[-1]["short_id"] == summary["snapshot_id"][:8]
    assert snaps[-1]["tags"] == [world.schedule]
    job = client.get(f"/backups/{world.schedule}").json()
    assert job["lastBackupStatus"] == "success"
    assert job["lastBackupAt"] >= done["startedAt"]
    forget = client.get("/tasks", params={"kind": "forget"}).json() or [
        t for t in client.get("/tasks/history", params={"kind": "forget"}).json()["items"]
    ]
    assert forget, "a post-backup forget task was queued"
    history = client.get("/tasks/history", params={"kind": "forget"}).json()
    deadline = time.monotonic() + 5
    while not history["items"] or history["items"][0]["status"] != "succeeded":
        assert time.monotonic() < deadline
        time.sleep(0.02)
        history = client.get("/tasks/history", params={"kind": "forget"}).json()
    forget_task = client.get(f"/tasks/{history['items'][0]['id']}").json()
    assert forget_task["input"]["trigger"] == "postBackup"
    assert forget_task["operationKey"] == world.repository


def test_second_backup_of_unchanged_files_reports_them_unmodified(client: httpx.Client, world: World) -> None:
    wait_task(client, client.post(f"/backups/{world.schedule}/run").json()["taskId"])
    for follow_up in client.get("/tasks").json():  # the forget queued after the backup holds the repository
        wait_task(client, follow_up["id"])
    second = wait_task(client, client.post(f"/backups/{world.schedule}/run").json()["taskId"])
    assert second["result"]["result"]["files_new"] == 0
    assert second["result"]["result"]["files_unmodified"] == 5


def test_warning_outcome_succeeds_with_exit_code_3(sim: Simulator, client: httpx.Client, world: World) -> None:
    sim.next_backup_outcome = "warning"
    done = wait_task(client, client.post(f"/backups/{world.schedule}/run").json()["taskId"])
    assert done["status"] == "succeeded"
    assert done["result"]["exitCode"] == 3
    assert "could not be read" in done["result"]["warningDetails"]
    job = client.get(f"/backups/{world.schedule}").json()
    assert job["lastBackupStatus"] == "warning"
    assert job["lastBackupError"] == done["result"]["warningDetails"]
    item = client.get("/tasks/history", params={"kind": "backup"}).json()["items"][0]
    assert item["outcome"] == "warning"
    assert sim.next_backup_outcome == "success"


def test_failed_outcome_fails_the_task_and_marks_the_job(sim: Simulator, client: httpx.Client, world: World) -> None:
    sim.next_backup_outcome = "Fatal: unable to open config file: connection refused"
    done = wait_task(client, client.post(f"/backups/{world.schedule}/run").json()["taskId"])
    assert done["status"] == "failed"
    assert done["error"] == "Fatal: unable to open config file: connection refused"
    assert done["result"] is None
    job = client.get(f"/backups/{world.schedule}").json()
    assert (job["lastBackupStatus"], job["lastBackupError"]) == ("error", done["error"])
    assert client.get(f"/repositories/{world.repository}/snapshots").json() == []
    item = client.get("/tasks/history").json()["items"][0]
    assert (item["outcome"], item["message"]) == ("error", done["error"])


def test_cancelling_a_backup_leaves_a_warning_on_the_job(sim: Simulator, client: httpx.Client, world: World) -> None:
    sim.task_seconds = 2.0
    task_id = client.post(f"/backups/{world.schedule}/run").json()["taskId"]
    r = client.post(f"/tasks/{task_id}/cancel")
    assert r.status_code == 202
    assert r.json() == {"status": "cancelling"}
    done = wait_task(client, task_id)
    assert done["status"] == "cancelled"
    assert done["error"] == "Task was cancelled by the user"
    assert done["cancellationRequested"] is True
    job = client.get(f"/backups/{world.schedule}").json()
    assert (job["lastBackupStatus"], job["lastBackupError"]) == ("warning", "Task was cancelled by the user")
    late = client.post(f"/tasks/{task_id}/cancel")
    assert late.status_code == 409
    assert late.json() == {"message": "Task is not cancellable or is no longer running"}


def test_run_refuses_an_unhealthy_volume_that_cannot_remount(sim: Simulator, client: httpx.Client) -> None:
    vol = sim.add_volume("gone", path="/srv/does-not-exist", status="error", last_error="ENOENT", auto_remount=False)
    repo = sim.add_repository("r")
    job = sim.add_backup_job("j", volume=vol["shortId"], repository=repo["shortId"])
    r = client.post(f"/backups/{job['shortId']}/run")
    assert r.status_code == 400


def test_forget_needs_a_retention_policy(client: httpx.Client, world: World) -> None:
    r = client.post(f"/backups/{world.schedule}/forget")
    assert r.status_code == 202
    done = wait_task(client, r.json()["taskId"])
    assert done["kind"] == "forget" and done["input"]["trigger"] == "manual"
    assert done["result"] == {"kind": "forget"}
    client.patch(
        f"/backups/{world.schedule}",
        json={"repositoryId": world.repository, "cronExpression": "0 3 * * *", "retentionPolicy": {}},
    )
    none = client.post(f"/backups/{world.schedule}/forget")
    assert none.status_code == 400
    assert none.json() == {"message": "No retention policy configured for this schedule"}


def test_forget_removes_snapshots_outside_the_policy(sim: Simulator, client: httpx.Client, world: World) -> None:
    day = 86_400_000
    now = sim.now_ms()
    for i in range(12):
        sim.add_snapshot(world.repository, job=world.schedule, time_ms=now - (12 - i) * day)
    wait_task(client, client.post(f"/backups/{world.schedule}/forget").json()["taskId"])
    kept = client.get(f"/repositories/{world.repository}/snapshots", params={"backupId": world.schedule}).json()
    assert len(kept) == 7
    assert all(s["retentionCategories"] for s in kept)


def test_schedule_notifications_put_replaces_the_whole_list(sim: Simulator, client: httpx.Client, world: World) -> None:
    a = sim.add_notification_destination("a")
    b = sim.add_notification_destination("b")
    flags = {"notifyOnStart": False, "notifyOnSuccess": True, "notifyOnWarning": True, "notifyOnFailure": True}
    url = f"/backups/{world.schedule}/notifications"
    first = client.put(
        url, json={"assignments": [{"destinationId": a["id"], **flags}, {"destinationId": b["id"], **flags}]}
    )
    assert len(first.json()) == 2
    assert first.json()[0]["scheduleId"] == world.schedule_id
    assert first.json()[0]["destination"]["name"] == "a"
    second = client.put(url, json={"assignments": [{"destinationId": b["id"], **flags}]}).json()
    assert [x["destinationId"] for x in second] == [b["id"]]
    assert client.get(url).json() == second
    missing = client.put(url, json={"assignments": [{"destinationId": 999, **flags}]})
    assert missing.status_code == 404
    partial = client.put(url, json={"assignments": [{"destinationId": a["id"]}]})
    assert partial.status_code == 400


def test_mirrors_put_replace_status_and_sync(sim: Simulator, client: httpx.Client, world: World) -> None:
    target = sim.add_repository(
        "offsite", backend="s3", config={"endpoint": "e", "bucket": "b", "accessKeyId": "a", "secretAccessKey": "s"}
    )
    sim.add_snapshot(world.repository, job=world.schedule, time_ms=sim.now_ms() - 1000)
    url = f"/backups/{world.schedule}/mirrors"
    mirrors = client.put(url, json={"mirrors": [{"repositoryId": target["shortId"], "enabled": True}]}).json()
    assert mirrors[0]["scheduleId"] == world.schedule
    assert mirrors[0]["repositoryId"] == target["shortId"]
    assert mirrors[0]["lastSyncTask"] is None
    assert mirrors[0]["repository"]["config"]["secretAccessKey"].startswith("encv1:")
    primary = client.put(url, json={"mirrors": [{"repositoryId": world.repository, "enabled": True}]})
    assert primary.status_code == 400
    compat = client.get(f"{url}/compatibility").json()
    assert compat == [{"repositoryId": target["shortId"], "compatible": True, "reason": None}]
    status = client.get(f"{url}/{target['shortId']}/status").json()
    assert (status["sourceCount"], status["mirrorCount"], len(status["missingSnapshots"])) == (1, 0, 1)
    r = client.post(f"{url}/{target['shortId']}/sync", json={})
    assert r.status_code == 202
    done = wait_task(client, r.json()["taskId"])
    assert done["kind"] == "mirrorSync"
    assert client.get(f"{url}/{target['shortId']}/status").json()["missingSnapshots"] == []
    assert client.get(url).json()[0]["lastSyncTask"]["status"] == "succeeded"
    assert client.put(url, json={"mirrors": []}).json() == []


def test_reorder_and_delete(sim: Simulator, client: httpx.Client, world: World) -> None:
    other = _create(client, world).json()
    assert client.post("/backups/reorder", json={"scheduleShortIds": [other["shortId"], world.schedule]}).json() == {
        "success": True
    }
    assert [s["shortId"] for s in client.get("/backups").json()] == [other["shortId"], world.schedule]
    dup = client.post("/backups/reorder", json={"scheduleShortIds": [world.schedule, world.schedule]})
    assert dup.status_code == 400
    assert client.delete(f"/backups/{other['shortId']}").json() == {"success": True}
    assert client.get(f"/backups/{other['shortId']}").status_code == 404
