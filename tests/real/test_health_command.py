"""``zerobyte-mcp health --json`` and ``GET /status`` against a real Zerobyte (v0.42 and v0.41.0), as cron and a
monitor run them: a healthy job gives exit 0 and "ok"; once a job's repository loses its keys on disk and its
backup fails on the real server, exit 2 and "critical" naming that job with restic's reason.
"""

from __future__ import annotations

import json
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from tests.real.conftest import McpConfig, stdio_params
from tests.real.story_world import arrange_job, backup_directly
from tests.real.zbserver import RealZerobyte


def cron_env(zb: RealZerobyte, folder: Path) -> dict[str, str]:
    """What a crontab line gets: our settings file, no terminal, nothing else of the test's environment."""
    params = stdio_params(zb, folder, McpConfig())
    return dict(params.env or {})


def health(env: dict[str, str], folder: Path) -> tuple[int, dict[str, Any], str]:
    proc = subprocess.run(
        [sys.executable, "-m", "mcp_server", "health", "--json"],
        env=env,
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    return proc.returncode, json.loads(proc.stdout), proc.stderr


def status(env: dict[str, str], folder: Path) -> tuple[int, int, dict[str, Any]]:
    """(status without the token, status with it, the verdict) from a fresh HTTP server process."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = secrets.token_urlsafe(24)
    server = subprocess.Popen(
        [sys.executable, "-m", "mcp_server", "--transport", "http", "--port", str(port)],
        env={**env, "ZEROBYTE_MCP_HTTP_TOKEN": token},
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, "the HTTP server did not come up"
            time.sleep(0.2)
        anonymous = httpx.get(f"{base}/status", timeout=30).status_code
        answer = httpx.get(f"{base}/status", headers={"Authorization": f"Bearer {token}"}, timeout=60)
        body: dict[str, Any] = answer.json()
        assert token not in answer.text
        return anonymous, answer.status_code, body
    finally:
        server.terminate()
        server.communicate(timeout=30)


def fail_backup(zb: RealZerobyte, job_id: str) -> dict[str, Any]:
    """Run the job on the real server and wait until Zerobyte records its failure."""
    zb.post(f"/backups/{job_id}/run")
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        job = zb.job(job_id)
        if job.get("lastBackupStatus") == "error":
            return job
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} did not fail within 90 s: {zb.job(job_id)}")


def test_health_and_status_say_ok_for_a_healthy_job_then_critical_when_a_backup_fails(
    zb_any: RealZerobyte, tmp_path: Path
) -> None:
    zb = zb_any
    env = cron_env(zb, tmp_path / "cron")
    healthy = arrange_job(zb, tmp_path / "ok", {"a.txt": "a"})
    backup_directly(zb, healthy.job_id, healthy.repository_id)

    code, verdict, stderr = health(env, tmp_path)
    assert (code, verdict["verdict"]) == (0, "ok"), (verdict, stderr)
    assert {j["id"]: j["state"] for j in verdict["jobs"]} == {healthy.job_id: "ok"}
    assert stderr == ""
    anonymous, authorized, body = status(env, tmp_path)
    assert (anonymous, authorized, body["verdict"]) == (401, 200, "ok")

    broken = arrange_job(zb, tmp_path / "broken", {"b.txt": "b"})
    backup_directly(zb, broken.job_id, broken.repository_id)
    shutil.rmtree(Path(zb.get(f"/repositories/{broken.repository_id}")["config"]["path"]) / "keys")
    recorded = fail_backup(zb, broken.job_id)
    assert "wrong password or no key found" in recorded["lastBackupError"]

    code, verdict, stderr = health(env, tmp_path)
    assert (code, verdict["verdict"]) == (2, "critical"), (verdict, stderr)
    jobs = {j["id"]: j for j in verdict["jobs"]}
    assert jobs[broken.job_id]["state"] == "failing"
    assert "wrong password or no key found" in jobs[broken.job_id]["message"]
    assert jobs[healthy.job_id]["state"] == "ok"
    assert zb.api_key not in json.dumps(verdict)
    _, authorized, body = status(env, tmp_path)
    assert authorized == 200
    assert body["verdict"] == "critical"
    assert {j["id"]: j["state"] for j in body["jobs"]} == {j: v["state"] for j, v in jobs.items()}


def test_health_exits_3_unknown_when_the_real_zerobyte_refuses_the_key(zb_any: RealZerobyte, tmp_path: Path) -> None:
    env = cron_env(zb_any, tmp_path / "cron")
    key_file = Path(env["ZEROBYTE_MCP_CONFIG"]).parent / "api-key"
    key_file.write_text("zb_" + "0" * 40 + "\n")

    code, verdict, stderr = health(env, tmp_path)

    assert code == 3
    assert verdict["verdict"] == "unknown"
    assert "401" in verdict["summary"] or "key" in verdict["summary"].lower()
    assert verdict["summary"] in stderr
    assert "zb_" + "0" * 40 not in stderr + json.dumps(verdict)
