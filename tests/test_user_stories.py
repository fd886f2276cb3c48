"""The user stories of USERS.md (§7, §3.2 and the further candidates), each answered the way an agent would.

Each test seeds the simulator so the story is real (a locked repository, a tax.pdf that changed between
Monday and Tuesday, a job that stopped running...), then drives the real MCP server through the SDK's
in-memory client on both protocol eras with the fewest tool calls that answer the question, and checks
that the ANSWER holds what the user needs: the names, the error, the next step, the snapshot id, the text.

Story -> test -> tools (W = workflow of §3.2, F = a "further candidate story"):

 1   test_why_did_last_nights_backup_fail_and_how_do_i_fix_it ........ backup_health
 2   test_which_snapshot_holds_tax_pdf_as_it_was_on_monday ........... find_file
 2   test_restore_tax_pdf_as_it_was_on_monday_to_a_staging_folder .... find_file, restore, browse_volume_files
 3   test_set_up_a_daily_backup_of_photos_to_my_s3_repo_keeping_7_daily_and_4_weekly
                                  list_repositories, create_volume, create_backup_job
 4   test_are_all_my_backups_healthy_give_me_a_morning_summary ....... backup_health
 5   test_which_backups_havent_run_in_48_hours ....................... backup_health
 6   test_the_repo_says_its_locked_fix_it ............................ unlock_repository, run_backup, backup_health
 7   test_back_up_nextcloud_now_before_i_upgrade_and_tell_me_when_its_done
                                  run_backup (progress notifications), list_snapshots
 8   test_add_an_offsite_copy_to_backblaze_b2_for_my_photos_job
                                  create_repository, set_mirror, sync_mirror, get_mirror_status
 9   test_alert_me_on_telegram_when_any_backup_fails_and_send_warnings_to_discord
                                  create_notification_destination, update_notification_destination (test),
                                  list_backup_jobs, route_notifications
 10  test_how_much_space_am_i_using_and_how_well_is_it_compressing ... get_repository, get_volume
 11  NOT COVERED: no tool sets a job's pre/post backup webhooks (update_backup_job has no such argument)
 12  test_delete_the_snapshots_from_the_week_the_disk_was_full_but_keep_the_tagged_ones
                                  list_snapshots, delete_snapshots (preview + confirm_token)
 12  test_delete_the_snapshots_of_that_week_after_the_user_confirms_the_exact_list
                                  list_snapshots, delete_snapshots (elicitation)
 13  test_cancel_the_backup_thats_been_running_for_6_hours ........... list_active_tasks, cancel_task
 14  test_prove_my_backups_are_restorable_with_a_restore_test
                                  list_backup_jobs, list_snapshots, restore, browse_volume_files, list_snapshot_files
 15  test_whats_configured_on_this_instance_with_every_secret_redacted
                                  list_volumes, list_repositories, list_backup_jobs, get_backup_job, get_repository,
                                  list_notification_destinations, get_notification_destination
 F1  test_what_changed_between_the_last_two_snapshots ................ list_snapshots, get_snapshot, list_snapshot_files
 F2  test_what_did_config_yaml_say_before_i_changed_it_last_week ..... find_file, read_snapshot_file
 F3  test_pause_the_schedule_while_i_move_house ...................... update_backup_job, backup_health
 W1  test_mount_my_nas_share_so_zerobyte_can_read_it ................. create_volume, browse_volume_files
 W3  test_back_up_documents_daily_at_2am_keeping_7_4_6_1_and_skipping_junk ... create_backup_job
 W9  test_my_repository_is_in_error_run_doctor_and_read_its_report ... get_repository, run_doctor
 W9  test_refresh_the_size_numbers_of_my_repository .................. get_repository, update_repository
 W10 test_apply_my_retention_policy_now .............................. apply_retention (elicitation), list_snapshots
 W10 test_tag_my_best_snapshot_keep_forever .......................... tag_snapshots, list_snapshots

W2, W4, W5, W6, W7, W8 and W11 are stories 8, 7, 9, 11, 8, 2 and 14. W12 (declarative provisioning) is a
Zerobyte config-file feature with no API behind it, so there is nothing for a tool to call.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.client.context import ClientRequestContext
from mcp.client.session import ElicitationFnT
from mcp.types import CallToolResult, ElicitRequestParams, ElicitResult, TextContent

from mcp_server.answers.output import iso_from_ms
from mcp_server.server import create_server
from mcp_server.simulator import Node, Simulator, SimulatorServer, seed_demo
from mcp_server.simulator.files import TreeSpec
from mcp_server.simulator.state import DEFAULT_LOCK_ERROR, DEFAULT_WARNING_DETAILS
from tests.helpers import make_settings

pytestmark = pytest.mark.anyio

DAY = 86_400_000
HOUR = 3_600_000
MINUTE = 60_000

Elicitation = ElicitationFnT


# --- helpers ---------------------------------------------------------------------------------------


@asynccontextmanager
async def agent(
    server: SimulatorServer, era: str, *, elicit: Elicitation | None = None, **changes: Any
) -> AsyncIterator[Client]:
    """An agent's connection to a server built with ``changes`` (e.g. access='operate')."""
    settings = make_settings(server.url, **changes)
    async with Client(create_server(settings), mode=era, elicitation_callback=elicit) as client:
        yield client


def text(result: CallToolResult) -> str:
    return " ".join(c.text for c in result.content if isinstance(c, TextContent))


def answer(result: CallToolResult) -> dict[str, Any]:
    """The structured answer of a successful call (a failed call fails the test with its message)."""
    assert not result.is_error, text(result)
    content: dict[str, Any] | None = result.structured_content
    assert content is not None
    return content


async def ask(client: Client, tool: str, seen: list[str] | None = None, **arguments: Any) -> dict[str, Any]:
    """Call a tool as the agent; keep every text it read in ``seen`` (to scan for secrets)."""
    result = await client.call_tool(tool, arguments)
    if seen is not None:
        seen.append(text(result))
        seen.append(json.dumps(result.structured_content))
    return answer(result)


def confirming(questions: list[str], *, confirm: bool = True) -> Elicitation:
    """A client whose user reads the question and ticks (or not) 'confirm'."""

    async def callback(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        questions.append(getattr(params, "message", ""))
        return ElicitResult(action="accept", content={"confirm": confirm})

    return callback


def file(name: str, content: bytes | str, mtime_ms: int) -> Node:
    data = content.encode() if isinstance(content, str) else content
    return Node(name, "file", mtime_ms=mtime_ms, size=len(data), content=data)


def folder(name: str, children: Iterable[Node]) -> Node:
    kids = list(children)
    return Node(name, "dir", mtime_ms=max((k.mtime_ms for k in kids), default=0), children=kids)


def midnight(sim: Simulator) -> int:
    return sim.now_ms() // DAY * DAY


def day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).date().isoformat()


async def nightly_run(sim: Simulator, job_id: str) -> dict[str, Any]:
    """Let Zerobyte's own scheduler run a job (not the agent), and wait for the task to end."""
    with sim.lock:
        schedule = sim.find_schedule(job_id)
        assert schedule is not None
        task = sim.start_backup(schedule, manual=False)
    dto: dict[str, Any] = await anyio.to_thread.run_sync(sim.wait_task, task.id)
    return dto


def short(snapshot: dict[str, Any]) -> str:
    value: str = snapshot["short_id"]
    return value


# --- story 1 and 6: a backup failed because its repository is locked -------------------------------


async def seed_locked_nextcloud(sim: Simulator) -> dict[str, str]:
    now = sim.now_ms()
    photos = sim.add_volume("photos", path="/srv/photos", files={"2026": {"a.jpg": 2_000_000}})
    nextcloud = sim.add_volume(
        "nextcloud", path="/srv/nextcloud", files={"alice": {"report.odt": 52_000, "cat.jpg": 2_800_000}}
    )
    local = sim.add_repository("local-nas", config={"path": "/mnt/nas/restic"})
    rest = sim.add_repository("rest-server", config={"path": "/mnt/rest/restic"})
    sim.add_backup_job(
        "photos-nightly",
        volume=photos["shortId"],
        repository=local["shortId"],
        cron="0 2 * * *",
        last_status="success",
        last_backup_at=now - 5 * HOUR,
    )
    job = sim.add_backup_job(
        "nextcloud-nightly", volume=nextcloud["shortId"], repository=rest["shortId"], cron="0 4 * * *"
    )
    # A crashed restic left its lock behind; last night's scheduled run then failed on it.
    sim.lock_repository(rest["shortId"], DEFAULT_LOCK_ERROR)
    failed = await nightly_run(sim, job["shortId"])
    assert failed["status"] == "failed"
    return {"job": job["shortId"], "repository": rest["shortId"]}


async def test_why_did_last_nights_backup_fail_and_how_do_i_fix_it(
    sim: Simulator, sim_server: SimulatorServer, era: str
) -> None:
    ids = await seed_locked_nextcloud(sim)
    last_run = sim.find_schedule(ids["job"])
    assert last_run is not None

    async with agent(sim_server, era) as client:
        health = await ask(client, "backup_health")

    failing = [j for j in health["jobs"] if j["state"] == "failing"]
    assert [j["name"] for j in failing] == ["nextcloud-nightly"]
    why = failing[0]
    assert "unable to create lock in backend: repository is already locked" in why["message"]
    assert "unlock_repository" in why["next_step"] and "run_doctor" in why["next_step"]
    assert why["last_run"] == iso_from_ms(last_run["lastBackupAt"])
    assert health["verdict"] == "critical" and "1 failing" in health["summary"]
    assert {j["name"]: j["state"] for j in health["jobs"]}["photos-nightly"] == "ok"


async def test_the_repo_says_its_locked_fix_it(sim: Simulator, sim_server: SimulatorServer, era: str) -> None:
    ids = await seed_locked_nextcloud(sim)

    async with agent(sim_server, era, access="operate") as client:
        unlocked = await ask(client, "unlock_repository", repository_id=ids["repository"])
        rerun = await ask(client, "run_backup", job_id=ids["job"])
        health = await ask(client, "backup_health")

    assert unlocked["outcome"] == "ok"
    assert rerun["outcome"] == "success" and "nextcloud-nightly" in rerun["target"]
    new_snapshot = rerun["result"]["snapshot_id"]
    repo = sim.find_repository(ids["repository"])
    assert repo is not None
    assert [s.short_id for s in sim.snapshots_of(repo)] == [new_snapshot[:8]]
    assert {j["name"]: j["state"] for j in health["jobs"]}["nextcloud-nightly"] == "ok"
    assert health["verdict"] == "ok"


# --- story 2: tax.pdf as it was on Monday ------------------------------------------------------------


TAX_V1 = b"%PDF-1.7\n% 2025 tax return, as filed\n%%EOF\n"
TAX_V2 = b"%PDF-1.7\n% 2025 tax return, amended after the accountant called\n%%EOF\n"


def last_monday(sim: Simulator) -> int:
    """Midnight of the latest Monday whose Tuesday is already over (so both days have a snapshot)."""
    today = midnight(sim)
    weekday = datetime.fromtimestamp(today / 1000, UTC).weekday()
    monday = today - weekday * DAY
    if monday + DAY >= today:
        monday -= 7 * DAY
    return monday


def seed_tax_documents(sim: Simulator) -> dict[str, Any]:
    """Snapshots on Sunday, Monday (tax.pdf v1) and Tuesday (v2, edited Tuesday 01:10) at 03:30."""
    monday = last_monday(sim)
    v1_mtime = monday - 3 * DAY + 10 * HOUR + 12 * MINUTE  # the Friday before
    v2_mtime = monday + DAY + HOUR + 10 * MINUTE

    def tree(tax: Node) -> Node:
        taxes = folder("2025", [tax, file("receipts.zip", b"PK\x03\x04" + b"\0" * 64, v1_mtime - DAY)])
        notes = file("notes.md", "# Household notes\n- renew passport\n", v1_mtime - 2 * DAY)
        return folder("", [folder("docs", [folder("taxes", [taxes]), notes])])

    docs = sim.add_volume("documents", path="/srv/documents")
    repo = sim.add_repository("local-nas", config={"path": "/mnt/nas/restic"})
    job = sim.add_backup_job("documents-nightly", volume=docs["shortId"], repository=repo["shortId"], cron="30 3 * * *")
    sim.set_volume_files(docs["shortId"], tree(file("tax.pdf", TAX_V1, v1_mtime)))
    at = 3 * HOUR + 30 * MINUTE
    sunday = sim.add_snapshot(repo["shortId"], job=job["shortId"], time_ms=monday - DAY + at)
    monday_snap = sim.add_snapshot(repo["shortId"], job=job["shortId"], time_ms=monday + at)
    sim.set_volume_files(docs["shortId"], tree(file("tax.pdf", TAX_V2, v2_mtime)))
    tuesday = sim.add_snapshot(repo["shortId"], job=job["shortId"], time_ms=monday + DAY + at)
    return {
        "volume": docs["shortId"],
        "repository": repo["shortId"],
        "job": job["shortId"],
        "monday": day(monday),
        "snapshots": {"sunday": short(sunday), "monday": short(monday_snap), "tuesday": short(tuesday)},
        "v1_mtime": v1_mtime,
        "v2_mtime": v2_mtime,
    }


async def test_which_snapshot_holds_tax_pdf_as_it_was_on_monday(
    sim: Simulator, sim_server: SimulatorServer, era: str
) -> None:
    world = seed_tax_documents(sim)

    async with agent(sim_server, era) as client:
        as_of_monday = await ask(
            client, "find_file", pattern="tax.pdf", backup_job_id=world["job"], until=world["monday"]
        )
        every_version = await ask(client, "find_file", pattern="tax.pdf", backup_job_id=world["job"])

    monday = as_of_monday["versions"][0]
    assert monday["path"] == "/srv/documents/docs/taxes/2025/tax.pdf"
    assert monday["snapshots"][0] == world["snapshots"]["monday"]  # the newest snapshot on or before Monday
    assert monday["size"] == len(TAX_V1) and monday["mtime"] == iso_from_ms(world["v1_mtime"])
    assert set(monday["snapshots"]) == {world["snapshots"]["monday"], world["snapshots"]["sunday"]}
    assert all(v["size"] != len(TAX_V2) for v in as_of_monday["versions"])
    # Without the date the newest copy is Tuesday's edited one: the filter is what answers "on Monday".
    newest = every_version["versions"][0]
    assert newest["snapshots"] == [world["snapshots"]["tuesday"]] and newest["size"] == len(TAX_V2)
    assert newest["mtime"] == iso_from_ms(world["v2_mtime"])


async def test_restore_tax_pdf_as_it_was_on_monday_to_a_staging_folder(
    sim: Simulator, sim_server: SimulatorServer, era: str
) -> None:
    world = seed_tax_documents(sim)
    staging = sim.add_volume("restore-staging", path="/srv/restore")

    async with agent(sim_server, era, access="operate", restore_allowed_roots=("/srv/restore",)) as client:
        found = await ask(client, "find_file", pattern="tax.pdf", backup_job_id=world["job"], until=world["monday"])
        version = found["versions"][0]
        restored = await ask(
            client,
            "restore",
            repository_id=world["repository"],
            snapshot_id=version["snapshots"][0],
            paths=[version["path"]],
            target_path="/srv/restore/tax-monday",
        )
        check = await ask(client, "browse_volume_files", volume_id=staging["shortId"], path="/tax-monday")

    assert restored["outcome"] == "success"
    assert restored["landed"] == ["/srv/documents/docs/taxes/2025/tax.pdf -> /srv/restore/tax-monday/tax.pdf"]
    assert world["snapshots"]["monday"] in restored["message"] and "/srv/restore/tax-monday" in restored["message"]
    assert [(e["name"], e["size"]) for e in check["entries"]] == [("tax.pdf", len(TAX_V1))]
    body = next(r.body for r in sim.requests if r.method == "POST" and r.path.endswith("/restore"))
    assert body["overwrite"] == "never" and body["targetPath"] == "/srv/restore/tax-monday"
    # The live file (Tuesday's v2) is untouched.
    docs = sim.find_volume(world["volume"])
    assert docs is not None
    live = sim.volume_tree(docs).resolve("docs/taxes/2025/tax.pdf")
    assert live is not None and live.size == len(TAX_V2)


# --- story 3 and workflow 3: create a backup job ------------------------------------------------------


async def test_set_up_a_daily_backup_of_photos_to_my_s3_repo_keeping_7_daily_and_4_weekly(
    sim: Simulator, sim_server: SimulatorServer, era: str
) -> None:
    sim.add_repository("local-nas", config={"path": "/mnt/nas/restic"})
    sim.add_repository(
        "offsite-s3",
        backend="s3",
        config={
            "endpoint": "https://s3.eu-west-1.amazonaws.com",
            "bucket": "my-backups",
            "accessKeyId": "AKIA",
            "secretAccessKey": "SK",
        },
    )

    async with agent(sim_server, era, access="operate") as client:
        repos = await ask(client, "list_repositories")
        s3 = next(r for r in repos["repositories"] if r["backend"] == "s3")
        volume = await ask(client, "create_volume", name="photos", backend="directory", source="/photos")
        created = await ask(
            client,
            "create_backup_job",
            name="photos-daily",
            volume_id=volume["volume"]["id"],
            repository_id=s3["id"],
            schedule="0 2 * * *",
            retention="daily 7, weekly 4",
        )

    assert volume["outcome"] == "created" and volume["volume"]["status"] == "mounted"
    assert volume["volume"]["source"] == "/photos"
    job = created["job"]
    assert created["outcome"] == "created"
    assert job["schedule"] == "daily at 02:00 UTC" and job["retention"] == "daily 7, weekly 4"
    assert job["repository"] == f"offsite-s3 ({s3['id']})" and job["next_run"].endswith("T02:00:00Z")
    row = sim.find_schedule(job["id"])
    assert row is not None
    assert row["cronExpression"] == "0 2 * * *" and row["enabled"] is True
    assert row["retentionPolicy"] == {"keepDaily": 7, "keepWeekly": 4}
    vol = sim.volumes[row["volumeId"]]
    assert vol["config"] == {"backend": "directory", "path": "/photos"} and vol["status"] == "mounted"
    assert sim.repositories[row["repositoryId"]]["name"] == "offsite-s3"


async def test_back_up_documents_daily_at_2am_keeping_7_4_6_1_and_skipping_junk(
    sim: Simulator, sim_server: SimulatorServer, era: str
) -> None:
    docs = sim.add_volume("documents", path="/srv/documents", files={"a.txt": "a"})
    repo = sim.add_repository("local-nas", config={"path": "/mnt/nas/restic"})

    async with agent(sim_server, era, access="operate") as client:
        created = await ask(
            client,
            "create_backup_job",
            name="documents-daily",
            volume_id=docs["shortId"],
            repository_id=repo["shortId"],
            schedule="0 2 * * *",
            retention="daily 7, weekly 4, monthly 6, yearly 1",
            exclude_patterns=["node_modules", "*.tmp", ".cache"],
        )

    job = created["job"]
    assert job["retention"] == "daily 7, weekly 4, monthly 6, yearly 1"
    assert job["exclude_patterns"] == ["node_modules", "*.tmp", ".cache"]
    row = sim.find_schedule(job["id"])
    assert row is not None
    assert row["retentionPolicy"] == {"keepDaily": 7, "keepWeekly": 4, "keepMonthly": 6, "keepYearly": 1}
    assert row["excludePatterns"] == ["node_modules", "*.tmp", ".cache"] and row["cronExpression"] == "0 2 * * *"


# --- story 4 and 5: health ------------------------------------------------------------------------------


async def test_are_all_my_backups_healthy_give_me_a_morning_summary(
    sim: Simulator, sim_server: SimulatorServer, era: str
) -> None:
    now = sim.now_ms()
    photos = sim.add_volume("photos", path="/srv/photos")
    docs = sim.add_volume("documents", path="/srv/documents")
    nextcloud = sim.add_volume("nextcloud", path="/srv/nextcloud")
    laptop = sim.add_volume("laptop", path="/srv/laptop")
    music = sim.add_volume("music", path="/srv/music")
    usb = sim.add_volume("usb-archive", path="/mnt/usb", status="unmounted", auto_remount=False)
    local = sim.add_repository("local-nas", config={"path": "/mnt/nas/restic"})
    rest = sim.add_repository(
        "rest-server",
        config={"path": "/mnt/rest"},
        status="error",
        last_error="Failed to lock repository: repository is already locked. Try to run doctor on the repository.",
    )

    def job(name: str, volume: dict[str, Any], repo: dict[str, Any], **kw: Any) -> str:
        row = sim.add_backup_job(name, volume=volume["shortId"], repository=repo["shortId"], **kw)
        short_id: str = row["shortId"]
        return short_id

    job("photos-nightly", photos, local, cron="0 2 * * *", last_status="success", last_backup_at=now - 5 * HOUR)
    job(
        "documents-offsite",
        docs,
        local,
        cron="30 3 * * *",
        last_status="warning",
        last_error=DEFAULT_WARNING_DETAILS,
        last_backup_at=now - 4 * HOUR,
    )
    job(
        "nextcloud-nightly",
        nextcloud,
        rest,
        cron="0 4 * * *",
        last_status="error",
        last_error=DEFAULT_LOCK_ERROR,
        last_backup_at=now - 3 * HOUR,
    )
    job("laptop-daily", laptop, local, cron="0 1 * * *", last_status="success", last_backup_at=now - 3 * DAY)
    music_job = job("music-hourly", music, local, cron="0 * * * *", last_status="success", last_backup_at=now - HOUR)
    job("usb-weekly", usb, local, cron="0 5 * * 0", last_status="success", last_backup_at=now - 2 * DAY)
    sim.add_task("backup", job=music_job, status="running", created_at=now - 10 * MINUTE)

    async with agent(sim_server, era) as client:
        report = await ask(client, "backup_health")

    states = {j["name"]: j["state"] for j in report["jobs"]}
    assert states == {
        "nextcloud-nightly": "failing",
        "laptop-daily": "stale",
        "documents-offsite": "warning",
        "music-hourly": "running",
        "photos-nightly": "ok",
        "usb-weekly": "ok",
    }
    assert report["verdict"] == "critical"
    assert report["summary"].startswith("CRITICAL: 1 failing, 1 stale and 1 warning of 6 backup jobs")
    assert "1 repository in error" in report["summary"] and "1 volume not mounted" in report["summary"]
    assert "1 task running" in report["summary"]
    by_name = {j["name"]: j for j in report["jobs"]}
    assert "unlock_repository" in by_name["nextcloud-nightly"]["next_step"]
    assert "permission denied" in by_name["documents-offsite"]["message"]
    assert "permissions" in by_name["documents-offsite"]["next_step"]
    assert "3d" in by_name["laptop-daily"]["reason"] and "run_backup" in by_name["laptop-daily"]["next_step"]
    assert [(r["name"], r["status"]) for r in report["repositories"]] == [("rest-server", "error")]
    assert "run_doctor" in report["repositories"][0]["next_step"]
    [down] = report["volumes"]
    assert down["name"] == "usb-archive" and down["status"] == "unmounted" and down["used_by"] == ["usb-weekly"]
    assert "mount" in down["next_step"]
    [running] = report["running"]
    assert running["kind"] == "backup" and "music-hourly" in running["target"]


async def test_which_backups_havent_run_in_48_hours(sim: Simulator, sim_server: SimulatorServer, era: str) -> None:
    now = sim.now_ms()
    vol = sim.add_volume("data", path="/srv/data")
    repo = sim.add_repository("local-nas", config={"path": "/mnt/nas/restic"})
    # A weekly job whose weekday was three days ago: it last ran then, and is not due again yet.
    three_days_ago = midnight(sim) - 3 * DAY
    weekday = (datetime.fromtimestamp(three_days_ago / 1000, UTC).weekday() + 1) % 7  # cron: Sunday = 0
    for name, cron, last, enabled in (
        ("photos-nightly", "0 2 * * *", now - 5 * HOUR, True),
        ("laptop-daily", "0 1 * * *", now - 3 * DAY - HOUR, True),
        ("archive-weekly", f"0 5 * * {weekday}", three_days_ago + 5 * HOUR, True),
        ("old-laptop", "0 5 * * 0", now - 60 * DAY, False),
        ("new-nas-job", "0 3 * * *", None, True),
    ):
        sim.add_backup_job(
            name,
            volume=vol["shortId"],
            repository=repo["shortId"],
            cron=cron,
            enabled=enabled,
            last_status="success" if last else None,
            last_backup_at=last,
        )

    async with agent(sim_server, era) as client:
        report = await ask(client, "backup_health")

    cutoff = datetime.fromtimestamp(now / 1000, UTC) - timedelta(hours=48)
    quiet = {
        j["name"]
        for j in report["jobs"]
        if j.get("last_run") is None or datetime.fromisoformat(j["last_run"].replace("Z", "+00:00")) < cutoff
    }
    assert quiet == {"laptop-daily", "archive-weekly", "old-laptop", "new-nas-job"}
    states = {j["name"]: j["state"] for j in report["jobs"]}
    # ...and the verdicts say which of them is a problem: only the daily job that stopped.
    assert states == {
        "laptop-daily": "stale",
        "new-nas-job": "never_ran",
        "old-laptop": "disabled",
        "archive-weekly": "ok",
        "photos-nightly": "ok",
    }
    stale = next(j for j in report["jobs"] if j["name"] == "laptop-daily")
    assert "last successful backup 3d 1h ago" in stale["reason"] and "at most 1d" in stale["reason"]


# --- story 7: run now and watch ----------------------------------------------------------------------------


@pytest.mark.both_eras  # progress or elicitation
async def test_back_up_nextcloud_now_before_i_upgrade_and_tell_me_when_its_done(
    sim: Simulator, sim_server: SimulatorServer, era: str
) -> None:
    files: TreeSpec = {
        "config": {"config.php": "<?php $CONFIG = array();\n"},
        "data": {f"f{i}.odt": 50_000 + i for i in range(6)},
    }
    vol = sim.add_volume("nextcloud", path="/srv/nextcloud", files=files)
    repo = sim.add_repository("local-nas", config={"path": "/mnt/nas/restic"})
    job = sim.add_backup_job("nextcloud-nightly", volume=vol["shortId"], repository=repo["shortId"])
    updates: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        updates.append((progress, total, message))

    async with agent(sim_server, era, access="operate") as client:
        result = await client.call_tool("run_backup", {"job_id": job["shortId"]}, progress_callback=on_progress)
        done = answer(result)
        latest = await ask(client, "list_snapshots", backup_job_id=job["shortId"], limit=1)

    messages = [m for _, _, m in updates[:-1] if m]
    assert all(m.startswith("backup: ") for m in messages)
    running = [m for m in messages if "%" in m]
    assert len(running) >= 2 and all("of 7 files" in m for m in running)
    percents = [float(m.split()[1].rstrip("%")) for m in running]
    assert percents == sorted(percents) and percents[-1] < 100
    final_progress, _, final_message = updates[-1]
    assert final_progress == 100 and final_message == "backup: succeeded (success)"
    assert done["outcome"] == "success" and "nextcloud-nightly" in done["target"]
    assert done["result"]["files_new"] == 7
    snapshot = done["result"]["snapshot_id"]
    assert latest["snapshots"][0]["id"] == snapshot[:8] and latest["total"] == 1


# --- story 8: offsite mirror -------------------------------------------------------------------------------


async def test_add_an_offsite_copy_to_backblaze_b2_for_my_photos_job(
    sim: Simulator, sim_server: SimulatorServer, era: str
) -> None:
    vol = sim.add_volume("photos", path="/srv/photos", files={"2026": {"a.jpg": 2_000_000, "b.jpg": 2_100_000}})
    repo = sim.add_repository("local-nas", config={"path": "/mnt/nas/restic"})
    job = sim.add_backup_job("photos-nightly", volume=vol["shortId"], repository=repo["shortId"])
    for n in (3, 2, 1):
        sim.add_snapshot(repo["shortId"], job=job["shortId"], time_ms=midnight(sim) - n * DAY + 2 * HOUR)
    key_id, secret = "004a1b2c3d4e5f6000000000b2", "K004PlantedSecretKeyForB2xyz"
    seen: list[str] = []

    async with agent(sim_server, era, access="operate") as client:
        created = await ask(
            client,
            "create_repository",
            seen,
            name="b2-offsite",
            backend="s3",
            location="https://s3.us-west-004.backblazeb2.com/homelab-photos",
            access_key_id=key_id,
            secret=secret,
        )
        b2 = created["repository"]["id"]
        mirrored = await ask(client, "set_mirror", seen, job_id=job["shortId"], repository_id=b2)
        synced = await ask(client, "sync_mirror", seen, job_id=job["shortId"], mirror_repository_id=b2)
        status = await ask(client, "get_mirror_status", seen, job_id=job["shortId"], repository_id=b2)

    assert created["outcome"] == "created"
    assert created["repository"]["location"] == "https://s3.us-west-004.backblazeb2.com/homelab-photos"
    assert mirrored["outcome"] == "updated" and mirrored["mirrors"] == [f"b2-offsite ({b2})"]
    assert "sync_mirror" in mirrored["note"]
    assert synced["outcome"] == "success" and synced["task"]["kind"] == "mirrorSync"
    assert len(synced["copied"]) == 3 and "The mirror is in sync." in synced["message"]
    assert status == {"in_sync": True, "source_snapshots": 3, "mirror_snapshots": 3, "missing_total": 0}
    b2_row = sim.find_repository(b2)
    assert b2_row is not None and len(sim.snapshots_of(b2_row)) == 3
    assert secret not in " ".join(seen)


# --- story 9: notifications ----------------------------------------------------------------------------------


async def test_alert_me_on_telegram_when_any_backup_fails_and_send_warnings_to_discord(
    sim: Simulator, sim_server: SimulatorServer, era: str
) -> None:
    vol = sim.add_volume("data", path="/srv/data")
    repo = sim.add_repository("local-nas", config={"path": "/mnt/nas/restic"})
    photos = sim.add_backup_job("photos-nightly", volume=vol["shortId"], repository=repo["shortId"])
    sim.add_backup_job("documents-nightly", volume=vol["shortId"], repository=repo["shortId"])
    webhook = sim.add_notification_destination("ops-webhook")
    sim.assign_notification(photos["shortId"], webhook["id"], on_success=True)
    bot_token = "7301234567:AAHPlantedBotTokenForTheStoryTest"
    discord_url = "https://discord.com/api/webhooks/1234567890/PlantedDiscordWebhookToken"
    seen: list[str] = []

    async with agent(sim_server, era, access="operate") as client:
        telegram = await ask(
            client,
            "create_notification_destination",
            seen,
            name="family-telegram",
            type="telegram",
            secret=bot_token,
            target="-1001234567890",
        )
        discord = await ask(
            client, "create_notification_destination", seen, name="homelab-discord", type="discord", secret=discord_url
        )
        tg_id, dc_id = telegram["destination"]["id"], discord["destination"]["id"]
        tested = await ask(client, "update_notification_destination", seen, destination_id=tg_id, test=True)
        jobs = await ask(client, "list_backup_jobs", seen)
        routes: dict[str, list[str]] = {}
        for j in jobs["jobs"]:
            await ask(client, "route_notifications", seen, job_id=j["id"], destination_id=tg_id, events=["failure"])
            last = await ask(
                client, "route_notifications", seen, job_id=j["id"], destination_id=dc_id, events=["warning"]
            )
            routes[j["name"]] = last["routes"]

    assert tested["outcome"] == "ok" and tested["destination"]["status"] == "healthy"
    assert telegram["destination"]["target"] == "chat -1001234567890"
    for name in ("photos-nightly", "documents-nightly"):
        assert f"family-telegram ({tg_id}, telegram): failure" in routes[name]
        assert f"homelab-discord ({dc_id}, discord): warning" in routes[name]
    # The route that existed before is kept (the PUT replaces the whole list, so the tool merged it).
    assert f"ops-webhook ({webhook['id']}, generic): success, warning, failure" in routes["photos-nightly"]
    flags = {
        (sim.schedules[a["scheduleId"]]["name"], a["destinationId"]): (a["notifyOnFailure"], a["notifyOnWarning"])
        for a in sim._assignments
    }
    assert flags[("photos-nightly", tg_id)] == (True, False) and flags[("documents-nightly", dc_id)] == (False, True)
    everything = " ".join(seen)
    assert bot_token not in everything and "PlantedDiscordWebhookToken" not in everything


# --- story 10: space and compression -------------------------------------------------------------------------


async def test_how_much_space_am_i_using_and_how_well_is_it_compressing(
    sim: Simulator, sim_server: SimulatorServer, era: str
) -> None:
    vol = sim.add_volume(
        "photos", path="/srv/photos", files={"2026": {f"IMG_{i}.jpg": 3_000_000 + i for i in range(20)}}
    )
    repo = sim.add_repository("local-nas", config={"path": "/mnt/nas/restic"}, compression_mode="max")
    job = sim.add_backup_job("photos-nightly", volume=vol["shortId"], repository=repo["shortId"])
    for n in (3, 2, 1):
        sim.add_snapshot(repo["shortId"], job=job["shortId"], time_ms=midnight(sim) - n * DAY + 2 * HOUR)
    row = sim.find_repository(repo["shortId"])
    assert row is not None
    stats = sim.refresh_stats(row)

    async with agent(sim_server, era) as client:
        result = await client.call_tool("get_repository", {"repository_id": repo["shortId"]})
        detail = answer(result)
        source = await ask(client, "get_volume", volume_id=vol["shortId"])

    assert detail["compression"] == "max"
    assert detail["stats"]["stored_bytes"] == stats["total_size"]
    assert detail["stats"]["uncompressed_bytes"] == stats["total_uncompressed_size"] == 60_000_190
    assert detail["stats"]["compression_ratio"] == round(stats["compression_ratio"], 2) > 1.5
    assert detail["stats"]["snapshots_count"] == 3
    assert '"stored_bytes_text":"33.2 MiB"' in text(result)  # the agent reads sizes in human form
    capacity = source["capacity"]
    assert capacity["free_bytes"] == capacity["total_bytes"] - capacity["used_bytes"] > 0


# --- story 12: delete a week's snapshots but keep the tagged ones ----------------------------------------------


def seed_full_disk_week(sim: Simulator) -> dict[str, Any]:
    """Daily snapshots for 20 days; the disk was full from 14 to 8 days ago; two of that week are tagged."""
    vol = sim.add_volume("data", path="/srv/data", files={"db.sqlite": 4_000_000})
    repo = sim.add_repository("local-nas", config={"path": "/mnt/nas/restic"})
    job = sim.add_backup_job("data-nightly", volume=vol["shortId"], repository=repo["shortId"])
    week: list[str] = []
    tagged: list[str] = []
    others: list[str] = []
    for n in range(20, 0, -1):
        t = midnight(sim) - n * DAY + 3 * HOUR
        keep = n in (12, 9)
        snap = sim.add_snapshot(repo["shortId"], job=job["shortId"], time_ms=t, tags=["keep"] if keep else None)
        (tagged if keep else week if 8 <= n <= 14 else others).append(short(snap))
    return {
        "repository": repo["shortId"],
        "job": job["shortId"],
        "since": day(midnight(sim) - 14 * DAY),
        "until": day(midnight(sim) - 8 * DAY),
        "delete": week,
        "tagged": tagged,
        "others": others,
    }


def untagged(snapshots: list[dict[str, Any]], job_id: str) -> list[str]:
    """The agent's filter: snapshots carrying no tag but their job's own."""
    return [s["id"] for s in snapshots if set(s.get("tags", [])) <= {job_id}]


async def test_delete_the_snapshots_from_the_week_the_disk_was_full_but_keep_the_tagged_ones(
    sim: Simulator, sim_server: SimulatorServer, era: str
) -> None:
    world = seed_full_disk_week(sim)
    window = {"backup_job_id": world["job"], "since": world["since"], "until": world["until"], "limit": 50}

    async with agent(sim_server, era, access="full") as client:
        that_week = await ask(client, "list_snapshots", **window)
        doomed = untagged(that_week["snapshots"], world["job"])
        preview = await ask(client, "delete_snapshots", repository_id=world["repository"], snapshot_ids=doomed)
        done = await ask(
            client,
            "delete_snapshots",
            repository_id=world["repository"],
            snapshot_ids=doomed,
            confirm_token=preview["confirm_token"],
        )
        after = await ask(client, "list_snapshots", **window)
        everything = await ask(client, "list_snapshots", backup_job_id=world["job"], limit=50)

    assert that_week["total"] == 7 and len(world["delete"]) == 5 and sorted(doomed) == sorted(world["delete"])
    assert preview["outcome"] == "confirmation_required" and preview["confirm_token"]
    assert sorted(i["id"] for i in preview["preview"]["items"]) == sorted(world["delete"])
    assert "5 snapshot(s)" in preview["preview"]["action"]
    assert "15 snapshot(s) remain" in " ".join(preview["preview"]["effects"])
    assert done["outcome"] == "success" and all(i in done["message"] for i in world["delete"])
    assert sorted(s["id"] for s in after["snapshots"]) == sorted(world["tagged"])
    assert all("keep" in s["tags"] for s in after["snapshots"])
    assert everything["total"] == 15
    assert set(world["others"]) <= {s["id"] for s in everything["snapshots"]}


@pytest.mark.both_eras  # progress or elicitation
async def test_delete_the_snapshots_of_that_week_after_the_user_confirms_the_exact_list(
    sim: Simulator, sim_server: SimulatorServer, era: str
) -> None:
    world = seed_full_disk_week(sim)
    questions: list[str] = []
    window = {"backup_job_id": world["job"], "since": world["since"], "until": world["until"], "limit": 50}

    async with agent(sim_server, era, access="full", elicit=confirming(questions)) as client:
        that_week = await ask(client, "list_snapshots", **window)
        doomed = untagged(that_week["snapshots"], world["job"])
        done = await ask(client, "delete_snapshots", repository_id=world["repository"], snapshot_ids=doomed)
        after = await ask(client, "list_snapshots", **window)

    assert questions, "the user was never asked"
    question = questions[-1]
    assert all(sid in question for sid in world["delete"]) and not any(sid in question for sid in world["tagged"])
    assert done["outcome"] == "success"
    assert sorted(s["id"] for s in after["snapshots"]) == sorted(world["tagged"])


# --- story 13: cancel a long backup ------------------------------------------------------------------------------


async def test_cancel_the_backup_thats_been_running_for_6_hours(
    sim: Simulator, sim_server: SimulatorServer, era: str
) -> None:
    vol = sim.add_volume("media", path="/srv/media", files={"movie.mkv": 8_000_000_000})
    repo = sim.add_repository("local-nas", config={"path": "/mnt/nas/restic"})
    job = sim.add_backup_job("media-weekly", volume=vol["shortId"], repository=repo["shortId"])
    sim.task_seconds = 120.0
    started: asyncio.Queue[str | None] = asyncio.Queue()
    subscription = sim.subscribe(
        asyncio.get_running_loop(),
        started,
        lambda event, data: event == "task:changed" and data["kind"] == "backup" and data["status"] == "running",
    )
    with sim.lock:
        schedule = sim.find_schedule(job["shortId"])
        assert schedule is not None
        task = sim.start_backup(schedule, manual=False)
    with anyio.fail_after(5):
        await started.get()
    sim.unsubscribe(subscription)
    with sim.lock:
        sim.tasks[task.id].started_at = sim.now_ms() - 6 * HOUR - 5 * MINUTE

    async with agent(sim_server, era, access="operate") as client:
        active = await ask(client, "list_active_tasks", kind="backup")
        long_running = [
            t
            for t in active["tasks"]
            if datetime.fromisoformat(t["started"].replace("Z", "+00:00")) < datetime.now(UTC) - timedelta(hours=5)
        ]
        cancelled = await ask(client, "cancel_task", task_id=long_running[0]["id"])

    assert [t["id"] for t in long_running] == [task.id] and "media-weekly" in long_running[0]["target"]
    assert cancelled["outcome"] == "cancelled" and cancelled["status"] == "cancelled"
    assert sim.tasks[task.id].status == "cancelled"
    assert schedule["lastBackupStatus"] == "warning"  # Zerobyte marks a cancelled run as a warning
    assert "media-weekly" in cancelled["target"]  # the answer names what was stopped, as list_active_tasks did


# --- story 14: restore test --------------------------------------------------------------------------------------


async def test_prove_my_backups_are_restorable_with_a_restore_test(
    sim: Simulator, sim_server: SimulatorServer, era: str
) -> None:
    photos = sim.add_volume("photos", path="/srv/photos", files={"2026": {"a.jpg": 2_000_000, "b.jpg": 2_500_000}})
    docs = sim.add_volume(
        "documents", path="/srv/documents", files={"docs": {"tax.pdf": b"%PDF-1.7\n", "w2.pdf": 88_000}}
    )
    staging = sim.add_volume("restore-test", path="/srv/restore-test")
    repo = sim.add_repository("local-nas", config={"path": "/mnt/nas/restic"})
    samples = {"photos-nightly": "2026", "documents-nightly": "docs"}
    for name, vol in (("photos-nightly", photos), ("documents-nightly", docs)):
        job = sim.add_backup_job(name, volume=vol["shortId"], repository=repo["shortId"])
        for n in (2, 1):
            sim.add_snapshot(repo["shortId"], job=job["shortId"], time_ms=midnight(sim) - n * DAY + 2 * HOUR)
    report: dict[str, tuple[dict[str, Any], list[tuple[str, int]], list[tuple[str, int]]]] = {}

    async with agent(sim_server, era, access="operate", restore_allowed_roots=("/srv/restore-test",)) as client:
        jobs = await ask(client, "list_backup_jobs")
        for j in jobs["jobs"]:
            latest = (await ask(client, "list_snapshots", backup_job_id=j["id"], limit=1))["snapshots"][0]
            sample = f"{latest['paths'][0]}/{samples[j['name']]}"
            restored = await ask(
                client,
                "restore",
                repository_id=repo["shortId"],
                snapshot_id=latest["id"],
                paths=[sample],
                target_path=f"/srv/restore-test/{j['name']}",
            )
            staged = await ask(client, "browse_volume_files", volume_id=staging["shortId"], path=f"/{j['name']}")
            original = await ask(
                client, "list_snapshot_files", repository_id=repo["shortId"], snapshot_id=latest["id"], path=sample
            )
            report[j["name"]] = (
                restored,
                sorted((e["name"], e["size"]) for e in staged["entries"]),
                sorted((e["name"], e["size"]) for e in original["entries"]),
            )

    assert set(report) == {"photos-nightly", "documents-nightly"}
    for name, (outcome, landed, captured) in report.items():
        assert outcome["outcome"] == "success", name
        # A folder restore reports bytes (restic's file count includes the folders it creates).
        assert outcome["task"]["result"]["restored_bytes"] == sum(size for _, size in captured), name
        assert landed == captured and len(landed) == 2, name
    assert report["photos-nightly"][1] == [("a.jpg", 2_000_000), ("b.jpg", 2_500_000)]


# --- story 15: inventory ------------------------------------------------------------------------------------------


PLANTED_SECRETS = (
    "Nc-Backup-2026!",  # SMB password
    "K004abcdefghijklmnopqrstuvwxyzABCDE",  # S3 secret key
    "correct-horse-battery-staple",  # restic password of an existing repository
    "s3cr3t-Pa55",  # password inside the REST server URL
    "hk_live_9f8e7d6c5b4a3928",  # bearer token in a webhook header
    "7301234567:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",  # Telegram bot token
    "encv1:",  # Zerobyte's sealed ciphertext
)


async def test_whats_configured_on_this_instance_with_every_secret_redacted(
    sim: Simulator, sim_server: SimulatorServer, era: str
) -> None:
    seed_demo(sim)
    seen: list[str] = []

    async with agent(sim_server, era) as client:
        volumes = await ask(client, "list_volumes", seen)
        repositories = await ask(client, "list_repositories", seen)
        jobs = await ask(client, "list_backup_jobs", seen)
        destinations = await ask(client, "list_notification_destinations", seen)
        details = {j["name"]: await ask(client, "get_backup_job", seen, job_id=j["id"]) for j in jobs["jobs"]}
        dest_details = {
            d["name"]: await ask(client, "get_notification_destination", seen, destination_id=d["id"])
            for d in destinations["destinations"]
        }
        rest = next(r for r in repositories["repositories"] if r["backend"] == "rest")
        rest_detail = await ask(client, "get_repository", seen, repository_id=rest["id"])

    everything = " ".join(seen)
    leaked = [s for s in PLANTED_SECRETS if s in everything]
    assert leaked == []
    assert {(v["name"], v["source"]) for v in volumes["volumes"]} == {
        ("photos", "/srv/photos"),
        ("documents", "/srv/documents"),
        ("nextcloud", "//nas.lan/nextcloud"),
    }
    assert {r["name"]: r["backend"] for r in repositories["repositories"]} == {
        "local-nas": "local",
        "offsite-b2": "s3",
        "rest-server": "rest",
    }
    assert "restic.example.org:8000/homelab" in rest_detail["location"]
    assert {j["name"]: j["schedule"] for j in jobs["jobs"]} == {
        "photos-nightly": "daily at 02:00 UTC",
        "documents-offsite": "daily at 03:30 UTC",
        "nextcloud-rest": "daily at 04:00 UTC",
        "old-laptop-archive": "weekly on Sunday at 05:00 UTC",
    }
    photos = details["photos-nightly"]
    assert [m["repository"].split(" (")[0] for m in photos["mirrors"]] == ["offsite-b2"]
    assert photos["retention"] == "last 7, daily 14, weekly 8, monthly 12"
    assert {r["destination"].split(" (")[0]: r["events"] for r in photos["notifications"]} == {
        "ops-webhook": ["warning", "failure"],
        "family-telegram": ["success", "warning", "failure"],
    }
    telegram = dest_details["family-telegram"]
    assert telegram["config"]["chatId"] == "-1001234567890" and telegram["config"]["botToken"] == "<redacted>"
    webhook = dest_details["ops-webhook"]
    assert webhook["config"]["url"].startswith("https://hooks.example.net/")
    assert {j["name"] for j in webhook["backup_jobs"]} == {"photos-nightly", "documents-offsite", "nextcloud-rest"}


# --- further candidate stories ---------------------------------------------------------------------------------------


async def test_what_changed_between_the_last_two_snapshots(
    sim: Simulator, sim_server: SimulatorServer, era: str
) -> None:
    week_ago = midnight(sim) - 7 * DAY
    lease, w2 = file("lease.pdf", b"%PDF lease", week_ago), file("w2.pdf", b"%PDF w2", week_ago - DAY)
    vol = sim.add_volume("documents", path="/srv/documents")
    sim.set_volume_files(vol["shortId"], folder("", [folder("docs", [file("notes.md", "v1\n", week_ago), lease, w2])]))
    repo = sim.add_repository("local-nas", config={"path": "/mnt/nas/restic"})
    job = sim.add_backup_job("documents-nightly", volume=vol["shortId"], repository=repo["shortId"])
    await nightly_run(sim, job["shortId"])
    edited = sim.now_ms() - MINUTE
    notes, contract = file("notes.md", "v2, longer now\n", edited), file("new-contract.pdf", b"%PDF new", edited)
    sim.set_volume_files(vol["shortId"], folder("", [folder("docs", [notes, lease, w2, contract])]))
    await nightly_run(sim, job["shortId"])

    async with agent(sim_server, era) as client:
        last_two = (await ask(client, "list_snapshots", backup_job_id=job["shortId"], limit=2))["snapshots"]
        newest, previous = last_two
        summary = (await ask(client, "get_snapshot", repository_id=repo["shortId"], snapshot_id=newest["id"]))[
            "summary"
        ]
        listings = [
            await ask(
                client,
                "list_snapshot_files",
                repository_id=repo["shortId"],
                snapshot_id=s["id"],
                path="/srv/documents/docs",
            )
            for s in (previous, newest)
        ]

    assert (summary["files_new"], summary["files_changed"], summary["files_unmodified"]) == (1, 1, 2)
    before, after = ({e["name"]: (e.get("size"), e.get("mtime")) for e in page["entries"]} for page in listings)
    assert sorted(set(after) - set(before)) == ["new-contract.pdf"]
    assert sorted(n for n in before if n in after and before[n] != after[n]) == ["notes.md"]
    assert after["notes.md"][0] == len("v2, longer now\n")


async def test_what_did_config_yaml_say_before_i_changed_it_last_week(
    sim: Simulator, sim_server: SimulatorServer, era: str
) -> None:
    old_text = "server:\n  host: 0.0.0.0\n  port: 8123\n"
    new_text = "server:\n  host: 0.0.0.0\n  port: 8124\n  ssl: true\n"
    base = midnight(sim)
    changed_at = base - 7 * DAY + 15 * HOUR
    vol = sim.add_volume("homeassistant", path="/srv/homeassistant")
    repo = sim.add_repository("local-nas", config={"path": "/mnt/nas/restic"})
    job = sim.add_backup_job("ha-nightly", volume=vol["shortId"], repository=repo["shortId"])
    automations = file("automations.yaml", "- id: lights\n", base - 40 * DAY)
    sim.set_volume_files(vol["shortId"], folder("", [file("config.yaml", old_text, base - 30 * DAY), automations]))
    for n in range(14, 6, -1):
        sim.add_snapshot(repo["shortId"], job=job["shortId"], time_ms=base - n * DAY + 2 * HOUR)
    sim.set_volume_files(vol["shortId"], folder("", [file("config.yaml", new_text, changed_at), automations]))
    for n in range(6, 0, -1):
        sim.add_snapshot(repo["shortId"], job=job["shortId"], time_ms=base - n * DAY + 2 * HOUR)

    async with agent(sim_server, era) as client:
        found = await ask(client, "find_file", pattern="config.yaml", backup_job_id=job["shortId"])
        current, before = found["versions"]
        old = await ask(
            client,
            "read_snapshot_file",
            repository_id=repo["shortId"],
            snapshot_id=before["snapshots"][0],
            path=before["path"],
        )

    assert found["total_versions"] == 2
    assert current["mtime"] == iso_from_ms(changed_at) and current["size"] == len(new_text)
    assert current["in_snapshots"] == 6 and before["in_snapshots"] == 8
    assert before["path"] == "/srv/homeassistant/config.yaml" and before["size"] == len(old_text)
    assert old["text"] == old_text and old["snapshot"] == before["snapshots"][0]


async def test_pause_the_schedule_while_i_move_house(sim: Simulator, sim_server: SimulatorServer, era: str) -> None:
    vol = sim.add_volume("data", path="/srv/data")
    repo = sim.add_repository("local-nas", config={"path": "/mnt/nas/restic"})
    job = sim.add_backup_job(
        "data-nightly",
        volume=vol["shortId"],
        repository=repo["shortId"],
        cron="0 2 * * *",
        retention={"keepDaily": 7},
        exclude_patterns=["*.tmp"],
        max_retries=5,
        retry_delay=30,
        last_status="success",
        last_backup_at=sim.now_ms() - 5 * HOUR,
    )

    async with agent(sim_server, era, access="operate") as client:
        paused = await ask(client, "update_backup_job", job_id=job["shortId"], enabled=False)
        health = await ask(client, "backup_health")

    assert paused["outcome"] == "updated" and paused["changes"] == ["enabled: true -> false"]
    row = sim.find_schedule(job["shortId"])
    assert row is not None and row["enabled"] is False
    # Everything else survives the PATCH, including the retry settings Zerobyte resets when not sent.
    assert (row["cronExpression"], row["retentionPolicy"], row["excludePatterns"]) == (
        "0 2 * * *",
        {"keepDaily": 7},
        ["*.tmp"],
    )
    assert (row["maxRetries"], row["retryDelay"]) == (5, 30)
    assert [(j["name"], j["state"]) for j in health["jobs"]] == [("data-nightly", "disabled")]
    assert health["verdict"] == "ok"


# --- §3.2 workflows ---------------------------------------------------------------------------------------------------


async def test_mount_my_nas_share_so_zerobyte_can_read_it(
    sim: Simulator, sim_server: SimulatorServer, era: str
) -> None:
    seen: list[str] = []
    async with agent(sim_server, era, access="operate") as client:
        created = await ask(
            client,
            "create_volume",
            seen,
            name="nas-photos",
            backend="smb",
            source="//nas.lan/photos",
            username="backup",
            secret="Planted-Smb-Pass-77",
        )
        # The share's content as the mounted volume now sees it.
        sim.set_volume_files(created["volume"]["id"], {"2026": {"IMG_0001.jpg": 3_100_000}, "albums.json": "{}"})
        listing = await ask(client, "browse_volume_files", seen, volume_id=created["volume"]["id"])

    volume = created["volume"]
    assert created["outcome"] == "created"
    assert (volume["backend"], volume["status"], volume["source"]) == ("smb", "mounted", "//nas.lan/photos")
    assert sorted(e["name"] for e in listing["entries"]) == ["2026", "albums.json"]
    row = sim.find_volume(volume["id"])
    assert row is not None and row["config"]["username"] == "backup"
    assert sim.unseal(row["config"]["password"]) == "Planted-Smb-Pass-77"
    assert "Planted-Smb-Pass-77" not in " ".join(seen)


async def test_my_repository_is_in_error_run_doctor_and_read_its_report(
    sim: Simulator, sim_server: SimulatorServer, era: str
) -> None:
    repo = sim.add_repository(
        "rest-server",
        config={"path": "/mnt/rest"},
        status="error",
        last_error="Failed to lock repository: repository is already locked. Try to run doctor on the repository.",
    )
    sim.lock_repository(repo["shortId"])

    async with agent(sim_server, era, access="operate") as client:
        before = await ask(client, "get_repository", repository_id=repo["shortId"])
        doctor = await ask(client, "run_doctor", repository_id=repo["shortId"])
        after = await ask(client, "get_repository", repository_id=repo["shortId"])

    assert before["status"] == "error" and "already locked" in before["last_error"]
    assert doctor["outcome"] == "success" and doctor["result"]["repository_status"] == "healthy"
    steps = {s["step"]: s["success"] for s in doctor["result"]["doctor_steps"]}
    assert steps == {"unlock": True, "check": True}
    assert after["status"] == "healthy" and "last_error" not in after
    assert after["doctor"]["success"] is True


async def test_refresh_the_size_numbers_of_my_repository(sim: Simulator, sim_server: SimulatorServer, era: str) -> None:
    vol = sim.add_volume("data", path="/srv/data", files={"db.sqlite": 4_000_000})
    repo = sim.add_repository("local-nas", config={"path": "/mnt/nas/restic"})
    job = sim.add_backup_job("data-nightly", volume=vol["shortId"], repository=repo["shortId"])
    row = sim.find_repository(repo["shortId"])
    assert row is not None
    for n in (4, 3):
        sim.add_snapshot(repo["shortId"], job=job["shortId"], time_ms=midnight(sim) - n * DAY)
    sim.refresh_stats(row)
    for n in (2, 1):  # two more since Zerobyte last computed the numbers
        sim.add_snapshot(repo["shortId"], job=job["shortId"], time_ms=midnight(sim) - n * DAY)

    async with agent(sim_server, era, access="operate") as client:
        stale = await ask(client, "get_repository", repository_id=repo["shortId"])
        refreshed = await ask(client, "update_repository", repository_id=repo["shortId"], refresh="stats")

    assert stale["stats"]["snapshots_count"] == 2
    assert refreshed["outcome"] == "ok" and refreshed["repository"]["snapshots_count"] == 4
    assert refreshed["repository"]["stored_bytes"] == sim.compute_stats(row)["total_size"]


@pytest.mark.both_eras  # progress or elicitation
async def test_apply_my_retention_policy_now(sim: Simulator, sim_server: SimulatorServer, era: str) -> None:
    vol = sim.add_volume("data", path="/srv/data", files={"db.sqlite": 4_000_000})
    repo = sim.add_repository("local-nas", config={"path": "/mnt/nas/restic"})
    job = sim.add_backup_job(
        "data-nightly", volume=vol["shortId"], repository=repo["shortId"], retention={"keepLast": 3}
    )
    snaps = [
        short(sim.add_snapshot(repo["shortId"], job=job["shortId"], time_ms=midnight(sim) - n * DAY + 2 * HOUR))
        for n in range(6, 0, -1)
    ]
    questions: list[str] = []

    async with agent(sim_server, era, access="full", elicit=confirming(questions)) as client:
        applied = await ask(client, "apply_retention", job_id=job["shortId"])
        left = await ask(client, "list_snapshots", backup_job_id=job["shortId"])

    going, staying = snaps[:3], snaps[3:]
    assert questions and all(s in questions[-1] for s in going) and not any(s in questions[-1] for s in staying)
    assert applied["outcome"] == "success"
    assert sorted(s["id"] for s in left["snapshots"]) == sorted(staying)


async def test_tag_my_best_snapshot_keep_forever(sim: Simulator, sim_server: SimulatorServer, era: str) -> None:
    vol = sim.add_volume("photos", path="/srv/photos", files={"wedding": {"001.jpg": 5_000_000}})
    repo = sim.add_repository("local-nas", config={"path": "/mnt/nas/restic"})
    job = sim.add_backup_job("photos-nightly", volume=vol["shortId"], repository=repo["shortId"])
    best = sim.add_snapshot(repo["shortId"], job=job["shortId"], time_ms=midnight(sim) - 3 * DAY + 2 * HOUR)
    sim.add_snapshot(repo["shortId"], job=job["shortId"], time_ms=midnight(sim) - DAY + 2 * HOUR)

    async with agent(sim_server, era, access="operate") as client:
        tagged = await ask(
            client,
            "tag_snapshots",
            repository_id=repo["shortId"],
            snapshot_ids=[short(best)],
            add_tags=["keep-forever"],
        )
        kept = await ask(client, "list_snapshots", repository_id=repo["shortId"], tag="keep-forever")

    [mapping] = tagged["retagged"]
    assert tagged["outcome"] == "success" and mapping["old_id"] == short(best)
    assert mapping["new_id"] and mapping["new_id"] != short(best)  # restic rewrites a tagged snapshot
    assert set(mapping["tags"]) == {job["shortId"], "keep-forever"}
    assert [s["id"] for s in kept["snapshots"]] == [mapping["new_id"]] and kept["total"] == 1


async def test_stop_postgres_before_the_nightly_backup_and_start_it_again_afterwards(
    sim: Simulator, sim_server: SimulatorServer, era: str
) -> None:
    """Story 11: pre/post webhooks set through update_backup_job, merged into the job, never echoed back."""
    volume = sim.add_volume("nextcloud", path="/srv/nextcloud")
    repo = sim.add_repository("nas")
    job = sim.add_backup_job("nextcloud-nightly", volume=volume["shortId"], repository=repo["shortId"])
    pre = "https://hooks.lan/postgres/stop?token=s3cr3t-hook-token"
    post = "https://hooks.lan/postgres/start?token=s3cr3t-hook-token"
    server = create_server(make_settings(sim_server.url, access="operate"))
    async with Client(server, mode=era) as client:
        result = await client.call_tool(
            "update_backup_job",
            {"job_id": job["shortId"], "options": [f"pre_webhook={pre}", f"post_webhook={post}", "max_retries=4"]},
        )
        assert not result.is_error, result.content
        text = result.content[0].text  # type: ignore[union-attr]
        assert "pre-backup set, post-backup set" in text
        assert "s3cr3t-hook-token" not in text
        removed = await client.call_tool(
            "update_backup_job", {"job_id": job["shortId"], "options": ["post_webhook=none"]}
        )
        assert not removed.is_error, removed.content
    with sim.lock:
        stored = next(s for s in sim.schedules.values() if s["shortId"] == job["shortId"])
    hooks = stored["backupWebhooks"]
    assert hooks["pre"]["url"] == pre
    assert hooks["post"] is None
    assert stored["maxRetries"] == 4
