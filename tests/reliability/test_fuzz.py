"""Property-based fuzzing of every tool's arguments, from the input schemas a `full` server publishes.

Agents send whatever a model produces: path traversal in ids (``../auth/api-keys``, ``%2F..``), NUL bytes,
10 KB strings, unicode, numbers where strings belong. For every tool in tools/list (confirm_destructive on, so
no destructive call can act without a token a fuzzer cannot forge) Hypothesis mixes valid ids of a seeded world
with hostile values, and each call must (1) answer with a reason, never the SDK's bare "Error executing tool" or
a traceback, (2) reach only the Zerobyte routes that tool is meant to call, never ``/auth/...`` or
``/system/restic-password``, and (3) refuse traversal and encoding tricks in ids and paths before any request.

Examples are bounded (``ZB_FUZZ_EXAMPLES``, default 40 per tool) so the suite stays fast; raise it for a deep run.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp import Client
from mcp.types import CallToolResult, Tool

from mcp_server.simulator import Simulator, SimulatorServer
from tests.helpers import World, seed_world, text
from tests.reliability.helpers import connect, problems_with, route_of

EXAMPLES = int(os.environ.get("ZB_FUZZ_EXAMPLES", "40"))

HOSTILE: list[Any] = [
    "../auth/api-keys",
    "..%2Fauth%2Fapi-keys",
    "%2F..",
    "..%2f",
    "..",
    "/../../system/restic-password",
    "/srv/photos/../../etc/passwd",
    "abc/def",
    "a\\..\\b",
    "?access=full",
    "#fragment",
    "%00",
    "\x00",
    "id\x00../x",
    " ",
    "\t\n",
    " padded ",
    "x" * 10_240,
    "ünïcødé-✓-𝔷𝔢𝔯𝔬-日本",
    "\u202eevil",
    "",
    12345,
    -1,
    0,
    1.5,
    True,
    None,
    [],
    {"$ne": None},
]
HOSTILE_TEXT = [h for h in HOSTILE if isinstance(h, str)]

# What each state-changing tool may send to Zerobyte ("METHOD template" from the simulator's route table).
# Read tools may send GETs only; destructive tools nothing at all (a fuzzer cannot forge a confirmation token).
WRITES: dict[str, set[str]] = {
    "create_volume": {"POST /volumes/test-connection", "POST /volumes"},
    "update_volume": {"PUT /volumes/{shortId}"},
    "mount_volume": {
        "POST /volumes/{shortId}/mount",
        "POST /volumes/{shortId}/unmount",
        "POST /volumes/{shortId}/health-check",
    },
    "create_repository": {"POST /repositories"},
    "update_repository": {
        "PATCH /repositories/{shortId}",
        "POST /repositories/{shortId}/stats/refresh",
        "POST /repositories/{shortId}/snapshots/refresh",
    },
    "unlock_repository": {"POST /repositories/{shortId}/unlock"},
    "create_backup_job": {"POST /backups"},
    "update_backup_job": {"PATCH /backups/{shortId}"},
    "set_backup_jobs_enabled": {"PATCH /backups/{shortId}"},
    "route_notifications": {"PUT /backups/{shortId}/notifications"},
    "set_mirror": {"PUT /backups/{shortId}/mirrors"},
    "create_notification_destination": {"POST /notifications/destinations"},
    "update_notification_destination": {
        "PATCH /notifications/destinations/{id}",
        "POST /notifications/destinations/{id}/test",
    },
    "run_backup": {"POST /backups/{shortId}/run"},
    "cancel_task": {"POST /tasks/{taskId}/cancel"},
    "run_doctor": {"POST /repositories/{shortId}/doctor"},
    "sync_mirror": {"POST /backups/{shortId}/mirrors/{mirrorShortId}/sync"},
    "tag_snapshots": {"POST /repositories/{shortId}/snapshots/tag"},
    "restore": {"POST /repositories/{shortId}/restore"},
}
# The gate fails closed: no destructive tool writes without a valid token, whatever its preview found.
UNCONFIRMED_WRITES: dict[str, set[str]] = {}
FORBIDDEN_PATH = re.compile(r"^/api/v1/auth/|/system/restic-password|^/api/auth/")
ZEROBYTE_IDS = {
    "volume_id",
    "repository_id",
    "mirror_repository_id",
    "job_id",
    "backup_job_id",
    "snapshot_id",
    "snapshot_ids",
}
PATH_ARGUMENTS = {"path", "paths", "target_path"}
_ID_SHAPE = re.compile(r"[A-Za-z0-9_-]+")


def _valid_values(world: World, task_id: str) -> dict[str, list[Any]]:
    """Real ids and paths of the seeded world, so fuzzed calls also get past validation and reach Zerobyte."""
    return {
        "volume_id": [world.volume, world.docs_volume],
        "repository_id": [world.repo, world.offsite],
        "mirror_repository_id": [world.offsite],
        "job_id": [world.job, world.docs_job],
        "backup_job_id": [world.job],
        "snapshot_id": [*world.snapshots, "latest"],
        "snapshot_ids": [[world.snapshots[0]], world.snapshots[:2]],
        "task_id": [task_id],
        "destination_id": [world.destination],
        "path": ["/srv/photos/n.txt", "/srv/photos", "/", "/docs"],
        "paths": [["/srv/photos/n.txt"], ["/srv/photos/2026"]],
        "target_path": ["/srv/restore/fuzz"],
        "pattern": ["*.jpg", "/srv/photos/n.txt", "tax.pdf"],
        "since": ["7d", "2026-01-01"],
        "until": ["1d", "2030-01-01"],
        "source": ["/srv/photos", "nas.lan:/export"],
        "location": ["/srv/repos/fuzz"],
        "schedule": ["0 3 * * *", ""],
        "retention": ["last 5, daily 7"],
        "name": ["fuzz-object"],
    }


def _shaped(name: str, schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Any value of the argument's schema type (within its bounds or not)."""
    kind = schema.get("type")
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if kind == "integer":
        return st.integers(min_value=schema.get("minimum"), max_value=schema.get("maximum")) | st.integers()
    if kind == "number":
        # Followed tasks in the simulator end in ~50 ms, so even a long wait_seconds returns at once.
        return st.floats(min_value=-10, max_value=1000, allow_nan=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        return st.lists(_shaped(name, schema.get("items", {})) | st.sampled_from(HOSTILE_TEXT), max_size=3)
    return st.text(max_size=40)


def _plausible(name: str, schema: dict[str, Any], valid: dict[str, list[Any]]) -> st.SearchStrategy[Any]:
    """A real id/path of the seeded world when there is one, else a value of the schema's type."""
    if name in valid:
        return st.sampled_from(valid[name])
    if "enum" in schema or schema.get("type") in ("boolean", "integer", "number"):
        return _shaped(name, schema)
    return st.sampled_from(["fuzz", "a=b", "/srv/fuzz"]) | st.text(max_size=12)


def arguments_for(tool: Tool, valid: dict[str, list[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """Arguments where at most one is hostile (so the others get it past validation) and extra ones may appear."""
    schema = tool.input_schema
    properties: dict[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", []))

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        victim = draw(st.sampled_from([None, *properties]))
        out: dict[str, Any] = {}
        for name, prop in properties.items():
            if name != victim and name not in required and not draw(st.booleans()):
                continue
            if name == victim:
                out[name] = draw(st.sampled_from(HOSTILE) | _shaped(name, prop))
            else:
                out[name] = draw(_plausible(name, prop, valid))
        return out

    return build()


def _is_hostile_id(value: Any) -> bool:
    return isinstance(value, str) and value != "" and not _ID_SHAPE.fullmatch(value)


def _is_escaping_path(value: Any) -> bool:
    return isinstance(value, str) and ("\x00" in value or ".." in value.split("/"))


def _check_call(tool: Tool, arguments: dict[str, Any], result: CallToolResult, requests: list[Any]) -> None:
    message = text(result)
    assert not problems_with(result), f"{tool.name}({arguments!r:.300}) -> {message[:500]}"
    annotations = tool.annotations
    read_only = bool(annotations and annotations.read_only_hint)
    destructive = bool(annotations and annotations.destructive_hint)
    writes_seen: list[tuple[str, str, bytes]] = []
    for request in requests:
        where = f"{tool.name}({arguments!r:.200}) sent {request.method} {request.path}"
        assert not FORBIDDEN_PATH.search(request.path), where
        route = route_of(request.method, request.path)
        assert route is not None, f"{where}: not a Zerobyte route"
        assert ".." not in request.path.split("/") and "\x00" not in request.path, where
        if request.method == "GET":
            continue
        assert not read_only, f"{where}: a read tool wrote"
        if destructive:
            allowed = UNCONFIRMED_WRITES.get(tool.name, set())
            assert route in allowed, f"{where}: a destructive tool acted without a valid confirmation token"
        else:
            assert route in WRITES[tool.name], f"{where}: not a route this tool is meant to call"
        key = (request.method, request.path, request.raw_body)
        assert key not in writes_seen, f"{where}: the same write was sent twice"
        writes_seen.append(key)
    for name, value in arguments.items():
        values = value if isinstance(value, list) else [value]
        bad_id = name in ZEROBYTE_IDS and any(_is_hostile_id(v) for v in values)
        bad_task = name == "task_id" and _is_hostile_id(value)
        bad_path = name in PATH_ARGUMENTS and any(_is_escaping_path(v) for v in values)
        # A hostile string may be a real object's name (the write tools fuzzed earlier rename objects to such
        # strings): then the answer says which id it stood for, and only that id reaches Zerobyte.
        resolved = str((result.structured_content or {}).get("resolved", "")) if not result.is_error else ""
        named = bad_id and all(f"{name} {str(v)!r} = " in resolved for v in values if _is_hostile_id(v))
        if (bad_id and not named) or bad_task or bad_path:
            assert result.is_error, f"{tool.name} accepted {name}={value!r:.80}: {message[:300]}"
        if bad_id or bad_task or bad_path:
            for request in requests:
                for v in values:
                    if isinstance(v, str) and len(v) > 1 and _is_hostile_id(v):
                        assert v not in request.path, f"{tool.name}: {name}={v!r:.80} reached {request.path}"


@dataclass
class Tally:
    calls: int = 0
    answered: int = 0  # not an error
    reached_zerobyte: int = 0  # sent at least one request


def _fuzz_one_tool(
    portal: BlockingPortal, client: Client, sim: Simulator, tool: Tool, valid: dict[str, list[Any]], tally: Tally
) -> None:
    """Run Hypothesis on one tool, counting into ``tally``."""

    def call(arguments: dict[str, Any]) -> None:
        before = len(sim.requests)
        result = portal.call(client.call_tool, tool.name, arguments)
        requests = sim.requests[before:]
        tally.calls += 1
        tally.answered += not result.is_error
        tally.reached_zerobyte += bool(requests)
        _check_call(tool, arguments, result, requests)

    run: Callable[[], None] = settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )(given(arguments_for(tool, valid))(call))
    run()


@contextmanager
def fuzz_client(sim_server: SimulatorServer) -> Iterator[tuple[BlockingPortal, Client]]:
    """A `full` MCP server with confirmations on, held open in a portal so sync Hypothesis examples can call it."""
    with start_blocking_portal() as portal:
        client_cm = connect(
            sim_server.url,
            access="full",
            confirm_destructive=True,
            restore_allowed_roots=("/srv/restore",),
            task_wait_seconds=5.0,
        )
        with portal.wrap_async_context_manager(client_cm) as client:
            yield portal, client


def test_fuzzing_every_tool_s_arguments_gives_reasons_and_reaches_only_its_own_routes(
    sim: Simulator, sim_server: SimulatorServer
) -> None:
    sim.task_seconds = 0.05
    world = seed_world(sim)
    task_id = sim.add_task("backup", job=world.job)["id"]
    valid = _valid_values(world, task_id)
    tally = Tally()
    with fuzz_client(sim_server) as (portal, client):
        tools = portal.call(client.list_tools).tools
        names = {t.name for t in tools}
        state_changing = {
            t.name
            for t in tools
            if t.annotations and not t.annotations.read_only_hint and not t.annotations.destructive_hint
        }
        assert state_changing == set(WRITES), "every state-changing tool needs its allowlist of routes"
        assert len(names) >= 40

        for tool in tools:
            _fuzz_one_tool(portal, client, sim, tool, valid, tally)
    assert sim.wait_idle(10)
    # The fuzz must get past validation often enough to test the routes, not only the refusals.
    assert tally.reached_zerobyte >= tally.calls // 4 and tally.answered >= tally.calls // 10, tally
    print(f"fuzzed {len(names)} tools: {tally}")


@pytest.mark.parametrize(
    ("tool", "arguments", "phrase"),
    [
        ("get_volume", {"volume_id": "../auth/api-keys"}, "not a Zerobyte short id"),
        ("get_repository", {"repository_id": "%2F.."}, "not a Zerobyte short id"),
        ("get_backup_job", {"job_id": "..%2f"}, "not a backup job id"),
        ("get_task", {"task_id": "../../system/restic-password"}, "not a task id"),
        ("get_snapshot", {"repository_id": "abcd1234", "snapshot_id": "../x"}, "not a snapshot id"),
        ("browse_server_filesystem", {"path": "/srv/../etc"}, "must not contain '..'"),
        (
            "read_snapshot_file",
            {"snapshot_id": "latest", "path": "/etc/\x00passwd", "repository_id": "abcd1234"},
            "control",
        ),
        ("get_volume", {"volume_id": "x" * 10_240}, "too long"),
        ("get_volume", {"volume_id": " "}, "not a Zerobyte short id"),
    ],
)
def test_traversal_and_encoding_tricks_in_ids_and_paths_are_refused_before_any_request(
    sim: Simulator, sim_server: SimulatorServer, tool: str, arguments: dict[str, Any], phrase: str
) -> None:
    with fuzz_client(sim_server) as (portal, client):
        result = portal.call(client.call_tool, tool, arguments)
    assert result.is_error and phrase in text(result), text(result)
    assert sim.requests == []


def test_a_huge_argument_to_an_audited_tool_is_refused_without_stalling_the_server(
    sim: Simulator, sim_server: SimulatorServer
) -> None:
    # Scrubbing secrets from such an argument (for its audit line) was quadratic: 300 KB of letters blocked the
    # server's event loop for ~90 s. A blocked loop cannot cancel itself, so the test thread waits with a bound
    # far above the expected milliseconds (a liveness guard, not a measurement).
    huge = "a" * 300_000
    with fuzz_client(sim_server) as (portal, client):
        pending = portal.start_task_soon(
            client.call_tool, "create_volume", {"name": huge, "backend": "nfs", "source": "x"}
        )
        try:
            refused = pending.result(timeout=30)
        except TimeoutError:
            pytest.fail("a 300 KB argument stalled the server for 30 s")
        listed = portal.call(client.call_tool, "list_volumes", {})
    assert refused.is_error and "nothing was sent" in text(refused).lower(), text(refused)[:300]
    assert not listed.is_error
    assert {r.method for r in sim.requests} == {"GET"}
