"""backup_health: one verdict per job and for the whole organization, from a few list calls."""

from __future__ import annotations

import json
from typing import Any

import pytest
from mcp import Client

from mcp_server.answers.task_views import next_step_for
from mcp_server.server import create_server
from mcp_server.simulator import Simulator, SimulatorServer, seed_scale
from tests.helpers import TEST_KEY, make_settings

HOUR = 3_600_000
DAY = 24 * HOUR
LOCK_ERROR = "Fatal: unable to create lock in backend: repository is already locked by PID 4711"
UNREADABLE = (
    "error: open /srv/data/private/.cache: permission denied\nWarning: at least one source file could not be read"
)


def setup_pair(sim: Simulator, volume_status: str = "mounted", volume_error: str | None = None) -> tuple[str, str]:
    vol = sim.add_volume("data", status=volume_status, last_error=volume_error)
    repo = sim.add_repository("local-repo")
    return vol["shortId"], repo["shortId"]


def add_job(sim: Simulator, name: str, vol: str, repo: str, **changes: Any) -> str:
    now = sim.now_ms()
    values: dict[str, Any] = {
        "cron": "0 2 * * *",
        "last_status": "success",
        "last_backup_at": now - 2 * HOUR,
        "next_backup_at": now + 22 * HOUR,
        "created_at": now - 30 * DAY,
    }
    values.update(changes)
    job = sim.add_backup_job(name, volume=vol, repository=repo, **values)
    short_id: str = job["shortId"]
    return short_id


async def health(mcp: Client) -> dict[str, Any]:
    result = await mcp.call_tool("backup_health", {})
    assert not result.is_error, result.content
    data: dict[str, Any] = result.structured_content or {}
    return data


def job_entry(report: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(j for j in report["jobs"] if j["name"] == name)
    return found


@pytest.mark.anyio
async def test_everything_ok_when_each_enabled_job_succeeded_on_schedule(sim: Simulator, mcp: Client) -> None:
    vol, repo = setup_pair(sim)
    add_job(sim, "photos", vol, repo)
    add_job(sim, "documents", vol, repo, cron="0 * * * *", last_backup_at=sim.now_ms() - 20 * 60_000)

    report = await health(mcp)

    assert report["verdict"] == "ok"
    assert report["summary"].startswith("OK: all 2 enabled backup jobs")
    assert {j["name"]: j["state"] for j in report["jobs"]} == {"photos": "ok", "documents": "ok"}
    assert report["counts"]["jobs_ok"] == 2
    assert "recent_failures" not in report  # empty lists are left out


@pytest.mark.anyio
async def test_a_warning_job_makes_the_verdict_warning_with_the_unreadable_files_step(
    sim: Simulator, mcp: Client
) -> None:
    vol, repo = setup_pair(sim)
    add_job(sim, "photos", vol, repo)
    add_job(sim, "home", vol, repo, last_status="warning", last_error=UNREADABLE)

    report = await health(mcp)

    home = job_entry(report, "home")
    assert home["state"] == "warning"
    assert "permission denied" in home["message"]
    assert home["next_step"] == "some files unreadable: check permissions or exclude them"
    assert report["verdict"] == "warning"
    assert "1 warning of 2 backup jobs" in report["summary"]


@pytest.mark.anyio
async def test_a_failing_job_is_critical_and_a_lock_error_points_to_unlock(sim: Simulator, mcp: Client) -> None:
    vol, repo = setup_pair(sim)
    add_job(sim, "nextcloud", vol, repo, last_status="error", last_error=LOCK_ERROR)

    report = await health(mcp)

    job = job_entry(report, "nextcloud")
    assert job["state"] == "failing"
    assert "already locked" in job["message"]
    assert "unlock_repository" in job["next_step"]
    assert report["verdict"] == "critical"
    assert report["counts"]["jobs_failing"] == 1
    assert report["jobs"][0]["name"] == "nextcloud"  # worst first


@pytest.mark.anyio
async def test_a_job_without_a_success_for_longer_than_its_cron_allows_is_stale(sim: Simulator, mcp: Client) -> None:
    vol, repo = setup_pair(sim)
    now = sim.now_ms()
    add_job(sim, "daily-old", vol, repo, last_backup_at=now - 3 * DAY, next_backup_at=now + 5 * HOUR)
    add_job(sim, "daily-fresh", vol, repo, last_backup_at=now - 25 * HOUR, next_backup_at=now + 5 * HOUR)

    report = await health(mcp)

    old = job_entry(report, "daily-old")
    assert old["state"] == "stale"
    assert "last successful backup 3d ago" in old["reason"]
    assert "1d" in old["reason"]  # the gap the daily cron allows
    # 25 h after the last success is within a daily job's gap plus grace.
    assert job_entry(report, "daily-fresh")["state"] == "ok"
    assert report["verdict"] == "critical"
    assert "1 stale" in report["summary"]


@pytest.mark.anyio
async def test_a_job_whose_next_run_is_long_past_is_stale(sim: Simulator, mcp: Client) -> None:
    vol, repo = setup_pair(sim)
    now = sim.now_ms()
    add_job(sim, "hourly", vol, repo, cron="0 * * * *", last_backup_at=now - 30 * 60_000, next_backup_at=now - 3 * HOUR)

    report = await health(mcp)

    job = job_entry(report, "hourly")
    assert job["state"] == "stale"
    assert "next run was due 3h ago" in job["reason"]


@pytest.mark.anyio
async def test_disabled_jobs_are_listed_but_do_not_change_the_verdict(sim: Simulator, mcp: Client) -> None:
    vol, repo = setup_pair(sim)
    add_job(sim, "photos", vol, repo)
    add_job(sim, "old-laptop", vol, repo, enabled=False, last_backup_at=sim.now_ms() - 90 * DAY)

    report = await health(mcp)

    assert job_entry(report, "old-laptop")["state"] == "disabled"
    assert report["verdict"] == "ok"
    assert report["counts"]["jobs_disabled"] == 1


@pytest.mark.anyio
async def test_a_new_job_that_never_ran_is_a_warning(sim: Simulator, mcp: Client) -> None:
    vol, repo = setup_pair(sim)
    add_job(sim, "fresh", vol, repo, last_status=None, last_backup_at=None, created_at=sim.now_ms() - HOUR)

    report = await health(mcp)

    job = job_entry(report, "fresh")
    assert job["state"] == "never_ran"
    assert report["verdict"] == "warning"
    assert "1 never ran" in report["summary"]


@pytest.mark.anyio
async def test_an_old_job_that_never_ran_is_stale_not_new(sim: Simulator, mcp: Client) -> None:
    vol, repo = setup_pair(sim)
    add_job(sim, "forgotten", vol, repo, last_status=None, last_backup_at=None, created_at=sim.now_ms() - 10 * DAY)

    report = await health(mcp)

    job = job_entry(report, "forgotten")
    assert job["state"] == "stale"
    assert job["reason"].startswith("created 10d ago, never ran")


@pytest.mark.anyio
async def test_a_job_with_an_active_backup_task_is_running_and_the_task_is_listed(sim: Simulator, mcp: Client) -> None:
    vol, repo = setup_pair(sim)
    job = add_job(sim, "photos", vol, repo)
    task = sim.add_task("backup", job=job, status="running")

    report = await health(mcp)

    assert job_entry(report, "photos")["state"] == "running"
    assert report["running"][0]["id"] == task["id"]
    assert report["running"][0]["target"] == f"backup job 'photos' ({job})"
    assert report["counts"]["tasks_running"] == 1
    assert report["verdict"] == "ok"
    assert "1 task running" in report["summary"]


@pytest.mark.anyio
async def test_repositories_in_error_are_critical_and_doctor_runs_are_reported(sim: Simulator, mcp: Client) -> None:
    setup_pair(sim)
    broken = sim.add_repository("b2-offsite", status="error", last_error="Fatal: wrong password or no key found")
    sim.add_repository("nas-repo", status="doctor")

    report = await health(mcp)

    repos = {r["name"]: r for r in report["repositories"]}
    assert repos["b2-offsite"]["id"] == broken["shortId"]
    assert repos["b2-offsite"]["next_step"].startswith("restic cannot open the repository with the password")
    assert repos["nas-repo"]["status"] == "doctor"
    assert "doctor is running" in repos["nas-repo"]["next_step"]
    assert report["counts"]["repositories_error"] == 1
    assert report["counts"]["repositories_doctor"] == 1
    assert report["verdict"] == "critical"
    assert "1 repository in error" in report["summary"]


@pytest.mark.anyio
async def test_an_unmounted_volume_used_by_an_enabled_job_is_critical(sim: Simulator, mcp: Client) -> None:
    vol, repo = setup_pair(sim, volume_status="error", volume_error="mount error(112): Host is down")
    add_job(sim, "nas-share", vol, repo)

    report = await health(mcp)

    [volume] = report["volumes"]
    assert volume["id"] == vol
    assert volume["status"] == "error"
    assert volume["used_by"] == ["nas-share"]
    assert volume["next_step"].startswith("mount the volume / check its health")
    assert report["verdict"] == "critical"
    assert "1 volume not mounted" in report["summary"]


@pytest.mark.anyio
async def test_an_unmounted_volume_with_auto_remount_is_a_warning(sim: Simulator, mcp: Client) -> None:
    vol = sim.add_volume("usb-disk", status="unmounted", auto_remount=True)
    repo = sim.add_repository("local-repo")
    add_job(sim, "usb", vol["shortId"], repo["shortId"])

    report = await health(mcp)

    assert report["volumes"][0]["used_by"] == ["usb"]
    assert "auto-remount is on" in report["volumes"][0]["next_step"]
    assert report["verdict"] == "warning"


@pytest.mark.anyio
async def test_an_unused_unmounted_volume_is_only_a_warning(sim: Simulator, mcp: Client) -> None:
    sim.add_volume("spare", status="unmounted")

    report = await health(mcp)

    assert report["volumes"][0]["status"] == "unmounted"
    assert report["verdict"] == "warning"


@pytest.mark.anyio
async def test_latest_unresolved_failures_come_from_history_with_next_steps(sim: Simulator, mcp: Client) -> None:
    vol, repo = setup_pair(sim)
    job = add_job(sim, "photos", vol, repo)
    now = sim.now_ms()
    sim.add_task("backup", job=job, status="failed", created_at=now - 5 * HOUR, error=LOCK_ERROR)
    sim.add_task("backup", job=job, status="succeeded", created_at=now - 3 * HOUR)
    mirror = sim.add_task(
        "mirrorSync", job=job, status="failed", created_at=now - HOUR, error="Fatal: no space left on device"
    )

    report = await health(mcp)

    [failure] = report["recent_failures"]
    assert failure["task_id"] == mirror["id"]
    assert failure["kind"] == "mirrorSync"
    assert failure["target"] == f"photos ({job})"
    assert failure["next_step"] == "destination full: free space or apply retention"
    assert report["counts"]["failures_resolved"] == 1  # the backup failure a later run fixed
    assert report["verdict"] == "warning"


@pytest.mark.anyio
async def test_a_stale_task_after_a_restart_says_run_it_again(sim: Simulator, mcp: Client) -> None:
    vol, repo = setup_pair(sim)
    job = add_job(sim, "photos", vol, repo)
    sim.add_task("mirrorSync", job=job, status="stale", created_at=sim.now_ms() - HOUR)

    report = await health(mcp)

    assert report["recent_failures"][0]["next_step"] == "stale: run the backup again (run_backup)"


@pytest.mark.parametrize(
    ("message", "exit_code", "step"),
    [
        (
            LOCK_ERROR,
            None,
            "repository locked -> unlock the repository (unlock_repository) once no backup runs, "
            "or run doctor (run_doctor)",
        ),
        (
            "Fatal: wrong password or no key found",
            None,
            "restic cannot open the repository with the password Zerobyte holds (its key files were removed or the "
            "password changed): confirm with run_doctor; for a repository made elsewhere, connect it again with "
            "create_repository(existing=true, custom_password=...); else restore its keys/ folder from a copy, or make "
            "a new repository and point the jobs at it (update_backup_job)",
        ),
        ("write /repo/data/3f: no space left on device", None, "destination full: free space or apply retention"),
        (UNREADABLE, None, "some files unreadable: check permissions or exclude them"),
        ("restic exited", 3, "some files unreadable: check permissions or exclude them"),
        ("Volume is not mounted", None, "mount the volume / check its health"),
        ("Zerobyte was restarted before this task completed", None, "stale: run the backup again (run_backup)"),
        ("Task was cancelled by the user", None, "cancelled: run it again when ready"),
        ("something nobody has seen", None, None),
    ],
)
def test_next_step_mapping_names_the_fix_for_each_known_message(
    message: str, exit_code: int | None, step: str | None
) -> None:
    assert next_step_for(message, exit_code=exit_code) == step


@pytest.mark.anyio
async def test_requests_per_report_are_few_and_independent_of_the_number_of_jobs(sim: Simulator, mcp: Client) -> None:
    vol, repo = setup_pair(sim)
    for i in range(3):
        add_job(sim, f"job-{i}", vol, repo)

    async def requests_for_one_report() -> int:
        before = len(sim.requests)
        await health(mcp)
        return len(sim.requests) - before

    await health(mcp)  # the first tools/list also detects the server's capabilities, once per process
    few = await requests_for_one_report()
    for i in range(3, 40):
        add_job(sim, f"job-{i}", vol, repo)
    many = await requests_for_one_report()

    assert few == many
    assert many <= 2  # warm: the jobs and one history page (tests below)


@pytest.mark.anyio
async def test_report_stays_small_with_a_large_organization(era: str) -> None:
    sim = Simulator(api_keys=[TEST_KEY], task_seconds=0.4, progress_interval=0.05)
    seed_scale(sim, history=500)
    with SimulatorServer(sim) as server:
        from mcp_server.server import create_server

        async with Client(create_server(make_settings(server.url)), mode=era) as client:
            result = await client.call_tool("backup_health", {})
    text = result.content[0].text  # type: ignore[union-attr]
    assert not result.is_error
    assert len(text) < 32_000
    assert json.loads(text)["verdict"] in ("ok", "warning", "critical")
    sim.close()


@pytest.mark.anyio
async def test_on_zerobyte_041_the_report_works_without_task_history(era: str) -> None:
    sim = Simulator(api_keys=[TEST_KEY], legacy=True, task_seconds=0.4, progress_interval=0.05)
    vol, repo = setup_pair(sim)
    add_job(sim, "photos", vol, repo, last_status="error", last_error="Fatal: no space left on device")
    with SimulatorServer(sim) as server:
        from mcp_server.server import create_server

        async with Client(create_server(make_settings(server.url)), mode=era) as client:
            result = await client.call_tool("backup_health", {})
    report: dict[str, Any] = result.structured_content or {}
    assert not result.is_error
    assert report["verdict"] == "critical"
    assert job_entry(report, "photos")["next_step"] == "destination full: free space or apply retention"
    assert any("task history" in n for n in report["notes"])
    sim.close()


@pytest.mark.anyio
async def test_report_fits_with_hundreds_of_broken_objects_and_says_what_it_cut(sim: Simulator, mcp: Client) -> None:
    long_error = "Fatal: no space left on device " + "x" * 1000
    for i in range(40):
        sim.add_repository(f"repo-{i}", status="error", last_error=long_error)
        sim.add_volume(f"vol-{i}", status="error", last_error="mount error: " + "y" * 1000)
    vol, repo = setup_pair(sim)
    for i in range(150):
        add_job(sim, f"job-{i:03}", vol, repo, last_status="error", last_error=long_error)

    result = await mcp.call_tool("backup_health", {})

    text = result.content[0].text  # type: ignore[union-attr]
    assert len(text) < 32_000
    report = json.loads(text)
    assert report["counts"]["jobs_failing"] == 150
    assert report["counts"]["repositories_error"] == 40
    assert report["not_listed"]["jobs"] >= 90
    assert report["jobs"][0]["state"] == "failing"
    assert len(report["jobs"][0]["message"]) <= 240


# --- warm reports ----------------------------------------------------------------------------------------

MINUTE = 60_000


def asked_since(sim: Simulator, start: int) -> list[str]:
    return sorted(
        f"{r.method} {r.path}" + (f"?page={r.query['page']}" if "page" in r.query else "") for r in sim.requests[start:]
    )


def same_report(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """A report without what differs between two reads of the same state (the time, the listing's age)."""
    kept = {k: v for k, v in a.items() if k != "checked_at"}
    kept["notes"] = [n for n in a.get("notes") or [] if "is from a listing" not in n] or None
    return kept


@pytest.mark.anyio
async def test_a_warm_report_reads_the_jobs_and_one_history_page_and_says_what_a_cold_one_says(
    sim: Simulator, sim_server: SimulatorServer, mcp: Client
) -> None:
    vol, repo = setup_pair(sim)
    sim.add_volume("spare")  # no job uses it: it comes from the listing
    photos = add_job(sim, "photos", vol, repo)
    docs = add_job(sim, "docs", vol, repo)
    now = sim.now_ms()
    for i in range(30):
        sim.add_task("backup", job=photos, status="succeeded", created_at=now - (60 - i) * MINUTE)
    sim.add_task("mirrorSync", job=docs, status="failed", created_at=now - 20 * MINUTE, error="Fatal: no space left")
    await health(mcp)

    start = len(sim.requests)
    warm = await health(mcp)
    assert asked_since(sim, start) == ["GET /api/v1/backups", "GET /api/v1/tasks/history?page=1"]

    # What changed on Zerobyte since shows at once: the jobs' rows carry the volume they read.
    sim.volume_by_short_id(vol)["status"] = "error"  # type: ignore[index]
    sim.volume_by_short_id(vol)["lastError"] = "ENOENT: no such file or directory"  # type: ignore[index]
    for i in range(27):  # more than one history page of news: the page after it is read too
        sim.add_task("backup", job=docs, status="succeeded", created_at=now - 5 * MINUTE + i * 1000)
    start = len(sim.requests)
    changed = await health(mcp)
    assert asked_since(sim, start) == [
        "GET /api/v1/backups",
        "GET /api/v1/tasks/history?page=1",
        "GET /api/v1/tasks/history?page=2",
    ]
    assert changed["verdict"] == "critical" and [v["id"] for v in changed["volumes"]] == [vol]
    assert warm["verdict"] == "warning"

    async with Client(create_server(make_settings(sim_server.url))) as fresh:
        cold = await health(fresh)
    assert same_report(changed, cold) == same_report(cold, cold)


@pytest.mark.anyio
async def test_a_warm_report_lists_again_after_a_change_through_this_server_or_a_new_object(
    sim: Simulator, sim_server: SimulatorServer
) -> None:
    vol, repo = setup_pair(sim)
    spare = sim.add_volume("spare")["shortId"]
    add_job(sim, "photos", vol, repo)
    async with Client(create_server(make_settings(sim_server.url, access="operate"))) as client:
        await health(client)
        sim.volume_by_short_id(spare)["status"] = "unmounted"  # type: ignore[index]
        start = len(sim.requests)
        kept = await health(client)  # a volume no job uses: from the listing, which says its age
        assert len(sim.requests) - start == 2
        assert not kept.get("volumes")
        assert any(
            n.startswith("The status of 1 volume no job backs up from or into (mirror targets count) is from a listing")
            for n in kept["notes"]
        )
        await client.call_tool("mount_volume", {"volume_id": vol, "action": "check"})
        start = len(sim.requests)
        after_write = await health(client)
        assert asked_since(sim, start) == [
            "GET /api/v1/backups",
            "GET /api/v1/repositories",
            "GET /api/v1/tasks/history?page=1",
            "GET /api/v1/volumes",
        ]
        assert [v["id"] for v in after_write["volumes"]] == [spare]
        # A job on a volume the listing does not have: listed again.
        other = sim.add_volume("other")["shortId"]
        add_job(sim, "new", other, repo)
        start = len(sim.requests)
        await health(client)
        assert "GET /api/v1/volumes" in asked_since(sim, start)


@pytest.mark.anyio
async def test_a_warm_report_reads_the_active_tasks_only_while_history_shows_one_running(
    sim: Simulator, mcp: Client
) -> None:
    vol, repo = setup_pair(sim)
    job = add_job(sim, "photos", vol, repo)
    await health(mcp)
    sim.add_task("backup", job=job, status="running", created_at=sim.now_ms() - MINUTE)
    start = len(sim.requests)
    report = await health(mcp)
    assert asked_since(sim, start) == ["GET /api/v1/backups", "GET /api/v1/tasks", "GET /api/v1/tasks/history?page=1"]
    assert job_entry(report, "photos")["state"] == "running" and report["counts"]["tasks_running"] == 1
