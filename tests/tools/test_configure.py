"""Configuration tools at the "operate" level: creates read back the real state, edits merge, secrets stay hidden."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from mcp_server.server import create_server
from mcp_server.simulator import Simulator, SimulatorServer
from mcp_server.simulator.state import RecordedRequest
from tests.helpers import make_settings

WEBHOOK_URL = "https://hc.example.net/ping/7c1e-secret-uuid"
WEBHOOK_HEADER = "Authorization: Bearer hook-token-4711"


@pytest.fixture
def audit_path(tmp_path: Path) -> Path:
    return tmp_path / "audit.jsonl"


@pytest.fixture
async def op(sim_server: SimulatorServer, era: str, audit_path: Path) -> AsyncIterator[Client]:
    """An MCP client on an operate-level server whose audit log goes to a file."""
    settings = make_settings(sim_server.url, access="operate", audit_log=audit_path)
    async with Client(create_server(settings), mode=era) as client:
        yield client


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    text = " ".join(getattr(c, "text", "") for c in result.content)
    assert not result.is_error, text
    data: dict[str, Any] = result.structured_content or {}
    return data


async def refused(client: Client, tool: str, **arguments: Any) -> str:
    result = await client.call_tool(tool, arguments)
    text = " ".join(getattr(c, "text", "") for c in result.content)
    assert result.is_error, text
    return text


def writes(sim: Simulator, method: str | None = None, path_part: str = "") -> list[RecordedRequest]:
    return [r for r in sim.requests if r.is_write and (method is None or r.method == method) and path_part in r.path]


def seed_job(sim: Simulator, **changes: Any) -> tuple[str, str, str]:
    vol = sim.add_volume("photos", path="/srv/photos")["shortId"]
    repo = sim.add_repository("local-repo")["shortId"]
    values: dict[str, Any] = {"cron": "0 3 * * *"}
    values.update(changes)
    job = sim.add_backup_job("photos-daily", volume=vol, repository=repo, **values)["shortId"]
    return vol, repo, job


def schedule_row(sim: Simulator, short_id: str) -> dict[str, Any]:
    row: dict[str, Any] = next(s for s in sim.schedules.values() if s["shortId"] == short_id)
    return row


def volume_config(sim: Simulator, name: str) -> dict[str, Any]:
    config: dict[str, Any] = next(v for v in sim.volumes.values() if v["name"] == name)["config"]
    return config


# --- volumes ----------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_create_volume_reports_the_status_read_after_the_mount(sim: Simulator, op: Client) -> None:
    data = await call(op, "create_volume", name="photos", backend="directory", source="/srv/photos")

    assert data["outcome"] == "created"
    # Zerobyte's create answer says "unmounted" (sample 21); the tool reads the volume again.
    assert data["volume"]["status"] == "mounted"
    assert data["volume"]["source"] == "/srv/photos"
    calls = [(r.method, r.path) for r in sim.requests]
    vid = data["volume"]["id"]
    assert calls.index(("POST", "/api/v1/volumes/test-connection")) < calls.index(("POST", "/api/v1/volumes"))
    assert calls.index(("POST", "/api/v1/volumes")) < calls.index(("GET", f"/api/v1/volumes/{vid}"))


@pytest.mark.anyio
async def test_create_volume_stops_when_the_connection_test_fails(sim: Simulator, op: Client) -> None:
    text = await refused(op, "create_volume", name="gone", backend="directory", source="/srv/does-not-exist")

    assert "was not created" in text and "ENOENT" in text
    assert [r.path for r in writes(sim)] == ["/api/v1/volumes/test-connection"]
    assert sim.volumes == {}


@pytest.mark.anyio
async def test_a_connection_test_alone_creates_nothing(sim: Simulator, op: Client) -> None:
    data = await call(op, "create_volume", name="x", backend="directory", source="/srv/does-not-exist", test="only")

    assert data["outcome"] == "failed"
    assert "ENOENT" in data["note"]
    assert sim.volumes == {}


@pytest.mark.anyio
async def test_create_volume_without_the_test_reports_a_failed_mount(sim: Simulator, op: Client) -> None:
    sim.mount_errors["nas"] = "mount error(113): Host is unreachable"

    data = await call(op, "create_volume", name="nas", backend="nfs", source="10.0.0.5:/volume1/photos", test="skip")

    assert data["volume"]["status"] == "error"
    assert "Host is unreachable" in data["note"]
    assert not writes(sim, "POST", "test-connection")
    assert volume_config(sim, "nas") == {
        "backend": "nfs",
        "server": "10.0.0.5",
        "exportPath": "/volume1/photos",
        "version": "4",
        "port": 2049,
    }


@pytest.mark.anyio
async def test_volume_sources_use_the_notation_list_volumes_shows(sim: Simulator, op: Client) -> None:
    await call(
        op, "create_volume", name="share", backend="smb", source="//nas.lan/photos", username="me", secret="pw1234"
    )
    await call(op, "create_volume", name="dav", backend="webdav", source="https://cloud.example.com:8443/dav/me")
    await call(op, "create_volume", name="box", backend="sftp", source="backup@box.lan:/data", secret="pw5678")

    smb, dav, box = (volume_config(sim, n) for n in ("share", "dav", "box"))
    assert (smb["server"], smb["share"], smb["username"]) == ("nas.lan", "photos", "me")
    assert smb["password"].startswith("encv1:")
    assert (dav["server"], dav["port"], dav["path"], dav["ssl"]) == ("cloud.example.com", 8443, "/dav/me", True)
    assert (box["host"], box["username"], box["path"]) == ("box.lan", "backup", "/data")


@pytest.mark.anyio
async def test_volume_arguments_that_do_not_fit_are_refused_before_any_request(sim: Simulator, op: Client) -> None:
    wrong_form = await refused(op, "create_volume", name="x", backend="smb", source="nas.lan/photos")
    no_login = await refused(op, "create_volume", name="x", backend="directory", source="/srv/x", username="u")
    bad_option = await refused(op, "create_volume", name="x", backend="nfs", source="h:/x", options=["share=p"])

    assert "//server/share" in wrong_form
    assert "take no username" in no_login
    assert "port, version, read_only" in bad_option
    assert sim.requests == []


@pytest.mark.anyio
async def test_an_unhealthy_volume_is_a_health_check_result_not_a_failure(sim: Simulator, op: Client) -> None:
    vid = sim.add_volume("nas")["shortId"]
    sim.mount_errors["nas"] = "mount error(113): Host is unreachable"

    data = await call(op, "mount_volume", volume_id=vid, action="check")

    assert (data["outcome"], data["status"]) == ("failed", "error")
    assert "Host is unreachable" in data["error"]


@pytest.mark.anyio
async def test_a_failed_mount_is_an_error_with_the_reason(sim: Simulator, op: Client) -> None:
    vid = sim.add_volume("nas")["shortId"]
    sim.mount_errors["nas"] = "mount error(13): Permission denied"

    text = await refused(op, "mount_volume", volume_id=vid)

    assert "Could not mount" in text and "Permission denied" in text


@pytest.mark.anyio
async def test_update_volume_renames_without_touching_the_source(sim: Simulator, op: Client) -> None:
    vid = sim.add_volume("photos", path="/srv/photos")["shortId"]

    data = await call(op, "update_volume", volume_id=vid, name="pictures")

    assert data["outcome"] == "updated"
    assert data["changes"] == ["name: 'photos' -> 'pictures'"]
    (put,) = writes(sim, "PUT")
    assert put.body == {"name": "pictures"}


@pytest.mark.anyio
async def test_update_volume_source_change_remounts_and_says_so(sim: Simulator, op: Client) -> None:
    vid = sim.add_volume("photos", path="/srv/photos")["shortId"]

    data = await call(op, "update_volume", volume_id=vid, source="/srv/pictures")

    assert data["volume"]["source"] == "/srv/pictures"
    assert data["volume"]["status"] == "mounted"
    assert "remounted" in data["note"]
    assert data["changes"] == ["path: '/srv/photos' -> '/srv/pictures'"]


# --- repositories -----------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_create_local_repository_reports_the_final_path_and_real_status(sim: Simulator, op: Client) -> None:
    data = await call(op, "create_repository", name="local-repo", backend="local", location="/srv/repos")

    repo = data["repository"]
    # The create answer says "unknown" (sample 26); the tool reads the repository again.
    assert repo["status"] == "healthy"
    assert repo["location"] == f"/srv/repos/{repo['id']}"
    assert repo["location"] in data["note"]


@pytest.mark.anyio
async def test_repository_credentials_are_checked_per_backend_before_any_request(sim: Simulator, op: Client) -> None:
    no_key = await refused(op, "create_repository", name="r", backend="s3", location="s3.example.com/bk", secret="s")
    bad_place = await refused(op, "create_repository", name="r", backend="azure", location="justone", secret="k")

    assert "need access_key_id" in no_key
    assert "account_name/container" in bad_place
    assert sim.requests == []


@pytest.mark.anyio
async def test_update_repository_never_sends_the_config_back(sim: Simulator, op: Client) -> None:
    config = {"endpoint": "s3.example.com", "bucket": "b", "accessKeyId": "AKIA1", "secretAccessKey": "s3cr3t"}
    rid = sim.add_repository("offsite", backend="s3", config=config)["shortId"]

    data = await call(op, "update_repository", repository_id=rid, name="offsite-b2", compression_mode="max")

    (patch,) = writes(sim, "PATCH")
    assert patch.body == {"name": "offsite-b2", "compressionMode": "max"}
    assert data["repository"]["status"] == "healthy"  # a config echo would have reset it to "unknown"
    again = await call(op, "update_repository", repository_id=rid, name="offsite-b2")
    assert again["outcome"] == "unchanged"
    assert len(writes(sim, "PATCH")) == 1


@pytest.mark.anyio
async def test_update_repository_refreshes_stats(sim: Simulator, op: Client) -> None:
    _, repo, job = seed_job(sim)
    sim.add_snapshot(repo, job=job, time_ms=sim.now_ms() - 3_600_000)

    data = await call(op, "update_repository", repository_id=repo, refresh="stats")

    assert data["outcome"] == "ok"
    assert data["repository"]["snapshots_count"] == 1
    assert data["repository"]["stored_bytes"] > 0
    assert [r.path for r in writes(sim)] == [f"/api/v1/repositories/{repo}/stats/refresh"]


@pytest.mark.anyio
async def test_unlock_clears_a_stale_lock(sim: Simulator, op: Client) -> None:
    rid = sim.add_repository("local-repo")["shortId"]
    sim.lock_repository(rid)

    data = await call(op, "unlock_repository", repository_id=rid)

    assert data["outcome"] == "ok"
    assert "unlocked" in data["note"]


# --- backup jobs --------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_create_backup_job_refuses_a_bad_cron_before_any_request(sim: Simulator, op: Client) -> None:
    vol = sim.add_volume("photos")["shortId"]
    repo = sim.add_repository("local-repo")["shortId"]

    text = await refused(
        op, "create_backup_job", name="j", volume_id=vol, repository_id=repo, schedule="61 2 * * *", retention="daily 7"
    )

    assert "minute 61 is out of range 0-59" in text
    assert "Nothing was sent" in text
    assert sim.requests == []


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("schedule", "said"),
    [
        ("0 3 * * 4/2", "also runs it on Sundays, v0.42 does not; write the days as a list (4,6)"),
        ("0 3 1 * MON#1", "v0.41 runs it only in that week of the month"),
    ],
)
async def test_a_schedule_zerobyte_v041_and_v042_run_on_different_days_is_refused_before_any_request(
    sim: Simulator, op: Client, schedule: str, said: str
) -> None:
    vol = sim.add_volume("photos")["shortId"]
    repo = sim.add_repository("local-repo")["shortId"]

    text = await refused(op, "create_backup_job", name="j", volume_id=vol, repository_id=repo, schedule=schedule)

    assert said in text and "Nothing was sent" in text
    assert sim.requests == []


@pytest.mark.anyio
async def test_create_backup_job_answers_the_schedule_in_words(sim: Simulator, op: Client) -> None:
    vol = sim.add_volume("photos")["shortId"]
    repo = sim.add_repository("local-repo")["shortId"]

    data = await call(
        op,
        "create_backup_job",
        name="photos-daily",
        volume_id=vol,
        repository_id=repo,
        schedule="0 2 * * *",
        retention="keep 7 daily, weekly=4",
        exclude_patterns=["*.tmp", "node_modules"],
        options=["max_retries=4", "retry_delay=20"],
    )

    job = data["job"]
    assert data["outcome"] == "created"
    assert job["schedule"] == "daily at 02:00 UTC"
    assert job["next_run"].endswith("T02:00:00Z")
    assert job["retention"] == "daily 7, weekly 4"
    assert job["volume"] == f"photos ({vol})"
    assert job["exclude_patterns"] == ["*.tmp", "node_modules"]
    assert (job["max_retries"], job["retry_delay_minutes"]) == (4, 20)
    (post,) = writes(sim, "POST", "/api/v1/backups")
    assert post.body["retentionPolicy"] == {"keepDaily": 7, "keepWeekly": 4}


@pytest.mark.anyio
async def test_create_backup_job_names_an_unknown_volume(sim: Simulator, op: Client) -> None:
    repo = sim.add_repository("local-repo")["shortId"]

    text = await refused(op, "create_backup_job", name="j", volume_id="nope1234", repository_id=repo, schedule="@daily")

    assert "Volume not found" in text
    assert "'nope1234'" in text


@pytest.mark.anyio
async def test_update_backup_job_keeps_every_untouched_field(sim: Simulator, op: Client) -> None:
    hooks = {"pre": {"url": WEBHOOK_URL, "headers": [WEBHOOK_HEADER]}, "post": None}
    _, repo, job = seed_job(
        sim,
        max_retries=5,
        retry_delay=30,
        retention={"keepLast": 3, "keepDaily": 7},
        exclude_patterns=["*.tmp"],
        include_paths=["/albums"],
        backup_webhooks=hooks,
        compression_mode="max",
    )
    before = dict(schedule_row(sim, job))

    result = await op.call_tool("update_backup_job", {"job_id": job, "name": "photos-nightly"})

    assert not result.is_error
    data = result.structured_content or {}
    assert data["changes"] == ["name: 'photos-daily' -> 'photos-nightly'"]
    after = schedule_row(sim, job)
    for key in (
        "maxRetries",
        "retryDelay",
        "retentionPolicy",
        "excludePatterns",
        "includePaths",
        "backupWebhooks",
        "compressionMode",
        "cronExpression",
        "enabled",
        "repositoryId",
    ):
        assert after[key] == before[key], key
    assert after["backupWebhooks"]["pre"]["url"] == WEBHOOK_URL  # the raw hook, never a redacted copy
    (patch,) = writes(sim, "PATCH")
    assert patch.body["maxRetries"] == 5 and patch.body["retryDelay"] == 30
    assert patch.body["repositoryId"] == repo and patch.body["cronExpression"] == "0 3 * * *"
    shown = json.dumps(data) + " ".join(getattr(c, "text", "") for c in result.content)
    assert "7c1e-secret-uuid" not in shown and "hook-token-4711" not in shown


@pytest.mark.anyio
async def test_update_backup_job_merges_retention_and_reports_before_and_after(sim: Simulator, op: Client) -> None:
    _, _, job = seed_job(sim, retention={"keepLast": 3, "keepDaily": 7}, max_retries=4)

    data = await call(op, "update_backup_job", job_id=job, retention="weekly 4, last 0", schedule="30 1 * * 1")

    assert data["job"]["retention"] == "daily 7, weekly 4"
    assert "retention: 'last 3, daily 7' -> 'daily 7, weekly 4'" in data["changes"]
    assert "cron: '0 3 * * *' -> '30 1 * * 1'" in data["changes"]
    assert data["job"]["schedule"] == "weekly on Monday at 01:30 UTC"
    assert schedule_row(sim, job)["maxRetries"] == 4

    cleared = await call(op, "update_backup_job", job_id=job, retention="none")

    assert schedule_row(sim, job)["retentionPolicy"] is None
    assert "kept forever" in cleared["note"]


@pytest.mark.anyio
async def test_pausing_and_resuming_a_job_keeps_the_retry_settings(sim: Simulator, op: Client) -> None:
    _, _, job = seed_job(sim, max_retries=7, retry_delay=45)

    off = await call(op, "update_backup_job", job_id=job, enabled=False)
    on = await call(op, "update_backup_job", job_id=job, enabled=True)
    again = await call(op, "update_backup_job", job_id=job, enabled=True)

    assert off["job"]["enabled"] is False and "next_run" not in off["job"]
    assert on["changes"] == ["enabled: false -> true"]
    assert on["job"]["next_run"].endswith("T03:00:00Z")
    assert again["outcome"] == "unchanged"
    row = schedule_row(sim, job)
    assert (row["maxRetries"], row["retryDelay"]) == (7, 45)
    assert len(writes(sim, "PATCH")) == 2


@pytest.mark.anyio
async def test_a_job_without_schedule_is_not_enabled(sim: Simulator, op: Client) -> None:
    _, _, job = seed_job(sim, cron="", enabled=False)

    text = await refused(op, "update_backup_job", job_id=job, enabled=True)

    assert "without a schedule" in text
    assert writes(sim) == []


@pytest.mark.anyio
async def test_update_backup_job_moves_it_to_another_repository(sim: Simulator, op: Client) -> None:
    _, repo, job = seed_job(sim)
    usb = sim.add_repository("usb")["shortId"]

    data = await call(op, "update_backup_job", job_id=job, repository_id=usb)

    assert data["changes"] == [f"repository: 'local-repo ({repo})' -> 'usb ({usb})'"]
    text = await refused(op, "update_backup_job", job_id=job, repository_id="missing1")
    assert "Repository not found" in text and "repository_id" in text


# --- notification routing ----------------------------------------------------------------------------


@pytest.mark.anyio
async def test_routing_adds_and_removes_one_destination_and_keeps_the_others(sim: Simulator, op: Client) -> None:
    _, _, job = seed_job(sim)
    chat = sim.add_notification_destination("ops chat")["id"]
    phone = sim.add_notification_destination("phone", type="ntfy", config={"topic": "t", "priority": "high"})["id"]
    sim.assign_notification(job, chat, on_warning=False, on_failure=True)

    added = await call(op, "route_notifications", job_id=job, destination_id=phone, events=["failure", "success"])

    assert added["routes"] == [f"ops chat ({chat}, generic): failure", f"phone ({phone}, ntfy): success, failure"]

    removed = await call(op, "route_notifications", job_id=job, destination_id=phone, events=[])

    assert removed["routes"] == [f"ops chat ({chat}, generic): failure"]
    puts = writes(sim, "PUT", "/notifications")
    assert [len(p.body["assignments"]) for p in puts] == [2, 1]
    same = await call(op, "route_notifications", job_id=job, destination_id=chat, events=["failure"])
    assert same["outcome"] == "unchanged"
    assert len(writes(sim, "PUT")) == 2


# --- mirrors ------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_a_mirror_on_an_incompatible_repository_is_refused_with_the_reason(sim: Simulator, op: Client) -> None:
    _, _, job = seed_job(sim)
    r2 = sim.add_repository("b2", backend="s3", config={"endpoint": "e", "bucket": "b"})["shortId"]
    sim.faults.add(
        method="GET",
        path=r"/mirrors/compatibility$",
        status=200,
        body=[{"repositoryId": r2, "compatible": False, "reason": "Repository uses a different restic password"}],
    )

    text = await refused(op, "set_mirror", job_id=job, repository_id=r2)

    assert "different restic password" in text
    assert writes(sim) == []


@pytest.mark.anyio
async def test_mirrors_are_added_paused_and_removed_one_at_a_time(sim: Simulator, op: Client) -> None:
    _, repo, job = seed_job(sim)
    usb = sim.add_repository("usb")["shortId"]
    b2 = sim.add_repository("b2")["shortId"]
    sim.add_mirror(job, usb)

    added = await call(op, "set_mirror", job_id=job, repository_id=b2)
    paused = await call(op, "set_mirror", job_id=job, repository_id=b2, mode="off")
    own = await refused(op, "set_mirror", job_id=job, repository_id=repo)
    removed = await call(op, "set_mirror", job_id=job, repository_id=b2, mode="remove")

    assert added["mirrors"] == [f"usb ({usb})", f"b2 ({b2})"]
    assert paused["mirrors"] == [f"usb ({usb})", f"b2 ({b2}) [disabled]"]
    assert "own repository" in own
    assert removed["mirrors"] == [f"usb ({usb})"]
    assert writes(sim, "PUT")[-1].body == {"mirrors": [{"repositoryId": usb, "enabled": True}]}


@pytest.mark.anyio
async def test_on_v041_the_last_mirror_copy_is_shown_by_set_mirror_and_get_repository(
    sim: Simulator, op: Client
) -> None:
    # v0.41 has no mirror sync tasks: the last copy's outcome lives on the mirror row (lastCopy*).
    sim.legacy = True
    _, _, job = seed_job(sim)
    usb = sim.add_repository("usb")["shortId"]
    sim.add_mirror(job, usb)
    schedule = sim.find_schedule(job)
    assert schedule is not None
    copied_at = sim.now_ms() - 3_600_000
    for row in sim.mirrors_of(schedule):
        row.update(lastCopyAt=copied_at, lastCopyStatus="error", lastCopyError="repository is locked")

    repository = await call(op, "get_repository", repository_id=usb)
    paused = await call(op, "set_mirror", job_id=job, repository_id=usb, mode="off")

    [use] = [u for u in repository["backup_jobs"] if u["role"] == "mirror"]
    assert (use["id"], use["last_status"]) == (job, "error")
    assert use["last_time"].startswith(datetime.fromtimestamp(copied_at / 1000, UTC).strftime("%Y-%m-%dT%H"))
    [line] = paused["mirrors"]
    assert "last sync error" in line and "repository is locked" in line


@pytest.mark.anyio
async def test_mirror_status_lists_the_snapshots_not_yet_copied(sim: Simulator, op: Client) -> None:
    _, repo, job = seed_job(sim)
    usb = sim.add_repository("usb")["shortId"]
    sim.add_mirror(job, usb)
    now = sim.now_ms()
    ids = [sim.add_snapshot(repo, job=job, time_ms=now - hours * 3_600_000)["short_id"] for hours in (3, 2, 1)]

    data = await call(op, "get_mirror_status", job_id=job, repository_id=usb)

    assert data["in_sync"] is False
    assert (data["source_snapshots"], data["mirror_snapshots"], data["missing_total"]) == (3, 0, 3)
    assert [m.split()[0] for m in data["missing"]] == ids


# --- notification destinations ------------------------------------------------------------------------


@pytest.mark.anyio
async def test_a_failed_test_notification_is_reported_with_the_reason(sim: Simulator, op: Client) -> None:
    dest = sim.add_notification_destination("phone", type="ntfy", config={"topic": "t", "priority": "high"})["id"]
    sim.notification_test_error = "401 Unauthorized"

    data = await call(op, "update_notification_destination", destination_id=dest, test=True)

    assert data["outcome"] == "failed"
    assert "401 Unauthorized" in data["note"]
    assert data["destination"]["status"] == "error"


@pytest.mark.anyio
async def test_a_blocked_webhook_origin_is_explained_as_a_server_setting(sim: Simulator, op: Client) -> None:
    message = (
        "Notification webhook URL origin is not allowed. Add https://hooks.example.org to WEBHOOK_ALLOWED_ORIGINS."
    )
    sim.faults.add(method="POST", path=r"/notifications/destinations$", status=400, body={"message": message})

    text = await refused(
        op, "create_notification_destination", name="hook", type="generic", url="https://hooks.example.org/x"
    )

    assert "environment setting of the Zerobyte server" in text
    assert "restart" in text


@pytest.mark.anyio
async def test_destination_arguments_are_checked_per_type(sim: Simulator, op: Client) -> None:
    text = await refused(op, "create_notification_destination", name="tg", type="telegram", secret="123:abc")

    assert "needs target" in text and "chat id" in text
    assert sim.requests == []
    mail = await call(
        op,
        "create_notification_destination",
        name="mail",
        type="email",
        url="smtps://mail.example.org",
        target="me@example.org, you@example.org",
        options=["from=backups@example.org"],
    )
    assert mail["destination"]["target"] == "me@example.org, you@example.org"
    (post,) = writes(sim, "POST")
    assert post.body["config"] | {"to": None} == {
        "type": "email",
        "smtpHost": "mail.example.org",
        "smtpPort": 465,
        "useTLS": True,
        "from": "backups@example.org",
        "to": None,
    }


@pytest.mark.anyio
async def test_update_destination_disables_it_without_sending_its_config(sim: Simulator, op: Client) -> None:
    dest = sim.add_notification_destination("ops chat")["id"]

    data = await call(op, "update_notification_destination", destination_id=dest, enabled=False)

    assert data["destination"]["enabled"] is False
    (patch,) = writes(sim, "PATCH")
    assert patch.body == {"enabled": False}


@pytest.mark.anyio
async def test_a_generic_webhook_url_stays_hidden_in_the_answer_even_when_its_config_names_no_type(
    sim: Simulator, op: Client
) -> None:
    secret_path = "ops/alerts/backups"  # a capability for whoever knows it, though it looks like words
    dest = sim.add_notification_destination(
        "ops hook", type="generic", config={"url": f"https://hooks.example.net/{secret_path}", "method": "POST"}
    )["id"]
    row = next(d for d in sim.destinations.values() if d["id"] == dest)
    # The type only on the destination, not inside its config, and the URL not sealed: redaction must still know
    # it is a generic webhook's URL (a capability) from the destination's own type.
    row["config"].pop("type", None)
    row["config"]["url"] = f"https://hooks.example.net/{secret_path}"

    data = await call(op, "update_notification_destination", destination_id=dest, enabled=False)

    assert secret_path not in json.dumps(data)
    assert data["destination"]["type"] == "generic"


# --- secrets and ids ----------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_secrets_given_as_arguments_never_appear_in_results_or_the_audit_log(
    sim: Simulator, op: Client, audit_path: Path
) -> None:
    secrets = ["Sup3r-smb-pass", "AKIAEXAMPLEKEY42", "wJalrXUtnFEMI-secret", "123456:ABCtelegramTOKEN", "bearer-xyz-99"]
    calls: list[tuple[str, dict[str, Any]]] = [
        ("create_volume", {"name": "nas", "backend": "smb", "source": "//nas.lan/photos", "secret": secrets[0]}),
        (
            "create_repository",
            {
                "name": "offsite",
                "backend": "s3",
                "location": "s3.example.com/bk",
                "access_key_id": secrets[1],
                "secret": secrets[2],
            },
        ),
        ("create_notification_destination", {"name": "tg", "type": "telegram", "secret": secrets[3], "target": "-100"}),
        (
            "create_notification_destination",
            {
                "name": "hook",
                "type": "generic",
                "url": "https://hooks.example.org/x",
                "headers": [f"Authorization: Bearer {secrets[4]}"],
            },
        ),
    ]

    for tool, arguments in calls:
        result = await op.call_tool(tool, arguments)
        assert not result.is_error, result.content
        shown = json.dumps(result.structured_content) + " ".join(getattr(c, "text", "") for c in result.content)
        assert not [secret for secret in secrets if secret in shown]
    audit = await anyio.Path(audit_path).read_text()
    lines = [json.loads(line) for line in audit.splitlines()]
    assert [line["tool"] for line in lines] == [tool for tool, _ in calls]
    assert all(line["zerobyte_status"] == 201 for line in lines)
    assert not [secret for secret in secrets if secret in audit]
    sent = json.dumps([r.body for r in writes(sim)])
    assert all(secret in sent for secret in secrets)  # they did reach Zerobyte, which seals them


NAME_LISTS = {"/api/v1/volumes", "/api/v1/repositories", "/api/v1/backups", "/api/v1/notifications/destinations"}


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("mount_volume", {"volume_id": "../auth/api-keys"}),
        ("update_backup_job", {"job_id": "a/b", "name": "x"}),
        ("route_notifications", {"job_id": "dl2FvHvs", "destination_id": 0, "events": ["failure"]}),
        ("set_mirror", {"job_id": "dl2FvHvs", "repository_id": "bad id!"}),
        ("update_repository", {"repository_id": "%2e%2e", "name": "x"}),
        ("create_backup_job", {"name": "j", "volume_id": "v 1", "repository_id": "r", "schedule": "0 2 * * *"}),
    ],
)
@pytest.mark.anyio
async def test_bad_ids_are_refused_before_any_request(
    sim: Simulator, op: Client, tool: str, arguments: dict[str, Any]
) -> None:
    text = await refused(op, tool, **arguments)

    # A value that could be a name ('bad id!', 'v 1') is looked up in Zerobyte's fixed list routes, never sent
    # in a URL; one that could not ('../x', '%2e%2e') is refused with no request at all.
    assert "Invalid" in text or "has the name or id" in text
    assert all(r.method == "GET" and r.path in NAME_LISTS for r in sim.requests)
    if any(c in str(arguments) for c in "/%"):
        assert sim.requests == []


@pytest.mark.anyio
async def test_a_webhook_header_with_a_line_break_is_refused_before_anything_is_sent(
    sim: Simulator, op: Client
) -> None:
    for header in ("X-Token: abc\r\nX-Injected: 1", "X-Token: abc\nHost: evil", "X-A: \x00"):
        text = await refused(
            op,
            "create_notification_destination",
            name="hook",
            type="generic",
            url="http://127.0.0.1:9/hook",
            headers=[header],
        )
        assert "line breaks or control characters" in text
    assert sim.requests == []
