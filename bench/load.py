"""Load: many MCP clients over streamable HTTP, and many concurrent calls on one stdio session.

What a shared deployment sees: ``--clients`` MCP sessions (half handshake era, half 2026) each making ``--calls``
mixed read calls at once against one ``zerobyte-mcp --transport http`` process (uvicorn serving
``build_http_app``), in front of a simulated Zerobyte in its own process; then ``--stdio`` concurrent calls on
one stdio session. Every answer is checked against the seeded data. Reports errors (must be 0), client-side
latency p50/p99, throughput, and the server process's resident memory after each round: growth between rounds
must stay small (no per-call leak). The simulator has no rate limit; a real Zerobyte allows 1000 requests per
5 minutes per client IP, which a load like this would exceed.

The clients run in this one Python process, so their own CPU time is part of the latency figures.
Usage: python -m bench.load [--clients 50] [--calls 40] [--rounds 3] [--stdio 200]
"""

from __future__ import annotations

import argparse
import secrets
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx
from anyio.abc import Process
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.types import CallToolResult

from bench._common import (
    children_running,
    machine,
    memory_mib,
    percentile,
    server_command,
    server_env,
    server_params,
    simulator,
    table,
)

__all__ = ["Expected", "LoadResult", "discover", "http_round", "stdio_burst"]

Check = Callable[["Expected", dict[str, Any]], bool]


@dataclass
class Expected:
    """What Zerobyte holds, read once before the load; every answer under load must agree with it."""

    volumes: dict[str, str]  # id -> name
    repositories: dict[str, str]
    jobs: dict[str, str]
    snapshots: dict[str, int]  # repository id -> snapshot count


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, other: LoadResult) -> None:
        self.latencies += other.latencies
        self.errors += other.errors


def _nth(mapping: dict[str, str] | dict[str, int], i: int) -> str:
    keys = sorted(mapping)
    return keys[i % len(keys)]


# (tool, arguments for call number i, check of the structured answer)
MIX: list[tuple[str, Callable[[Expected, int], dict[str, Any]], Check]] = [
    ("list_volumes", lambda e, i: {}, lambda e, d: {v["id"]: v["name"] for v in d["volumes"]} == e.volumes),
    (
        "list_repositories",
        lambda e, i: {},
        lambda e, d: {r["id"]: r["name"] for r in d["repositories"]} == e.repositories,
    ),
    ("list_backup_jobs", lambda e, i: {}, lambda e, d: {j["id"]: j["name"] for j in d["jobs"]} == e.jobs),
    ("get_volume", lambda e, i: {"volume_id": _nth(e.volumes, i)}, lambda e, d: e.volumes.get(d["id"]) == d["name"]),
    (
        "get_backup_job",
        lambda e, i: {"job_id": _nth(e.jobs, i)},
        lambda e, d: e.jobs.get(d["id"]) == d["name"],
    ),
    (
        "list_snapshots",
        lambda e, i: {"repository_id": _nth(e.snapshots, i), "limit": 5},
        lambda e, d: d["total"] == e.snapshots[d["repository"]],
    ),
    ("backup_health", lambda e, i: {}, lambda e, d: d["counts"]["jobs_total"] == len(e.jobs)),
    ("list_active_tasks", lambda e, i: {}, lambda e, d: d["total"] == len(d.get("tasks", []))),
    ("get_system_info", lambda e, i: {}, lambda e, d: bool(d["version"])),
]


async def discover(client: Client) -> Expected:
    """Read the seeded inventory once (no load yet)."""

    async def get(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        result = await client.call_tool(name, arguments)
        data: dict[str, Any] | None = result.structured_content
        assert not result.is_error and data is not None, result.content
        return data

    volumes = {v["id"]: v["name"] for v in (await get("list_volumes", {}))["volumes"]}
    repositories = {r["id"]: r["name"] for r in (await get("list_repositories", {}))["repositories"]}
    jobs = {j["id"]: j["name"] for j in (await get("list_backup_jobs", {}))["jobs"]}
    snapshots = {
        rid: (await get("list_snapshots", {"repository_id": rid, "limit": 1}))["total"] for rid in repositories
    }
    return Expected(volumes, repositories, jobs, snapshots)


async def _one_call(client: Client, expected: Expected, i: int, into: LoadResult) -> None:
    name, arguments, check = MIX[i % len(MIX)]
    args = arguments(expected, i // len(MIX))
    started = time.perf_counter()
    try:
        result: CallToolResult = await client.call_tool(name, args)
    except Exception as exc:  # a protocol failure is an error to count, not a reason to stop the load
        into.errors.append(f"{name}: {type(exc).__name__}: {exc}")
        return
    into.latencies.append(time.perf_counter() - started)
    data = result.structured_content
    if result.is_error or data is None:
        into.errors.append(f"{name}({args}): {result.content}")
    elif not check(expected, data):
        into.errors.append(f"{name}({args}): wrong answer {str(data)[:200]}")


async def http_round(url: str, token: str | None, expected: Expected, *, clients: int, calls: int) -> LoadResult:
    """``clients`` concurrent sessions (alternating protocol eras), each making ``calls`` calls in a row."""
    result = LoadResult()
    headers = {"Authorization": f"Bearer {token}"} if token else None

    async def session(n: int) -> None:
        try:
            async with (
                create_mcp_http_client(headers=headers) as http,
                Client(streamable_http_client(f"{url}/mcp", http_client=http), mode="legacy" if n % 2 else "auto") as c,
            ):
                for j in range(calls):
                    await _one_call(c, expected, n + j, result)
        except Exception as exc:  # a session that cannot open or breaks is counted, the others go on
            result.errors.append(f"session {n}: {type(exc).__name__}: {exc}")

    started = time.perf_counter()
    async with anyio.create_task_group() as tg:
        for n in range(clients):
            tg.start_soon(session, n)
    result.seconds = time.perf_counter() - started
    return result


async def stdio_burst(client: Client, expected: Expected, calls: int) -> LoadResult:
    """``calls`` calls in flight at once on one session."""
    result = LoadResult()
    started = time.perf_counter()
    async with anyio.create_task_group() as tg:
        for i in range(calls):
            tg.start_soon(_one_call, client, expected, i, result)
    result.seconds = time.perf_counter() - started
    return result


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _wait_healthy(url: str, proc: Process) -> None:
    async with httpx.AsyncClient() as http:
        with anyio.fail_after(60):
            while True:
                if proc.returncode is not None:
                    raise RuntimeError(f"the HTTP server exited with {proc.returncode}")
                try:
                    if (await http.get(f"{url}/healthz", timeout=1)).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await anyio.sleep(0.1)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--calls", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--stdio", type=int, default=200)
    args = parser.parse_args()
    token = secrets.token_urlsafe(24)
    rows: list[list[object]] = []
    with simulator(demo=True) as (sim_url, _), anyio.fail_after(900):
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        env = server_env(sim_url, ZEROBYTE_MCP_HTTP_TOKEN=token)
        cmd = [*server_command(), "--transport", "http", "--port", str(port), "--access", "read-only"]
        proc = await anyio.open_process(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            await _wait_healthy(url, proc)
            async with (
                create_mcp_http_client(headers={"Authorization": f"Bearer {token}"}) as http,
                Client(streamable_http_client(f"{url}/mcp", http_client=http)) as first,
            ):
                expected = await discover(first)
            warm = await http_round(url, token, expected, clients=4, calls=len(MIX))
            base = memory_mib(proc.pid)
            rows.append(["warm-up", 4 * len(MIX), len(warm.errors), "", "", "", base["VmRSS"], base["VmHWM"]])
            total = LoadResult()
            for n in range(1, args.rounds + 1):
                done = await http_round(url, token, expected, clients=args.clients, calls=args.calls)
                total.add(done)
                mem = memory_mib(proc.pid)
                calls = len(done.latencies) + len(done.errors)
                rows.append(
                    [
                        f"HTTP round {n}: {args.clients} clients x {args.calls}",
                        calls,
                        len(done.errors),
                        _ms(percentile(done.latencies, 50)),
                        _ms(percentile(done.latencies, 99)),
                        f"{calls / done.seconds:.0f}",
                        mem["VmRSS"],
                        mem["VmHWM"],
                    ]
                )
        finally:
            proc.terminate()
            with anyio.fail_after(30):
                await proc.wait()
            await proc.aclose()
        bursts: list[tuple[LoadResult, dict[str, float]]] = []
        async with Client(server_params(sim_url)) as client:
            expected = await discover(client)
            (stdio_pid,) = children_running("--access")
            for _ in range(2):
                burst = await stdio_burst(client, expected, args.stdio)
                bursts.append((burst, memory_mib(stdio_pid)))
        for n, (burst, mem) in enumerate(bursts, 1):
            calls = len(burst.latencies) + len(burst.errors)
            rows.append(
                [
                    f"stdio burst {n}: {args.stdio} concurrent calls, one session",
                    calls,
                    len(burst.errors),
                    _ms(percentile(burst.latencies, 50)),
                    _ms(percentile(burst.latencies, 99)),
                    f"{calls / burst.seconds:.0f}",
                    mem["VmRSS"],
                    mem["VmHWM"],
                ]
            )
    print(
        table(
            ["run", "calls", "errors", "p50 ms", "p99 ms", "calls/s", "server RSS MiB", "server peak RSS MiB"],
            rows,
        )
    )
    http_rss = [float(str(row[6])) for row in rows[: 1 + args.rounds]]
    print(
        f"\nHTTP server RSS: {http_rss[0]} MiB warm, {http_rss[1]} MiB after round 1, {http_rss[-1]} MiB after "
        f"round {args.rounds} ({http_rss[-1] - http_rss[1]:+.1f} MiB over the later rounds)"
    )
    print(f"Machine: {machine()}")
    errors = total.errors + [e for b, _ in bursts for e in b.errors]
    for error in errors[:20]:
        print("ERROR", error)
    if errors:
        raise SystemExit(1)


if __name__ == "__main__":
    anyio.run(main)
