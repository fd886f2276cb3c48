"""Helpers shared by test modules: settings, a seeded world, connecting clients, reading answers, servers.

Test modules import from here, never from one another (importing a test module runs its module-level code
and ties unrelated files together).
"""

from __future__ import annotations

import socket
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import anyio
import pytest
import uvicorn
from mcp import Client, StdioServerParameters
from mcp.client.context import ClientRequestContext
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.types import CallToolResult, ElicitRequestParams, ElicitResult, TextContent
from starlette.applications import Starlette

from mcp_server.config import Secret, Settings
from mcp_server.server import create_server
from mcp_server.simulator import Simulator, SimulatorServer
from tests.real import zbserver

TEST_KEY = "zb_test_key_0123456789"
SHARED = zbserver.SERVER_HOME.parent / "zerobyte"  # ../shared/zerobyte beside the clone (or a worktree's ancestor)
TOKEN = "test-token-0123456789abcdef"  # the HTTP transport's bearer token in tests
DAY_MS = 86_400_000
# tokens (JSON characters / 4) of the whole tools/list answer, per access level (docs/tools.md "Tool catalogue")
BUDGETS = {"read-only": 3300, "operate": 7400, "full": 8650}  # +270 with the two MCP App tools


def make_settings(url: str, **changes: Any) -> Settings:
    """Settings for a test: the simulator's URL and key, fast timeouts, anything else overridden."""
    base = Settings(
        url=url,
        api_key=Secret(TEST_KEY),
        connect_timeout=2.0,
        read_timeout=10.0,
        heavy_timeout=10.0,
        log_level="WARNING",
        volume_allowed_roots=("/",),  # simulated sources live anywhere; tests of the confinement narrow it
    )
    return replace(base, **changes)


@dataclass
class World:
    volume: str
    docs_volume: str
    repo: str
    offsite: str
    job: str
    docs_job: str
    destination: int
    snapshots: list[str]  # photos-daily's snapshots, oldest first


OFFSITE_SECRET = "offsite-secret-key-5c1f9a"  # the seeded S3 repository's secret: never in an answer or log


def seed_world(sim: Simulator) -> World:
    """Two volumes, a local and an S3 repository, two jobs (one mirrored, one notifying), four snapshots."""
    photos = sim.add_volume("photos", path="/srv/photos", files={"2026": {"a.jpg": 1000, "b.jpg": 2000}, "n.txt": "hi"})
    docs = sim.add_volume("docs", path="/srv/docs", files={"tax.pdf": 5000, "letters": {"x.txt": "x"}})
    repo = sim.add_repository("local-repo", config={"path": "/srv/repos"})
    offsite = sim.add_repository(
        "offsite-b2",
        backend="s3",
        config={
            "endpoint": "https://s3.example.com",
            "bucket": "zb-offsite",
            "accessKeyId": "AK",
            "secretAccessKey": OFFSITE_SECRET,
        },
    )
    job = sim.add_backup_job(
        "photos-daily", volume=photos["shortId"], repository=repo["shortId"], retention={"keepLast": 2}
    )
    docs_job = sim.add_backup_job("docs-daily", volume=docs["shortId"], repository=offsite["shortId"])
    sim.add_mirror(job["shortId"], offsite["shortId"])
    dest = sim.add_notification_destination("ops-webhook")
    sim.assign_notification(job["shortId"], dest["id"])
    base = sim.now_ms() - 10 * DAY_MS
    snaps = [
        sim.add_snapshot(repo["shortId"], job=job["shortId"], time_ms=base + i * DAY_MS, size=1_000_000 * (i + 1))
        for i in range(4)
    ]
    sim.add_snapshot(offsite["shortId"], job=docs_job["shortId"], time_ms=base)
    return World(
        volume=photos["shortId"],
        docs_volume=docs["shortId"],
        repo=repo["shortId"],
        offsite=offsite["shortId"],
        job=job["shortId"],
        docs_job=docs_job["shortId"],
        destination=dest["id"],
        snapshots=[s["short_id"] for s in snaps],
    )


Elicit = Any  # an elicitation callback: async (context, params) -> ElicitResult


@asynccontextmanager
async def connect(
    server: SimulatorServer, era: str, *, elicit: Elicit | None = None, **changes: Any
) -> AsyncIterator[Client]:
    """A connected client on a server built from the test settings plus ``changes`` (default access full)."""
    changes.setdefault("access", "full")
    settings = make_settings(server.url, **changes)
    async with Client(create_server(settings), mode=era, elicitation_callback=elicit) as client:
        yield client


def answering(
    action: Literal["accept", "decline", "cancel"], confirm: bool = True, seen: list[str] | None = None
) -> Elicit:
    async def callback(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        if seen is not None:
            seen.append(getattr(params, "message", ""))
        content: dict[str, str | int | float | bool | list[str] | None] | None = (
            {"confirm": confirm} if action == "accept" else None
        )
        return ElicitResult(action=action, content=content)

    return callback


def text(result: CallToolResult) -> str:
    return " ".join(c.text for c in result.content if isinstance(c, TextContent))


def data(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, text(result)
    content: dict[str, Any] | None = result.structured_content
    assert content is not None
    return content


def writes(sim: Simulator, since: int = 0) -> list[str]:
    return [f"{r.method} {r.path}" for r in sim.requests[since:] if r.is_write]


def sample_arguments(schema: dict[str, Any], world: World) -> dict[str, Any]:
    """Plausible arguments for any tool, from its input schema (ids from the seeded world)."""
    samples: dict[str, Any] = {
        "volume_id": world.volume,
        "repository_id": world.repo,
        "job_id": world.job,
        "backup_job_id": world.job,
        "snapshot_id": world.snapshots[-1],
        "snapshot_ids": [world.snapshots[0]],
        "destination_id": world.destination,
        "path": "/srv/photos/n.txt",
        "paths": ["/srv/photos/n.txt"],
    }
    out: dict[str, Any] = {}
    for name in schema.get("required", []):
        prop = schema["properties"][name]
        if name in samples:
            out[name] = samples[name]
        elif prop.get("type") == "integer":
            out[name] = 1
        elif prop.get("type") == "boolean":
            out[name] = True
        elif prop.get("type") == "array":
            out[name] = ["x"]
        elif "enum" in prop:
            out[name] = prop["enum"][0]
        else:
            out[name] = "x"
    return out


def stdio_params(url: str, tmp_path: Path, *extra_args: str, **extra_env: str) -> StdioServerParameters:
    key_file = tmp_path / "api-key"
    key_file.write_text(TEST_KEY + "\n")
    key_file.chmod(0o600)
    env = {
        "ZEROBYTE_URL": url,
        "ZEROBYTE_API_KEY_FILE": str(key_file),
        "XDG_CONFIG_HOME": str(tmp_path),  # never pick up a developer's own config.toml
        "XDG_STATE_HOME": str(tmp_path),  # nor write into their audit log
        "XDG_CACHE_HOME": str(tmp_path),  # nor into their snapshot catalog
        "ZEROBYTE_MCP_LOG_LEVEL": "WARNING",
        **extra_env,
    }
    return StdioServerParameters(
        command=sys.executable, args=["-m", "mcp_server", *extra_args], env=env, cwd=str(tmp_path)
    )


@asynccontextmanager
async def serving(app: Starlette) -> AsyncIterator[str]:
    """Serve ``app`` on a free loopback port for the duration; yields the base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    # Listening before uvicorn starts: early connections wait in the backlog, so no start-up polling is needed.
    sock.listen(128)
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, log_config=None, log_level=None, lifespan="on", timeout_graceful_shutdown=1)
    )
    async with anyio.create_task_group() as tg:
        tg.start_soon(server.serve, [sock])
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
    sock.close()


@asynccontextmanager
async def mcp_client(url: str, era: str, token: str | None = TOKEN) -> AsyncIterator[Client]:
    """The SDK's streamable HTTP client on ``era``, sending the bearer token when given."""
    headers = {"Authorization": f"Bearer {token}"} if token else None
    async with (
        create_mcp_http_client(headers=headers) as http,
        Client(streamable_http_client(f"{url}/mcp", http_client=http), mode=era) as client,
    ):
        yield client


def shared_dir() -> Path:
    """The recorded real Zerobyte contract; skips the calling test when it is absent."""
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent: the recorded Zerobyte samples are needed for this contract test")
    return SHARED


@contextmanager
def held_port() -> Iterator[int]:
    """A loopback port the OS chose, held for the block: bound but not listening, so connections are refused and
    no other process can take it; :func:`listener` serves on it meanwhile (no bind-and-release race)."""
    with socket.socket() as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        holder.bind(("127.0.0.1", 0))
        port: int = holder.getsockname()[1]
        yield port


def listener(port: int) -> socket.socket:
    """A listening socket on a port held by :func:`held_port` (hand it to ``SimulatorServer(sock=...)``)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(128)
    return sock
