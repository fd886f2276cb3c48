"""The HTTP server wrapper: ports, headers, body limit, TLS, restart of streams, app reuse."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from pathlib import Path

import httpx
import pytest

from mcp_server.simulator import Simulator, SimulatorServer, create_app
from mcp_server.simulator.testing import http_client


def test_servers_pick_free_ports_and_stop_cleanly() -> None:
    sim = Simulator()
    with SimulatorServer(sim) as one, SimulatorServer(sim) as two:
        assert one.url.startswith("http://127.0.0.1:")
        assert one.url != two.url
        with http_client(one.url) as a, http_client(two.url) as b:
            a.post("/api/v1/volumes", json={"name": "x", "config": {"backend": "directory", "path": "/srv"}})
            assert b.get("/api/v1/volumes").json()[0]["name"] == "x"
    with pytest.raises(httpx.ConnectError), http_client(one.url) as c:
        c.get("/api/healthcheck")
    sim.close()


def test_answers_carry_secure_headers_and_no_server_banner(client: httpx.Client) -> None:
    r = client.get("/volumes")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["vary"] == "Origin"
    assert "server" not in r.headers


def test_bodies_over_10_mib_are_refused(client: httpx.Client) -> None:
    r = client.post("/volumes", content=b"x" * (10 * 1024 * 1024 + 1), headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert r.json() == {"message": "Request body too large"}


def test_create_app_is_a_starlette_app(sim: Simulator) -> None:
    from starlette.applications import Starlette

    assert isinstance(create_app(sim), Starlette)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is needed to make a test certificate")
def test_tls_with_a_self_signed_certificate(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    sim = Simulator()
    with SimulatorServer(sim, ssl_certfile=str(cert), ssl_keyfile=str(key)) as srv:
        assert srv.url.startswith("https://")
        with httpx.Client(base_url=srv.url, verify=ssl.create_default_context(cafile=str(cert))) as c:
            assert c.get("/api/healthcheck").json() == {"status": "ok"}
    sim.close()


def test_cors_preflight_is_answered_before_auth(sim: Simulator, anon: httpx.Client) -> None:
    headers = {
        "Origin": "http://ui.lan",
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "x-api-key",
    }
    r = anon.options("/api/v1/volumes", headers=headers)
    assert r.status_code == 204
    assert r.headers["access-control-allow-headers"] == "x-api-key"
    assert "access-control-allow-origin" not in r.headers
    sim.trusted_origins.add("http://ui.lan")
    assert anon.options("/api/v1/volumes", headers=headers).headers["access-control-allow-origin"] == "http://ui.lan"


def test_head_answers_headers_only(client: httpx.Client) -> None:
    r = client.head("/volumes")
    assert r.status_code == 200
    assert r.content == b""
