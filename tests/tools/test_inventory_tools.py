"""Read tools for the inventory: volumes, repositories, backup jobs, notification destinations, system info.

Each test seeds the simulator with realistic objects, secrets included (sealed ``encv1:`` values, a generic
webhook with an Authorization header, a REST repository URL with credentials, a hook URL that is itself a
capability), calls the real MCP server, and checks both the content and that no secret reaches the agent.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from mcp import Client

from mcp_server.config import Settings
from mcp_server.cron import parse_cron
from mcp_server.server import create_server
from mcp_server.simulator import Simulator

pytestmark = pytest.mark.anyio

DAY = 86_400_000
REST_PASSWORD = "hunter2pass"
HOOK_BEARER = "s3cr3t-hook-token"
HOOK_BODY_SECRET = "bodysecret-77"
HOOK_CAPABILITY = "0f3c1d2e-secret-uuid"
POST_HOOK_PASSWORD = "postpw-55"
GENERIC_BEARER = "gen-bearer-token-999"
GENERIC_PATH_SECRET = "SECRETPATH123"
TELEGRAM_TOKEN = "123456:AAbot-token-xyz"
SMB_PASSWORD = "smb-pass-4242"
S3_SECRET = "s3-secret-access-key-abc"
SECRETS = [
    REST_PASSWORD,
    HOOK_BEARER,
    HOOK_BODY_SECRET,
    HOOK_CAPABILITY,
    POST_HOOK_PASSWORD,
    GENERIC_BEARER,
    GENERIC_PATH_SECRET,
    TELEGRAM_TOKEN,
    SMB_PASSWORD,
    S3_SECRET,
    "encv1:",
    "zb_test_key",
]


def seed(sim: Simulator) -> dict[str, Any]:
    """A small but realistic installation; returns the ids the tests need."""
    now = sim.now_ms()
    photos = sim.add_volume(
        "photos",
        path="/srv/photos",
        files={"2024": {"beach.jpg": 2_000_000, "dog.jpg": 1_500_000}, "readme.txt": "hello", "raw": {}},
    )
    nas = sim.add_volume(
        "nas-share",
        backend="smb",
        config={"backend": "smb", "server": "nas.lan", "share": "family", "username": "zb", "password": SMB_PASSWORD},
        status="error",
        last_error="mount error(13): Permission denied",
    )
    local = sim.add_repository("local-repo")
    offsite = sim.add_repository(
        "offsite-rest",
        backend="rest",
        config={
            "url": f"https://backup:{REST_PASSWORD}@rest.example.net:8000/zb",
            "username": "backup",
            "password": REST_PASSWORD,
        },
    )
    s3 = sim.add_repository(
        "b2-bucket",
        backend="s3",
        config={
            "endpoint": "https://s3.eu.example.com",
            "bucket": "zb-backups",
            "accessKeyId": "AKIAEXAMPLE",
            "secretAccessKey": S3_SECRET,
        },
        status="error",
        last_error=f"Fatal: unable to open repository at s3:https://AKIAEXAMPLE:{S3_SECRET}@s3.eu.example.com",
    )
    job = sim.add_backup_job(
        "photos-nightly",
        volume=photos["shortId"],
        repository=local["shortId"],
        cron="0 2 * * *",
        retention={"keepLast": 3, "keepDaily": 7, "keepWeekly": 4, "keepWithinDuration": "30d"},
        exclude_patterns=["*.tmp", "**/cache"],
        include_paths=["/2024"],
        last_status="success",
        last_backup_at=now - 10 * 3_600_000,
        # as Zerobyte computes it (cron in UTC): a next run cron would not give means another time zone
        next_backup_at=int(
            parse_cron("0 2 * * *").next_after(datetime.fromtimestamp(now / 1000, UTC)).timestamp() * 1000
        ),
        max_retries=3,
        retry_delay=30,
        backup_webhooks={
            "pre": {
                "url": f"https://hc-ping.com/{HOOK_CAPABILITY}/start",
                "headers": [f"Authorization: Bearer {HOOK_BEARER}", "Content-Type: application/json"],
                "body": json.dumps({"token": HOOK_BODY_SECRET}),
            },
            "post": {"url": f"https://ops:{POST_HOOK_PASSWORD}@hooks.example.net/done?token=abc"},
        },
    )
    nas_job = sim.add_backup_job(
        "nas-weekly",
        volume=nas["shortId"],
        repository=s3["shortId"],
        cron="30 3 * * 1,4",
        last_status="error",
        last_error="Volume is not mounted",
        last_backup_at=now - 3 * DAY,
    )
    sim.add_mirror(job["shortId"], offsite["shortId"])
    generic = sim.add_notification_destination(
        "ops-webhook",
        type="generic",
        config={
            "url": f"https://hooks.example.net/zb/{GENERIC_PATH_SECRET}",
            "method": "POST",
            "headers": [f"Authorization: Bearer {GENERIC_BEARER}", "Content-Type: application/json"],
        },
        status="healthy",
    )
    telegram = sim.add_notification_destination(
        "family-telegram", type="telegram", config={"botToken": TELEGRAM_TOKEN, "chatId": "-100123"}
    )
    sim.assign_notification(job["shortId"], generic["id"], on_success=True, on_warning=True, on_failure=True)
    sim.assign_notification(nas_job["shortId"], telegram["id"], on_warning=False, on_failure=True)
    for days_ago in (3, 2, 1):
        sim.add_snapshot(local["shortId"], job=job["shortId"], time_ms=now - days_ago * DAY)
    local_row = sim.find_repository(local["shortId"])
    assert local_row is not None
    sim.refresh_stats(local_row)
    local_row["doctorResult"] = {
        "success": False,
        "steps": [
            {"step": "unlock", "success": True, "output": "removed 1 stale lock", "error": None},
            {"step": "check", "success": False, "output": "...", "error": "pack 3f2a… is damaged"},
        ],
        "completedAt": now - DAY,
    }
    return {
        "photos": photos["shortId"],
        "nas": nas["shortId"],
        "local": local["shortId"],
        "offsite": offsite["shortId"],
        "s3": s3["shortId"],
        "job": job["shortId"],
        "job_numeric": job["id"],
        "nas_job": nas_job["shortId"],
        "generic": generic["id"],
        "telegram": telegram["id"],
    }


async def call(mcp: Client, tool: str, **args: Any) -> dict[str, Any]:
    result = await mcp.call_tool(tool, args)
    text = result.content[0].text  # type: ignore[union-attr]
    assert not result.is_error, text
    data: dict[str, Any] = result.structured_content or {}
    shown = text + json.dumps(data)
    for secret in SECRETS:
        assert secret not in shown, f"{tool} leaked {secret!r}"
    return data


async def refused(mcp: Client, sim: Simulator, tool: str, **args: Any) -> str:
    before = len(sim.requests)
    result = await mcp.call_tool(tool, args)
    text: str = result.content[0].text  # type: ignore[union-attr]
    assert result.is_error, f"{tool} accepted {args}"
    assert len(sim.requests) == before, f"{tool} sent a request for {args}: {sim.requests[before:]}"
    assert len(text) < 600
    return text


# --- volumes -----------------------------------------------------------------------------------------


async def test_get_volume_shows_capacity_source_and_the_jobs_reading_it(sim: Simulator, mcp: Client) -> None:
    ids = seed(sim)

    volume = await call(mcp, "get_volume", volume_id=ids["photos"])

    assert volume["name"] == "photos"
    assert volume["status"] == "mounted"
    assert volume["source"] == "/srv/photos"
    capacity = volume["capacity"]
    assert capacity["total_bytes"] == 4 * 1024**4
    assert capacity["used_bytes"] + capacity["free_bytes"] == capacity["total_bytes"]
    assert [(j["id"], j["name"], j["last_status"]) for j in volume["backup_jobs"]] == [
        (ids["job"], "photos-nightly", "success")
    ]


async def test_an_unmounted_volume_has_no_capacity_and_keeps_its_error(sim: Simulator, mcp: Client) -> None:
    ids = seed(sim)

    volume = await call(mcp, "get_volume", volume_id=ids["nas"])

    assert volume["status"] == "error"
    assert volume["last_error"] == "mount error(13): Permission denied"
    assert volume["source"] == "//nas.lan/family"
    assert "capacity" not in volume
    assert [j["name"] for j in volume["backup_jobs"]] == ["nas-weekly"]


async def test_get_volume_names_a_missing_volume(sim: Simulator, mcp: Client) -> None:
    seed(sim)
    result = await mcp.call_tool("get_volume", {"volume_id": "nOpe1234"})
    text = result.content[0].text  # type: ignore[union-attr]
    assert result.is_error
    assert "nOpe1234" in text and "not found" in text


async def test_browse_volume_files_lists_a_folder_with_sizes_and_times(sim: Simulator, mcp: Client) -> None:
    ids = seed(sim)

    root = await call(mcp, "browse_volume_files", volume_id=ids["photos"])
    sub = await call(mcp, "browse_volume_files", volume_id=ids["photos"], path="/2024")

    assert {(e["name"], e["type"]) for e in root["entries"]} == {
        ("2024", "directory"),
        ("raw", "directory"),
        ("readme.txt", "file"),
    }
    assert root["total"] == 3
    assert "next_offset" not in root
    assert {e["name"]: e["size"] for e in sub["entries"]} == {"beach.jpg": 2_000_000, "dog.jpg": 1_500_000}
    assert all(e["modified"].endswith("Z") for e in sub["entries"])
    text = (await mcp.call_tool("browse_volume_files", {"volume_id": ids["photos"], "path": "/2024"})).content[0]
    assert "1.9 MiB" in text.text  # type: ignore[union-attr]  # sizes read in human form


async def test_browse_volume_files_pages_with_next_offset(sim: Simulator, mcp: Client) -> None:
    vol = sim.add_volume("many", path="/srv/many", files={f"f{i:03d}.txt": i + 1 for i in range(250)})

    first = await call(mcp, "browse_volume_files", volume_id=vol["shortId"], limit=100)
    last = await call(mcp, "browse_volume_files", volume_id=vol["shortId"], offset=200, limit=100)

    assert first["total"] == 250
    assert len(first["entries"]) == 100
    assert first["next_offset"] == 100
    assert len(last["entries"]) == 50
    assert "next_offset" not in last
    assert last["entries"][-1]["name"] == "f249.txt"


async def test_browse_volume_files_on_an_unmounted_volume_says_so(sim: Simulator, mcp: Client) -> None:
    ids = seed(sim)
    result = await mcp.call_tool("browse_volume_files", {"volume_id": ids["nas"]})
    assert result.is_error
    assert "not mounted" in result.content[0].text  # type: ignore[union-attr]


async def test_browse_server_filesystem_lists_folders_to_pick_a_volume_path(
    sim: Simulator, operate_mcp: Client
) -> None:
    seed(sim)

    srv = await call(operate_mcp, "browse_server_filesystem", path="/srv")
    photos = await call(operate_mcp, "browse_server_filesystem", path="/srv/photos")

    assert ("photos", "/srv/photos") in {(d["name"], d["path"]) for d in srv["directories"]}
    assert {d["name"] for d in photos["directories"]} == {"2024", "raw"}  # folders only, no readme.txt
    assert photos["total"] == 2


async def test_browse_server_filesystem_reports_a_missing_folder(sim: Simulator, operate_mcp: Client) -> None:
    result = await operate_mcp.call_tool("browse_server_filesystem", {"path": "/does/not/exist"})
    assert result.is_error
    assert "/does/not/exist" in result.content[0].text  # type: ignore[union-attr]


# --- repositories ------------------------------------------------------------------------------------


async def test_get_repository_shows_stats_doctor_and_the_jobs_using_it(sim: Simulator, mcp: Client) -> None:
    ids = seed(sim)
    row = sim.find_repository(ids["local"])
    assert row is not None
    expected = sim.compute_stats(row)

    repo = await call(mcp, "get_repository", repository_id=ids["local"])

    assert repo["name"] == "local-repo"
    assert repo["status"] == "healthy"
    assert repo["location"].endswith(f"/{ids['local']}")
    stats = repo["stats"]
    assert stats["stored_bytes"] == expected["total_size"]
    assert stats["uncompressed_bytes"] == expected["total_uncompressed_size"]
    assert stats["snapshots_count"] == 3
    assert stats["compression_ratio"] == round(expected["compression_ratio"], 2)
    assert stats["updated"].endswith("Z")
    assert repo["doctor"]["success"] is False
    assert [(s["step"], s["success"]) for s in repo["doctor"]["steps"]] == [("unlock", True), ("check", False)]
    assert repo["doctor"]["steps"][1]["error"] == "pack 3f2a… is damaged"
    assert repo["backup_jobs"] == [
        {
            "id": ids["job"],
            "name": "photos-nightly",
            "role": "primary",
            "enabled": True,
            "last_status": "success",
            "last_time": repo["backup_jobs"][0]["last_time"],
        }
    ]


async def test_a_mirror_target_lists_the_job_mirroring_into_it_and_hides_url_credentials(
    sim: Simulator, mcp: Client
) -> None:
    ids = seed(sim)

    repo = await call(mcp, "get_repository", repository_id=ids["offsite"])

    assert repo["backend"] == "rest"
    assert "rest.example.net:8000/zb" in repo["location"]
    assert [(j["name"], j["role"]) for j in repo["backup_jobs"]] == [("photos-nightly", "mirror")]
    # never computed: unknown (said, with why), not zero; the snapshots are counted from the listing
    assert "stored_bytes" not in repo["stats"] and repo["stats"]["note"].startswith("unknown, because")
    assert isinstance(repo["stats"]["snapshots_count"], int)


async def test_a_failing_repository_shows_its_error_without_the_credentials_in_it(sim: Simulator, mcp: Client) -> None:
    ids = seed(sim)

    repo = await call(mcp, "get_repository", repository_id=ids["s3"])

    assert repo["status"] == "error"
    assert repo["last_error"].startswith("Fatal: unable to open repository")
    assert repo["location"] == "https://s3.eu.example.com/zb-backups"  # as create_repository takes it


# --- backup jobs -------------------------------------------------------------------------------------


async def test_list_backup_jobs_says_each_schedule_in_words(sim: Simulator, mcp: Client) -> None:
    seed(sim)

    listed = await call(mcp, "list_backup_jobs")

    assert {j["name"]: j["schedule"] for j in listed["jobs"]} == {
        "photos-nightly": "daily at 02:00 UTC",
        "nas-weekly": "Mondays and Thursdays at 03:30 UTC",
    }


async def test_get_backup_job_shows_everything_with_webhooks_redacted(sim: Simulator, mcp: Client) -> None:
    ids = seed(sim)

    job = await call(mcp, "get_backup_job", job_id=ids["job"])

    assert job["name"] == "photos-nightly"
    assert job["volume"] == f"photos ({ids['photos']})"
    assert job["repository"] == f"local-repo ({ids['local']})"
    assert (job["cron"], job["schedule"]) == ("0 2 * * *", "daily at 02:00 UTC")
    assert job["last_status"] == "success"
    assert job["next_run"].endswith("Z")
    assert job["retention"] == "last 3, daily 7, weekly 4, within 30d"
    assert job["rules"]["include_paths"] == ["/2024"]
    assert job["rules"]["exclude_patterns"] == ["*.tmp", "**/cache"]
    assert job["rules"]["one_file_system"] is False
    assert job["retries"] == {"max": 3, "delay_minutes": 30}
    pre = job["webhooks"]["pre"]
    assert pre["url"] == "https://hc-ping.com/<redacted>"
    assert pre["headers"] == ["Authorization: <redacted>", "Content-Type: application/json"]
    assert pre["body"] == "<redacted>"
    assert job["webhooks"]["post"]["url"].startswith("https://<redacted>@hooks.example.net")
    assert job["mirrors"] == [{"repository": f"offsite-rest ({ids['offsite']})", "enabled": True}]
    assert job["notifications"] == [
        {
            "destination": f"ops-webhook ({ids['generic']})",
            "type": "generic",
            "events": ["success", "warning", "failure"],
        }
    ]


async def test_get_backup_job_accepts_the_numeric_id(sim: Simulator, mcp: Client) -> None:
    ids = seed(sim)
    job = await call(mcp, "get_backup_job", job_id=str(ids["job_numeric"]))
    assert job["id"] == ids["job"]


async def test_get_backup_job_fetches_mirrors_and_notifications_alongside(sim: Simulator, mcp: Client) -> None:
    ids = seed(sim)
    before = len(sim.requests)

    await call(mcp, "get_backup_job", job_id=ids["nas_job"])

    paths = sorted(r.path for r in sim.requests[before:])
    assert paths == [
        f"/api/v1/backups/{ids['nas_job']}",
        f"/api/v1/backups/{ids['nas_job']}/mirrors",
        f"/api/v1/backups/{ids['nas_job']}/notifications",
        "/api/v1/repositories",  # where its copies live: the 3-2-1 coverage
    ]


async def test_a_missing_backup_job_is_named(sim: Simulator, mcp: Client) -> None:
    seed(sim)
    result = await mcp.call_tool("get_backup_job", {"job_id": "zzzzzzzz"})
    text = result.content[0].text  # type: ignore[union-attr]
    assert result.is_error
    assert "zzzzzzzz" in text and "not found" in text
    assert "internal error" not in text


# --- notification destinations -----------------------------------------------------------------------


async def test_list_notification_destinations(sim: Simulator, mcp: Client) -> None:
    seed(sim)

    listed = await call(mcp, "list_notification_destinations")

    assert listed["total"] == 2
    assert {(d["name"], d["type"], d["status"]) for d in listed["destinations"]} == {
        ("ops-webhook", "generic", "healthy"),
        ("family-telegram", "telegram", "unknown"),
    }


async def test_a_generic_webhook_destination_hides_its_url_path_and_authorization(sim: Simulator, mcp: Client) -> None:
    ids = seed(sim)

    dest = await call(mcp, "get_notification_destination", destination_id=ids["generic"])

    assert dest["name"] == "ops-webhook"
    assert dest["config"]["url"] == "https://hooks.example.net/<redacted>"
    assert dest["config"]["method"] == "POST"
    assert dest["config"]["headers"] == ["Authorization: <redacted>", "Content-Type: application/json"]
    assert dest["backup_jobs"] == [
        {"id": ids["job"], "name": "photos-nightly", "events": ["success", "warning", "failure"]}
    ]


async def test_a_telegram_destination_hides_its_sealed_bot_token(sim: Simulator, mcp: Client) -> None:
    ids = seed(sim)

    dest = await call(mcp, "get_notification_destination", destination_id=ids["telegram"])

    assert dest["config"]["botToken"] == "<redacted>"
    assert dest["config"]["chatId"] == "-100123"
    assert dest["backup_jobs"] == [{"id": ids["nas_job"], "name": "nas-weekly", "events": ["failure"]}]


# --- system ------------------------------------------------------------------------------------------


async def test_get_system_info_reports_version_update_backends_and_features(sim: Simulator, mcp: Client) -> None:
    sim.app_version = "v0.42.0"
    sim.latest_version = "v0.43.1"

    info = await call(mcp, "get_system_info")

    assert info["runtime"] == "server"
    assert info["version"] == "v0.42.0"
    assert info["latest_version"] == "v0.43.1"
    assert info["update_available"] is True
    assert info["missed_releases"] == ["v0.43.1"]
    assert {"tasks", "task_history", "sys_admin"} <= set(info["features"])
    assert "smb" in info["volume_backends"]
    assert "rest" in info["repository_backends"]


async def test_a_schedule_zerobyte_runs_in_another_time_zone_is_said_in_server_time(
    sim: Simulator, mcp: Client
) -> None:
    now = sim.now_ms()
    utc_next = parse_cron("0 2 * * *").next_after(datetime.fromtimestamp(now / 1000, UTC))
    volume = sim.add_volume("v")["shortId"]
    repo = sim.add_repository("r")["shortId"]
    # Zerobyte with TZ=America/Santo_Domingo (UTC-4): its next 02:00 is 06:00 UTC.
    job = sim.add_backup_job(
        "j",
        volume=volume,
        repository=repo,
        cron="0 2 * * *",
        next_backup_at=int(utc_next.timestamp() * 1000) + 4 * 3_600_000,
    )["shortId"]

    listed = await call(mcp, "list_backup_jobs")
    detail = await call(mcp, "get_backup_job", job_id=job)

    assert [j["schedule"] for j in listed["jobs"] if j["id"] == job] == ["daily at 02:00 server time"]
    assert detail["schedule"] == "daily at 02:00 server time"


async def test_get_system_info_on_a_v041_server_says_task_history_is_missing(
    settings: Settings, sim: Simulator, era: str
) -> None:
    sim.legacy = True
    sim.app_version = "v0.41.0"

    async with Client(create_server(settings), mode=era) as mcp:  # capabilities are detected once per process
        info = await call(mcp, "get_system_info")

    assert "task_history" not in info["features"]
    assert any("history" in note for note in info["notes"])


# --- refused input -----------------------------------------------------------------------------------

BAD_IDS = ["../auth/api-keys", "%2F..", " ", "a/b", "x" * 10_240]


@pytest.mark.parametrize("bad", BAD_IDS)
@pytest.mark.parametrize(
    ("tool", "argument"),
    [
        ("get_volume", "volume_id"),
        ("browse_volume_files", "volume_id"),
        ("get_repository", "repository_id"),
        ("get_backup_job", "job_id"),
        ("get_notification_destination", "destination_id"),
    ],
)
async def test_bad_ids_are_refused_before_any_request(
    sim: Simulator, mcp: Client, tool: str, argument: str, bad: str
) -> None:
    text = await refused(mcp, sim, tool, **{argument: bad})
    assert argument in text


@pytest.mark.parametrize("path", ["../etc", "/a/../../etc", "/a\x00b", "y" * 10_000])
async def test_bad_volume_paths_are_refused_before_any_request(sim: Simulator, mcp: Client, path: str) -> None:
    vol = sim.add_volume("data")
    text = await refused(mcp, sim, "browse_volume_files", volume_id=vol["shortId"], path=path)
    assert "path" in text


@pytest.mark.parametrize("path", ["relative/dir", "/srv/../etc", "", "/x\nb"])
async def test_bad_server_paths_are_refused_before_any_request(sim: Simulator, operate_mcp: Client, path: str) -> None:
    text = await refused(operate_mcp, sim, "browse_server_filesystem", path=path)
    assert "path" in text


@pytest.mark.parametrize(
    ("args", "argument"), [({"limit": 0}, "limit"), ({"limit": 501}, "limit"), ({"offset": -1}, "offset")]
)
async def test_out_of_range_paging_is_refused(sim: Simulator, mcp: Client, args: dict[str, Any], argument: str) -> None:
    vol = sim.add_volume("data")
    text = await refused(mcp, sim, "browse_volume_files", volume_id=vol["shortId"], **args)
    assert argument in text


async def test_growth_per_week_sums_what_each_snapshot_added_and_asks_zerobyte_once_per_repository(
    sim: Simulator, mcp: Client
) -> None:
    sim.add_volume("data", path="/srv/data", files={"a.txt": "a"})
    repo = sim.add_repository("local-repo")["shortId"]
    empty = sim.add_repository("empty")["shortId"]
    job = sim.add_backup_job("daily", volume="data", repository=repo)["shortId"]
    monday = datetime(2026, 11, 30, 12, tzinfo=UTC).timestamp() * 1000
    for days in (-6, -5, 0, 1, 3):  # two in the week of 23 Nov, three in the week of 30 Nov
        sim.add_snapshot(repo, job=job, time_ms=int(monday + days * DAY))
    on_server = sim.list_snapshots(sim.find_repository(repo))  # type: ignore[arg-type]
    before = len(sim.requests)

    result = await mcp.call_tool("list_repositories", {"growth": True})

    asked = [r.path for r in sim.requests[before:]]
    data: dict[str, Any] = result.structured_content or {}
    rows = {r["id"]: r for r in data["repositories"]}
    weeks = rows[repo]["growth"]["weeks"]
    assert [(w["week"], w["snapshots"]) for w in weeks] == [("2026-11-30", 3), ("2026-11-23", 2)]
    newest_week = [s for s in on_server if s["time"] >= monday]
    assert weeks[0]["added_bytes"] == sum(s["summary"]["data_added"] for s in newest_week)
    assert weeks[0]["stored_added_bytes"] == sum(s["summary"]["data_added_packed"] for s in newest_week)
    assert rows[repo]["growth"]["snapshots"] == 5 and rows[empty]["growth"] == {"snapshots": 0}
    assert sorted(asked) == sorted(
        ["/api/v1/repositories", *(f"/api/v1/repositories/{r}/snapshots" for r in (repo, empty))]
    )
    text = json.loads(result.content[0].text)  # type: ignore[union-attr]
    assert text["repositories"][0]["growth"]["weeks"][0]["added_bytes_text"].endswith("B")
