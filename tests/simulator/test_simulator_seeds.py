"""The demo and scale seeds build the worlds they promise, quickly."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from mcp_server.simulator import Simulator, SimulatorServer, seed_demo, seed_scale
from mcp_server.simulator.testing import fast_simulator, http_client, wait_task

DAY = 86_400_000


@pytest.fixture
def demo() -> Iterator[tuple[Simulator, httpx.Client]]:
    sim = fast_simulator()
    seed_demo(sim)
    with SimulatorServer(sim) as srv, http_client(f"{srv.url}/api/v1") as c:
        yield sim, c
    sim.close()


def test_demo_has_three_volumes_three_repositories_and_four_jobs(demo: tuple[Simulator, httpx.Client]) -> None:
    _, client = demo
    assert sorted(v["name"] for v in client.get("/volumes").json()) == ["documents", "nextcloud", "photos"]
    repos = {r["name"]: r for r in client.get("/repositories").json()}
    assert set(repos) == {"local-nas", "offsite-b2", "rest-server"}
    jobs = {j["name"]: j for j in client.get("/backups").json()}
    assert jobs["photos-nightly"]["lastBackupStatus"] == "success"
    assert jobs["documents-offsite"]["lastBackupStatus"] == "warning"
    assert jobs["nextcloud-rest"]["lastBackupStatus"] == "error"
    assert "already locked" in jobs["nextcloud-rest"]["lastBackupError"]
    old = jobs["old-laptop-archive"]
    assert old["enabled"] is False
    assert old["lastBackupAt"] < time.time() * 1000 - 30 * DAY


def test_demo_secrets_are_sealed_except_where_zerobyte_shows_them(demo: tuple[Simulator, httpx.Client]) -> None:
    _, client = demo
    repos = {r["name"]: r for r in client.get("/repositories").json()}
    assert repos["offsite-b2"]["config"]["secretAccessKey"].startswith("encv1:")
    assert repos["offsite-b2"]["config"]["customPassword"].startswith("encv1:")
    assert "s3cr3t-Pa55@" in repos["rest-server"]["config"]["url"]
    dests = {d["name"]: d for d in client.get("/notifications/destinations").json()}
    assert "Authorization: Bearer hk_live_9f8e7d6c5b4a3928" in dests["ops-webhook"]["config"]["headers"]
    assert dests["family-telegram"]["config"]["botToken"].startswith("encv1:")
    nextcloud = next(v for v in client.get("/volumes").json() if v["name"] == "nextcloud")
    assert nextcloud["config"]["password"].startswith("encv1:")


def test_demo_snapshots_span_a_month_with_retention_categories(demo: tuple[Simulator, httpx.Client]) -> None:
    _, client = demo
    total = 0
    times: list[int] = []
    for repo in client.get("/repositories").json():
        snaps = client.get(f"/repositories/{repo['shortId']}/snapshots").json()
        total += len(snaps)
        times += [s["time"] for s in snaps]
    assert 30 <= total <= 70
    assert max(times) - min(times) >= 25 * DAY
    job = next(j for j in client.get("/backups").json() if j["name"] == "photos-nightly")
    mine = client.get(
        f"/repositories/{job['repository']['shortId']}/snapshots", params={"backupId": job["shortId"]}
    ).json()
    assert all(s["retentionCategories"] for s in mine)


def test_demo_files_are_realistic(demo: tuple[Simulator, httpx.Client]) -> None:
    _, client = demo
    docs = next(v for v in client.get("/volumes").json() if v["name"] == "documents")
    taxes = client.get(f"/volumes/{docs['shortId']}/files", params={"path": "/docs/taxes/2025"}).json()
    assert "tax.pdf" in [f["name"] for f in taxes["files"]]
    job = next(j for j in client.get("/backups").json() if j["name"] == "documents-offsite")
    repo = job["repository"]["shortId"]
    snap = client.get(f"/repositories/{repo}/snapshots").json()[-1]
    config = client.get(
        f"/repositories/{repo}/snapshots/{snap['short_id']}/dump",
        params={"path": "/srv/documents/config.yaml", "kind": "file"},
    )
    assert b"backup:" in config.content


def test_demo_has_history_mirror_and_notifications(demo: tuple[Simulator, httpx.Client]) -> None:
    _, client = demo
    history = client.get("/tasks/history").json()
    assert history["totalItems"] > 25
    outcomes = {
        i["outcome"]
        for p in range(1, history["totalPages"] + 1)
        for i in client.get("/tasks/history", params={"page": p}).json()["items"]
    }
    assert {"success", "warning", "error", "cancelled"} <= outcomes
    photos = next(j for j in client.get("/backups").json() if j["name"] == "photos-nightly")
    mirrors = client.get(f"/backups/{photos['shortId']}/mirrors").json()
    assert mirrors[0]["lastSyncTask"]["status"] == "succeeded"
    status = client.get(f"/backups/{photos['shortId']}/mirrors/{mirrors[0]['repositoryId']}/status").json()
    assert status["missingSnapshots"]
    assert len(client.get(f"/backups/{photos['shortId']}/notifications").json()) == 2


def test_demo_failing_and_warning_jobs_keep_failing_and_warning(demo: tuple[Simulator, httpx.Client]) -> None:
    _, client = demo
    jobs = {j["name"]: j for j in client.get("/backups").json()}
    failed = wait_task(client, client.post(f"/backups/{jobs['nextcloud-rest']['shortId']}/run").json()["taskId"])
    assert failed["status"] == "failed"
    warned = wait_task(client, client.post(f"/backups/{jobs['documents-offsite']['shortId']}/run").json()["taskId"])
    assert warned["result"]["exitCode"] == 3


def test_scale_seed_builds_in_a_few_seconds_and_pages_deeply(sim: Simulator, client: httpx.Client) -> None:
    start = time.monotonic()
    info = seed_scale(sim)
    assert time.monotonic() - start < 5
    snaps = client.get(f"/repositories/{info['repository']}/snapshots").json()
    assert len(snaps) == 5000
    by_job = client.get(f"/repositories/{info['repository']}/snapshots", params={"backupId": info["schedule"]}).json()
    assert sum(1 for s in by_job if s["retentionCategories"]) < 200
    files_url = f"/repositories/{info['repository']}/snapshots/{info['latest_snapshot']}/files"
    t0 = time.monotonic()
    deep = client.get(files_url, params={"offset": 90_000, "limit": 500}).json()
    assert time.monotonic() - t0 < 3
    assert deep["total"] == 100_000 + 100 + 3
    assert len(deep["files"]) == 500 and deep["hasMore"] is True
    folder = client.get(files_url, params={"path": "/srv/bulk/bulk/dir_0042"}).json()
    assert folder["total"] == 1001
    vol = client.get(f"/volumes/{info['volume']}/files", params={"path": "/bulk/dir_0099", "offset": 900}).json()
    assert vol["total"] == 1000 and len(vol["files"]) == 100
    history = client.get("/tasks/history", params={"page": 20}).json()
    assert history["totalItems"] == 500 and len(history["items"]) == 25


def test_scale_seed_accepts_smaller_sizes(sim: Simulator) -> None:
    info = seed_scale(sim, snapshots=10, files=2500, history=0)
    assert info["snapshots"] == 10 and info["history"] == 0
    repo = sim.find_repository(info["repository"])
    assert repo is not None
    assert len(sim.snapshots_of(repo)) == 10
