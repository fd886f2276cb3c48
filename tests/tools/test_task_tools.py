"""Task tools: active tasks with progress, one task's real outcome and result, and paged history."""

from __future__ import annotations

import json
from typing import Any

import pytest
from mcp import Client

from mcp_server.server import create_server
from mcp_server.simulator import Simulator, SimulatorServer, seed_scale
from tests.helpers import TEST_KEY, make_settings

HOUR = 3_600_000
UNREADABLE = (
    "error: open /srv/data/private/.cache: permission denied\nWarning: at least one source file could not be read"
)


def seed_job(sim: Simulator) -> tuple[str, str]:
    vol = sim.add_volume("data")
    repo = sim.add_repository("local-repo")
    job = sim.add_backup_job("photos", volume=vol["shortId"], repository=repo["shortId"])
    return job["shortId"], repo["shortId"]


async def call(mcp: Client, name: str, args: dict[str, Any]) -> dict[str, Any]:
    result = await mcp.call_tool(name, args)
    assert not result.is_error, result.content
    data: dict[str, Any] = result.structured_content or {}
    return data


async def call_error(mcp: Client, name: str, args: dict[str, Any]) -> str:
    result = await mcp.call_tool(name, args)
    assert result.is_error
    text: str = result.content[0].text  # type: ignore[union-attr]
    return text


@pytest.mark.anyio
async def test_active_tasks_show_progress_and_the_job_name(sim: Simulator, mcp: Client) -> None:
    job, repo = seed_job(sim)
    running = sim.add_task("backup", job=job, status="running")
    with sim.lock:
        sim.tasks[running["id"]].progress = {
            "kind": "backup",
            "progress": {
                "message_type": "status",
                "percent_done": 0.425,
                "bytes_done": 4_250_000,
                "total_bytes": 10_000_000,
                "files_done": 85,
                "total_files": 200,
                "seconds_remaining": 37,
            },
        }
    sim.add_task("doctor", repository=repo, status="queued")
    sim.add_task("backup", job=job, status="succeeded")  # finished: not active

    data = await call(mcp, "list_active_tasks", {})

    assert data["total"] == 2
    by_kind = {t["kind"]: t for t in data["tasks"]}
    backup = by_kind["backup"]
    assert backup["id"] == running["id"]
    assert backup["status"] == "running"
    assert backup["target"] == f"backup job 'photos' ({job})"
    assert backup["progress"] == {
        "percent": 42.5,
        "done_bytes": 4_250_000,
        "total_bytes": 10_000_000,
        "files_done": 85,
        "total_files": 200,
        "eta_s": 37.0,
    }
    assert by_kind["doctor"]["status"] == "queued"
    assert by_kind["doctor"]["target"] == f"repository 'local-repo' ({repo})"


@pytest.mark.anyio
async def test_active_tasks_filter_by_job_kind_and_repository(sim: Simulator, mcp: Client) -> None:
    job, repo = seed_job(sim)
    backup = sim.add_task("backup", job=job, status="running")
    doctor = sim.add_task("doctor", repository=repo, status="running")

    by_job = await call(mcp, "list_active_tasks", {"backup_job_id": job})
    by_repo = await call(mcp, "list_active_tasks", {"repository_id": repo})
    by_kind = await call(mcp, "list_active_tasks", {"kind": "doctor"})

    assert [t["id"] for t in by_job["tasks"]] == [backup["id"]]
    assert [t["id"] for t in by_repo["tasks"]] == [doctor["id"]]
    assert [t["id"] for t in by_kind["tasks"]] == [doctor["id"]]
    both = await call_error(mcp, "list_active_tasks", {"backup_job_id": job, "repository_id": repo})
    assert "not both" in both


@pytest.mark.anyio
async def test_a_succeeded_backup_with_unreadable_files_is_a_warning_with_its_summary(
    sim: Simulator, mcp: Client
) -> None:
    job, _ = seed_job(sim)
    task = sim.add_task("backup", job=job, exit_code=3, warning_details=UNREADABLE, duration_ms=90_000)
    summary = task["result"]["result"]

    data = await call(mcp, "get_task", {"task_id": task["id"]})

    assert data["status"] == "succeeded"
    assert data["outcome"] == "warning"
    assert "permission denied" in data["warnings"]
    assert data["next_step"] == "some files unreadable: check permissions or exclude them"
    assert data["duration_s"] == 90.0
    assert data["result"]["snapshot_id"] == summary["snapshot_id"][:8]  # the short id Zerobyte lists
    assert data["result"]["files_new"] == summary["files_new"]
    assert data["result"]["added_bytes"] == summary["data_added"]
    assert data["result"]["exit_code"] == 3
    assert data["target"] == f"backup job {job}"


@pytest.mark.anyio
async def test_a_clean_backup_is_a_success(sim: Simulator, mcp: Client) -> None:
    job, _ = seed_job(sim)
    task = sim.add_task("backup", job=job)

    data = await call(mcp, "get_task", {"task_id": task["id"]})

    assert data["outcome"] == "success"
    assert "warnings" not in data
    assert "next_step" not in data


@pytest.mark.anyio
async def test_a_succeeded_doctor_that_found_errors_is_an_error(sim: Simulator, mcp: Client) -> None:
    _, repo = seed_job(sim)
    result = {
        "kind": "doctor",
        "repositoryStatus": "error",
        "lastChecked": sim.now_ms(),
        "lastError": None,
        "doctorResult": {
            "success": False,
            "steps": [
                {"step": "unlock", "success": True, "output": "ok", "error": None},
                {"step": "check", "success": False, "output": "", "error": "Fatal: wrong password or no key found"},
            ],
            "completedAt": sim.now_ms(),
        },
    }
    task = sim.add_task("doctor", repository=repo, result=result)

    data = await call(mcp, "get_task", {"task_id": task["id"]})

    assert data["status"] == "succeeded"
    assert data["outcome"] == "error"
    assert data["error"] == "Fatal: wrong password or no key found"
    assert data["next_step"].startswith("restic cannot open the repository with the password")
    assert data["result"]["repository_status"] == "error"
    assert data["result"]["doctor_steps"][1] == {
        "step": "check",
        "success": False,
        "error": "Fatal: wrong password or no key found",
    }


@pytest.mark.anyio
async def test_result_summaries_per_kind(sim: Simulator, mcp: Client) -> None:
    _, repo = seed_job(sim)
    restore = sim.add_task("restore", repository=repo, snapshot_id="5ddc91c0")
    delete = sim.add_task("deleteSnapshots", repository=repo, snapshot_id="5ddc91c0")
    tag = sim.add_task("tagSnapshots", repository=repo, snapshot_id="1a2b3c4d")

    restored = await call(mcp, "get_task", {"task_id": restore["id"]})
    deleted = await call(mcp, "get_task", {"task_id": delete["id"]})
    tagged = await call(mcp, "get_task", {"task_id": tag["id"]})

    assert restored["result"] == {"files_restored": 3, "files_skipped": 0, "restored_bytes": 60}
    assert restored["target"] == f"repository {repo}, snapshot 5ddc91c0 -> /"
    assert deleted["result"] == {"deleted_snapshot_ids": ["5ddc91c0"]}
    assert tagged["result"]["tagged_snapshot_ids"] == ["1a2b3c4d"]
    assert "new ids" in tagged["result"]["note"]


@pytest.mark.anyio
async def test_failed_cancelled_and_stale_tasks_carry_error_and_next_step(sim: Simulator, mcp: Client) -> None:
    job, _ = seed_job(sim)
    failed = sim.add_task("backup", job=job, status="failed", error="Fatal: unable to create lock in backend")
    cancelled = sim.add_task("backup", job=job, status="cancelled")
    stale = sim.add_task("backup", job=job, status="stale")

    f = await call(mcp, "get_task", {"task_id": failed["id"]})
    c = await call(mcp, "get_task", {"task_id": cancelled["id"]})
    s = await call(mcp, "get_task", {"task_id": stale["id"]})

    assert (f["outcome"], f["error"]) == ("error", "Fatal: unable to create lock in backend")
    assert "unlock_repository" in f["next_step"]
    assert (c["outcome"], c["error"]) == ("cancelled", "Task was cancelled by the user")
    assert c["next_step"] == "cancelled: run it again when ready"
    assert s["outcome"] == "stale"
    assert s["next_step"] == "stale: run the backup again (run_backup)"


@pytest.mark.anyio
async def test_unknown_and_malformed_task_ids_are_clear_errors(sim: Simulator, mcp: Client) -> None:
    missing = await call_error(mcp, "get_task", {"task_id": "01a21f51-07ec-7000-91f2-cfbfe0ada36e"})
    malformed = await call_error(mcp, "get_task", {"task_id": "../auth"})

    assert "01a21f51-07ec-7000-91f2-cfbfe0ada36e" in missing
    assert "not found" in missing.lower()
    assert "task_id" in malformed
    assert "not a task id" in malformed


@pytest.mark.anyio
async def test_history_pages_hold_25_items_and_say_how_to_get_the_next(sim: Simulator, mcp: Client) -> None:
    job, _ = seed_job(sim)
    sim.add_history(60, job=job)

    first = await call(mcp, "task_history", {})
    last = await call(mcp, "task_history", {"page": 3})

    assert len(first["items"]) == 25
    assert (first["page"], first["total"], first["total_pages"], first["next_page"]) == (1, 60, 3, 2)
    assert len(last["items"]) == 10
    assert "next_page" not in last
    item = first["items"][0]
    assert item["kind"] == "backup"
    assert item["target"] == f"photos ({job})"
    assert item["duration_s"] == 45.0
    assert item["started"] > first["items"][1]["started"]  # newest first


@pytest.mark.anyio
async def test_history_filters_by_outcome_and_kind(sim: Simulator, mcp: Client) -> None:
    job, _ = seed_job(sim)
    sim.add_history(27, job=job)  # every 9th fails (3), every 7th warns

    errors = await call(mcp, "task_history", {"outcome": "error", "kind": "backup"})

    assert errors["total"] == 3
    assert {i["outcome"] for i in errors["items"]} == {"error"}
    assert all("already locked" in i["message"] for i in errors["items"])


@pytest.mark.anyio
async def test_history_pages_stay_small_with_long_messages_and_500_tasks(era: str) -> None:
    sim = Simulator(api_keys=[TEST_KEY], task_seconds=0.4, progress_interval=0.05)
    seed_scale(sim, history=500)
    with SimulatorServer(sim) as server:
        async with Client(create_server(make_settings(server.url)), mode=era) as client:
            result = await client.call_tool("task_history", {"page": 2})
    sim.close()
    text: str = result.content[0].text  # type: ignore[union-attr]
    assert not result.is_error
    assert len(text) < 32_000
    data = json.loads(text)
    assert data["total"] >= 500
    assert data["next_page"] == 3


@pytest.mark.anyio
async def test_history_on_zerobyte_041_says_it_is_not_available(era: str) -> None:
    sim = Simulator(api_keys=[TEST_KEY], legacy=True)
    with SimulatorServer(sim) as server:
        async with Client(create_server(make_settings(server.url)), mode=era) as client:
            result = await client.call_tool("task_history", {})
    sim.close()
    assert result.is_error
    text: str = result.content[0].text  # type: ignore[union-attr]
    assert "no task history" in text
    assert "list_backup_jobs" in text


@pytest.mark.anyio
async def test_long_restic_warnings_are_cut_to_their_head(sim: Simulator, mcp: Client) -> None:
    job, _ = seed_job(sim)
    details = "\n".join(f"error: open /srv/data/f{i}: permission denied" for i in range(2000))
    task = sim.add_task("backup", job=job, exit_code=3, warning_details=details)

    data = await call(mcp, "get_task", {"task_id": task["id"]})

    assert data["warnings"].startswith("error: open /srv/data/f0: permission denied")
    assert len(data["warnings"]) <= 1500
