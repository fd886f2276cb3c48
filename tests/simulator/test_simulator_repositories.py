"""Repository routes: create quirks, sealed secrets, PATCH change detection, cascades, stats, unlock, doctor."""

from __future__ import annotations

import httpx

from mcp_server.simulator import Simulator
from mcp_server.simulator.testing import World, wait_task


def test_create_local_repository_appends_short_id_and_answers_stale_status(client: httpx.Client) -> None:
    r = client.post(
        "/repositories",
        json={"name": "local-repo", "compressionMode": "auto", "config": {"backend": "local", "path": "/srv/repos"}},
    )
    assert r.status_code == 201
    body = r.json()
    assert body["message"] == "Repository created"
    repo = body["repository"]
    assert repo["status"] == "unknown"
    assert repo["lastChecked"] is None
    assert repo["config"]["path"] == f"/srv/repos/{repo['shortId']}"
    assert len(repo["id"]) == 36 and repo["id"][14] == "7"
    again = client.get(f"/repositories/{repo['shortId']}").json()
    assert again["status"] == "healthy"
    assert isinstance(again["lastChecked"], int)


def test_repository_secrets_are_sealed_but_rest_url_stays_plaintext(client: httpx.Client) -> None:
    s3 = client.post(
        "/repositories",
        json={
            "name": "b2",
            "config": {
                "backend": "s3",
                "endpoint": "https://s3.example",
                "bucket": "b",
                "accessKeyId": "AKIA123",
                "secretAccessKey": "topsecret",
                "customPassword": "pw",
            },
        },
    ).json()["repository"]
    for key in ("accessKeyId", "secretAccessKey", "customPassword"):
        assert s3["config"][key].startswith("encv1:")
    assert s3["config"]["bucket"] == "b"
    rest = client.post(
        "/repositories",
        json={"name": "rest", "config": {"backend": "rest", "url": "https://u:p@rest.example/x", "password": "pw"}},
    ).json()["repository"]
    assert rest["config"]["url"] == "https://u:p@rest.example/x"
    assert rest["config"]["password"].startswith("encv1:")


def test_init_failure_is_a_500_and_leaves_no_row(sim: Simulator, client: httpx.Client) -> None:
    sim.repository_init_errors["broken"] = "Fatal: create repository at s3:... failed: Access Denied"
    r = client.post("/repositories", json={"name": "broken", "config": {"backend": "local", "path": "/x"}})
    assert r.status_code == 500
    assert r.json()["message"].startswith("Failed to initialize repository: Fatal")
    assert client.get("/repositories").json() == []


def test_patch_with_an_echoed_sealed_config_counts_as_a_change(client: httpx.Client) -> None:
    repo = client.post(
        "/repositories",
        json={
            "name": "b2",
            "config": {"backend": "s3", "endpoint": "e", "bucket": "b", "accessKeyId": "a", "secretAccessKey": "s"},
        },
    ).json()["repository"]
    short = repo["shortId"]
    client.post(f"/repositories/{short}/stats/refresh")
    renamed = client.patch(f"/repositories/{short}", json={"name": "offsite"}).json()
    assert renamed["name"] == "offsite"
    assert renamed["status"] == "healthy"
    assert renamed["stats"] is not None
    echoed = client.patch(f"/repositories/{short}", json={"config": renamed["config"]}).json()
    assert echoed["status"] == "unknown"
    assert echoed["stats"] is None and echoed["lastChecked"] is None
    backend_change = client.patch(f"/repositories/{short}", json={"config": {"backend": "local", "path": "/x"}})
    assert backend_change.status_code == 400
    assert backend_change.json() == {"message": "Repository backend cannot be changed"}


def test_deleting_a_repository_cascades_to_schedules_and_mirrors(
    sim: Simulator, client: httpx.Client, world: World
) -> None:
    other = sim.add_repository("mirror-target")
    sim.add_mirror(world.schedule, other["shortId"])
    assert len(client.get(f"/backups/{world.schedule}/mirrors").json()) == 1
    assert client.delete(f"/repositories/{other['shortId']}").json() == {"message": "Repository deleted"}
    assert client.get(f"/backups/{world.schedule}/mirrors").json() == []
    client.delete(f"/repositories/{world.repository}")
    assert client.get("/backups").json() == []


def test_unknown_repository_is_a_404(client: httpx.Client) -> None:
    r = client.get("/repositories/nope1234")
    assert r.status_code == 404
    assert r.json() == {"message": "Repository not found"}


def test_stats_are_zero_until_computed_then_refresh_computes_them(
    sim: Simulator, client: httpx.Client, world: World
) -> None:
    assert client.get(f"/repositories/{world.repository}/stats").json()["snapshots_count"] == 0
    sim.add_snapshot(world.repository, job=world.schedule, time_ms=sim.now_ms() - 1000)
    stats = client.post(f"/repositories/{world.repository}/stats/refresh").json()
    assert stats["snapshots_count"] == 1
    assert stats["total_uncompressed_size"] > 0
    assert client.get(f"/repositories/{world.repository}").json()["stats"] == stats


def test_unlock_clears_a_stale_lock_so_backups_succeed(sim: Simulator, client: httpx.Client, world: World) -> None:
    sim.lock_repository(world.repository)
    failed = wait_task(client, client.post(f"/backups/{world.schedule}/run").json()["taskId"])
    assert failed["status"] == "failed"
    assert "already locked" in failed["error"]
    assert client.post(f"/repositories/{world.repository}/unlock").json() == {
        "success": True,
        "message": "Repository unlocked successfully",
    }
    ok = wait_task(client, client.post(f"/backups/{world.schedule}/run").json()["taskId"])
    assert ok["status"] == "succeeded"


def test_doctor_runs_as_a_task_and_stores_its_result(client: httpx.Client, world: World) -> None:
    r = client.post(f"/repositories/{world.repository}/doctor")
    assert r.status_code == 202
    task_id = r.json()["taskId"]
    assert client.post(f"/repositories/{world.repository}/doctor").status_code == 409
    done = wait_task(client, task_id)
    assert done["status"] == "succeeded"
    assert done["result"]["kind"] == "doctor"
    assert done["result"]["doctorResult"]["success"] is True
    repo = client.get(f"/repositories/{world.repository}").json()
    assert repo["status"] == "healthy"
    assert repo["doctorResult"]["steps"][0]["step"] == "unlock"


def test_failed_doctor_is_an_error_outcome_in_history(sim: Simulator, client: httpx.Client, world: World) -> None:
    sim.doctor_outcome = "error"
    done = wait_task(client, client.post(f"/repositories/{world.repository}/doctor").json()["taskId"])
    assert done["status"] == "succeeded"
    item = client.get("/tasks/history", params={"kind": "doctor"}).json()["items"][0]
    assert item["outcome"] == "error"
    assert item["message"]
    assert client.get(f"/repositories/{world.repository}").json()["status"] == "error"


def test_rclone_remotes_and_snapshot_refresh(sim: Simulator, client: httpx.Client, world: World) -> None:
    assert client.get("/repositories/rclone-remotes").json() == []
    sim.rclone_remotes = [{"name": "gdrive", "type": "drive"}]
    assert client.get("/repositories/rclone-remotes").json() == [{"name": "gdrive", "type": "drive"}]
    assert client.get("/system/info").json()["capabilities"]["rclone"] is True
    refreshed = client.post(f"/repositories/{world.repository}/snapshots/refresh").json()
    assert refreshed == {"message": "Snapshot cache cleared and refreshed", "count": 0}
