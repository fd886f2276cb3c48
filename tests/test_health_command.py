"""``zerobyte-mcp health [--json]`` and HTTP ``GET /status``: the backup_health verdict for cron and monitors.

The command runs as a user's cron runs it (a subprocess of the installed entry point, settings from the
environment) against the simulator; /status is served by the real HTTP app with uvicorn on a loopback port.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import Client

from mcp_server.cli.http import STATUS_PATH, build_http_app
from mcp_server.config import Secret, Settings
from mcp_server.server import create_server
from mcp_server.simulator import Simulator
from tests.helpers import TEST_KEY, TOKEN, make_settings, serving

HOUR = 3_600_000
DAY = 24 * HOUR
LOCK_ERROR = "Fatal: unable to create lock in backend: repository is already locked by PID 4711"


def add_job(sim: Simulator, name: str, **changes: Any) -> None:
    vol = sim.add_volume(f"{name}-data")["shortId"]
    repo = sim.add_repository(f"{name}-repo")["shortId"]
    now = sim.now_ms()
    values: dict[str, Any] = {
        "cron": "0 2 * * *",
        "last_status": "success",
        "last_backup_at": now - 2 * HOUR,
        "next_backup_at": now + 22 * HOUR,
        "created_at": now - 30 * DAY,
    }
    sim.add_backup_job(name, volume=vol, repository=repo, **{**values, **changes})


def health(tmp_path: Path, url: str, *args: str, key: str = TEST_KEY) -> subprocess.CompletedProcess[str]:
    """The command as cron runs it: no terminal, settings from the environment, another working folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZEROBYTE", "XDG_"))}
    env.update(ZEROBYTE_URL=url, XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_CACHE_HOME=str(tmp_path / "cache"))
    if key:
        env["ZEROBYTE_API_KEY"] = key
    return subprocess.run(
        [sys.executable, "-m", "mcp_server", "health", *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_health_exits_0_for_ok_and_prints_one_plugin_line_with_counts(
    sim: Simulator, settings: Settings, tmp_path: Path
) -> None:
    add_job(sim, "photos")

    proc = health(tmp_path, settings.url)

    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("ZEROBYTE OK: all 1 enabled backup jobs are on schedule")
    assert "| jobs_ok=1 jobs_total=1" in proc.stdout
    assert proc.stderr == ""  # cron mails stderr: nothing to read when all is well


def test_health_exits_1_for_a_warning_and_names_the_job_and_its_next_step(
    sim: Simulator, settings: Settings, tmp_path: Path
) -> None:
    add_job(sim, "photos")
    add_job(sim, "home", last_status="warning", last_error="Warning: at least one source file could not be read")

    proc = health(tmp_path, settings.url)

    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("ZEROBYTE WARNING: 1 warning of 2 backup jobs")
    assert any(line.startswith("job 'home' (") and ": warning: " in line and "; next: " in line for line in lines)


@pytest.mark.anyio
async def test_health_json_exits_2_for_critical_and_is_the_backup_health_answer_itself(
    sim: Simulator, settings: Settings, tmp_path: Path
) -> None:
    add_job(sim, "photos")
    add_job(sim, "nextcloud", last_status="error", last_error=LOCK_ERROR)

    proc = health(tmp_path, settings.url, "--json")
    async with Client(create_server(settings)) as mcp:
        tool = (await mcp.call_tool("backup_health", {})).structured_content or {}

    assert proc.returncode == 2, proc.stderr
    verdict = json.loads(proc.stdout)  # stdout is exactly one JSON document
    assert verdict["verdict"] == "critical"
    assert [(j["name"], j["state"]) for j in verdict["jobs"]] == [("nextcloud", "failing"), ("photos", "ok")]
    # The same code as the tool: the same answer, apart from when it was checked and the agent-only hint.
    drop = ("checked_at", "unavailable_tools")
    assert {k: v for k, v in verdict.items() if k not in drop} == {k: v for k, v in tool.items() if k not in drop}


def test_health_without_a_reachable_zerobyte_exits_3_with_the_reason_on_stderr_only(tmp_path: Path) -> None:
    plain = health(tmp_path, "http://127.0.0.1:9")
    as_json = health(tmp_path, "http://127.0.0.1:9", "--json")

    assert plain.returncode == 3
    assert plain.stdout == ""
    assert "UNKNOWN: Cannot connect to Zerobyte at http://127.0.0.1:9" in plain.stderr
    assert as_json.returncode == 3
    verdict = json.loads(as_json.stdout)
    assert verdict["verdict"] == "unknown"
    assert verdict["summary"].startswith("UNKNOWN: Cannot connect to Zerobyte")
    assert "Cannot connect to Zerobyte" in as_json.stderr
    assert TEST_KEY not in plain.stderr + as_json.stdout + as_json.stderr


def test_health_with_bad_settings_or_a_refused_key_is_unknown_not_critical(settings: Settings, tmp_path: Path) -> None:
    no_key = health(tmp_path, settings.url, "--json", key="")
    refused = health(tmp_path, settings.url, "--json", key="zb_revoked_key_9876543210")

    assert no_key.returncode == 3
    assert json.loads(no_key.stdout)["summary"].startswith("UNKNOWN: configuration error: No Zerobyte API key")
    assert refused.returncode == 3
    assert "401" in json.loads(refused.stdout)["summary"]
    assert "zb_revoked_key_9876543210" not in refused.stdout + refused.stderr


# --- GET /status --------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_status_needs_the_bearer_token_and_answers_the_verdict_without_secrets(
    sim: Simulator, settings: Settings
) -> None:
    # A job whose error happens to quote the API key: the verdict must not carry it.
    add_job(sim, "photos", last_status="error", last_error=f"{LOCK_ERROR} (key {TEST_KEY})")
    settings = make_settings(settings.url, access="full", http_token=Secret(TOKEN))
    auth = {"Authorization": f"Bearer {TOKEN}"}
    async with serving(build_http_app(create_server(settings), settings)) as url, httpx.AsyncClient() as http:
        anonymous = await http.get(f"{url}{STATUS_PATH}")
        wrong = await http.get(f"{url}{STATUS_PATH}", headers={"Authorization": "Bearer not-the-token"})
        before = len(sim.requests)
        first = await http.get(f"{url}{STATUS_PATH}", headers=auth)
        asked = len(sim.requests) - before
        again = await http.get(f"{url}{STATUS_PATH}", headers=auth)
        posted = await http.post(f"{url}{STATUS_PATH}", headers=auth)
        rebound = await http.get(f"{url}{STATUS_PATH}", headers={**auth, "Host": "evil.example"})

    assert anonymous.status_code == 401
    assert wrong.status_code == 401
    assert first.status_code == 200
    assert first.headers["cache-control"] == "no-store"
    body = first.json()
    assert body["verdict"] == "critical"
    assert body["summary"].startswith("CRITICAL: 1 failing of 1 backup jobs")
    assert body["counts"]["jobs_failing"] == 1
    assert body["jobs"][0]["name"] == "photos"
    assert body["jobs"][0]["state"] == "failing"
    assert "unavailable_tools" not in body
    assert TEST_KEY not in first.text
    assert TOKEN not in first.text
    assert 0 < asked <= 8  # backup_health's handful of list calls, not one per object
    assert again.json() == body  # cached: a dashboard refreshing every few seconds does not hammer Zerobyte
    assert len(sim.requests) - before == asked
    assert all(r.method == "GET" for r in sim.requests[before:])  # read-only whatever the server's access level
    assert posted.status_code == 405
    assert rebound.status_code == 421


@pytest.mark.anyio
async def test_status_says_unknown_with_the_reason_when_zerobyte_is_down() -> None:
    settings = make_settings("http://127.0.0.1:9", http_allow_unauthenticated=True)
    async with serving(build_http_app(create_server(settings), settings)) as url, httpx.AsyncClient() as http:
        response = await http.get(f"{url}{STATUS_PATH}")
    assert response.status_code == 200
    body = response.json()
    assert body["verdict"] == "unknown"
    assert body["summary"].startswith("UNKNOWN: Cannot connect to Zerobyte at http://127.0.0.1:9")
    assert set(body) == {"verdict", "summary", "checked_at"}


@pytest.mark.anyio
async def test_a_dashboard_on_the_compose_network_reaches_status_by_service_name_when_that_host_is_allowed(
    sim: Simulator, settings: Settings, tmp_path: Path
) -> None:
    """Homepage asks http://zerobyte-mcp:8765/status: the name is allowed from the environment, as in compose."""
    from mcp_server.config import load_settings

    add_job(sim, "photos")
    env = {
        "ZEROBYTE_URL": settings.url,
        "ZEROBYTE_API_KEY": TEST_KEY,
        "ZEROBYTE_MCP_HTTP_TOKEN": TOKEN,
        "ZEROBYTE_MCP_HTTP_ALLOWED_HOSTS": "zerobyte-mcp, mcp.example.com",
        "HOME": str(tmp_path),
    }
    loaded = load_settings(env=env, overrides={"http_host": "0.0.0.0"})
    assert loaded.http_allowed_hosts == ("zerobyte-mcp", "mcp.example.com")
    auth = {"Authorization": f"Bearer {TOKEN}"}
    async with serving(build_http_app(create_server(loaded), loaded)) as url, httpx.AsyncClient() as http:
        by_name = await http.get(f"{url}{STATUS_PATH}", headers={**auth, "Host": "zerobyte-mcp:8765"})
        other = await http.get(f"{url}{STATUS_PATH}", headers={**auth, "Host": "homepage:3000"})
    assert by_name.status_code == 200
    assert by_name.json()["verdict"] == "ok"
    assert other.status_code == 421


def test_the_plain_report_names_each_problem_once_for_a_cron_mail() -> None:
    from mcp_server.cli.health import render_plain

    step = "unlock the repository (unlock_repository) once no backup runs"
    text = render_plain(
        {
            "verdict": "critical",
            "summary": "CRITICAL: 1 failing of 2 backup jobs; 1 repository in error.",
            "counts": {"jobs_failing": 1, "jobs_ok": 1, "jobs_total": 2},
            "jobs": [
                {"id": "j1", "name": "nextcloud", "state": "failing", "message": "locked", "next_step": step},
                {"id": "j2", "name": "photos", "state": "ok"},
            ],
            "repositories": [{"id": "r1", "name": "nas", "status": "error", "message": "locked", "next_step": step}],
            "recent_failures": [
                {"task_id": "t1", "kind": "backup", "outcome": "error", "target": "nextcloud (j1)", "message": "x"},
                {"task_id": "t2", "kind": "doctor", "outcome": "error", "target": "nas (r1)", "message": "y"},
            ],
        }
    )
    assert text.splitlines() == [
        "ZEROBYTE CRITICAL: 1 failing of 2 backup jobs; 1 repository in error. | jobs_failing=1 jobs_ok=1 jobs_total=2",
        f"job 'nextcloud' (j1): failing: locked; next: {step}",
        "repository 'nas' (r1): error: locked; next: as above",
        "failed task 'nas (r1)' (t2): error: y",
    ]
