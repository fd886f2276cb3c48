"""Issue 12.8 and 12.9 on a real Zerobyte: one vocabulary, and what a read tool shows is what the write
tools take (and means the same thing there).

Retention is read back in the notation it was written in and can be sent back unchanged; empty fields are
left out of answers; a webdav volume's source and a local repository's location, copied from the read
tools into the create tools, make objects with the same settings on the real server.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.real.conftest import McpConfig, call, mcp_stdio, unique
from tests.real.seed import Seeded, backed_up_job
from tests.real.zbserver import RealZerobyte

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def seeded(zb: RealZerobyte, tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    return backed_up_job(zb, tmp_path_factory.mktemp("vocab"), {"a.txt": "alpha"}, runs=1)


async def test_retention_reads_as_it_was_written_and_empty_fields_are_left_out(
    zb: RealZerobyte, seeded: Seeded, data_root: Path
) -> None:
    written = "last 5, daily 7, within 30d"
    restore_root = data_root / "restores"
    restore_root.mkdir()
    config = McpConfig(access="operate", restore_roots=(str(restore_root),))
    async with mcp_stdio(zb, data_root / "mcp", config) as client:
        created = await call(
            client,
            "create_backup_job",
            name=unique("job"),
            volume_id=seeded.volume_id,
            repository_id=seeded.repository_id,
            schedule="0 3 1 1 *",
            retention=written,
        )
        job_id = created["job"]["id"]
        detail = await call(client, "get_backup_job", job_id=job_id)
        resent = await call(client, "update_backup_job", job_id=job_id, retention=detail["retention"])
        health = await call(client, "backup_health")
        restore = {
            "repository_id": seeded.repository_id,
            "snapshot_id": seeded.snapshots[-1],
            "paths": [str(seeded.source / "a.txt")],
            "target_path": str(restore_root / "twice"),
        }
        await call(client, "restore", **restore)
        again = await call(client, "restore", **restore)
        tools = {t.name: t for t in (await client.list_tools()).tools}
    policy = zb.job(job_id)["retentionPolicy"]
    assert {k: v for k, v in policy.items() if v} == {"keepLast": 5, "keepDaily": 7, "keepWithinDuration": "30d"}
    assert created["job"]["retention"] == detail["retention"] == written
    assert resent["outcome"] == "unchanged"
    assert "webhooks" not in detail and "mirrors" not in detail and "notifications" not in detail
    assert not [key for key in ("repositories", "volumes", "running") if key in health]
    assert again["outcome"] in ("skipped", "partial") and "landed" not in again
    assert (restore_root / "twice" / "a.txt").read_text() == "alpha"
    options = tools["create_backup_job"].input_schema["properties"]["options"]["description"]
    assert "retry_delay=30 (minutes)" in options


async def test_a_shown_source_or_location_makes_the_same_object_when_given_back(
    zb: RealZerobyte, seeded: Seeded, data_root: Path
) -> None:
    # Nothing listens on port 9: the volume is stored, its mount fails at once.
    dav = zb.post(
        "/volumes",
        {
            "name": unique("dav"),
            "config": {"backend": "webdav", "server": "127.0.0.1", "port": 9, "path": "/remote.php/dav", "ssl": False},
        },
    )
    async with mcp_stdio(zb, data_root / "mcp", McpConfig(access="operate")) as client:
        volumes = {v["id"]: v for v in (await call(client, "list_volumes"))["volumes"]}
        shown_source = volumes[dav["shortId"]]["source"]
        same = await call(client, "update_volume", volume_id=dav["shortId"], source=shown_source)
        copy = await call(
            client, "create_volume", name=unique("dav-copy"), backend="webdav", source=shown_source, test="skip"
        )
        repositories = {r["id"]: r for r in (await call(client, "list_repositories"))["repositories"]}
        shown_location = repositories[seeded.repository_id]["location"]
        connected = await call(
            client, "create_repository", name=unique("again"), backend="local", location=shown_location, existing=True
        )
    assert shown_source == "http://127.0.0.1:9/remote.php/dav"
    assert same["outcome"] == "unchanged"
    fields = ("server", "port", "path", "ssl")
    original = zb.get(f"/volumes/{dav['shortId']}")["volume"]["config"]
    copied = zb.get(f"/volumes/{copy['volume']['id']}")["volume"]["config"]
    assert {k: copied.get(k) for k in fields} == {k: original.get(k) for k in fields}
    again = connected["repository"]["id"]
    assert zb.get(f"/repositories/{again}")["config"]["path"] == shown_location
    assert {s["short_id"] for s in zb.snapshots(again)} == set(seeded.snapshots)
