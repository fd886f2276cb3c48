"""Mirroring a job that already has backups, on v0.42 and v0.41: every missing snapshot reaches the mirror.

A real Zerobyte asked to sync with no snapshot ids copies only the newest one (``restic copy ... latest``);
our ``sync_mirror`` names the missing ones, follows the copy (a task on v0.42, the mirror row on v0.41) and
answers what arrived. Each story reads the mirror's state back from Zerobyte.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.real.conftest import McpConfig, call, mcp_stdio, refused, unique
from tests.real.story_world import Arranged, arrange_job, backup_directly
from tests.real.zbserver import RealZerobyte

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def job(zb_any: RealZerobyte, tmp_path_factory: pytest.TempPathFactory) -> Arranged:
    """A job without retention (nothing is forgotten on the mirror) and two snapshots before any mirror."""
    root = tmp_path_factory.mktemp("mirror")
    arranged = arrange_job(zb_any, root, {"a.txt": "one"})
    for i in range(2):
        (arranged.source / f"n{i}.txt").write_text(str(i))
        backup_directly(zb_any, arranged.job_id, arranged.repository_id)
    return arranged


def missing_ids(zb: RealZerobyte, job_id: str, mirror_id: str) -> list[str]:
    """What Zerobyte's own mirror status says is missing (two restic listings: used sparingly)."""
    status = zb.get(f"/backups/{job_id}/mirrors/{mirror_id}/status")
    return [str(s["short_id"]) for s in status["missingSnapshots"]]


def last_copy(zb: RealZerobyte, job_id: str, mirror_id: str) -> object:
    """The mirror row's record of its last copy (a task on v0.42, a time and status on v0.41): changes with a sync."""
    [row] = [m for m in zb.get(f"/backups/{job_id}/mirrors") if m["repositoryId"] == mirror_id]
    return (row.get("lastSyncTask"), row.get("lastCopyAt"), row.get("lastCopyStatus"))


async def test_a_new_mirror_gets_every_existing_snapshot(zb_any: RealZerobyte, job: Arranged, tmp_path: Path) -> None:
    zb = zb_any
    source = zb.snapshots(job.repository_id)
    assert len(source) == 2
    async with mcp_stdio(zb, tmp_path / "mcp", McpConfig(access="operate")) as client:
        mirror = await call(
            client, "create_repository", name=unique("offsite"), backend="local", location=str(tmp_path / "offsite")
        )
        mirror_id = mirror["repository"]["id"]
        await call(client, "set_mirror", job_id=job.job_id, repository_id=mirror_id)
        assert zb.snapshots(mirror_id) == []
        synced = await call(client, "sync_mirror", job_id=job.job_id, mirror_repository_id=mirror_id)
    assert synced["outcome"] == "success"
    assert sorted(synced["copied"]) == sorted(s["short_id"] for s in source)
    assert synced.get("still_missing", []) == []
    assert "The mirror is in sync." in synced["message"]
    # On the server: nothing missing, and the mirror holds a snapshot of each source time.
    assert missing_ids(zb, job.job_id, mirror_id) == []
    assert sorted(s["time"] for s in zb.snapshots(mirror_id)) == sorted(s["time"] for s in source)


async def test_sync_copies_the_asked_snapshots_then_the_rest(
    zb_any: RealZerobyte, job: Arranged, tmp_path: Path
) -> None:
    zb = zb_any
    async with mcp_stdio(zb, tmp_path / "mcp", McpConfig(access="operate")) as client:
        mirror = await call(
            client, "create_repository", name=unique("second"), backend="local", location=str(tmp_path / "second")
        )
        mirror_id = mirror["repository"]["id"]
        await call(client, "set_mirror", job_id=job.job_id, repository_id=mirror_id)
        older, newer = (s["short_id"] for s in zb.snapshots(job.repository_id)[-2:])

        one = await call(client, "sync_mirror", job_id=job.job_id, mirror_repository_id=mirror_id, snapshot_ids=[older])
        assert one["copied"] == [older]
        assert one["outcome"] == "success"
        left = missing_ids(zb, job.job_id, mirror_id)
        assert left == [newer]
        assert sorted(line.split()[0] for line in one["still_missing"]) == sorted(left)

        copied_once = last_copy(zb, job.job_id, mirror_id)
        again = await call(
            client, "sync_mirror", job_id=job.job_id, mirror_repository_id=mirror_id, snapshot_ids=[older]
        )
        assert again["outcome"] == "success" and again.get("copied", []) == []
        assert "Nothing to copy" in again["message"]
        unknown = await refused(
            client, "sync_mirror", job_id=job.job_id, mirror_repository_id=mirror_id, snapshot_ids=["0badc0de"]
        )
        assert "0badc0de" in unknown and "nothing was copied" in unknown
        assert last_copy(zb, job.job_id, mirror_id) == copied_once  # neither started a copy

        rest = await call(client, "sync_mirror", job_id=job.job_id, mirror_repository_id=mirror_id)
    assert rest["outcome"] == "success"
    assert sorted(rest["copied"]) == sorted(left)
    assert missing_ids(zb, job.job_id, mirror_id) == []
    assert len(zb.snapshots(mirror_id)) == 2
