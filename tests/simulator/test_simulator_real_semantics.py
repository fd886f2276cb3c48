"""Semantics copied from a real Zerobyte (v0.42 beta and v0.41.0, checked by hand and by the differential check).

Mirror sync without ids copies only the newest snapshot; a restore skips files already there and reports
what restic wrote; retention applies restic's rules grouped by tags, after every successful backup too;
``retentionCategories`` are cached and stale after a policy change until the repository's cache is cleared;
the rate limiter's headers ride on every ``/api`` answer.
"""

from __future__ import annotations

import time

import httpx

from mcp_server.simulator import Simulator
from mcp_server.simulator.testing import World, wait_task

DAY = 86_400_000


def _idle(sim: Simulator) -> None:
    assert sim.wait_idle(10)


def _snapshots(client: httpx.Client, world: World) -> list[dict[str, object]]:
    answer: list[dict[str, object]] = client.get(
        f"/repositories/{world.repository}/snapshots", params={"backupId": world.schedule}
    ).json()
    return answer


def _patch_retention(client: httpx.Client, world: World, policy: dict[str, int]) -> None:
    body = {"repositoryId": world.repository, "cronExpression": "0 3 * * *", "retentionPolicy": policy}
    assert client.patch(f"/backups/{world.schedule}", json=body).status_code == 200


def test_mirror_sync_without_ids_copies_only_the_newest_snapshot(
    sim: Simulator, client: httpx.Client, world: World
) -> None:
    mirror = sim.add_repository("offsite", config={"path": "/srv/offsite"})
    now = sim.now_ms()
    made = [sim.add_snapshot(world.repository, job=world.schedule, time_ms=now - n * DAY) for n in (3, 2, 1)]
    sim.add_snapshot(world.repository, time_ms=now - 100, tags=["other"])  # newest, but not the job's
    url = f"/backups/{world.schedule}/mirrors"
    client.put(url, json={"mirrors": [{"repositoryId": mirror["shortId"], "enabled": False}]})
    wait_task(client, client.post(f"{url}/{mirror['shortId']}/sync", json={}).json()["taskId"])
    status = client.get(f"{url}/{mirror['shortId']}/status").json()
    assert (status["sourceCount"], status["mirrorCount"]) == (3, 1)
    assert [m["short_id"] for m in status["missingSnapshots"]] == [s["short_id"] for s in made[:2]]
    copied = client.get(f"/repositories/{mirror['shortId']}/snapshots").json()
    assert [s["time"] for s in copied] == [made[2]["time"]]
    # named ids are copied, and only those
    wait_task(
        client,
        client.post(f"{url}/{mirror['shortId']}/sync", json={"snapshotIds": [made[0]["short_id"]]}).json()["taskId"],
    )
    status = client.get(f"{url}/{mirror['shortId']}/status").json()
    assert [m["short_id"] for m in status["missingSnapshots"]] == [made[1]["short_id"]]


def _restore(client: httpx.Client, world: World, snapshot: str, target: str, **extra: object) -> dict[str, object]:
    body: dict[str, object] = {
        "snapshotId": snapshot,
        "include": ["/srv/data/docs"],
        "selectedItemKind": "dir",
        "targetPath": target,
    }
    body.update(extra)
    started = client.post(f"/repositories/{world.repository}/restore", json=body).json()
    result: dict[str, object] = wait_task(client, started["restoreId"])["result"]["result"]
    return result


def test_a_restore_skips_files_already_there_and_reports_only_what_it_wrote(
    sim: Simulator, client: httpx.Client, world: World
) -> None:
    sim.add_volume("restores", path="/srv/restores", files={})
    snap = sim.add_snapshot(
        world.repository,
        job=world.schedule,
        time_ms=sim.now_ms() - DAY,
        files={"docs": {"x.txt": "xx", "y.txt": "yyy"}},
    )
    sid = str(snap["short_id"])
    first = _restore(client, world, sid, "/srv/restores/t")
    assert first == {
        "message_type": "summary",
        "total_files": 2,
        "files_restored": 2,
        "files_skipped": 0,
        "total_bytes": 5,
        "bytes_restored": 5,
    }
    # everything already there: restic writes nothing and Zerobyte reports its all-zero fallback
    nothing = {"message_type": "summary", "total_files": 0, "files_restored": 0, "files_skipped": 0, "bytes_skipped": 0}
    assert _restore(client, world, sid, "/srv/restores/t") == nothing
    # one file changed locally: the default mode rewrites it and skips the identical one
    sim.set_volume_files("restores", {"t": {"x.txt": "xx", "y.txt": "changed!"}})
    partial = _restore(client, world, sid, "/srv/restores/t")
    assert partial == {
        "message_type": "summary",
        "total_files": 1,
        "files_restored": 1,
        "files_skipped": 1,
        "total_bytes": 3,
        "bytes_restored": 3,
        "bytes_skipped": 2,
    }
    # overwrite "never" keeps the local change
    sim.set_volume_files("restores", {"t": {"x.txt": "xx", "y.txt": "changed!"}})
    assert _restore(client, world, sid, "/srv/restores/t", overwrite="never") == nothing
    listing = client.get(f"/volumes/{_volume_id(sim, 'restores')}/files", params={"path": "/t"}).json()
    assert {f["name"]: f["size"] for f in listing["files"]} == {"x.txt": 2, "y.txt": 8}


def _volume_id(sim: Simulator, name: str) -> str:
    row = sim.volume_by_name(name)
    assert row is not None
    return str(row["shortId"])


def test_a_backup_is_followed_by_a_forget_that_applies_a_tightened_policy(
    sim: Simulator, client: httpx.Client, world: World
) -> None:
    now = sim.now_ms()
    for n in (3, 2, 1):
        sim.add_snapshot(world.repository, job=world.schedule, time_ms=now - n * DAY)
    _patch_retention(client, world, {"keepLast": 1})
    wait_task(client, client.post(f"/backups/{world.schedule}/run").json()["taskId"])
    _idle(sim)
    forget = client.get("/tasks/history", params={"kind": "forget"}).json()["items"]
    assert [f["status"] for f in forget] == ["succeeded"]
    task = client.get(f"/tasks/{forget[0]['id']}").json()
    assert task["input"]["trigger"] == "postBackup" and task["input"]["retentionPolicy"] == {"keepLast": 1}
    assert task["result"] == {"kind": "forget"}
    left = _snapshots(client, world)
    assert len(left) == 1 and left[0]["retentionCategories"] == ["last"]


def test_retention_groups_by_tags_only_like_forget_group_by_tags(
    sim: Simulator, client: httpx.Client, world: World
) -> None:
    now = sim.now_ms()
    sim.add_snapshot(world.repository, job=world.schedule, time_ms=now - 3 * DAY, hostname="old-host")
    sim.add_snapshot(world.repository, job=world.schedule, time_ms=now - 2 * DAY, paths=["/elsewhere"])
    newest = sim.add_snapshot(world.repository, job=world.schedule, time_ms=now - DAY)
    _patch_retention(client, world, {"keepLast": 1})
    wait_task(client, client.post(f"/backups/{world.schedule}/forget").json()["taskId"])
    assert [s["short_id"] for s in _snapshots(client, world)] == [newest["short_id"]]


def test_retention_categories_stay_stale_after_a_policy_change_until_the_cache_is_cleared(
    sim: Simulator, client: httpx.Client, world: World
) -> None:
    now = sim.now_ms()
    for n in (3, 2, 1):
        sim.add_snapshot(world.repository, job=world.schedule, time_ms=now - n * DAY)
    _patch_retention(client, world, {"keepLast": 3})
    assert [s["retentionCategories"] for s in _snapshots(client, world)] == [["last"]] * 3
    _patch_retention(client, world, {"keepLast": 1})
    # Zerobyte does not recompute them after the change: the preview still keeps all three
    assert [s["retentionCategories"] for s in _snapshots(client, world)] == [["last"]] * 3
    refreshed = client.post(f"/repositories/{world.repository}/snapshots/refresh")
    assert refreshed.status_code == 200
    assert [s["retentionCategories"] for s in _snapshots(client, world)] == [[], [], ["last"]]


def test_retention_categories_expire_after_a_day(sim: Simulator, client: httpx.Client, world: World) -> None:
    clock = [time.time()]
    sim.clock = lambda: clock[0]
    now = sim.now_ms()
    for n in (2, 1):
        sim.add_snapshot(world.repository, job=world.schedule, time_ms=now - n * DAY)
    _patch_retention(client, world, {"keepLast": 2})
    assert [s["retentionCategories"] for s in _snapshots(client, world)] == [["last"], ["last"]]
    _patch_retention(client, world, {"keepLast": 1})
    assert [s["retentionCategories"] for s in _snapshots(client, world)] == [["last"], ["last"]]
    clock[0] += 86_401
    assert [s["retentionCategories"] for s in _snapshots(client, world)] == [[], ["last"]]


def test_rate_limit_headers_ride_on_every_api_answer_in_a_fixed_window(sim: Simulator, client: httpx.Client) -> None:
    sim.rate_limit = 5
    sim.rate_limit_window = 300
    first = client.get("/volumes")
    assert first.headers["ratelimit-policy"] == "5;w=300"
    assert (first.headers["ratelimit-limit"], first.headers["ratelimit-remaining"]) == ("5", "4")
    assert 299 <= int(first.headers["ratelimit-reset"]) <= 300
    remaining = [client.get("/volumes").headers["ratelimit-remaining"] for _ in range(4)]
    assert remaining == ["3", "2", "1", "0"]
    refused = client.get("/system/info")
    assert refused.status_code == 429 and refused.text == "Too many requests, please try again later."
    assert refused.headers["content-type"] == "text/plain; charset=UTF-8"
    assert refused.headers["ratelimit-remaining"] == "0"
    assert refused.headers["retry-after"] == refused.headers["ratelimit-reset"]
    sim.rate_limit = None
    assert "ratelimit-limit" not in client.get("/volumes").headers
