"""An agent looks after an existing Zerobyte (v0.42): finds a deleted file, edits a job without losing
settings, adds a failure webhook, works over streamable HTTP, and at read-only sends no write at all.

The job, its mirror and a notification route are arranged with direct calls; each story acts through our MCP
server and checks what the real server now holds.
"""

from __future__ import annotations

import http.server
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from tests.real.conftest import REPO, McpConfig, call, mcp_stdio, unique, write_config
from tests.real.story_world import Arranged, arrange_job, backup_directly
from tests.real.zbserver import RealZerobyte

pytestmark = pytest.mark.anyio

WEBHOOK = "http://127.0.0.1:9/hook"  # the only origin the test servers allow for webhooks
VOLATILE = {"updatedAt", "nextBackupAt", "lastBackupAt", "lastBackupStatus", "lastBackupError"}


@dataclass
class Estate:
    job: Arranged
    mirror_id: str
    destination_id: int
    first: str
    second: str
    root: Path


@pytest.fixture(scope="module")
def estate(zb: RealZerobyte, tmp_path_factory: pytest.TempPathFactory) -> Estate:
    root = tmp_path_factory.mktemp("agent")
    job = arrange_job(
        zb,
        root,
        {"docs/old-plan.md": "# the old plan\n", "docs/report.txt": "report\n", "notes.txt": "notes\n"},
        retentionPolicy={"keepLast": 10, "keepWeekly": 4},
        excludePatterns=["*.tmp", "cache/"],
        maxRetries=5,
        retryDelay=30,
        oneFileSystem=True,
    )
    first = backup_directly(zb, job.job_id, job.repository_id)
    (job.source / "docs/old-plan.md").unlink()
    second = backup_directly(zb, job.job_id, job.repository_id)
    mirror = zb.post(
        "/repositories", {"name": unique("mirror"), "config": {"backend": "local", "path": str(root / "m")}}
    )
    mirror_id = str(mirror["repository"]["shortId"])
    zb.request(
        "PUT", f"/backups/{job.job_id}/mirrors", json={"mirrors": [{"repositoryId": mirror_id, "enabled": False}]}
    )
    destination = zb.post(
        "/notifications/destinations",
        {"name": unique("ops-hook"), "config": {"type": "generic", "url": WEBHOOK, "method": "POST"}},
    )
    assignment = {
        "destinationId": destination["id"],
        "notifyOnStart": False,
        "notifyOnSuccess": True,
        "notifyOnWarning": False,
        "notifyOnFailure": True,
    }
    zb.request("PUT", f"/backups/{job.job_id}/notifications", json={"assignments": [assignment]}).raise_for_status()
    return Estate(job, mirror_id, int(destination["id"]), first, second, root)


def stable(job: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in job.items() if k not in VOLATILE}


def without_times(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k not in ("updatedAt", "lastSyncTask")} for row in rows]


async def test_a_deleted_file_is_found_by_name_by_glob_and_by_path(
    zb: RealZerobyte, estate: Estate, tmp_path: Path
) -> None:
    path = f"{estate.job.source}/docs/old-plan.md"
    async with mcp_stdio(zb, tmp_path, McpConfig()) as client:
        by_name = await call(client, "find_file", pattern="old-plan.md", backup_job_id=estate.job.job_id)
        by_glob = await call(client, "find_file", pattern="**/old-*.md", backup_job_id=estate.job.job_id)
        by_path = await call(client, "find_file", pattern=path, backup_job_id=estate.job.job_id)
    for answer in (by_name, by_glob, by_path):
        [version] = answer["versions"]
        assert version["path"] == path
        assert version["snapshots"] == [estate.first]  # in the older snapshot, gone from the newer one
        assert version["size"] == len("# the old plan\n")
    # What Zerobyte lists agrees: the file is in the first snapshot's folder and not in the second's.
    for snapshot, present in ((estate.first, True), (estate.second, False)):
        page = zb.request(
            "GET",
            f"/repositories/{estate.job.repository_id}/snapshots/{snapshot}/files",
            params={"path": f"{estate.job.source}/docs"},
        ).json()
        assert (path in {node["path"] for node in page["files"]}) is present


async def test_changing_one_field_keeps_every_other_field_of_the_job(
    zb: RealZerobyte, estate: Estate, tmp_path: Path
) -> None:
    job_id = estate.job.job_id
    before = zb.job(job_id)
    routes_before = zb.get(f"/backups/{job_id}/notifications")
    mirrors_before = zb.get(f"/backups/{job_id}/mirrors")
    assert before["maxRetries"] == 5 and before["retryDelay"] == 30  # not the defaults (2 and 15) a PATCH resets to
    async with mcp_stdio(zb, tmp_path, McpConfig(access="operate")) as client:
        answer = await call(client, "update_backup_job", job_id=job_id, schedule="0 4 1 1 *")
    assert answer["outcome"] == "updated"
    after = zb.job(job_id)
    assert after["cronExpression"] == "0 4 1 1 *"
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    assert changed - VOLATILE == {"cronExpression"}
    for field in ("retentionPolicy", "excludePatterns", "includePatterns", "maxRetries", "retryDelay", "oneFileSystem"):
        assert after.get(field) == before.get(field), field
    assert zb.get(f"/backups/{job_id}/notifications") == routes_before
    assert without_times(zb.get(f"/backups/{job_id}/mirrors")) == without_times(mirrors_before)


async def test_a_failure_webhook_is_added_and_routed_to_the_job(
    zb: RealZerobyte, estate: Estate, tmp_path: Path
) -> None:
    job_id = estate.job.job_id
    async with mcp_stdio(zb, tmp_path, McpConfig(access="operate")) as client:
        created = await call(
            client, "create_notification_destination", name=unique("failures"), type="generic", url=WEBHOOK
        )
        destination_id = created["destination"]["id"]
        routed = await call(
            client,
            "route_notifications",
            job_id=job_id,
            destination_id=destination_id,
            events=["failure", "warning"],
        )
    assert routed["outcome"] == "updated"
    destination = zb.get(f"/notifications/destinations/{destination_id}")
    assert destination["type"] == "generic" and destination["config"]["url"] == WEBHOOK
    routes = {a["destinationId"]: a for a in zb.get(f"/backups/{job_id}/notifications")}
    new = routes[destination_id]
    assert (new["notifyOnFailure"], new["notifyOnWarning"], new["notifyOnSuccess"], new["notifyOnStart"]) == (
        True,
        True,
        False,
        False,
    )
    # The route that was there before is kept as it was.
    old = routes[estate.destination_id]
    assert (old["notifyOnSuccess"], old["notifyOnFailure"], old["notifyOnStart"]) == (True, True, False)


class CountingProxy:
    """A reverse proxy on loopback that records the method and path of every request it forwards."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.seen: list[tuple[str, str]] = []
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def forward(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else None
                proxy.seen.append((self.command, self.path))
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                with httpx.Client(timeout=120) as http_client:
                    answer = http_client.request(
                        self.command, proxy.upstream + self.path, content=body, headers=headers
                    )
                self.send_response(answer.status_code)
                for name, value in answer.headers.items():
                    if name.lower() not in ("content-length", "transfer-encoding", "connection", "content-encoding"):
                        self.send_header(name, value)
                self.send_header("content-length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = forward

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> CountingProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def read_arguments(zb: RealZerobyte, estate: Estate) -> dict[str, dict[str, Any]]:
    """Valid arguments for every read tool, naming real objects of the estate."""
    job, repo, first = estate.job.job_id, estate.job.repository_id, estate.first
    report = f"{estate.job.source}/docs/report.txt"
    task_id = zb.get("/tasks/history")["items"][0]["id"]
    return {
        "list_backup_jobs": {},
        "get_backup_job": {"job_id": job},
        "get_mirror_status": {"job_id": job, "repository_id": estate.mirror_id},
        "list_repositories": {},
        "get_repository": {"repository_id": repo},
        "list_volumes": {},
        "get_volume": {"volume_id": estate.job.volume_id},
        "browse_volume_files": {"volume_id": estate.job.volume_id},
        "list_active_tasks": {},
        "get_task": {"task_id": task_id},
        "task_history": {},
        "backup_health": {},
        "list_notification_destinations": {},
        "get_notification_destination": {"destination_id": estate.destination_id},
        "list_snapshots": {"repository_id": repo},
        "get_snapshot": {"repository_id": repo, "snapshot_id": first},
        "list_snapshot_files": {"repository_id": repo, "snapshot_id": first, "path": f"{estate.job.source}/docs"},
        "find_file": {"pattern": "report.txt", "backup_job_id": job},
        "read_snapshot_file": {"repository_id": repo, "snapshot_id": first, "path": report},
        "compare_snapshots": {"repository_id": repo, "snapshot_id": estate.second, "base_snapshot_id": first},
        "get_system_info": {},
        "drill_backup": {"backup_job_id": job, "max_bytes": 2**20, "seed": 1},
        "show_backups": {},
        "show_snapshots": {"backup_job_id": job},
    }


async def test_read_only_calls_every_read_tool_and_sends_no_write(
    zb: RealZerobyte, estate: Estate, tmp_path: Path
) -> None:
    arguments = read_arguments(zb, estate)
    with CountingProxy(zb.url) as proxy:
        behind_proxy = RealZerobyte(
            url=proxy.url,
            api_key=zb.api_key,
            admin_user=zb.admin_user,
            admin_password=zb.admin_password,
            state=zb.state,
            version=zb.version,
            home=zb.home,
        )
        async with mcp_stdio(behind_proxy, tmp_path, McpConfig(access="read-only")) as client:
            tools = {t.name for t in (await client.list_tools()).tools}
            assert tools == set(arguments), f"read tools without arguments here: {tools ^ set(arguments)}"
            for name in sorted(tools):
                await call(client, name, **arguments[name])
    methods = {method for method, _ in proxy.seen}
    assert methods == {"GET"}, [seen for seen in proxy.seen if seen[0] != "GET"]
    # Every tool reached Zerobyte through the proxy (none answered from elsewhere).
    paths = {path.split("?")[0] for _, path in proxy.seen}
    assert f"/api/v1/backups/{estate.job.job_id}/mirrors/{estate.mirror_id}/status" in paths
    assert any(p.endswith(f"/snapshots/{estate.first}/dump") for p in paths)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def http_server(zb: RealZerobyte, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """``python -m mcp_server --transport http`` in front of the real server, with a bearer token."""
    token = "story-token-" + os.urandom(12).hex()
    config = write_config(zb, tmp_path, McpConfig(access="operate"))
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(REPO),
        "HOME": str(tmp_path),
        "ZEROBYTE_MCP_CONFIG": str(config),
        "ZEROBYTE_MCP_HTTP_TOKEN": token,
        "ZEROBYTE_MCP_LOG_LEVEL": "WARNING",
    }
    log = tmp_path / "server.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mcp_server", "--transport", "http", "--port", str(port)],
            env=env,
            cwd=str(tmp_path),
            stdout=subprocess.DEVNULL,
            stderr=sink,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"HTTP server did not start: {log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.2)
        yield url, token
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def test_over_streamable_http_an_agent_runs_a_backup(
    zb: RealZerobyte, estate: Estate, http_server: tuple[str, str]
) -> None:
    url, token = http_server
    before = {s["short_id"] for s in zb.snapshots(estate.job.repository_id)}
    async with (
        create_mcp_http_client(headers={"Authorization": f"Bearer {token}"}) as http_client,
        Client(streamable_http_client(f"{url}/mcp", http_client=http_client)) as client,
    ):
        run = await call(client, "run_backup", job_id=estate.job.job_id)
    assert run["outcome"] == "success"
    new = [s for s in zb.snapshots(estate.job.repository_id) if s["short_id"] not in before]
    assert [s["short_id"] for s in new] == [run["result"]["snapshot_id"]]
    assert zb.job(estate.job.job_id)["lastBackupStatus"] == "success"
