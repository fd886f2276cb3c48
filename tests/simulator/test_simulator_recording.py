"""Every request is recorded in order, with the API key value hidden, so tests can audit traffic."""

from __future__ import annotations

import httpx

from mcp_server.simulator import Simulator
from mcp_server.simulator.testing import TEST_KEY, World


def test_requests_are_recorded_in_order_with_the_key_redacted(
    sim: Simulator, client: httpx.Client, world: World
) -> None:
    client.get("/volumes", params={"x": "1"})
    client.post("/volumes", json={"name": "n", "config": {"backend": "directory", "path": "/srv/n"}})
    client.get("/nope")
    first, second, third = sim.requests[-3:]
    assert (first.method, first.path, first.query, first.query_string) == ("GET", "/api/v1/volumes", {"x": "1"}, "x=1")
    assert first.headers["x-api-key"] == "<redacted>"
    assert TEST_KEY not in repr(sim.requests)
    assert first.body is None and not first.is_write
    assert second.body == {"name": "n", "config": {"backend": "directory", "path": "/srv/n"}}
    assert second.is_write
    assert third.path == "/api/v1/nope"


def test_rejected_and_malformed_requests_are_recorded_too(sim: Simulator, client: httpx.Client) -> None:
    client.get("/volumes", headers={"x-api-key": "wrong"})
    client.post("/volumes", content=b"{", headers={"content-type": "application/json"})
    assert sim.requests[-2].path == "/api/v1/volumes"
    assert sim.requests[-1].body is None
    assert sim.requests[-1].raw_body == b"{"


def test_a_read_only_session_leaves_no_writes(sim: Simulator, client: httpx.Client, world: World) -> None:
    for path in ("/volumes", "/repositories", "/backups", f"/backups/{world.schedule}", "/tasks"):
        client.get(path)
    assert not [r for r in sim.requests if r.is_write]
