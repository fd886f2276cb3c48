"""Every public method of ``ZerobyteClient`` called over real HTTP against a seeded simulator.

The replay suite (tests/contract) proves the client matches recorded real exchanges; this one proves each
method end to end against live state: the parsed answer holds the right names and numbers, and the request
the simulator recorded is exactly the one Zerobyte expects (method, path, query, body). It also pins the
transport guarantees the tools rely on: ids never reach another route, GETs are retried and writes never,
and a rotated key file is picked up after one 401. A meta-test fails when a new method has no test here.
"""

from __future__ import annotations

import inspect
import io
import tarfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import anyio
import pytest

from mcp_server.config import Settings
from mcp_server.server import make_client
from mcp_server.simulator import RecordedRequest, Simulator, SimulatorServer
from mcp_server.simulator.testing import SAMPLE_TREE
from mcp_server.zerobyte import (
    AuthenticationFailed,
    InvalidArgument,
    NotFound,
    ServerError,
    ZerobyteClient,
    ZerobyteUnreachable,
)
from mcp_server.zerobyte.http import LOCK_RETRIES, SSEEvent
from mcp_server.zerobyte.models import Task
from tests.helpers import TEST_KEY

pytestmark = pytest.mark.anyio

API = "/api/v1"
DAY_MS = 86_400_000
ODD_NAME = "a b+c&d#e?f%g 100%.txt"  # every character that could split a query or be decoded twice


@dataclass
class World:
    volume: str
    volume_id: int
    spare_volume: str
    repository: str
    mirror_repository: str
    job: str
    job_id: int
    snapshots: list[str]  # short ids of the job's snapshots, oldest first
    snapshot_full: str  # full id of the newest one
    foreign_snapshot: str  # an untagged snapshot in the same repository
    destination: int


@pytest.fixture
def world(sim: Simulator) -> World:
    """The recorded samples' situation plus a mirror repository, a spare volume and a destination."""
    vol = sim.add_volume("sample-files", path="/srv/data", files={**SAMPLE_TREE, ODD_NAME: b"odd bytes\x00\xff"})
    spare = sim.add_volume("spare", path="/srv/spare", files={"x.txt": "x"})
    repo = sim.add_repository("local-repo", config={"path": "/srv/repos"})
    mirror = sim.add_repository("offsite", config={"path": "/srv/offsite"})
    job = sim.add_backup_job(
        "sample-daily",
        volume=vol["shortId"],
        repository=repo["shortId"],
        cron="0 3 * * *",
        retention={"keepLast": 5, "keepDaily": 7},
        exclude_patterns=["*.tmp"],
    )
    now = sim.now_ms()
    snaps = [sim.add_snapshot(repo["shortId"], job=job["shortId"], time_ms=now - d * DAY_MS) for d in (3, 2, 1)]
    foreign = sim.add_snapshot(repo["shortId"], time_ms=now - 5 * DAY_MS, files={"other.txt": "o"}, paths=["/x"])
    dest = sim.add_notification_destination("ops-webhook")
    return World(
        volume=vol["shortId"],
        volume_id=vol["id"],
        spare_volume=spare["shortId"],
        repository=repo["shortId"],
        mirror_repository=mirror["shortId"],
        job=job["shortId"],
        job_id=job["id"],
        snapshots=[s["short_id"] for s in snaps],
        snapshot_full=snaps[-1]["id"],
        foreign_snapshot=foreign["short_id"],
        destination=dest["id"],
    )


@pytest.fixture
async def client(settings: Settings, sim: Simulator) -> AsyncIterator[ZerobyteClient]:
    """The production client (``make_client``) on the simulator; the request log starts empty."""
    async with make_client(settings) as zb:
        sim.requests.clear()
        yield zb
    sim.wait_idle(10)


@pytest.fixture
async def fast_retry_client(sim_server: SimulatorServer) -> AsyncIterator[ZerobyteClient]:
    """A client whose retry backoff is zero, so retry tests need no waiting."""
    async with ZerobyteClient(sim_server.url, TEST_KEY, backoff=0.0) as zb:
        yield zb


@dataclass
class Legacy:
    sim: Simulator
    client: ZerobyteClient
    world: World


@pytest.fixture
def legacy_server() -> Iterator[tuple[Simulator, SimulatorServer]]:
    # Long enough tasks that a legacy backup is still running when the test stops it.
    sim = Simulator(api_keys=[TEST_KEY], legacy=True, task_seconds=3.0, progress_interval=0.05)
    with SimulatorServer(sim) as server:
        yield sim, server
    sim.close()


@pytest.fixture
async def legacy(legacy_server: tuple[Simulator, SimulatorServer]) -> AsyncIterator[Legacy]:
    sim, server = legacy_server
    vol = sim.add_volume("sample-files", path="/srv/data", files=SAMPLE_TREE)
    repo = sim.add_repository("local-repo", config={"path": "/srv/repos"})
    job = sim.add_backup_job(
        "sample-daily", volume=vol["shortId"], repository=repo["shortId"], retention={"keepLast": 3}
    )
    world = World(vol["shortId"], vol["id"], "", repo["shortId"], "", job["shortId"], job["id"], [], "", "", 0)
    async with ZerobyteClient(server.url, TEST_KEY) as zb:
        yield Legacy(sim, zb, world)


def sent(
    sim: Simulator, method: str, path: str, *, query: dict[str, str] | None = None, body: Any = None
) -> RecordedRequest:
    """The last request the simulator received, checked field by field (the key header included)."""
    assert sim.requests, "no request reached the simulator"
    req = sim.requests[-1]
    assert (req.method, req.path) == (method, API + path)
    assert req.query == (query or {})
    assert req.body == body
    assert req.headers.get("x-api-key") == "<redacted>"
    return req


def wait_for(sim: Simulator, task_id: str) -> dict[str, Any]:
    return dict(sim.wait_task(task_id, timeout=10))


# --- system ---------------------------------------------------------------------------------------------


async def test_system_info_reports_runtime_and_capabilities(sim: Simulator, client: ZerobyteClient) -> None:
    sim.rclone_remotes = [{"name": "gdrive", "type": "drive"}]
    info = await client.system_info()
    assert info.runtime == "server"
    assert info.capabilities["rclone"] is True and "rclone" in info.capabilities["volumeBackends"]
    sent(sim, "GET", "/system/info")


async def test_system_updates_reports_versions_and_missed_releases(sim: Simulator, client: ZerobyteClient) -> None:
    sim.app_version, sim.latest_version = "v0.42.0", "v0.42.1"
    updates = await client.system_updates()
    assert (updates.currentVersion, updates.latestVersion, updates.hasUpdate) == ("v0.42.0", "v0.42.1", True)
    assert [r["version"] for r in updates.missedReleases] == ["v0.42.1"]
    sent(sim, "GET", "/system/updates")


async def test_registration_password_login_and_dev_panel_flags_are_read(sim: Simulator, client: ZerobyteClient) -> None:
    sim.registration_enabled, sim.password_login_disabled, sim.dev_panel_enabled = True, True, False
    assert await client.registration_status() is True
    sent(sim, "GET", "/system/registration-status")
    assert await client.password_login_status() is True
    sent(sim, "GET", "/system/password-login-status")
    assert await client.dev_panel_enabled() is False
    sent(sim, "GET", "/system/dev-panel")
    sim.registration_enabled, sim.password_login_disabled, sim.dev_panel_enabled = False, False, True
    assert (await client.registration_status(), await client.password_login_status()) == (False, False)
    assert await client.dev_panel_enabled() is True


async def test_auth_status_answers_even_with_a_rejected_key(sim: Simulator, sim_server: SimulatorServer) -> None:
    async with ZerobyteClient(sim_server.url, "zb_not_a_known_key") as zb:
        assert await zb.auth_status() is True
    sent(sim, "GET", "/auth/status")
    assert len(sim.requests) == 1


async def test_detect_capabilities_on_a_modern_server_finds_tasks_and_history(
    sim: Simulator, client: ZerobyteClient
) -> None:
    caps = await client.detect_capabilities()
    assert (caps.tasks_api, caps.task_history, caps.legacy_backup_control) == (True, True, False)
    assert caps.notes == [] and client.capabilities is caps
    # One request: the history route exists only where the tasks API does; /system/updates waits on GitHub.
    assert [(r.method, r.path, r.query) for r in sim.requests] == [("GET", API + "/tasks/history", {"page": "1"})]


async def test_detect_capabilities_on_v041_reports_no_history_and_legacy_backup_control(legacy: Legacy) -> None:
    caps = await legacy.client.detect_capabilities()
    assert (caps.tasks_api, caps.task_history, caps.legacy_backup_control) == (True, False, True)
    assert any("no task history" in n for n in caps.notes)
    assert [r.path for r in legacy.sim.requests] == [API + "/tasks/history", API + "/tasks"]


# --- volumes --------------------------------------------------------------------------------------------


async def test_list_volumes_returns_every_volume(sim: Simulator, world: World, client: ZerobyteClient) -> None:
    volumes = await client.list_volumes()
    assert [(v.shortId, v.name, v.status) for v in volumes] == [
        (world.volume, "sample-files", "mounted"),
        (world.spare_volume, "spare", "mounted"),
    ]
    assert volumes[0].config["path"] == "/srv/data"
    sent(sim, "GET", "/volumes")


async def test_get_volume_returns_the_row_its_path_and_disk_usage(
    sim: Simulator, world: World, client: ZerobyteClient
) -> None:
    detail = await client.get_volume(world.volume)
    assert (detail.volume.shortId, detail.volume.name, detail.volume.path) == (
        world.volume,
        "sample-files",
        "/srv/data",
    )
    assert detail.statfs is not None and detail.statfs.total == 4 * 1024**4 and detail.statfs.used > 0
    sent(sim, "GET", f"/volumes/{world.volume}")


async def test_get_volume_of_an_unknown_id_names_it_in_the_not_found_message(
    sim: Simulator, client: ZerobyteClient
) -> None:
    with pytest.raises(NotFound, match="Volume 'nope1234' was not found") as caught:
        await client.get_volume("nope1234")
    assert not caught.value.route_missing
    sent(sim, "GET", "/volumes/nope1234")


async def test_create_volume_posts_name_and_config_and_returns_the_pre_mount_row(
    sim: Simulator, client: ZerobyteClient
) -> None:
    config = {"backend": "directory", "path": "/srv/docs"}
    created = await client.create_volume("docs", config)
    assert (created.name, created.type, created.status) == ("docs", "directory", "unmounted")
    sent(sim, "POST", "/volumes", body={"name": "docs", "config": config})
    assert sim.volume_by_short_id(created.shortId) is not None
    assert sim.volume_by_short_id(created.shortId)["status"] == "mounted"  # type: ignore[index]


async def test_update_volume_puts_the_changes(sim: Simulator, world: World, client: ZerobyteClient) -> None:
    updated = await client.update_volume(world.spare_volume, {"name": "spare-2", "autoRemount": False})
    assert (updated.shortId, updated.name, updated.autoRemount) == (world.spare_volume, "spare-2", False)
    sent(sim, "PUT", f"/volumes/{world.spare_volume}", body={"name": "spare-2", "autoRemount": False})


async def test_delete_volume_removes_it(sim: Simulator, world: World, client: ZerobyteClient) -> None:
    answer = await client.delete_volume(world.spare_volume)
    assert answer.message == "Volume deleted"
    sent(sim, "DELETE", f"/volumes/{world.spare_volume}")
    assert sim.volume_by_short_id(world.spare_volume) is None


async def test_test_volume_connection_reports_success_and_the_failure_reason(
    sim: Simulator, client: ZerobyteClient
) -> None:
    good = {"backend": "directory", "path": "/srv/data"}
    result = await client.test_volume_connection(good)
    assert (result.success, result.message) == (True, "Connection successful")
    sent(sim, "POST", "/volumes/test-connection", body={"config": good})
    bad = {"backend": "directory", "path": "/srv/does-not-exist"}
    result = await client.test_volume_connection(bad)
    assert result.success is False and "ENOENT" in (result.message or "")
    sent(sim, "POST", "/volumes/test-connection", body={"config": bad})


async def test_mount_unmount_and_health_check_return_the_volume_status(
    sim: Simulator, world: World, client: ZerobyteClient
) -> None:
    assert (await client.unmount_volume(world.volume)).status == "unmounted"
    sent(sim, "POST", f"/volumes/{world.volume}/unmount")
    assert (await client.health_check_volume(world.volume)).status == "unmounted"
    sent(sim, "POST", f"/volumes/{world.volume}/health-check")
    mounted = await client.mount_volume(world.volume)
    assert (mounted.status, mounted.error) == ("mounted", None)
    sent(sim, "POST", f"/volumes/{world.volume}/mount")
    assert (await client.health_check_volume(world.volume)).status == "mounted"


async def test_a_failed_mount_is_a_result_with_the_error_not_an_exception(
    sim: Simulator, client: ZerobyteClient
) -> None:
    nas = sim.add_volume("nas", backend="nfs", status="unmounted")
    problem = "mount.nfs: access denied by server while mounting nas.lan:/export/data"
    sim.mount_errors["nas"] = problem
    result = await client.mount_volume(nas["shortId"])
    assert (result.status, result.error) == ("error", problem)
    sent(sim, "POST", f"/volumes/{nas['shortId']}/mount")
    assert len(sim.requests) == 1  # a 500 to a POST is never retried
    health = await client.health_check_volume(nas["shortId"])
    assert (health.status, health.error) == ("error", problem)


async def test_list_volume_files_pages_one_directory(sim: Simulator, world: World, client: ZerobyteClient) -> None:
    root = await client.list_volume_files(world.volume)
    assert [f.name for f in root.files] == ["docs", "photos", ODD_NAME, "hello.txt", "link-to-hello"]
    assert (root.path, root.total, root.hasMore) == ("/", 5, False)
    sent(sim, "GET", f"/volumes/{world.volume}/files")
    page = await client.list_volume_files(world.volume, "/", offset=1, limit=2)
    assert [f.name for f in page.files] == ["photos", ODD_NAME]
    assert (page.offset, page.limit, page.total, page.hasMore) == (1, 2, 5, True)
    sent(sim, "GET", f"/volumes/{world.volume}/files", query={"offset": "1", "limit": "2"})
    docs = await client.list_volume_files(world.volume, "docs", limit=10_000)
    assert [(f.name, f.path, f.size) for f in docs.files] == [
        ("data.json", "/docs/data.json", 21),
        ("notes.md", "/docs/notes.md", 17),
        ("numbers.txt", "/docs/numbers.txt", 23893),
    ]
    sent(sim, "GET", f"/volumes/{world.volume}/files", query={"path": "/docs", "limit": "500"})


async def test_browse_filesystem_lists_server_directories(sim: Simulator, world: World, client: ZerobyteClient) -> None:
    listing = await client.browse_filesystem("/srv")
    assert listing.path == "/srv"
    assert {d.name: d.path for d in listing.directories} == {"data": "/srv/data", "spare": "/srv/spare"}
    sent(sim, "GET", "/volumes/filesystem/browse", query={"path": "/srv"})
    top = await client.browse_filesystem()
    assert {"srv", "mnt", "home"} <= {d.name for d in top.directories}
    sent(sim, "GET", "/volumes/filesystem/browse", query={"path": "/"})


# --- repositories ---------------------------------------------------------------------------------------


async def test_list_and_get_repositories(sim: Simulator, world: World, client: ZerobyteClient) -> None:
    repos = await client.list_repositories()
    assert [(r.shortId, r.name, r.type) for r in repos] == [
        (world.repository, "local-repo", "local"),
        (world.mirror_repository, "offsite", "local"),
    ]
    sent(sim, "GET", "/repositories")
    repo = await client.get_repository(world.repository)
    assert (repo.name, repo.status, repo.config["path"]) == ("local-repo", "healthy", f"/srv/repos/{world.repository}")
    sent(sim, "GET", f"/repositories/{world.repository}")


async def test_job_repository_is_the_short_id_from_the_embedded_row_or_from_one_listing(
    sim: Simulator, world: World, client: ZerobyteClient
) -> None:
    job = await client.get_backup_job(world.job)
    assert job.repository is not None
    sim.requests.clear()
    assert await client.job_repository(job) == world.repository
    assert sim.requests == []  # the embedded repository says it
    by_uuid = job.model_copy(update={"repository": None})
    assert by_uuid.repositoryId not in (None, world.repository)  # the row names it by UUID
    assert await client.job_repository(by_uuid) == world.repository
    assert [r.path for r in sim.requests] == [f"{API}/repositories"]
    assert await client.job_repository(by_uuid.model_copy(update={"repositoryId": "0" * 36})) is None
    assert await client.job_repository(by_uuid.model_copy(update={"repositoryId": None})) is None


async def test_a_missing_object_is_a_not_found_that_names_its_kind(world: World, client: ZerobyteClient) -> None:
    missing: list[tuple[Awaitable[Any], str]] = [
        (client.get_backup_job("nOsUcH01"), "backup_job"),
        (client.get_repository("nOsUcH01"), "repository"),
        (client.get_volume("nOsUcH01"), "volume"),
        (client.get_snapshot(world.repository, "deadbeef"), "snapshot"),
        (client.get_task("01a21f54-c565-7000-9f09-c2de53237551"), "task"),
        (client.get_mirror_status(world.job, world.repository), "mirror"),
        (client.get_destination(9999), "notification_destination"),
    ]
    for call, kind in missing:
        with pytest.raises(NotFound) as caught:
            await call
        assert caught.value.resource == kind and not caught.value.route_missing, str(caught.value)


async def test_create_repository_unwraps_the_answer_and_sends_the_compression_mode(
    sim: Simulator, client: ZerobyteClient
) -> None:
    config = {"backend": "local", "path": "/srv/new-repos"}
    repo = await client.create_repository("new-repo", config, compression_mode="max")
    assert (repo.name, repo.compressionMode, repo.status) == ("new-repo", "max", "unknown")
    assert repo.config["path"] == f"/srv/new-repos/{repo.shortId}"  # Zerobyte appends the shortId (sample 26)
    sent(sim, "POST", "/repositories", body={"name": "new-repo", "config": config, "compressionMode": "max"})
    await client.create_repository("plain", config)
    sent(sim, "POST", "/repositories", body={"name": "plain", "config": config})


async def test_update_and_delete_repository(sim: Simulator, world: World, client: ZerobyteClient) -> None:
    updated = await client.update_repository(world.mirror_repository, {"name": "offsite-2", "compressionMode": "off"})
    assert (updated.shortId, updated.name, updated.compressionMode) == (world.mirror_repository, "offsite-2", "off")
    sent(sim, "PATCH", f"/repositories/{world.mirror_repository}", body={"name": "offsite-2", "compressionMode": "off"})
    deleted = await client.delete_repository(world.mirror_repository)
    assert deleted.message == "Repository deleted"
    sent(sim, "DELETE", f"/repositories/{world.mirror_repository}")
    assert sim.find_repository(world.mirror_repository) is None


async def test_list_rclone_remotes(sim: Simulator, client: ZerobyteClient) -> None:
    sim.rclone_remotes = [{"name": "gdrive", "type": "drive"}, {"name": "b2", "type": "b2"}]
    remotes = await client.list_rclone_remotes()
    assert [(r.name, r.type) for r in remotes] == [("gdrive", "drive"), ("b2", "b2")]
    sent(sim, "GET", "/repositories/rclone-remotes")


async def test_repository_stats_are_zero_until_refreshed(sim: Simulator, world: World, client: ZerobyteClient) -> None:
    before = await client.get_repository_stats(world.repository)
    assert (before.snapshots_count, before.total_size) == (0, 0)
    sent(sim, "GET", f"/repositories/{world.repository}/stats")
    refreshed = await client.refresh_repository_stats(world.repository)
    assert refreshed.snapshots_count == 4
    assert refreshed.total_size and refreshed.total_uncompressed_size and refreshed.compression_ratio
    sent(sim, "POST", f"/repositories/{world.repository}/stats/refresh")
    after = await client.get_repository_stats(world.repository)
    assert after.model_dump() == refreshed.model_dump()


async def test_unlock_repository_removes_a_stale_lock(sim: Simulator, world: World, client: ZerobyteClient) -> None:
    sim.lock_repository(world.repository)
    result = await client.unlock_repository(world.repository)
    assert (result.success, result.message) == (True, "Repository unlocked successfully")
    sent(sim, "POST", f"/repositories/{world.repository}/unlock")
    assert not sim._repo_lock_errors


async def test_start_doctor_returns_the_doctor_task(sim: Simulator, world: World, client: ZerobyteClient) -> None:
    started = await client.start_doctor(world.repository)
    assert started is not None
    assert started.status == "started"
    sent(sim, "POST", f"/repositories/{world.repository}/doctor")
    done = wait_for(sim, started.taskId)
    assert (done["kind"], done["resourceId"], done["status"]) == ("doctor", world.repository, "succeeded")


# --- snapshots ------------------------------------------------------------------------------------------


async def test_list_snapshots_oldest_first_and_filtered_by_backup_job(
    sim: Simulator, world: World, client: ZerobyteClient
) -> None:
    every = await client.list_snapshots(world.repository)
    assert [s.short_id for s in every] == [world.foreign_snapshot, *world.snapshots]
    sent(sim, "GET", f"/repositories/{world.repository}/snapshots")
    mine = await client.list_snapshots(world.repository, backup_job_id=world.job)
    assert [s.short_id for s in mine] == world.snapshots
    assert all(world.job in s.tags and s.retentionCategories for s in mine)
    assert mine[0].time < mine[1].time < mine[2].time and mine[2].paths == ["/srv/data"]
    sent(sim, "GET", f"/repositories/{world.repository}/snapshots", query={"backupId": world.job})


async def test_refresh_snapshots(sim: Simulator, world: World, client: ZerobyteClient) -> None:
    answer = await client.refresh_snapshots(world.repository)
    assert answer.message == "Snapshot cache cleared and refreshed"
    sent(sim, "POST", f"/repositories/{world.repository}/snapshots/refresh")


async def test_get_snapshot_by_short_or_upper_case_id(sim: Simulator, world: World, client: ZerobyteClient) -> None:
    newest = world.snapshots[-1]
    snap = await client.get_snapshot(world.repository, newest.upper())
    assert (snap.short_id, snap.hostname, snap.paths) == (newest, "zerobyte", ["/srv/data"])
    assert snap.size and snap.summary and snap.summary["total_files_processed"] == 6  # symlinks are not counted
    sent(sim, "GET", f"/repositories/{world.repository}/snapshots/{newest}")


async def test_list_snapshot_files_lists_a_directory_pages_and_caps_the_limit(
    sim: Simulator, world: World, client: ZerobyteClient
) -> None:
    sid = world.snapshots[-1]
    route = f"/repositories/{world.repository}/snapshots/{sid}/files"
    page = await client.list_snapshot_files(world.repository, sid, "/srv/data/docs")
    assert [(f.name, f.type, f.path) for f in page.files] == [
        ("docs", "dir", "/srv/data/docs"),
        ("data.json", "file", "/srv/data/docs/data.json"),
        ("notes.md", "file", "/srv/data/docs/notes.md"),
        ("numbers.txt", "file", "/srv/data/docs/numbers.txt"),
    ]
    assert page.snapshot is not None and page.snapshot.id == world.snapshot_full
    assert (page.total, page.hasMore) == (4, False)
    sent(sim, "GET", route, query={"path": "/srv/data/docs"})
    second = await client.list_snapshot_files(world.repository, sid, "/srv/data/docs/", offset=2, limit=1)
    assert [f.name for f in second.files] == ["notes.md"] and second.hasMore
    sent(sim, "GET", route, query={"path": "/srv/data/docs", "offset": "2", "limit": "1"})
    capped = await client.list_snapshot_files(world.repository, sid, None, limit=100_000)
    assert capped.limit == 500 and capped.total == len(capped.files) > 10
    sent(sim, "GET", route, query={"limit": "500"})


async def test_a_file_name_with_percent_plus_and_hash_is_listed_and_dumped_exactly(
    sim: Simulator, world: World, client: ZerobyteClient
) -> None:
    # Zerobyte decodes the files/dump `path` twice (API.md §4 "double-decoding quirk"): '%' must survive it.
    sid = world.snapshots[-1]
    path = f"/srv/data/{ODD_NAME}"
    listed = await client.list_snapshot_files(world.repository, sid, path)
    assert [(f.name, f.path, f.size) for f in listed.files] == [(ODD_NAME, path, 11)]
    # After Zerobyte's second decode of this value it holds `path` exactly; '?' and '#' did not split the URL.
    sent(
        sim, "GET", f"/repositories/{world.repository}/snapshots/{sid}/files", query={"path": path.replace("%", "%25")}
    )
    dumped = await client.dump_snapshot(world.repository, sid, path, kind="file", max_bytes=1000)
    assert dumped.data == b"odd bytes\x00\xff" and not dumped.truncated
    assert sim.requests[-1].path == f"{API}/repositories/{world.repository}/snapshots/{sid}/dump"


async def test_dump_snapshot_returns_file_bytes_exactly(sim: Simulator, world: World, client: ZerobyteClient) -> None:
    sid = world.snapshots[-1]
    dumped = await client.dump_snapshot(world.repository, sid, "/srv/data/hello.txt", kind="file", max_bytes=1 << 20)
    assert (dumped.data, dumped.truncated, dumped.content_type) == (
        b"hello zerobyte\n",
        False,
        "application/octet-stream",
    )
    sent(
        sim,
        "GET",
        f"/repositories/{world.repository}/snapshots/{sid}/dump",
        query={"path": "/srv/data/hello.txt", "kind": "file"},
    )


async def test_dump_snapshot_stops_at_max_bytes_and_flags_the_truncation(
    sim: Simulator, world: World, client: ZerobyteClient
) -> None:
    sid, path = world.snapshots[-1], "/srv/data/photos/2026/random.bin"
    whole = await client.dump_snapshot(world.repository, sid, path, kind="file", max_bytes=200_000)
    assert len(whole.data) == 200_000 and not whole.truncated
    cut = await client.dump_snapshot(world.repository, sid, path, kind="file", max_bytes=1000)
    assert (cut.data, cut.truncated) == (whole.data[:1000], True)


async def test_dump_snapshot_of_a_directory_is_a_tar_of_its_files(
    sim: Simulator, world: World, client: ZerobyteClient
) -> None:
    sid = world.snapshots[-1]
    dumped = await client.dump_snapshot(world.repository, sid, "/srv/data/docs", kind="dir", max_bytes=1 << 20)
    assert dumped.content_type == "application/x-tar" and not dumped.truncated
    with tarfile.open(fileobj=io.BytesIO(dumped.data)) as tar:
        assert sorted(tar.getnames()) == ["docs/data.json", "docs/notes.md", "docs/numbers.txt"]
        member = tar.extractfile("docs/notes.md")
        assert member is not None and member.read() == b"# notes\nremember\n"
    sent(
        sim,
        "GET",
        f"/repositories/{world.repository}/snapshots/{sid}/dump",
        query={"path": "/srv/data/docs", "kind": "dir"},
    )


async def test_stream_snapshot_dump_yields_the_tar_in_chunks_that_read_as_the_same_members(
    sim: Simulator, world: World, client: ZerobyteClient
) -> None:
    sid = world.snapshots[-1]
    whole = await client.dump_snapshot(world.repository, sid, "/srv/data/docs", kind="dir", max_bytes=1 << 20)
    async with client.stream_snapshot_dump(
        world.repository, sid, "/srv/data/docs", kind="dir", read_timeout=10
    ) as chunks:
        streamed = b"".join([chunk async for chunk in chunks])
    assert streamed == whole.data
    sent(
        sim,
        "GET",
        f"/repositories/{world.repository}/snapshots/{sid}/dump",
        query={"path": "/srv/data/docs", "kind": "dir"},
    )


async def test_restore_posts_the_body_and_returns_the_restore_task(
    sim: Simulator, world: World, client: ZerobyteClient
) -> None:
    body = {
        "snapshotId": world.snapshots[-1],
        "include": ["/srv/data/hello.txt"],
        "selectedItemKind": "file",
        "targetPath": "/srv/restored",
        "overwrite": "never",
    }
    started = await client.restore(world.repository, body)
    assert started.status == "started"
    sent(sim, "POST", f"/repositories/{world.repository}/restore", body=body)
    done = wait_for(sim, started.taskId)
    assert (done["kind"], done["operationKey"], done["status"]) == ("restore", world.snapshots[-1], "succeeded")


async def test_delete_snapshot_and_delete_snapshots_start_tasks_that_remove_them(
    sim: Simulator, world: World, client: ZerobyteClient
) -> None:
    one = await client.delete_snapshot(world.repository, world.foreign_snapshot)
    assert one is not None
    sent(sim, "DELETE", f"/repositories/{world.repository}/snapshots/{world.foreign_snapshot}")
    assert wait_for(sim, one.taskId)["kind"] == "deleteSnapshots"
    two = await client.delete_snapshots(world.repository, world.snapshots[:2])
    assert two is not None
    sent(sim, "DELETE", f"/repositories/{world.repository}/snapshots", body={"snapshotIds": world.snapshots[:2]})
    assert wait_for(sim, two.taskId)["status"] == "succeeded"
    assert [s.short_id for s in await client.list_snapshots(world.repository)] == world.snapshots[2:]


async def test_tag_snapshots_sends_add_remove_and_set(sim: Simulator, world: World, client: ZerobyteClient) -> None:
    route = f"/repositories/{world.repository}/snapshots/tag"
    started = await client.tag_snapshots(world.repository, [world.foreign_snapshot], add=["keep"], remove=["old"])
    assert started is not None
    sent(sim, "POST", route, body={"snapshotIds": [world.foreign_snapshot], "add": ["keep"], "remove": ["old"]})
    assert wait_for(sim, started.taskId)["kind"] == "tagSnapshots"
    newest = world.snapshots[-1]
    await client.tag_snapshots(world.repository, [newest], set_tags=["gold"])
    sent(sim, "POST", route, body={"snapshotIds": [newest], "set": ["gold"]})
    sim.wait_idle(10)
    tags = {tuple(s.tags) for s in await client.list_snapshots(world.repository)}
    assert ("keep",) in tags and ("gold",) in tags  # tagging rewrites ids, so compare tags only


# --- backup jobs ----------------------------------------------------------------------------------------


def job_body(world: World, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "docs-hourly",
        "volumeId": world.spare_volume,
        "repositoryId": world.repository,
        "enabled": True,
        "cronExpression": "0 * * * *",
        "retentionPolicy": {"keepLast": 3},
    }
    body.update(changes)
    return body


async def test_list_and_get_backup_jobs_by_short_or_numeric_id(
    sim: Simulator, world: World, client: ZerobyteClient
) -> None:
    jobs = await client.list_backup_jobs()
    assert [(j.shortId, j.name, j.cronExpression) for j in jobs] == [(world.job, "sample-daily", "0 3 * * *")]
    assert jobs[0].volume is not None and jobs[0].volume.shortId == world.volume
    assert jobs[0].retentionPolicy is not None and jobs[0].retentionPolicy.keepDaily == 7
    sent(sim, "GET", "/backups")
    job = await client.get_backup_job(world.job)
    assert (job.id, job.excludePatterns) == (world.job_id, ["*.tmp"])
    sent(sim, "GET", f"/backups/{world.job}")
    by_number = await client.get_backup_job(world.job_id)
    assert by_number.shortId == world.job
    sent(sim, "GET", f"/backups/{world.job_id}")


async def test_get_backup_job_for_volume_returns_the_job_or_none(
    sim: Simulator, world: World, client: ZerobyteClient
) -> None:
    job = await client.get_backup_job_for_volume(world.volume)
    assert job is not None and job.shortId == world.job
    sent(sim, "GET", f"/backups/volume/{world.volume}")
    assert await client.get_backup_job_for_volume(world.spare_volume) is None  # 200 null (sample 125)
    sent(sim, "GET", f"/backups/volume/{world.spare_volume}")


async def test_create_update_and_delete_a_backup_job(sim: Simulator, world: World, client: ZerobyteClient) -> None:
    body = job_body(world)
    created = await client.create_backup_job(body)
    assert (created.name, created.cronExpression, created.maxRetries) == ("docs-hourly", "0 * * * *", 2)
    sent(sim, "POST", "/backups", body=body)
    patch = {"repositoryId": world.repository, "cronExpression": "30 4 * * *", "maxRetries": 5, "retryDelay": 30}
    updated = await client.update_backup_job(created.shortId, patch)
    assert (updated.cronExpression, updated.maxRetries, updated.retryDelay) == ("30 4 * * *", 5, 30)
    sent(sim, "PATCH", f"/backups/{created.shortId}", body=patch)
    await client.delete_backup_job(created.shortId)
    sent(sim, "DELETE", f"/backups/{created.shortId}")
    assert sim.find_schedule(created.shortId) is None


@pytest.mark.parametrize("missing", ["repositoryId", "cronExpression"])
async def test_update_backup_job_refuses_an_incomplete_body_before_any_request(
    sim: Simulator, world: World, client: ZerobyteClient, missing: str
) -> None:
    body = {"repositoryId": world.repository, "cronExpression": "0 3 * * *", "name": "x"}
    del body[missing]
    with pytest.raises(InvalidArgument, match=f"PATCH needs {missing}"):
        await client.update_backup_job(world.job, body)
    assert sim.requests == []


async def test_run_backup_returns_the_task_that_ends_with_a_snapshot(
    sim: Simulator, world: World, client: ZerobyteClient
) -> None:
    started = await client.run_backup(world.job)
    assert started is not None and started.status == "started"
    sent(sim, "POST", f"/backups/{world.job}/run")
    done = wait_for(sim, started.taskId)
    assert (done["kind"], done["resourceId"], done["status"]) == ("backup", world.job, "succeeded")
    snapshot_id = done["result"]["result"]["snapshot_id"]
    assert snapshot_id[:8] in [s.short_id for s in await client.list_snapshots(world.repository)]


async def test_run_forget_returns_the_forget_task(sim: Simulator, world: World, client: ZerobyteClient) -> None:
    started = await client.run_forget(world.job)
    assert started is not None
    sent(sim, "POST", f"/backups/{world.job}/forget")
    done = wait_for(sim, started.taskId)
    assert (done["kind"], done["input"]["trigger"], done["status"]) == ("forget", "manual", "succeeded")


async def test_on_v041_run_backup_has_no_task_and_progress_and_stop_use_the_legacy_routes(legacy: Legacy) -> None:
    sim, zb, job = legacy.sim, legacy.client, legacy.world.job
    assert await zb.run_backup(job) is None
    sent(sim, "POST", f"/backups/{job}/run")
    progress: Any = None
    with anyio.fail_after(5):
        while progress is None:
            progress = await zb.get_backup_progress(job)
    assert progress["scheduleId"] == job and progress["volumeName"] == "sample-files"
    assert 0 <= progress["percent_done"] <= 1
    sent(sim, "GET", f"/backups/{job}/progress")
    await zb.stop_backup(job)
    sent(sim, "POST", f"/backups/{job}/stop")
    assert sim.wait_idle(10)
    with sim.lock:
        backup = next(t for t in sim.tasks.values() if t.kind == "backup")
    assert (backup.status, backup.error) == ("cancelled", "Backup was stopped by the user")
    assert await zb.run_forget(job) is None
    sent(sim, "POST", f"/backups/{job}/forget")


async def test_job_notifications_are_read_and_replaced(sim: Simulator, world: World, client: ZerobyteClient) -> None:
    assert await client.get_job_notifications(world.job) == []
    sent(sim, "GET", f"/backups/{world.job}/notifications")
    wanted = {
        "destinationId": world.destination,
        "notifyOnStart": False,
        "notifyOnSuccess": True,
        "notifyOnWarning": True,
        "notifyOnFailure": True,
    }
    saved = await client.set_job_notifications(world.job, [wanted])
    assert [(a.destinationId, a.notifyOnSuccess, a.notifyOnStart) for a in saved] == [(world.destination, True, False)]
    assert saved[0].destination is not None and saved[0].destination.name == "ops-webhook"
    sent(sim, "PUT", f"/backups/{world.job}/notifications", body={"assignments": [wanted]})
    again = await client.get_job_notifications(world.job)
    assert [a.model_dump() for a in again] == [a.model_dump() for a in saved]


async def test_job_mirrors_compatibility_status_and_sync(sim: Simulator, world: World, client: ZerobyteClient) -> None:
    assert await client.get_job_mirrors(world.job) == []
    sent(sim, "GET", f"/backups/{world.job}/mirrors")
    compat = await client.get_mirror_compatibility(world.job)
    assert [(c.repositoryId, c.compatible) for c in compat] == [(world.mirror_repository, True)]
    sent(sim, "GET", f"/backups/{world.job}/mirrors/compatibility")
    wanted = [{"repositoryId": world.mirror_repository, "enabled": True}]
    mirrors = await client.set_job_mirrors(world.job, wanted)
    assert [(m.repositoryId, m.enabled, m.scheduleId) for m in mirrors] == [(world.mirror_repository, True, world.job)]
    sent(sim, "PUT", f"/backups/{world.job}/mirrors", body={"mirrors": wanted})
    assert [m.repositoryId for m in await client.get_job_mirrors(world.job)] == [world.mirror_repository]
    status = await client.get_mirror_status(world.job, world.mirror_repository)
    assert (status.sourceCount, status.mirrorCount) == (3, 0)
    assert [m.short_id for m in status.missingSnapshots] == world.snapshots
    sent(sim, "GET", f"/backups/{world.job}/mirrors/{world.mirror_repository}/status")
    sync_route = f"/backups/{world.job}/mirrors/{world.mirror_repository}/sync"
    started = await client.sync_mirror(world.job, world.mirror_repository, [world.snapshots[0]])
    assert started is not None
    sent(sim, "POST", sync_route, body={"snapshotIds": [world.snapshots[0]]})
    assert wait_for(sim, started.taskId)["kind"] == "mirrorSync"
    latest = await client.sync_mirror(world.job, world.mirror_repository)
    assert latest is not None
    sent(sim, "POST", sync_route, body={})
    wait_for(sim, latest.taskId)
    after = await client.get_mirror_status(world.job, world.mirror_repository)
    # without ids Zerobyte copies only the newest snapshot (restic copy --tag <job> latest)
    assert after.mirrorCount == 2
    assert [m.short_id for m in after.missingSnapshots] == world.snapshots[1:2]


async def test_reorder_backup_jobs_sends_the_short_ids_in_order(
    sim: Simulator, world: World, client: ZerobyteClient
) -> None:
    second = await client.create_backup_job(job_body(world))
    await client.reorder_backup_jobs([second.shortId, world.job])
    sent(sim, "POST", "/backups/reorder", body={"scheduleShortIds": [second.shortId, world.job]})
    assert [j.shortId for j in await client.list_backup_jobs()] == [second.shortId, world.job]


# --- notification destinations --------------------------------------------------------------------------


async def test_destinations_crud_and_test(sim: Simulator, world: World, client: ZerobyteClient) -> None:
    config = {"type": "slack", "webhookUrl": "https://hooks.slack.com/services/T0/B0/secret"}
    created = await client.create_destination("team-slack", config)
    assert (created.name, created.type, created.enabled) == ("team-slack", "slack", True)
    assert str(created.config["webhookUrl"]).startswith("encv1:")  # sealed by Zerobyte
    sent(sim, "POST", "/notifications/destinations", body={"name": "team-slack", "config": config})
    listed = await client.list_destinations()
    assert [d.name for d in listed] == ["ops-webhook", "team-slack"]
    sent(sim, "GET", "/notifications/destinations")
    fetched = await client.get_destination(str(created.id))
    assert (fetched.id, fetched.name) == (created.id, "team-slack")
    sent(sim, "GET", f"/notifications/destinations/{created.id}")
    updated = await client.update_destination(created.id, {"enabled": False})
    assert (updated.id, updated.enabled) == (created.id, False)
    sent(sim, "PATCH", f"/notifications/destinations/{created.id}", body={"enabled": False})
    assert await client.test_destination(world.destination) is True
    sent(sim, "POST", f"/notifications/destinations/{world.destination}/test")
    sim.notification_test_error = "connect ECONNREFUSED 10.0.0.9:443"
    with pytest.raises(ServerError, match="ECONNREFUSED"):
        await client.test_destination(world.destination)
    deleted = await client.delete_destination(created.id)
    assert deleted.message == "Notification destination deleted"
    sent(sim, "DELETE", f"/notifications/destinations/{created.id}")
    assert created.id not in sim.destinations


# --- tasks ----------------------------------------------------------------------------------------------


async def test_list_tasks_returns_active_tasks_with_filters(
    sim: Simulator, world: World, client: ZerobyteClient
) -> None:
    started = await client.run_backup(world.job)
    assert started is not None
    active = await client.list_tasks()
    assert [(t.id, t.kind) for t in active] == [(started.taskId, "backup")]
    sent(sim, "GET", "/tasks")
    filtered = await client.list_tasks(kind="backup", resource_type="backup_schedule", resource_id=world.job)
    assert [t.id for t in filtered] == [started.taskId]
    sent(sim, "GET", "/tasks", query={"kind": "backup", "resourceType": "backup_schedule", "resourceId": world.job})
    assert await client.list_tasks(kind="restore") == []
    sent(sim, "GET", "/tasks", query={"kind": "restore"})


async def test_list_tasks_refuses_a_resource_type_without_its_id_before_any_request(
    sim: Simulator, client: ZerobyteClient
) -> None:
    with pytest.raises(InvalidArgument, match="resource_type and resource_id must be given together"):
        await client.list_tasks(resource_type="repository")
    with pytest.raises(InvalidArgument):
        await client.list_tasks(resource_id="abc")
    assert sim.requests == []


async def test_get_task_returns_a_finished_task(sim: Simulator, world: World, client: ZerobyteClient) -> None:
    dto = sim.add_task("backup", job=world.job, status="failed", error="repository is already locked")
    task = await client.get_task(dto["id"].upper())
    assert (task.id, task.kind, task.status, task.error, task.terminal) == (
        dto["id"],
        "backup",
        "failed",
        "repository is already locked",
        True,
    )
    sent(sim, "GET", f"/tasks/{dto['id']}")


async def test_cancel_task_answers_cancelling_and_the_task_ends_cancelled(
    sim: Simulator, world: World, client: ZerobyteClient
) -> None:
    started = await client.run_backup(world.job)
    assert started is not None
    assert await client.cancel_task(started.taskId) == "cancelling"
    sent(sim, "POST", f"/tasks/{started.taskId}/cancel")
    assert wait_for(sim, started.taskId)["status"] == "cancelled"


async def test_task_history_pages_and_filters(sim: Simulator, world: World, client: ZerobyteClient) -> None:
    sim.add_history(30, job=world.job)
    total = len(sim.tasks)
    first = await client.task_history()
    assert (first.page, first.pageSize, first.totalItems, first.totalPages) == (1, 25, total, -(-total // 25))
    assert len(first.items) == 25 and first.items[0].createdAt >= first.items[-1].createdAt  # type: ignore[operator]
    sent(sim, "GET", "/tasks/history")
    second = await client.task_history(page=2)
    assert second.page == 2 and len(second.items) == min(25, total - 25)
    assert not {i.id for i in first.items} & {i.id for i in second.items}
    sent(sim, "GET", "/tasks/history", query={"page": "2"})
    failed = await client.task_history(kind="backup", outcome="error")
    assert failed.items and all((i.kind, i.status) == ("backup", "failed") for i in failed.items)
    sent(sim, "GET", "/tasks/history", query={"kind": "backup", "outcome": "error"})
    with pytest.raises(InvalidArgument, match="page"):
        await client.task_history(page=0)


async def test_task_events_stream_starts_with_connected_and_the_current_task(
    sim: Simulator, world: World, client: ZerobyteClient
) -> None:
    dto = sim.add_task("backup", job=world.job)
    seen: list[SSEEvent] = []
    with anyio.fail_after(5):
        async with client.task_events(dto["id"]) as events:
            async for event in events:
                seen.append(event)
                if len(seen) == 2:
                    break
    assert [e.event for e in seen] == ["connected", "task:changed"]
    assert Task.model_validate_json(seen[1].data).id == dto["id"]
    req = sent(sim, "GET", f"/tasks/{dto['id']}/events")
    assert req.headers["accept"] == "text/event-stream"


async def test_task_events_of_an_unknown_task_is_not_found(sim: Simulator, client: ZerobyteClient) -> None:
    missing = "01a21f51-07ec-7000-91f2-000000000000"
    with pytest.raises(NotFound, match=f"Task {missing} was not found"):
        async with client.task_events(missing):
            pass
    sent(sim, "GET", f"/tasks/{missing}/events")


async def test_org_events_stream_carries_volume_events(sim: Simulator, world: World, client: ZerobyteClient) -> None:
    seen: list[str] = []
    with anyio.fail_after(5):
        async with client.org_events() as events:
            async for event in events:
                seen.append(event.event)
                if event.event == "connected":
                    await client.unmount_volume(world.spare_volume)
                if event.event == "volume:unmounted":
                    assert '"volumeName":"spare"' in event.data
                    break
    assert seen[0] == "connected" and seen[-1] == "volume:unmounted"
    assert [r.path for r in sim.requests] == [API + "/events", API + f"/volumes/{world.spare_volume}/unmount"]


async def test_follow_task_reports_running_and_the_terminal_state_over_the_stream(
    sim: Simulator, world: World, client: ZerobyteClient
) -> None:
    started = await client.run_backup(world.job)
    assert started is not None
    statuses: list[str] = []

    async def on_update(task: Task) -> None:
        statuses.append(task.status)

    with anyio.fail_after(10):
        final = await client.follow_task(started.taskId, on_update, poll_interval=0.05)
    assert (final.id, final.status) == (started.taskId, "succeeded")
    assert "running" in statuses and statuses[-1] == "succeeded"
    paths = [r.path for r in sim.requests]
    assert paths == [API + f"/backups/{world.job}/run", API + f"/tasks/{started.taskId}/events"]


async def test_follow_task_falls_back_to_get_task_when_the_stream_drops(
    sim: Simulator, world: World, client: ZerobyteClient
) -> None:
    sim.faults.add(method="GET", path=r"^/api/v1/tasks/[^/]+/events$", drop_sse_after=2)  # connected + first state
    started = await client.run_backup(world.job)
    assert started is not None
    statuses: list[str] = []

    async def on_update(task: Task) -> None:
        statuses.append(task.status)

    with anyio.fail_after(10):
        final = await client.follow_task(started.taskId, on_update, poll_interval=0.05, max_reconnects=2)
    assert final.status == "succeeded" and final.result and final.result["result"]["snapshot_id"]
    assert "running" in statuses and statuses[-1] == "succeeded"
    paths = [r.path for r in sim.requests]
    assert paths.count(API + f"/tasks/{started.taskId}/events") == 3  # the first try plus two reconnects
    assert paths[-1] == API + f"/tasks/{started.taskId}"  # the terminal state came from a poll


async def test_aclose_closes_the_connection_pool(sim_server: SimulatorServer) -> None:
    zb = ZerobyteClient(sim_server.url, TEST_KEY)
    assert await zb.list_volumes() == []
    pool = zb.http._pool
    await zb.aclose()
    assert pool is not None and pool.is_closed
    await zb.aclose()  # a second close is harmless


# --- ids and paths never reach another route ------------------------------------------------------------

Call = Callable[[ZerobyteClient, World], Awaitable[Any]]
HOSTILE: dict[str, Call] = {
    "volume traversal": lambda c, w: c.get_volume("../auth/api-keys"),
    "encoded volume traversal": lambda c, w: c.get_volume("..%2Fauth%2Fapi-keys"),
    "task traversal": lambda c, w: c.get_task("x/../../system"),
    "task id not a uuid": lambda c, w: c.cancel_task("latest"),
    "snapshot path traversal": lambda c, w: c.list_snapshot_files(w.repository, w.snapshots[0], path="/a/../../etc"),
    "relative snapshot path": lambda c, w: c.list_snapshot_files(w.repository, w.snapshots[0], "etc/passwd"),
    "snapshot id traversal": lambda c, w: c.get_snapshot(w.repository, "../../volumes"),
    "dump path traversal": lambda c, w: c.dump_snapshot(
        w.repository, w.snapshots[0], "/srv/data/../../etc/shadow", kind="file", max_bytes=10
    ),
    "dump kind": lambda c, w: c.dump_snapshot(w.repository, w.snapshots[0], "/srv", kind="zip", max_bytes=10),  # type: ignore[arg-type]
    "volume files traversal": lambda c, w: c.list_volume_files(w.volume, "../../etc"),
    "browse traversal": lambda c, w: c.browse_filesystem("/srv/../etc"),
    "repository with slash": lambda c, w: c.get_repository("a/b"),
    "repository query smuggling": lambda c, w: c.get_repository_stats("abc?x=1"),
    "job traversal": lambda c, w: c.run_backup("../volumes"),
    "job zero": lambda c, w: c.delete_backup_job(0),
    "destination traversal": lambda c, w: c.get_destination("1/../2"),
    "mirror traversal": lambda c, w: c.get_mirror_status(w.job, "../../x"),
    "backup id filter": lambda c, w: c.list_snapshots(w.repository, backup_job_id="a&b=c"),
    "reorder id": lambda c, w: c.reorder_backup_jobs(["ok", "no/pe"]),
    "snapshot ids as a string": lambda c, w: c.delete_snapshots(w.repository, "abcd1234"),
    "empty snapshot ids": lambda c, w: c.tag_snapshots(w.repository, [], add=["x"]),
    "resource id": lambda c, w: c.list_tasks(resource_type="repository", resource_id="../x"),
    "long id": lambda c, w: c.get_volume("a" * 300),
    "empty id": lambda c, w: c.unlock_repository(""),
    "negative offset": lambda c, w: c.list_snapshot_files(w.repository, w.snapshots[0], "/", offset=-1),
    "zero limit": lambda c, w: c.list_volume_files(w.volume, "/", limit=0),
    "control character": lambda c, w: c.list_snapshot_files(w.repository, w.snapshots[0], "/srv\n/data"),
}


@pytest.mark.parametrize("call", HOSTILE.values(), ids=HOSTILE.keys())
async def test_hostile_ids_and_paths_are_refused_before_any_request(
    sim: Simulator, world: World, client: ZerobyteClient, call: Call
) -> None:
    with pytest.raises(InvalidArgument):
        await call(client, world)
    assert sim.requests == []


async def test_a_hostile_task_id_for_the_event_stream_is_refused_before_any_request(
    sim: Simulator, client: ZerobyteClient
) -> None:
    with pytest.raises(InvalidArgument, match="task_id"):
        async with client.task_events("../../events"):
            pass
    assert sim.requests == []


# --- retries --------------------------------------------------------------------------------------------

GET_FAULTS: dict[str, dict[str, Any]] = {
    "503": {"status": 503, "body": "Service Unavailable"},
    "502 html": {"status": 502, "body": "<html><body>502 Bad Gateway</body></html>", "content_type": "text/html"},
    "504": {"status": 504, "body": "Gateway Timeout"},
    "reset": {"reset": True},
    "429 retry-after 0": {"status": 429, "body": "Too many requests", "headers": {"retry-after": "0"}},
}


@pytest.mark.parametrize("fault", GET_FAULTS.values(), ids=GET_FAULTS.keys())
async def test_a_get_is_retried_once_after_a_transient_failure_and_succeeds(
    sim: Simulator, world: World, fast_retry_client: ZerobyteClient, fault: dict[str, Any]
) -> None:
    sim.faults.add(method="GET", path=r"^/api/v1/volumes$", times=1, **fault)
    volumes = await fast_retry_client.list_volumes()
    assert [v.shortId for v in volumes] == [world.volume, world.spare_volume]
    assert [(r.method, r.path) for r in sim.requests] == [("GET", API + "/volumes")] * 2


LOCKED = (
    'Restic snapshots retrieval failed: {"message_type":"exit_error","code":11,"message":"unable to create lock in '
    "backend: repository is already locked exclusively by PID 31310 on vm by root (UID 0, GID 0)\\nlock was created "
    'at 2026-12-02 03:46:47 (44.751554ms ago)"}'
)


async def test_a_read_waits_while_another_restic_run_holds_the_repository_lock(
    sim: Simulator, world: World, fast_retry_client: ZerobyteClient
) -> None:
    # As Zerobyte answers a listing while the forget it runs after each backup holds the lock (seen on v0.41).
    sim.faults.add(method="GET", path=r"/snapshots$", times=3, status=500, body={"message": LOCKED})
    snapshots = await fast_retry_client.list_snapshots(world.repository)
    assert snapshots
    assert len([r for r in sim.requests if r.path.endswith("/snapshots")]) == 4


async def test_a_lock_that_outlasts_the_wait_is_reported_and_a_locked_write_is_not_retried(
    sim: Simulator, world: World, fast_retry_client: ZerobyteClient
) -> None:
    sim.faults.add(method="GET", path=r"/snapshots$", status=500, body={"message": LOCKED})
    with pytest.raises(ServerError, match="already locked"):
        await fast_retry_client.list_snapshots(world.repository)
    assert len(sim.requests) == 1 + LOCK_RETRIES
    sim.requests.clear()
    sim.faults.add(method="POST", path=r"/doctor$", status=500, body={"message": LOCKED})
    with pytest.raises(ServerError):
        await fast_retry_client.start_doctor(world.repository)
    assert len(sim.requests) == 1


async def test_a_get_gives_up_after_three_attempts(sim: Simulator, fast_retry_client: ZerobyteClient) -> None:
    sim.faults.add(method="GET", path=r"^/api/v1/volumes$", status=503, body="Service Unavailable")
    with pytest.raises(ServerError, match="503"):
        await fast_retry_client.list_volumes()
    assert len(sim.requests) == 3


async def test_a_post_is_never_retried_after_a_503(sim: Simulator, fast_retry_client: ZerobyteClient) -> None:
    sim.faults.add(method="POST", path=r"^/api/v1/notifications/destinations$", times=1, status=503, body="down")
    with pytest.raises(ServerError, match="503"):
        await fast_retry_client.create_destination("x", {"type": "custom", "shoutrrrUrl": "generic://h"})
    assert [(r.method, r.path) for r in sim.requests] == [("POST", API + "/notifications/destinations")]
    assert sim.destinations == {}


async def test_a_post_whose_answer_is_cut_is_not_retried_and_says_it_may_have_happened(
    sim: Simulator, fast_retry_client: ZerobyteClient
) -> None:
    sim.faults.add(method="POST", path=r"^/api/v1/notifications/destinations$", times=1, reset=True)
    with pytest.raises(ZerobyteUnreachable, match="may have been applied") as caught:
        await fast_retry_client.create_destination("x", {"type": "custom", "shoutrrrUrl": "generic://h"})
    assert caught.value.kind == "reset"
    assert len(sim.requests) == 1 and len(sim.destinations) == 1  # it was applied: a retry would duplicate it


# --- key rotation ---------------------------------------------------------------------------------------

NEW_KEY = "zb_rotated_key_9876543210"


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "zerobyte.key"
    path.write_text(TEST_KEY + "\n")
    return path


async def test_a_rotated_key_file_is_re_read_after_a_401_and_the_request_retried_once(
    sim: Simulator, world: World, settings: Settings, key_file: Path
) -> None:
    async with make_client(replace(settings, api_key_file=key_file)) as zb:
        await zb.get_volume(world.volume)
        await anyio.Path(key_file).write_text(NEW_KEY + "\n")
        sim.api_keys = {NEW_KEY}
        sim.requests.clear()
        detail = await zb.get_volume(world.volume)
        assert detail.volume.shortId == world.volume
        assert [r.path for r in sim.requests] == [API + f"/volumes/{world.volume}"] * 2
        sim.requests.clear()
        assert (await zb.create_destination("after", {"type": "custom", "shoutrrrUrl": "generic://h"})).name == "after"
        assert len(sim.requests) == 1  # the new key is kept


async def test_a_401_is_retried_only_once_even_when_the_key_file_keeps_changing(
    sim: Simulator, world: World, settings: Settings, key_file: Path
) -> None:
    async with make_client(replace(settings, api_key_file=key_file)) as zb:
        sim.api_keys = {"zb_nobody_has_this_key_000"}
        await anyio.Path(key_file).write_text(NEW_KEY + "\n")
        sim.requests.clear()
        with pytest.raises(AuthenticationFailed, match="API key rejected"):
            await zb.create_destination("x", {"type": "custom", "shoutrrrUrl": "generic://h"})
        assert len(sim.requests) == 2
        sim.requests.clear()
        with pytest.raises(AuthenticationFailed):
            await zb.list_volumes()  # the file still holds the key just tried: no retry
        assert len(sim.requests) == 1


async def test_without_a_key_file_a_401_is_final(sim: Simulator, client: ZerobyteClient) -> None:
    sim.api_keys = {NEW_KEY}
    with pytest.raises(AuthenticationFailed):
        await client.list_volumes()
    assert len(sim.requests) == 1


# --- coverage guard -------------------------------------------------------------------------------------


def _public_async_methods() -> list[str]:
    names = []
    for name, member in inspect.getmembers(ZerobyteClient, inspect.isfunction):
        if name.startswith("_"):
            continue
        target = inspect.unwrap(member)  # @asynccontextmanager methods wrap an async generator
        if inspect.iscoroutinefunction(target) or inspect.isasyncgenfunction(target):
            names.append(name)
    return names


def test_every_public_client_method_is_called_by_a_test_in_this_module() -> None:
    methods = _public_async_methods()
    assert len(methods) >= 60 and "org_events" in methods and "follow_task" in methods
    source = Path(__file__).read_text(encoding="utf-8")
    untested = [name for name in methods if f".{name}(" not in source]
    assert untested == [], f"ZerobyteClient methods without a test against the simulator: {untested}"
