"""Issue 12.3 on a real Zerobyte: 'latest' works wherever a snapshot id does, and names work wherever ids do.

One job with two backups (the files change between them) is built once through /api/v1; every story asks
through our stdio server by name or 'latest' and checks the result against the real server's own listing.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.real.conftest import McpConfig, call, mcp_stdio, refused
from tests.real.seed import Seeded, backed_up_job, job
from tests.real.zbserver import RealZerobyte

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def seeded(zb: RealZerobyte, tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    return backed_up_job(zb, tmp_path_factory.mktemp("refs"), {"notes/todo.txt": "buy milk"}, runs=2)


def _newest(zb: RealZerobyte, seeded: Seeded) -> str:
    snaps = zb.snapshots(seeded.repository_id)
    newest: str = max(snaps, key=lambda s: s["time"])["short_id"]
    return newest


async def test_latest_is_the_newest_snapshot_in_every_tool_that_takes_a_snapshot_id(
    zb: RealZerobyte, seeded: Seeded, data_root: Path
) -> None:
    newest = _newest(zb, seeded)
    assert len(seeded.snapshots) == 2 and newest == seeded.snapshots[-1]
    restore_root = data_root / "restores"
    restore_root.mkdir()
    config = McpConfig(access="full", restore_roots=(str(restore_root),))
    async with mcp_stdio(zb, data_root / "mcp", config) as client:
        snap = await call(client, "get_snapshot", repository_id=seeded.repository_id, snapshot_id="latest")
        files = await call(
            client, "list_snapshot_files", repository_id=seeded.repository_id, snapshot_id="LATEST", path="/"
        )
        restored = await call(
            client,
            "restore",
            repository_id=seeded.repository_id,
            snapshot_id="latest",
            paths=[str(seeded.source / "notes/todo.txt")],
            target_path=str(restore_root / "todo"),
        )
        by_job = await call(
            client,
            "read_snapshot_file",
            snapshot_id="latest",
            backup_job_id=seeded.job_id,
            path=str(seeded.source / "notes/todo.txt"),
        )
        delete_preview = await call(
            client, "delete_snapshots", repository_id=seeded.repository_id, snapshot_ids=["latest"]
        )
        in_place_preview = await call(
            client,
            "restore_in_place",
            repository_id=seeded.repository_id,
            snapshot_id="latest",
            paths=[str(seeded.source / "notes")],
        )
    assert snap["id"] == newest
    assert f"'latest' = snapshot {newest}" in snap["resolved"]
    assert newest in files["resolved"]
    # The restored file is the second backup's version: 'latest' meant the newest, not the first.
    assert (restore_root / "todo" / "todo.txt").read_text() == "buy milk 1"
    assert restored["resolved"].startswith(f"'latest' = snapshot {newest}")
    assert by_job["text"] == "buy milk 1"
    assert seeded.job_name in by_job["resolved"]
    for preview in (delete_preview, in_place_preview):
        assert preview["outcome"] == "confirmation_required"
        assert newest in str(preview["preview"])
    # Previews changed nothing: both snapshots are still on the server.
    assert sorted(s["short_id"] for s in zb.snapshots(seeded.repository_id)) == sorted(seeded.snapshots)


async def test_names_work_where_ids_do_and_a_near_miss_suggests_the_name_with_its_id(
    zb: RealZerobyte, seeded: Seeded, data_root: Path
) -> None:
    id_shaped = f"n{os.getpid() % 10**7:07d}"  # a name that looks like a short id: 8 letters and digits
    twin = job(zb, seeded.volume_id, seeded.repository_id, name=id_shaped)
    async with mcp_stdio(zb, data_root / "mcp") as client:
        job_answer = await call(client, "get_backup_job", job_id=seeded.job_name)
        looks_like_id = await refused(client, "get_backup_job", job_id=id_shaped)
        volume = await call(client, "get_volume", volume_id=seeded.volume_name.upper())
        repository = await call(client, "get_repository", repository_id=seeded.repository_name)
        snaps = await call(client, "list_snapshots", backup_job_id=seeded.job_name)
        typo = await refused(client, "get_backup_job", job_id=seeded.job_name[:-1] + "x")
    assert job_answer["id"] == seeded.job_id == zb.job(seeded.job_id)["shortId"]
    assert f"job_id {seeded.job_name!r} = {seeded.job_id}" in job_answer["resolved"]
    assert f"A backup job is named {id_shaped!r}: its id is {twin['shortId']}" in looks_like_id
    assert volume["id"] == seeded.volume_id
    assert repository["id"] == seeded.repository_id
    assert {s["id"] for s in snaps["snapshots"]} == set(seeded.snapshots)
    assert f"Did you mean {seeded.job_name!r} ({seeded.job_id})?" in typo
    assert "list_backup_jobs" in typo


async def test_refusals_name_the_way_forward_restore_in_place_and_the_level_it_needs(
    zb: RealZerobyte, seeded: Seeded, data_root: Path
) -> None:
    original = seeded.source / "notes"
    restore_root = data_root / "restores"
    restore_root.mkdir()
    before = zb.get("/tasks/history", kind="restore")["totalItems"]
    config = McpConfig(access="operate", restore_roots=(str(restore_root),))
    async with mcp_stdio(zb, data_root / "mcp", config) as client:
        back_home = await refused(
            client,
            "restore",
            repository_id=seeded.repository_id,
            snapshot_id="latest",
            paths=[str(original / "todo.txt")],
            target_path=str(original),
        )
        elsewhere = await refused(
            client,
            "restore",
            repository_id=seeded.repository_id,
            snapshot_id="latest",
            paths=[str(original / "todo.txt")],
            target_path=str(data_root / "elsewhere"),
        )
        in_place = await refused(
            client, "restore_in_place", repository_id=seeded.repository_id, snapshot_id="latest", paths=[str(original)]
        )
    assert "outside the allowed restore folders" in back_home
    assert "restore_in_place" in back_home and "access level full" in back_home and "operate" in back_home
    assert "restore_in_place" not in elsewhere  # a target that is not the files' origin gets no such hint
    assert "needs access level full" in in_place and "runs at operate" in in_place
    assert zb.get("/tasks/history", kind="restore")["totalItems"] == before
    assert (original / "todo.txt").read_text() == "buy milk 1"
