"""Fault rules and the rate limiter make the simulator misbehave in each documented way."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from mcp_server.simulator import Simulator
from mcp_server.simulator.testing import World


def test_latency_delays_the_answer(sim: Simulator, client: httpx.Client, world: World) -> None:
    sim.faults.add(method="GET", path=r"^/api/v1/volumes$", latency=0.3)
    start = time.monotonic()
    assert client.get("/volumes").status_code == 200
    assert time.monotonic() - start >= 0.3


def test_proxy_error_page_replaces_the_answer_a_limited_number_of_times(sim: Simulator, client: httpx.Client) -> None:
    rule = sim.faults.add(
        method="GET",
        path=r"^/api/v1/volumes$",
        status=502,
        body="<html><h1>502 Bad Gateway</h1></html>",
        content_type="text/html",
        times=2,
    )
    for _ in range(2):
        r = client.get("/volumes")
        assert r.status_code == 502
        assert r.headers["content-type"] == "text/html"
        assert "Bad Gateway" in r.text
    assert client.get("/volumes").status_code == 200
    assert rule.hits == 2 and rule.exhausted


def test_json_fault_bodies_and_extra_headers(sim: Simulator, client: httpx.Client) -> None:
    sim.faults.add(
        path=r"/system/info$", status=503, body={"message": "Service Unavailable"}, headers={"Retry-After": "1"}
    )
    r = client.get("/system/info")
    assert r.status_code == 503
    assert r.json() == {"message": "Service Unavailable"}
    assert r.headers["retry-after"] == "1"


def test_text_429_with_retry_after(sim: Simulator, client: httpx.Client) -> None:
    sim.faults.add(
        path=r"/backups$",
        status=429,
        body="Too many requests, please try again later.",
        headers={"Retry-After": "1"},
        times=1,
    )
    r = client.get("/backups")
    assert r.status_code == 429
    assert r.headers["content-type"].startswith("text/plain")
    assert r.headers["retry-after"] == "1"


def test_method_must_match(sim: Simulator, client: httpx.Client) -> None:
    sim.faults.add(method="POST", path=r"/volumes$", status=500, body={"message": "boom"})
    assert client.get("/volumes").status_code == 200


def test_truncated_json_keeps_the_json_content_type(sim: Simulator, client: httpx.Client, world: World) -> None:
    sim.faults.add(path=r"^/api/v1/volumes$", truncate_json=True, times=1)
    r = client.get("/volumes")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert int(r.headers["content-length"]) == len(r.content)
    with pytest.raises(json.JSONDecodeError):
        json.loads(r.content)
    assert client.get("/volumes").json()[0]["name"] == "sample-files"


def test_wrong_types_turn_numbers_into_strings_and_lists_into_objects(
    sim: Simulator, client: httpx.Client, world: World
) -> None:
    sim.faults.add(path=r"^/api/v1/volumes$", wrong_types=True)
    body = client.get("/volumes").json()
    assert isinstance(body, dict)
    assert body["0"]["id"] == "1"
    assert body["0"]["autoRemount"] == "true"
    assert body["0"]["name"] == "sample-files"


def test_reset_drops_the_connection_mid_body(sim: Simulator, client: httpx.Client, world: World) -> None:
    sim.faults.add(path=r"^/api/v1/volumes$", reset=True, times=1)
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        client.get("/volumes")
    assert client.get("/volumes").status_code == 200


def test_clear_removes_every_rule(sim: Simulator, client: httpx.Client) -> None:
    sim.faults.add(status=500, body={"message": "x"})
    assert client.get("/volumes").status_code == 500
    sim.faults.clear()
    assert client.get("/volumes").status_code == 200


def test_faulted_requests_are_still_recorded(sim: Simulator, client: httpx.Client) -> None:
    sim.faults.add(status=504, body="Gateway Timeout")
    client.get("/volumes")
    assert sim.requests[-1].path == "/api/v1/volumes"


def test_rate_limit_answers_text_429_with_retry_after(sim: Simulator, client: httpx.Client) -> None:
    sim.rate_limit = 3
    sim.rate_limit_window = 60
    assert [client.get("/volumes").status_code for _ in range(3)] == [200, 200, 200]
    r = client.get("/volumes")
    assert r.status_code == 429
    assert r.headers["content-type"] == "text/plain; charset=UTF-8"
    assert r.text == "Too many requests, please try again later."
    assert 0 < int(r.headers["retry-after"]) <= 60
    assert r.headers["ratelimit-limit"] == "3"
    sim.rate_limit = None
    assert client.get("/volumes").status_code == 200
