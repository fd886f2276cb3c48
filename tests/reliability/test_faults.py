"""The fault matrix: what a real network, proxy or Zerobyte restart does to a read, a write and a followed task.

Every fault comes from the simulator's own knobs (``sim.faults``), a closed port, an ``.invalid`` host, a
self-signed certificate or a stopped simulator. For each we check three things: the agent gets a specific
message that says what to do (or a correct result when a GET retry recovers), no POST/PATCH is ever sent twice
(``sim.requests``), and the same server answers the next call. The MCP era plays no part in talking to Zerobyte,
so these tests use one era; the protocol eras are covered elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from mcp_server.simulator import Simulator, SimulatorServer
from tests.helpers import World, data, held_port, listener, seed_world
from tests.reliability.helpers import (
    assert_actionable,
    connect,
    self_signed_certificate,
    sent,
    wait_until,
)

pytestmark = pytest.mark.anyio

HTML_502 = "<html><head><title>502 Bad Gateway</title></head><body><center>nginx</center></body></html>"
MAY_HAVE_APPLIED = "may have been applied"
READ_TIMEOUT = 0.5
RUN_PATH = r"^/api/v1/backups/[^/]+/run$"


@dataclass(frozen=True)
class Fault:
    """One way the answer to a request goes wrong, and the phrases the agent must read for a GET and a write."""

    name: str
    rule: dict[str, Any]
    read: tuple[str, ...]
    write: tuple[str, ...]
    get_attempts: int  # how many times the client sends one GET before giving up (retries for transient faults)
    extra: dict[str, Any] = field(default_factory=dict)


FAULTS = [
    Fault(
        # (A locked repository is waited out on reads: tests/zerobyte covers that; this is a lasting failure.)
        "500 with restic details",
        {"status": 500, "body": {"message": "restic failed", "details": "Fatal: wrong password or no key found"}},
        read=("Zerobyte failed (500): restic failed", "restic said: Fatal: wrong password", "password changed"),
        write=("Zerobyte failed (500)", "password changed"),
        get_attempts=1,
    ),
    Fault(
        "502 HTML page from a proxy",
        {"status": 502, "body": HTML_502, "content_type": "text/html"},
        read=("answered 502 with an HTML page", "the proxy could not reach it"),
        write=("answered 502 with an HTML page", MAY_HAVE_APPLIED, "before retrying"),
        get_attempts=3,
    ),
    Fault(
        "503 text",
        {"status": 503, "body": "Service Unavailable", "content_type": "text/plain"},
        read=("answered 503", "starting or overloaded; retry shortly"),
        write=("answered 503", "starting or overloaded"),
        get_attempts=3,
    ),
    Fault(
        "504 empty",
        {"status": 504, "body": ""},
        read=("answered 504", "timed out"),
        write=("answered 504", MAY_HAVE_APPLIED, "list_active_tasks"),
        get_attempts=3,
    ),
    Fault(
        "429 text/plain with Retry-After",
        {
            "status": 429,
            "body": "Too many requests, please try again later.",
            "content_type": "text/plain",
            "headers": {"Retry-After": "120"},
        },
        read=("rate limit was reached", "retry after 120 s"),
        write=("rate limit was reached", "retry after 120 s"),
        get_attempts=1,  # 120 s is longer than the client will wait: it answers at once
    ),
    Fault(
        "truncated JSON",
        {"truncate_json": True},
        read=("malformed or truncated JSON", "retry"),
        write=("malformed or truncated JSON", MAY_HAVE_APPLIED),
        get_attempts=1,
    ),
    Fault(
        "JSON of the wrong types",
        {"wrong_types": True},
        read=("unexpected shape", "proxy altered the answer"),
        write=("unexpected shape", MAY_HAVE_APPLIED),
        get_attempts=1,
    ),
    Fault(
        "connection reset mid-body",
        {"reset": True},
        read=("broke during GET /api/v1/volumes", "Retry"),
        write=("broke during POST", MAY_HAVE_APPLIED, "not done twice"),
        get_attempts=3,
    ),
    Fault(
        "answer slower than the read timeout",
        {"latency": 3 * READ_TIMEOUT},
        read=("did not answer GET /api/v1/volumes in time", "timeouts.read"),
        write=("in time", MAY_HAVE_APPLIED),
        get_attempts=1,
    ),
]
IDS = [f.name for f in FAULTS]


async def _still_serves(client: Client, sim: Simulator) -> None:
    """The next plain call after a fault answers with the real content."""
    volumes = data(await client.call_tool("list_volumes", {}))
    assert {v["name"] for v in volumes["volumes"]} == {v["name"] for v in sim.volumes.values()}


def _job_args(world: World, name: str = "nightly-docs") -> dict[str, Any]:
    return {"name": name, "volume_id": world.docs_volume, "repository_id": world.repo, "schedule": "0 3 * * *"}


# --- a read tool ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", FAULTS, ids=IDS)
async def test_a_read_tool_turns_every_lasting_fault_into_advice_and_the_next_call_works(
    sim: Simulator, sim_server: SimulatorServer, fault: Fault
) -> None:
    seed_world(sim)
    rule = sim.faults.add(method="GET", path=r"^/api/v1/volumes$", **fault.rule)
    async with connect(sim_server.url, read_timeout=READ_TIMEOUT) as client:
        failed = await client.call_tool("list_volumes", {})
        assert_actionable(failed, *fault.read)
        assert len(sent(sim, method="GET", path=r"^/api/v1/volumes$")) == fault.get_attempts
        sim.faults.remove(rule)
        await _still_serves(client, sim)


@pytest.mark.parametrize(
    "rule",
    [
        {"status": 503, "body": "Service Unavailable", "content_type": "text/plain"},
        {"status": 502, "body": HTML_502, "content_type": "text/html"},
        {"status": 504, "body": ""},
        {"reset": True},
        {"status": 429, "body": "Too many requests", "content_type": "text/plain", "headers": {"Retry-After": "1"}},
    ],
    ids=["503", "502-html", "504", "reset", "429-retry-after-1s"],
)
async def test_a_get_retry_recovers_from_one_transient_fault_with_the_right_answer(
    sim: Simulator, sim_server: SimulatorServer, rule: dict[str, Any]
) -> None:
    world = seed_world(sim)
    sim.faults.add(method="GET", path=r"/snapshots$", times=1, **rule)
    async with connect(sim_server.url) as client:
        listed = data(await client.call_tool("list_snapshots", {"repository_id": world.repo}))
    assert [s["id"] for s in listed["snapshots"]] == list(reversed(world.snapshots))
    assert len(sent(sim, method="GET", path=r"/snapshots$")) == 2


# --- a write tool ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", FAULTS, ids=IDS)
async def test_a_write_tool_sends_its_post_once_whatever_the_fault_and_says_what_to_check(
    sim: Simulator, sim_server: SimulatorServer, fault: Fault
) -> None:
    world = seed_world(sim)
    # times=1: a retry would succeed, so a second POST would show up as a success here.
    sim.faults.add(method="POST", path=r"^/api/v1/backups$", times=1, **fault.rule)
    async with connect(sim_server.url, access="operate", read_timeout=READ_TIMEOUT) as client:
        failed = await client.call_tool("create_backup_job", _job_args(world))
        assert_actionable(failed, *fault.write)
        assert sent(sim, method="POST") == ["POST /api/v1/backups"]
        await _still_serves(client, sim)
    if fault.rule.get("reset") or fault.rule.get("truncate_json"):
        # The job really was created before the answer was lost: "check before retrying" is the right advice.
        assert "nightly-docs" in {s["name"] for s in sim.schedules.values()}


@pytest.mark.parametrize("fault", [f for f in FAULTS if f.rule.get("status") in (503, 504) or f.rule.get("reset")])
async def test_an_update_sends_its_patch_once_and_keeps_serving(
    sim: Simulator, sim_server: SimulatorServer, fault: Fault
) -> None:
    world = seed_world(sim)
    sim.faults.add(method="PATCH", path=r"^/api/v1/backups/", times=1, **fault.rule)
    async with connect(sim_server.url, access="operate") as client:
        failed = await client.call_tool("update_backup_job", {"job_id": world.job, "name": "photos-nightly"})
        assert_actionable(failed, fault.write[0].replace("POST", "PATCH"))
        assert sent(sim, method="PATCH") == [f"PATCH /api/v1/backups/{world.job}"]
        again = data(await client.call_tool("update_backup_job", {"job_id": world.job, "name": "photos-nightly"}))
    # A reset cuts the answer after Zerobyte applied the PATCH, so the retry finds nothing left to change.
    assert again["outcome"] == ("unchanged" if fault.rule.get("reset") else "updated")
    assert again["job"]["name"] == "photos-nightly"
    assert sent(sim, method="PATCH") == [f"PATCH /api/v1/backups/{world.job}"] * (1 if fault.rule.get("reset") else 2)


# --- a followed task -------------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", FAULTS, ids=IDS)
async def test_run_backup_never_starts_a_second_backup_after_a_fault_on_its_post(
    sim: Simulator, sim_server: SimulatorServer, fault: Fault
) -> None:
    world = seed_world(sim)
    sim.faults.add(method="POST", path=RUN_PATH, times=1, **fault.rule)
    async with connect(sim_server.url, access="operate", read_timeout=READ_TIMEOUT) as client:
        result = await client.call_tool("run_backup", {"job_id": world.job})
        if fault.rule.get("wrong_types"):
            # {taskId, status} has no number or boolean to break: the answer is intact and the backup followed.
            assert data(result)["outcome"] == "success"
        else:
            assert_actionable(result, *fault.write)
        assert sent(sim, method="POST") == [f"POST /api/v1/backups/{world.job}/run"]
        await _still_serves(client, sim)
    assert sim.wait_idle()
    assert len([t for t in sim.tasks.values() if t.kind == "backup"]) <= 1


async def test_a_dropped_event_stream_is_recovered_by_re_reading_the_task(
    sim: Simulator, sim_server: SimulatorServer
) -> None:
    world = seed_world(sim)
    sim.faults.add(method="GET", path=r"^/api/v1/tasks/[^/]+/events$", drop_sse_after=2)
    sim.faults.add(method="GET", path=r"^/api/v1/tasks/[^/]+$", times=1, status=503, body="busy")
    async with connect(sim_server.url, access="operate") as client:
        result = data(await client.call_tool("run_backup", {"job_id": world.job}))
        listed = data(await client.call_tool("list_snapshots", {"repository_id": world.repo}))
    assert result["status"] == "succeeded" and result["outcome"] == "success"
    assert result["result"]["snapshot_id"][:8] in {s["id"] for s in listed["snapshots"]}
    assert sent(sim, method="POST") == [f"POST /api/v1/backups/{world.job}/run"]
    assert len(sent(sim, method="GET", path=r"^/api/v1/tasks/[^/]+$")) >= 2  # re-read after each drop


async def _restart_once_running(sim: Simulator, *, finish_tasks: bool) -> None:
    await wait_until(lambda: any(t.status == "running" for t in sim.tasks.values()))
    await anyio.to_thread.run_sync(lambda: sim.restart(finish_tasks=finish_tasks))


@pytest.mark.parametrize(
    ("finish_tasks", "status", "phrases"),
    [
        (False, "stale", ("Zerobyte was restarted", "run the backup again")),
        (True, "succeeded", ()),
    ],
    ids=["task-left-stale", "task-found-finished"],
)
async def test_a_zerobyte_restart_mid_backup_reports_how_the_task_really_ended(
    sim: Simulator, sim_server: SimulatorServer, finish_tasks: bool, status: str, phrases: tuple[str, ...]
) -> None:
    world = seed_world(sim)
    sim.task_seconds = 5.0
    async with connect(sim_server.url, access="operate") as client:
        async with anyio.create_task_group() as tg:
            tg.start_soon(lambda: _restart_once_running(sim, finish_tasks=finish_tasks))
            result = data(await client.call_tool("run_backup", {"job_id": world.job}))
        await _still_serves(client, sim)
    assert result["status"] == status
    body = str(result)
    assert all(p in body for p in phrases), body
    assert sent(sim, method="POST") == [f"POST /api/v1/backups/{world.job}/run"]


async def test_zerobyte_down_mid_backup_gives_the_task_id_to_check_later_and_it_is_found_stale(sim: Simulator) -> None:
    world = seed_world(sim)
    sim.task_seconds = 5.0

    async def go_down(server: SimulatorServer) -> None:
        await wait_until(lambda: any(t.status == "running" for t in sim.tasks.values()))
        await anyio.to_thread.run_sync(server.stop)
        sim.restart()  # what the outage did to the task: Zerobyte came back without it

    with held_port() as port, SimulatorServer(sim, sock=listener(port)) as first:
        async with connect(first.url, access="operate") as client:
            async with anyio.create_task_group() as tg:
                tg.start_soon(go_down, first)
                lost = await client.call_tool("run_backup", {"job_id": world.job})
            (task_id,) = sim.tasks
            assert_actionable(lost, task_id, "connection refused", f"wait_for_task(task_id='{task_id}')")
            with SimulatorServer(sim, sock=listener(port)):
                later = data(await client.call_tool("wait_for_task", {"task_id": task_id}))
                await _still_serves(client, sim)
    assert later["status"] == "stale" and "restarted" in later["error"]
    assert sent(sim, method="POST") == [f"POST /api/v1/backups/{world.job}/run"]


# --- no usable connection at all -------------------------------------------------------------------------


async def _call_read_write_follow(client: Client, world: World) -> list[Any]:
    return [
        await client.call_tool("list_volumes", {}),
        await client.call_tool("create_backup_job", _job_args(world)),
        await client.call_tool("run_backup", {"job_id": world.job}),
    ]


async def test_connection_refused_says_so_and_the_server_works_once_zerobyte_is_up(sim: Simulator) -> None:
    world = seed_world(sim)
    with held_port() as port:
        async with connect(f"http://127.0.0.1:{port}", access="operate") as client:
            for result in await _call_read_write_follow(client, world):
                assert_actionable(result, "connection refused", "ZEROBYTE_URL")
            assert sim.requests == []
            with SimulatorServer(sim, sock=listener(port)):
                await _still_serves(client, sim)
                backup = data(await client.call_tool("run_backup", {"job_id": world.job}))
    assert backup["outcome"] == "success"
    assert sent(sim, method="POST") == [f"POST /api/v1/backups/{world.job}/run"]


async def test_an_unresolvable_host_is_a_dns_error_naming_the_setting(sim: Simulator) -> None:
    world = seed_world(sim)
    async with connect("http://zerobyte.invalid:4096", access="operate") as client:
        results = await _call_read_write_follow(client, world)
        results.append(await client.call_tool("list_volumes", {}))  # still answering
    for result in results:
        assert_actionable(result, "Cannot resolve the host", "zerobyte.invalid", "ZEROBYTE_URL")


async def test_a_self_signed_certificate_fails_with_tls_advice_and_works_with_its_ca_bundle(
    sim: Simulator, tmp_path: Path
) -> None:
    world = seed_world(sim)
    cert, key = self_signed_certificate(tmp_path)
    with SimulatorServer(sim, ssl_certfile=str(cert), ssl_keyfile=str(key)) as server:
        assert server.url.startswith("https://")
        async with connect(server.url, access="operate") as client:
            for result in await _call_read_write_follow(client, world):
                assert_actionable(result, "TLS certificate", "could not be verified", "tls.ca_bundle")
        assert sim.requests == []  # refused during the handshake: no request reached Zerobyte
        async with connect(server.url, access="operate", ca_bundle=cert) as client:
            await _still_serves(client, sim)
            created = data(await client.call_tool("create_backup_job", _job_args(world)))
            backup = data(await client.call_tool("run_backup", {"job_id": world.job}))
    assert "nightly-docs" in str(created)
    assert backup["outcome"] == "success"
    assert sent(sim, method="POST") == ["POST /api/v1/backups", f"POST /api/v1/backups/{world.job}/run"]
