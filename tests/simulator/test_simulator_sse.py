"""Server-sent events: task, tasks and org streams behave like the recorded transcripts and never end."""

from __future__ import annotations

import threading

import httpx
import pytest

from mcp_server.simulator import Simulator, SimulatorServer
from mcp_server.simulator.testing import EventStream, World, http_client, read_events, wait_task

TERMINAL = ("succeeded", "failed", "cancelled", "stale")


def _terminal(event: object) -> bool:
    data = getattr(event, "data", None)
    return getattr(event, "name", "") == "task:changed" and isinstance(data, dict) and data["status"] in TERMINAL


def test_task_stream_sends_connected_snapshot_progress_terminal_and_then_keeps_beating(
    sim: Simulator, client: httpx.Client, world: World
) -> None:
    sim.task_seconds = 0.4
    task_id = client.post(f"/backups/{world.schedule}/run").json()["taskId"]
    with client.stream("GET", f"/tasks/{task_id}/events") as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        stream = EventStream(r)
        events = stream.read(until=_terminal)
        assert events[0].name == "connected"
        assert events[0].data["type"] == "connected"
        assert events[1].name == "task:changed"
        assert events[1].data["id"] == task_id
        progress = [e for e in events if e.name == "task:changed" and e.data["progress"]]
        assert progress, "progress updates arrive while running"
        p = progress[0].data["progress"]["progress"]
        assert {
            "percent_done",
            "bytes_done",
            "total_bytes",
            "files_done",
            "total_files",
            "seconds_remaining",
            "current_files",
        } <= set(p)
        assert events[-1].data["status"] == "succeeded"
        after = stream.read(until=lambda e: True)
        assert [e.name for e in after] == ["heartbeat"], "the stream stays open after the terminal event"
        more = stream.read(until=lambda e: True)
        assert more[0].name == "heartbeat"


def test_task_stream_of_a_finished_task_replays_only_its_current_state(client: httpx.Client, world: World) -> None:
    task_id = client.post(f"/backups/{world.schedule}/run").json()["taskId"]
    wait_task(client, task_id)
    with client.stream("GET", f"/tasks/{task_id}/events") as r:
        events = read_events(r, until=lambda e: e.name == "heartbeat")
    assert [e.name for e in events] == ["connected", "task:changed", "heartbeat"]
    assert events[1].data["status"] == "succeeded"


def test_unknown_task_stream_is_a_json_404_before_streaming(client: httpx.Client) -> None:
    r = client.get("/tasks/nope/events")
    assert r.status_code == 404
    assert r.json() == {"message": "Task not found"}


def test_tasks_stream_starts_with_a_snapshot_and_follows_new_tasks(client: httpx.Client, world: World) -> None:
    with client.stream(
        "GET", "/tasks/events", params={"resourceType": "backup_schedule", "resourceId": world.schedule}
    ) as r:
        stream = EventStream(r)
        first = stream.read(until=lambda e: e.name == "tasks:snapshot")
        assert [e.name for e in first] == ["connected", "tasks:snapshot"]
        assert first[1].data == []
        task_id = client.post(f"/backups/{world.schedule}/run").json()["taskId"]
        events = stream.read(
            until=lambda e: e.name == "task:changed" and e.data["kind"] == "forget" and e.data["status"] == "succeeded"
        )
    statuses = [(e.data["kind"], e.data["status"]) for e in events if e.name == "task:changed"]
    assert ("backup", "queued") in statuses
    assert ("backup", "succeeded") in statuses
    assert statuses.index(("forget", "queued")) < statuses.index(("backup", "succeeded"))
    assert all(e.data["id"] == task_id for e in events if e.name == "task:changed" and e.data["kind"] == "backup")


def test_org_stream_reports_task_history_changes_without_progress(client: httpx.Client, world: World) -> None:
    with client.stream("GET", "/events") as r:
        stream = EventStream(r)
        stream.read(until=lambda e: e.name == "heartbeat")
        client.post(f"/backups/{world.schedule}/run")
        events = stream.read(
            until=lambda e: (
                e.name == "task:history-changed"
                and e.data["item"]["kind"] == "backup"
                and e.data["item"]["outcome"] == "success"
            )
        )
    changes = [e for e in events if e.name == "task:history-changed"]
    first = changes[0].data
    assert first["previousOutcome"] is None
    assert first["item"]["status"] == "queued" and first["item"]["outcome"] == "running"
    assert {"organizationId", "previousOutcome", "item"} == set(first)
    assert all(e.name != "task:changed" for e in events)


def test_org_stream_reports_volume_and_dump_events(sim: Simulator, client: httpx.Client, world: World) -> None:
    snap = sim.add_snapshot(world.repository, job=world.schedule, time_ms=sim.now_ms())
    with client.stream("GET", "/events") as r:
        stream = EventStream(r)
        stream.read(until=lambda e: e.name == "heartbeat")
        client.post(f"/volumes/{world.volume}/unmount")
        client.get(
            f"/repositories/{world.repository}/snapshots/{snap['short_id']}/dump",
            params={"path": "/srv/data/hello.txt", "kind": "file"},
        )
        events = stream.read(until=lambda e: e.name == "dump:started")
    unmounted = next(e for e in events if e.name == "volume:unmounted")
    assert unmounted.data == {"organizationId": sim.organization_id, "volumeName": "sample-files"}
    assert events[-1].data["filename"] == "hello.txt"


def test_drop_sse_after_fault_ends_the_stream_early(sim: Simulator, client: httpx.Client, world: World) -> None:
    task_id = client.post(f"/backups/{world.schedule}/run").json()["taskId"]
    sim.faults.add(method="GET", path=r"/events$", drop_sse_after=2, times=1)
    with client.stream("GET", f"/tasks/{task_id}/events") as r:
        events = read_events(r, until=lambda e: False)
    assert [e.name for e in events] == ["connected", "task:changed"]


def test_stopping_the_server_ends_open_streams_promptly(client: httpx.Client, world: World) -> None:
    sim = Simulator(heartbeat_interval=30)
    server = SimulatorServer(sim).start()
    got: list[str] = []
    errors: list[BaseException] = []

    def listen() -> None:
        try:
            with http_client(server.url) as c, c.stream("GET", "/api/v1/events") as r:
                got.extend(e.name for e in read_events(r, until=lambda e: False))
        except httpx.HTTPError as exc:  # pragma: no cover - the point is that this does not happen
            errors.append(exc)

    thread = threading.Thread(target=listen)
    thread.start()
    while not sim._subscribers:
        thread.join(0.01)
    server.stop()
    thread.join(5)
    sim.close()
    assert not thread.is_alive()
    assert got == ["connected", "heartbeat"]
    assert errors == []


@pytest.mark.parametrize("path", ["/tasks/events", "/events"])
def test_streams_need_the_key(server: SimulatorServer, path: str) -> None:
    with http_client(server.url, key=None) as c:
        r = c.get(f"/api/v1{path}")
    assert r.status_code == 401
