"""Retention and mirror syncs on Zerobyte v0.41.0, answered with what happened (and on v0.42 the same way).

v0.41 answers ``/forget`` only once the forget is done and runs mirror syncs in the background, both without a
task id. The answers must say what was forgotten or copied, never hand out a task id that is not one, and point
to a check that works (``get_mirror_status``, ``get_backup_job``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.real.conftest import McpConfig, call, make_files, mcp_stdio, refused, unique
from tests.real.story_world import backup_directly
from tests.real.zbserver import RealZerobyte

pytestmark = pytest.mark.anyio


@dataclass
class Setup:
    zb: RealZerobyte
    folder: Path
    repository: str
    mirror: str
    body: dict[str, Any]  # the job as created
    job: dict[str, Any]
    snapshots: list[str]  # oldest first


def _repository(zb: RealZerobyte, path: Path) -> str:
    body = {"name": unique("repo"), "compressionMode": "off", "config": {"backend": "local", "path": str(path)}}
    short_id: str = zb.post("/repositories", body)["repository"]["shortId"]
    return short_id


@pytest.fixture(scope="module")
def setup(zb_any: RealZerobyte, tmp_path_factory: pytest.TempPathFactory) -> Setup:
    root = tmp_path_factory.mktemp("v041-maintenance")
    source = make_files(root / "src", {"notes.txt": "one"})
    repo, mirror = _repository(zb_any, root / "r"), _repository(zb_any, root / "m")
    volume = zb_any.post("/volumes", {"name": unique("vol"), "config": {"backend": "directory", "path": str(source)}})
    body: dict[str, Any] = {
        "name": unique("job"),
        "volumeId": volume["shortId"],
        "repositoryId": repo,
        "enabled": True,
        "cronExpression": "0 3 1 1 *",
        "retentionPolicy": {"keepLast": 5},
    }
    job: dict[str, Any] = zb_any.post("/backups", body)
    for text in ("two", "three"):
        backup_directly(zb_any, job["shortId"], repo)
        (source / "notes.txt").write_text(text)
    # The mirror comes after the runs: each run copies to the mirrors itself.
    mirrors = {"mirrors": [{"repositoryId": mirror, "enabled": True}]}
    zb_any.request("PUT", f"/backups/{job['shortId']}/mirrors", json=mirrors).raise_for_status()
    snaps = sorted(zb_any.snapshots(repo, job["shortId"]), key=lambda s: str(s["time"]))
    return Setup(zb_any, root / "mcp", repo, mirror, body, job, [s["short_id"] for s in snaps])


async def test_sync_mirror_reports_the_copy_and_the_mirror_check_works(setup: Setup) -> None:
    zb, job = setup.zb, setup.job
    async with mcp_stdio(zb, setup.folder, McpConfig(access="operate")) as client:
        synced = await call(client, "sync_mirror", job_id=job["shortId"], mirror_repository_id=setup.mirror)
        status = await call(client, "get_mirror_status", job_id=job["shortId"], repository_id=setup.mirror)
        detail = await call(client, "get_backup_job", job_id=job["shortId"])
        if "task" in synced:  # v0.42: a real task, which Zerobyte knows
            assert zb.get(f"/tasks/{synced['task']['id']}")["kind"] == "mirrorSync"
            await call(client, "wait_for_task", task_id=synced["task"]["id"])
        bogus = await refused(client, "wait_for_task", task_id="unknown")
    assert synced["outcome"] == "success", synced
    assert "unknown" not in str(synced)
    copied = zb.snapshots(setup.mirror)
    assert copied, "the mirror holds no snapshot after a successful sync"
    assert status["mirror_snapshots"] == len(copied)
    assert status["source_snapshots"] == len(setup.snapshots)
    assert status["in_sync"] == (status["missing_total"] == 0)
    mirror_row = detail["job"]["mirrors"][0] if "job" in detail else detail["mirrors"][0]
    assert mirror_row["last_sync_status"] in ("success", "succeeded"), mirror_row
    assert "not a task id" in bogus
    assert "under way" not in bogus


async def test_apply_retention_says_which_snapshots_it_forgot(setup: Setup) -> None:
    zb, job = setup.zb, setup.job
    assert len(setup.snapshots) == 2
    older, newer = setup.snapshots
    # Set only now: a sync applies the job's retention to the mirror in the background (v0.41).
    policy = {**setup.body, "retentionPolicy": {"keepLast": 1}}
    zb.request("PATCH", f"/backups/{job['shortId']}", json=policy).raise_for_status()
    # Zerobyte keeps the snapshot list (and its retention marks) cached across a policy change: clear it, as a
    # day's wait would, so the preview reflects the new policy.
    zb.post(f"/repositories/{setup.repository}/snapshots/refresh")
    async with mcp_stdio(zb, setup.folder, McpConfig(access="full")) as client:
        asked = await call(client, "apply_retention", job_id=job["shortId"])
        assert asked["outcome"] == "confirmation_required", asked
        done = await call(client, "apply_retention", job_id=job["shortId"], confirm_token=asked["confirm_token"])
    left = [s["short_id"] for s in zb.snapshots(setup.repository, job["shortId"])]
    assert left == [newer]
    assert done["outcome"] == "success", done
    assert older in done["message"]
    assert "1 snapshot(s) forgotten" in done["message"]
    assert "unknown" not in str(done)
    if "task" in done:  # v0.42: a real forget task
        assert zb.get(f"/tasks/{done['task']['id']}")["status"] == "succeeded"
