"""Backups on Zerobyte v0.41.0 (the stable release) answered as on v0.42: the real task, its snapshot, a real stop.

v0.41 answers ``POST /backups/{id}/run`` with ``{success:true}`` and no task id, yet makes a backup task; it
cannot cancel that task through ``/tasks/{id}/cancel`` (409) but stops the run through ``/backups/{id}/stop``.
Each story runs on both versions (``zb_any``): an agent must get the same answer whichever Zerobyte it meets.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.real.conftest import McpConfig, call, make_files, mcp_stdio, unique
from tests.real.story_world import backup_directly
from tests.real.zbserver import RealZerobyte

pytestmark = pytest.mark.anyio

BIG_FILE_MB = 256  # random data: restic needs a few seconds for it, long enough to stop the run midway


@dataclass
class Jobs:
    zb: RealZerobyte
    folder: Path
    repository: str
    small: dict[str, Any]
    big: dict[str, Any]


def _job(zb: RealZerobyte, source: Path, repository: str) -> dict[str, Any]:
    volume = zb.post("/volumes", {"name": unique("vol"), "config": {"backend": "directory", "path": str(source)}})
    job: dict[str, Any] = zb.post(
        "/backups",
        {
            "name": unique("job"),
            "volumeId": volume["shortId"],
            "repositoryId": repository,
            "enabled": True,
            "cronExpression": "0 3 1 1 *",
        },
    )
    job["_source"] = str(source)  # for the stories, not sent anywhere
    return job


@pytest.fixture(scope="module")
def big_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("big-source")
    with (root / "big.bin").open("wb") as out:
        for _ in range(BIG_FILE_MB):
            out.write(os.urandom(1 << 20))
    return root


@pytest.fixture(scope="module")
def jobs(zb_any: RealZerobyte, big_source: Path, tmp_path_factory: pytest.TempPathFactory) -> Jobs:
    root = tmp_path_factory.mktemp("v041-backups")
    small = make_files(root / "small", {"a.txt": "alpha", "b/c.txt": "gamma", "b/d.txt": "delta"})
    repo = zb_any.post(
        "/repositories",
        {"name": unique("repo"), "compressionMode": "off", "config": {"backend": "local", "path": str(root / "r")}},
    )["repository"]["shortId"]
    return Jobs(zb_any, root / "mcp", repo, _job(zb_any, small, repo), _job(zb_any, big_source, repo))


async def test_run_backup_answers_with_the_real_task_and_the_snapshot_it_made(jobs: Jobs) -> None:
    zb, job = jobs.zb, jobs.small
    async with mcp_stdio(zb, jobs.folder, McpConfig(access="operate")) as client:
        run = await call(client, "run_backup", job_id=job["shortId"])
    assert run["outcome"] == "success", run
    task = zb.get(f"/tasks/{run['id']}")  # a task id that is one: Zerobyte knows it
    assert task["kind"] == "backup"
    assert task["status"] == "succeeded"
    made = task["result"]["result"]
    snapshots = zb.snapshots(jobs.repository, job["shortId"])
    assert [s["short_id"] for s in snapshots] == [run["result"]["snapshot_id"]]
    assert made["snapshot_id"].startswith(run["result"]["snapshot_id"])
    assert run["result"]["files_new"] == made["files_new"] == 3
    assert run["result"]["processed_bytes"] == made["total_bytes_processed"] == len("alphagammadelta")
    assert zb.job(job["shortId"])["lastBackupStatus"] == "success"


async def test_cancel_task_stops_a_running_backup_and_says_it_was_cancelled(jobs: Jobs) -> None:
    zb, job = jobs.zb, jobs.big
    before = zb.snapshots(jobs.repository, job["shortId"])
    async with mcp_stdio(zb, jobs.folder, McpConfig(access="operate")) as client:
        started = await call(client, "run_backup", job_id=job["shortId"], wait=False)
        assert started["outcome"] == "running", started
        stopped = await call(client, "cancel_task", task_id=started["id"])
    assert stopped["id"] == started["id"]
    assert stopped["outcome"] == "cancelled", stopped
    assert "cannot" not in str(stopped).lower()
    task = zb.get(f"/tasks/{started['id']}")
    assert task["status"] == "cancelled"
    assert zb.snapshots(jobs.repository, job["shortId"]) == before  # stopped midway: no snapshot
    assert zb.job(job["shortId"])["lastBackupStatus"] != "in_progress"


async def test_a_backup_stopped_from_outside_is_cancelled_and_health_counts_only_runs_that_made_a_snapshot(
    jobs: Jobs,
) -> None:
    zb, job = jobs.zb, jobs.big
    big = Path(job["_source"]) / "big.bin"
    aside = big.with_name("big.aside")
    big.rename(aside)  # a quick successful run first (the big file set aside), then a long one stopped midway
    try:
        made = backup_directly(zb, job["shortId"], jobs.repository)
    finally:
        aside.rename(big)
    snapshot_time = next(s["time"] for s in zb.snapshots(jobs.repository) if s["short_id"] == made)
    zb.post(f"/backups/{job['shortId']}/run")
    task = _active_backup(zb, job)
    # Stopped as the web UI does: /backups/{id}/stop on v0.41, cancelling the task on v0.42.
    if zb.legacy:
        zb.post(f"/backups/{job['shortId']}/stop")
    else:
        zb.post(f"/tasks/{task['id']}/cancel")
    stopped = _ended_run(zb, job)
    async with mcp_stdio(zb, jobs.folder, McpConfig(access="read-only")) as client:
        listed = await call(client, "get_backup_job", job_id=job["shortId"])
        health = await call(client, "backup_health")
        seen = await call(client, "get_task", task_id=task["id"])
    assert zb.get(f"/tasks/{task['id']}")["status"] == "cancelled"
    assert [s["short_id"] for s in zb.snapshots(jobs.repository, job["shortId"])][-1] == made  # no new snapshot
    entry = listed.get("job", listed)
    assert entry["last_status"] == "cancelled", entry
    assert seen["outcome"] == "cancelled"
    (mine,) = [j for j in health["jobs"] if j["id"] == job["shortId"]]
    assert mine["state"] == "warning", mine
    assert "made no snapshot" in mine["message"]
    last_success = _ms(mine["last_success"])
    assert last_success < stopped["lastBackupAt"]  # not the stopped run
    assert last_success >= snapshot_time - 1000  # the run that made the snapshot


def _active_backup(zb: RealZerobyte, job: dict[str, Any]) -> dict[str, Any]:
    resource = str(job["id"]) if zb.legacy else job["shortId"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        tasks = zb.get("/tasks", kind="backup", resourceType="backup_schedule", resourceId=resource)
        if tasks and tasks[0]["status"] == "running":
            task: dict[str, Any] = tasks[0]
            return task
        time.sleep(0.2)
    raise AssertionError("the backup task did not show as running")


def _ended_run(zb: RealZerobyte, job: dict[str, Any]) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        row = zb.job(job["shortId"])
        if row["lastBackupStatus"] != "in_progress":
            return row
        time.sleep(0.2)
    raise AssertionError("the stopped run did not end")


def _ms(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000
