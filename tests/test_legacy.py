"""Zerobyte v0.41 (the simulator's legacy mode): read tools work as on v0.42, the gaps are named, backups followed.

v0.41 is the newest *stable* Zerobyte (API.md §9), so most self-hosters run it: no task history, and a backup run
answers ``{success:true}`` with no task to follow.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from mcp import Client

from mcp_server.cli.check import run_check
from mcp_server.config import Settings
from mcp_server.server import create_server, make_client
from mcp_server.simulator import Simulator, SimulatorServer, seed_demo
from mcp_server.zerobyte.legacy import LegacyProgress, follow_legacy_backup, run_legacy_backup
from tests.helpers import TEST_KEY, make_settings

# Read tools that cannot work without a route v0.41 lacks; each must say so instead of failing obscurely.
LEGACY_GAPS = {"task_history": "no task history"}


@pytest.fixture
def legacy_sim() -> Simulator:
    return Simulator(api_keys=[TEST_KEY], legacy=True, task_seconds=0.6, progress_interval=0.05)


@pytest.fixture
def legacy_server(legacy_sim: Simulator) -> Iterator[SimulatorServer]:
    with SimulatorServer(legacy_sim) as running:
        yield running


def _demo_arguments(sim: Simulator) -> dict[str, Any]:
    """Argument values for read tools, taken from the demo world (photos job, its latest snapshot...)."""
    with sim.lock:
        job = next(s for s in sim.schedules.values() if s["name"] == "photos-nightly")
        repo = sim.repositories[job["repositoryId"]]
        volume = sim.volumes[job["volumeId"]]
        snaps = [s for s in sim.snapshots_of(repo) if job["shortId"] in s.tags]
        latest = max(snaps, key=lambda s: s.time_ms)
        destination = min(sim.destinations)
        task_id = next(iter(sim.tasks))
    return {
        "volume_id": volume["shortId"],
        "repository_id": repo["shortId"],
        "job_id": job["shortId"],
        "backup_job_id": job["shortId"],
        "snapshot_id": latest.short_id,
        "destination_id": destination,
        "task_id": task_id,
        "pattern": "albums.json",
        "path": "/",
    }


async def _read_tool_results(legacy: bool) -> dict[str, tuple[bool, str]]:
    sim = Simulator(api_keys=[TEST_KEY], legacy=legacy, seed=7)
    seed_demo(sim)
    values = _demo_arguments(sim)
    results: dict[str, tuple[bool, str]] = {}
    with SimulatorServer(sim) as running:
        async with Client(create_server(make_settings(running.url)), mode="legacy") as client:
            for tool in (await client.list_tools()).tools:
                required = tool.input_schema.get("required", [])
                if any(name not in values for name in required):
                    continue
                args = {name: values[name] for name in required}
                if "backup_job_id" in tool.input_schema.get("properties", {}) and not required:
                    args["backup_job_id"] = values["backup_job_id"]
                result = await client.call_tool(tool.name, args)
                text = " ".join(getattr(c, "text", "") for c in result.content)
                results[tool.name] = (bool(result.is_error), text)
    return results


@pytest.mark.anyio
async def test_every_read_tool_that_works_on_v042_works_on_v041_or_names_the_missing_feature() -> None:
    modern = await _read_tool_results(legacy=False)
    legacy = await _read_tool_results(legacy=True)
    assert len(modern) >= 10, sorted(modern)
    working = [name for name, (failed, _) in modern.items() if not failed]
    assert {"list_volumes", "list_backup_jobs", "backup_health", "list_snapshots"} <= set(working)
    for name in working:
        if name in LEGACY_GAPS:
            assert name not in legacy, f"{name} is listed although v0.41 cannot serve it"
            continue
        failed, text = legacy[name]
        assert not failed, f"{name} fails on v0.41: {text}"
    # Not listed there, but an agent that calls one by name is told what this Zerobyte lacks.
    sim = Simulator(api_keys=[TEST_KEY], legacy=True, seed=7)
    with SimulatorServer(sim) as running:
        async with Client(create_server(make_settings(running.url)), mode="legacy") as client:
            for name, missing in LEGACY_GAPS.items():
                result = await client.call_tool(name, {})
                said = " ".join(getattr(c, "text", "") for c in result.content)
                assert result.is_error and missing in said, (name, said)


@pytest.mark.anyio
async def test_legacy_read_answers_carry_the_same_facts(legacy_sim: Simulator, legacy_server: SimulatorServer) -> None:
    seed_demo(legacy_sim)
    async with Client(create_server(make_settings(legacy_server.url)), mode="auto") as client:
        jobs = (await client.call_tool("list_backup_jobs", {})).structured_content or {}
        health = (await client.call_tool("backup_health", {})).structured_content or {}
    statuses = {job["name"]: job.get("last_status") for job in jobs["jobs"]}
    assert statuses["photos-nightly"] == "success"
    assert statuses["nextcloud-rest"] == "error"
    assert health["verdict"] == "critical"


def test_check_names_the_tools_an_old_zerobyte_limits(legacy_server: SimulatorServer) -> None:
    out = io.StringIO()
    code = run_check(make_settings(legacy_server.url, access="full"), out=out)
    report = out.getvalue()
    assert code == 0, report
    assert "Zerobyte version: v0.41.0" in report
    assert "tasks API: yes; task history: no" in report
    assert "task_history: NOT AVAILABLE: no task history route (v0.41 and older)" in report
    assert "backup_health: works differently: judged from each job's last status" in report
    assert "run_backup: works differently: Zerobyte answers without a task id: the run's task is found" in report
    assert "apply_retention: works differently: no task: Zerobyte answers once the forget is done" in report
    assert "cannot be followed" not in report


def test_check_on_a_current_zerobyte_lists_no_limits(sim_server: SimulatorServer) -> None:
    out = io.StringIO()
    assert run_check(make_settings(sim_server.url, access="full"), out=out) == 0
    assert "NOT AVAILABLE" not in out.getvalue()
    assert "works differently" not in out.getvalue()


def _photos_job(sim: Simulator) -> str:
    sim.add_volume("photos", path="/srv/photos", files={"a.jpg": 1000, "b.jpg": 2000})
    sim.add_repository("nas")
    job: str = sim.add_backup_job("photos-nightly", volume="photos", repository="nas")["shortId"]
    return job


@pytest.mark.anyio
async def test_a_legacy_backup_run_is_followed_to_success_through_the_job_status_and_progress(
    legacy_sim: Simulator, legacy_server: SimulatorServer
) -> None:
    job_id = _photos_job(legacy_sim)
    seen: list[LegacyProgress] = []

    async def on_progress(progress: LegacyProgress) -> None:
        seen.append(progress)

    settings: Settings = make_settings(legacy_server.url)
    async with make_client(settings) as client:
        caps = await client.detect_capabilities()
        probed = len(legacy_sim.requests)
        outcome = await run_legacy_backup(client, job_id, on_progress, wait_seconds=20, poll_interval=0.05)
    assert caps.legacy_backup_control
    assert outcome.status == "success", outcome
    assert outcome.finished
    assert outcome.job_name == "photos-nightly"
    assert outcome.finished_at_ms is not None
    assert outcome.error is None
    assert seen, "no progress line was reported while the backup ran"
    assert all(p.percent_done is not None and 0 <= p.percent_done <= 1 for p in seen)
    followed = {r.path for r in legacy_sim.requests[probed:]}
    assert followed == {
        f"/api/v1/backups/{job_id}",
        f"/api/v1/backups/{job_id}/run",
        f"/api/v1/backups/{job_id}/progress",
    }


@pytest.mark.anyio
async def test_a_legacy_backup_warning_comes_back_with_zerobytes_own_message(
    legacy_sim: Simulator, legacy_server: SimulatorServer
) -> None:
    job_id = _photos_job(legacy_sim)
    legacy_sim.backup_outcomes[job_id] = "warning"
    async with make_client(make_settings(legacy_server.url)) as client:
        outcome = await run_legacy_backup(client, job_id, wait_seconds=20, poll_interval=0.05)
    assert outcome.status == "warning"
    assert outcome.error


@pytest.mark.anyio
async def test_a_legacy_backup_still_running_when_the_wait_ends_says_how_to_check_later(
    legacy_sim: Simulator, legacy_server: SimulatorServer
) -> None:
    legacy_sim.task_seconds = 30
    job_id = _photos_job(legacy_sim)
    async with make_client(make_settings(legacy_server.url)) as client:
        outcome = await run_legacy_backup(client, job_id, wait_seconds=0.3, poll_interval=0.05)
        again = await follow_legacy_backup(client, job_id, wait_seconds=0)
    legacy_sim.close()
    assert outcome.status == "running"
    assert "list_backup_jobs" in outcome.notes[-1]
    assert again.status == "running"
    assert again.already_running


@pytest.mark.anyio
async def test_following_a_job_that_is_not_running_returns_its_last_result(
    legacy_sim: Simulator, legacy_server: SimulatorServer
) -> None:
    seed_demo(legacy_sim)
    with legacy_sim.lock:
        job = next(s for s in legacy_sim.schedules.values() if s["name"] == "nextcloud-rest")
    async with make_client(make_settings(legacy_server.url)) as client:
        outcome = await follow_legacy_backup(client, job["shortId"])
    assert outcome.status == "error"
    assert outcome.error is not None
    assert "locked" in outcome.error


@pytest.mark.anyio
@pytest.mark.parametrize("era", ["legacy", "auto"])
async def test_the_run_backup_tool_follows_a_legacy_backup_with_progress_notifications(
    legacy_sim: Simulator, legacy_server: SimulatorServer, era: str
) -> None:
    legacy_sim.task_seconds = 3.0  # long enough for the 1 s status polls to see it running
    job_id = _photos_job(legacy_sim)
    seen: list[float] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append(progress)

    server = create_server(make_settings(legacy_server.url, access="operate"))
    async with Client(server, mode=era) as client:
        result = await client.call_tool(
            "run_backup", {"job_id": job_id, "wait_seconds": 20}, progress_callback=on_progress
        )
    assert not result.is_error, result.content
    data = result.structured_content
    assert data is not None
    assert data["outcome"] == "success"
    assert "photos-nightly" in data["target"]
    assert seen, "no progress notification reached the client"
    runs = [r for r in legacy_sim.requests if r.method == "POST"]
    assert [r.path for r in runs] == [f"/api/v1/backups/{job_id}/run"]  # started exactly once


@pytest.mark.anyio
async def test_cancel_task_stops_a_v041_backup_through_its_job_and_reports_it_cancelled(
    legacy_sim: Simulator, legacy_server: SimulatorServer
) -> None:
    legacy_sim.task_seconds = 30
    job_id = _photos_job(legacy_sim)
    server = create_server(make_settings(legacy_server.url, access="operate"))
    async with Client(server, mode="legacy") as client:
        started = (await client.call_tool("run_backup", {"job_id": job_id, "wait": False})).structured_content or {}
        stopped = await client.call_tool("cancel_task", {"task_id": started["id"]})
    data = stopped.structured_content or {}
    assert not stopped.is_error, stopped.content
    assert (data["id"], data["outcome"]) == (started["id"], "cancelled")
    posts = [r.path for r in legacy_sim.requests if r.method == "POST"]
    assert f"/api/v1/backups/{job_id}/stop" in posts
    assert not any(p.endswith("/cancel") for p in posts)  # v0.41 answers 409 there for a backup
    with legacy_sim.lock:
        task = legacy_sim.tasks[started["id"]]
        assert task.status == "cancelled"


@pytest.mark.anyio
async def test_tools_list_is_decided_on_the_first_listing_and_later_listings_ask_zerobyte_nothing(
    legacy_server: SimulatorServer, legacy_sim: Simulator
) -> None:
    async with Client(create_server(make_settings(legacy_server.url)), mode="legacy") as client:
        first = [t.name for t in (await client.list_tools()).tools]
        asked = len(legacy_sim.requests)
        second = [t.name for t in (await client.list_tools()).tools]
        assert len(legacy_sim.requests) == asked  # nothing more asked of Zerobyte
    assert asked > 0 and "task_history" not in first and "list_active_tasks" in first
    assert second == first
    # Not /system/updates: Zerobyte asks GitHub before answering it (up to 5 s; never, without internet).
    assert not [r for r in legacy_sim.requests if r.path.endswith("/system/updates")]


@pytest.mark.anyio
async def test_when_zerobyte_cannot_say_what_it_supports_every_tool_is_listed_and_the_list_stays(
    legacy_server: SimulatorServer, legacy_sim: Simulator
) -> None:
    rule = legacy_sim.faults.add(path=r"^/api/v1/(system|tasks)", status=503)  # every probe fails
    async with Client(create_server(make_settings(legacy_server.url)), mode="legacy") as client:
        first = [t.name for t in (await client.list_tools()).tools]
        legacy_sim.faults.remove(rule)
        asked = len(legacy_sim.requests)
        second = [t.name for t in (await client.list_tools()).tools]
        assert len(legacy_sim.requests) == asked
    assert "task_history" in first and second == first  # listed, and it explains itself when called


@pytest.mark.anyio
async def test_a_missing_task_on_v041_points_only_to_tools_this_server_lists(
    legacy_server: SimulatorServer, legacy_sim: Simulator
) -> None:
    async with Client(create_server(make_settings(legacy_server.url, access="operate")), mode="legacy") as client:
        listed = {t.name for t in (await client.list_tools()).tools}
        result = await client.call_tool("cancel_task", {"task_id": "0195e0f2-0000-7000-8000-000000000000"})
    text = " ".join(getattr(c, "text", "") for c in result.content)
    assert result.is_error and "list_active_tasks" in text, text
    assert "task_history" not in text and "task_history" not in listed
