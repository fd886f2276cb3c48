"""Snapshot routes: listing, retention categories, details, files paging, dump/tar, restore, delete, tag."""

from __future__ import annotations

import io
import tarfile

import httpx

from mcp_server.simulator import Simulator
from mcp_server.simulator.testing import World, wait_task

DAY = 86_400_000


def _two_snapshots(sim: Simulator, world: World) -> tuple[str, str]:
    now = sim.now_ms()
    a = sim.add_snapshot(world.repository, job=world.schedule, time_ms=now - 3_600_000)
    b = sim.add_snapshot(world.repository, job=world.schedule, time_ms=now - 60_000)
    return a["short_id"], b["short_id"]


def test_snapshots_are_listed_oldest_first_with_ms_times(sim: Simulator, client: httpx.Client, world: World) -> None:
    first, second = _two_snapshots(sim, world)
    sim.add_snapshot(world.repository, time_ms=sim.now_ms() - 2 * DAY, tags=["manual"])
    snaps = client.get(f"/repositories/{world.repository}/snapshots").json()
    assert [s["short_id"] for s in snaps][-2:] == [first, second]
    assert snaps[0]["tags"] == ["manual"]
    assert all(s["retentionCategories"] == [] for s in snaps)
    assert {"short_id", "time", "paths", "size", "duration", "tags", "retentionCategories", "summary"} <= set(snaps[1])
    mine = client.get(f"/repositories/{world.repository}/snapshots", params={"backupId": world.schedule}).json()
    assert [s["short_id"] for s in mine] == [first, second]


def test_retention_categories_follow_restic_including_oldest_buckets(
    sim: Simulator, client: httpx.Client, world: World
) -> None:
    _two_snapshots(sim, world)  # same day, policy keepLast 5 / keepDaily 7 (sample 56)
    mine = client.get(f"/repositories/{world.repository}/snapshots", params={"backupId": world.schedule}).json()
    assert [s["retentionCategories"] for s in mine] == [["last", "daily"], ["last", "daily"]]


def test_retention_categories_group_by_tags_like_sample_121(sim: Simulator, client: httpx.Client, world: World) -> None:
    now = sim.now_ms()
    client.patch(
        f"/backups/{world.schedule}",
        json={
            "repositoryId": world.repository,
            "cronExpression": "30 2 * * *",
            "retentionPolicy": {"keepLast": 3, "keepDaily": 7, "keepWeekly": 4},
        },
    )
    sim.add_snapshot(world.repository, job=world.schedule, time_ms=now - 300_000, tags=["keep-me"])
    sim.add_snapshot(world.repository, job=world.schedule, time_ms=now - 200_000)
    sim.add_snapshot(world.repository, job=world.schedule, time_ms=now - 100_000)
    mine = client.get(f"/repositories/{world.repository}/snapshots", params={"backupId": world.schedule}).json()
    assert [s["retentionCategories"] for s in mine] == [["last", "daily", "weekly"]] * 3


def test_snapshot_details_add_hostname_and_empty_categories(sim: Simulator, client: httpx.Client, world: World) -> None:
    snap = sim.add_snapshot(world.repository, job=world.schedule, time_ms=sim.now_ms())
    by_short = client.get(f"/repositories/{world.repository}/snapshots/{snap['short_id']}").json()
    by_full = client.get(f"/repositories/{world.repository}/snapshots/{snap['id']}").json()
    assert by_short == by_full
    assert by_short["hostname"] == "zerobyte"
    assert by_short["retentionCategories"] == []
    missing = client.get(f"/repositories/{world.repository}/snapshots/deadbeef")
    assert missing.status_code == 404
    assert missing.json() == {"message": "Snapshot not found"}


def test_files_without_path_walk_everything_like_restic_ls(sim: Simulator, client: httpx.Client, world: World) -> None:
    snap = sim.add_snapshot(world.repository, job=world.schedule, time_ms=sim.now_ms())
    r = client.get(f"/repositories/{world.repository}/snapshots/{snap['short_id']}/files")
    assert r.headers["cache-control"].startswith("max-age=300")
    body = r.json()
    assert [f["path"] for f in body["files"]] == [
        "/srv",
        "/srv/data",
        "/srv/data/docs",
        "/srv/data/docs/data.json",
        "/srv/data/docs/notes.md",
        "/srv/data/docs/numbers.txt",
        "/srv/data/hello.txt",
        "/srv/data/link-to-hello",
        "/srv/data/photos",
        "/srv/data/photos/2026",
        "/srv/data/photos/2026/random.bin",
    ]
    assert body["snapshot"]["id"] == snap["id"]
    assert body["snapshot"]["time"].endswith("Z") and "T" in body["snapshot"]["time"]
    node = body["files"][6]
    assert node == {
        "name": "hello.txt",
        "type": "file",
        "path": "/srv/data/hello.txt",
        "uid": 0,
        "gid": 0,
        "size": 15,
        "mode": 420,
        "mtime": node["mtime"],
        "atime": node["mtime"],
        "ctime": node["mtime"],
        "struct_type": "node",
    }
    assert body["files"][7]["type"] == "symlink"
    paged = client.get(
        f"/repositories/{world.repository}/snapshots/{snap['short_id']}/files", params={"offset": 2, "limit": 3}
    ).json()
    assert [f["name"] for f in paged["files"]] == ["docs", "data.json", "notes.md"]
    assert (paged["offset"], paged["limit"], paged["total"], paged["hasMore"]) == (2, 3, 11, True)


def test_files_with_a_path_list_the_folder_and_its_children(sim: Simulator, client: httpx.Client, world: World) -> None:
    snap = sim.add_snapshot(world.repository, job=world.schedule, time_ms=sim.now_ms())
    body = client.get(
        f"/repositories/{world.repository}/snapshots/{snap['short_id']}/files", params={"path": "/srv/data/docs"}
    ).json()
    assert [f["name"] for f in body["files"]] == ["docs", "data.json", "notes.md", "numbers.txt"]
    assert body["total"] == 4


def test_files_limit_is_capped_at_500(sim: Simulator, client: httpx.Client, world: World) -> None:
    sim.set_volume_files(world.volume, {f"f{i:04d}.txt": 1 for i in range(800)})
    snap = sim.add_snapshot(world.repository, job=world.schedule, time_ms=sim.now_ms())
    body = client.get(
        f"/repositories/{world.repository}/snapshots/{snap['short_id']}/files", params={"limit": 1000}
    ).json()
    assert body["limit"] == 500
    assert len(body["files"]) == 500
    assert body["total"] == 802
    assert body["hasMore"] is True


def test_files_of_an_unknown_snapshot_is_restic_s_error_as_a_500(client: httpx.Client, world: World) -> None:
    r = client.get(f"/repositories/{world.repository}/snapshots/deadbeef/files")
    assert r.status_code == 500
    assert r.json() == {
        "message": "Command failed: An error occurred while executing the command.",
        "details": '{"message_type":"exit_error","code":1,"message":"no matching ID found for prefix \\"deadbeef\\""}',
    }


def test_dump_of_a_file_streams_its_bytes(sim: Simulator, client: httpx.Client, world: World) -> None:
    snap = sim.add_snapshot(world.repository, job=world.schedule, time_ms=sim.now_ms())
    r = client.get(
        f"/repositories/{world.repository}/snapshots/{snap['short_id']}/dump",
        params={"path": "/srv/data/hello.txt", "kind": "file"},
    )
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/octet-stream"
    assert r.headers["content-disposition"] == "attachment; filename=hello.txt"
    assert "content-length" not in r.headers
    assert r.content == b"hello zerobyte\n"
    big = client.get(
        f"/repositories/{world.repository}/snapshots/{snap['short_id']}/dump",
        params={"path": "/srv/data/photos/2026/random.bin", "kind": "file"},
    )
    assert len(big.content) == 200000


def test_dump_of_a_folder_is_a_real_tar(sim: Simulator, client: httpx.Client, world: World) -> None:
    snap = sim.add_snapshot(world.repository, job=world.schedule, time_ms=sim.now_ms())
    r = client.get(
        f"/repositories/{world.repository}/snapshots/{snap['short_id']}/dump",
        params={"path": "/srv/data/docs", "kind": "dir"},
    )
    assert r.headers["content-type"] == "application/x-tar"
    assert r.headers["content-disposition"] == f"attachment; filename=snapshot-{snap['short_id']}.tar"
    with tarfile.open(fileobj=io.BytesIO(r.content)) as tar:
        names = tar.getnames()
        member = tar.extractfile("docs/data.json")
        assert member is not None
        assert member.read() == b'{"hello": "zerobyte"}'
    assert names == ["docs/data.json", "docs/notes.md", "docs/numbers.txt"]
    whole = client.get(f"/repositories/{world.repository}/snapshots/{snap['short_id']}/dump")
    with tarfile.open(fileobj=io.BytesIO(whole.content)) as tar:
        # As on a real Zerobyte (v0.42): the whole snapshot is its base folder (/srv/data), names relative to it.
        assert "hello.txt" in tar.getnames()
        assert tar.getmember("link-to-hello").issym()


def test_dump_errors(sim: Simulator, client: httpx.Client, world: World) -> None:
    snap = sim.add_snapshot(world.repository, job=world.schedule, time_ms=sim.now_ms())
    base = f"/repositories/{world.repository}/snapshots/{snap['short_id']}/dump"
    no_kind = client.get(base, params={"path": "/srv/data/hello.txt"})
    assert no_kind.status_code == 400
    assert no_kind.json() == {"message": "Path kind is required when downloading a specific snapshot path"}
    outside = client.get(base, params={"path": "/etc/passwd", "kind": "file"})
    assert outside.status_code == 400
    assert outside.json() == {"message": "Requested path is outside the snapshot base path"}
    assert client.get(base, params={"path": "/srv/data/x", "kind": "nope"}).status_code == 400
    assert client.get(f"/repositories/{world.repository}/snapshots/deadbeef/dump").status_code == 404


def test_restore_in_place_brings_a_deleted_file_back(sim: Simulator, client: httpx.Client, world: World) -> None:
    snap = sim.add_snapshot(world.repository, job=world.schedule, time_ms=sim.now_ms())
    sim.set_volume_files(world.volume, {"docs": {}})
    r = client.post(
        f"/repositories/{world.repository}/restore",
        json={"snapshotId": snap["short_id"], "include": ["/srv/data/hello.txt"], "selectedItemKind": "file"},
    )
    assert r.status_code == 202
    assert r.json()["status"] == "started"
    task = wait_task(client, r.json()["restoreId"])
    assert task["kind"] == "restore"
    assert task["operationKey"] == snap["short_id"]
    assert task["input"] == {
        "kind": "restore",
        "repositoryId": world.repository,
        "snapshotId": snap["short_id"],
        "target": "/",
    }
    # restic counts the folders it restores on the way (/srv, /srv/data) in files_restored, not in total_files
    assert (task["result"]["result"]["total_files"], task["result"]["result"]["files_restored"]) == (1, 3)
    files = client.get(f"/volumes/{world.volume}/files").json()["files"]
    assert "hello.txt" in [f["name"] for f in files]


def test_restore_of_a_folder_to_a_custom_target_lands_its_contents(
    sim: Simulator, client: httpx.Client, world: World
) -> None:
    snap = sim.add_snapshot(world.repository, job=world.schedule, time_ms=sim.now_ms())
    r = client.post(
        f"/repositories/{world.repository}/restore",
        json={
            "snapshotId": snap["short_id"],
            "include": ["/srv/data/docs"],
            "selectedItemKind": "dir",
            "targetPath": "/srv/data/restored",
            "overwrite": "always",
            "exclude": ["numbers.txt"],
        },
    )
    task = wait_task(client, r.json()["restoreId"])
    summary = task["result"]["result"]
    assert summary["files_restored"] == 2 and summary["total_files"] == 2
    names = [
        f["name"] for f in client.get(f"/volumes/{world.volume}/files", params={"path": "/restored"}).json()["files"]
    ]
    assert names == ["data.json", "notes.md"]
    assert sim.restores[-1]["target"] == "/srv/data/restored"


def test_restore_rejections(sim: Simulator, client: httpx.Client, world: World) -> None:
    snap = sim.add_snapshot(world.repository, job=world.schedule, time_ms=sim.now_ms())
    url = f"/repositories/{world.repository}/restore"
    tmp = client.post(
        url, json={"snapshotId": snap["short_id"], "include": ["/srv/data/hello.txt"], "targetPath": "/tmp/x"}
    )
    assert tmp.status_code == 400
    assert tmp.json()["message"].startswith("Restore target path is not allowed.")
    bad = {"snapshotId": snap["short_id"], "overwrite": "sometimes", "targetPath": "/srv/restore/x"}
    zod = client.post(url, json=bad)
    assert zod.status_code == 400
    assert zod.json() == {
        "data": bad,
        "error": [
            {
                "code": "invalid_value",
                "values": ["always", "if-changed", "if-newer", "never"],
                "path": ["overwrite"],
                "message": 'Invalid option: expected one of "always"|"if-changed"|"if-newer"|"never"',
            }
        ],
        "success": False,
    }
    assert client.post(url, json={"snapshotId": "deadbeef"}).status_code == 404
    first = client.post(url, json={"snapshotId": snap["short_id"], "targetPath": "/srv/r1"})
    assert first.status_code == 202
    again = client.post(url, json={"snapshotId": snap["short_id"], "targetPath": "/srv/r2"})
    assert again.status_code == 409
    assert again.json() == {"message": "A restore is already running for this snapshot"}


def test_deleting_snapshots_runs_a_task_even_for_unknown_ids(
    sim: Simulator, client: httpx.Client, world: World
) -> None:
    first, second = _two_snapshots(sim, world)
    r = client.delete(f"/repositories/{world.repository}/snapshots/{first}")
    assert r.status_code == 202
    done = wait_task(client, r.json()["taskId"])
    assert done["result"] == {"kind": "deleteSnapshots", "deletedSnapshotIds": [first]}
    assert [s["short_id"] for s in client.get(f"/repositories/{world.repository}/snapshots").json()] == [second]
    ghost = wait_task(client, client.delete(f"/repositories/{world.repository}/snapshots/deadbeef").json()["taskId"])
    assert ghost["status"] == "succeeded"
    assert ghost["result"]["deletedSnapshotIds"] == ["deadbeef"]


def test_bulk_delete_takes_a_json_body_on_delete(sim: Simulator, client: httpx.Client, world: World) -> None:
    first, second = _two_snapshots(sim, world)
    r = client.request("DELETE", f"/repositories/{world.repository}/snapshots", json={"snapshotIds": [first, second]})
    assert r.status_code == 202
    wait_task(client, r.json()["taskId"])
    assert client.get(f"/repositories/{world.repository}/snapshots").json() == []
    empty = client.request("DELETE", f"/repositories/{world.repository}/snapshots", json={"snapshotIds": []})
    assert empty.status_code == 400
    assert empty.json()["error"][0]["code"] == "too_small"


def test_tagging_changes_the_snapshot_id_but_reports_the_old_one(
    sim: Simulator, client: httpx.Client, world: World
) -> None:
    first, second = _two_snapshots(sim, world)
    r = client.post(
        f"/repositories/{world.repository}/snapshots/tag", json={"snapshotIds": [second], "add": ["keep-me"]}
    )
    assert r.status_code == 202
    done = wait_task(client, r.json()["taskId"])
    assert done["input"] == {
        "kind": "tagSnapshots",
        "repositoryId": world.repository,
        "snapshotIds": [second],
        "add": ["keep-me"],
    }
    assert done["result"] == {"kind": "tagSnapshots", "taggedSnapshotIds": [second]}
    snaps = client.get(f"/repositories/{world.repository}/snapshots").json()
    assert snaps[0]["short_id"] == first
    assert snaps[1]["short_id"] != second
    assert snaps[1]["tags"] == [world.schedule, "keep-me"]
    assert client.get(f"/repositories/{world.repository}/snapshots/{second}").status_code == 404
    assert client.post(f"/tasks/{done['id']}/cancel").status_code == 409
