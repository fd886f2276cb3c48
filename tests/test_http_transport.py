"""Streamable HTTP: the bearer token, DNS-rebinding checks, the refusal to expose an open port, health, sessions.

Each test serves the real app (``build_http_app``) with uvicorn on a loopback port and talks to it with the SDK's
streamable HTTP client (both protocol eras) or plain HTTP where the status code is the point.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from starlette.applications import Starlette

from mcp_server.cli.http import HttpSetupError, build_http_app
from mcp_server.config import Secret, Settings
from mcp_server.server import create_server, make_client
from mcp_server.simulator import Simulator
from mcp_server.zerobyte import ZerobyteClient
from tests.helpers import TEST_KEY, TOKEN, make_settings, mcp_client, serving

pytestmark = [pytest.mark.anyio, pytest.mark.both_eras]

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def seeded(sim: Simulator) -> None:
    sim.add_volume("photos", path="/srv/photos")
    sim.add_volume("documents", path="/srv/documents")


def payload(result: Any) -> dict[str, Any]:
    assert not result.is_error, result.content
    data: dict[str, Any] = result.structured_content
    return data


async def test_mcp_over_http_refuses_requests_without_the_token_and_serves_them_with_it(
    sim: Simulator, settings: Settings, era: str
) -> None:
    seeded(sim)
    settings = make_settings(settings.url, http_token=Secret(TOKEN))
    async with serving(build_http_app(create_server(settings), settings)) as url:
        async with httpx.AsyncClient() as http:
            missing = await http.post(f"{url}/mcp", json=INITIALIZE, headers=MCP_HEADERS)
            wrong = await http.post(
                f"{url}/mcp", json=INITIALIZE, headers={**MCP_HEADERS, "Authorization": "Bearer not-the-token-at-all"}
            )
        assert missing.status_code == 401
        assert missing.headers["www-authenticate"] == 'Bearer realm="zerobyte-mcp"'
        assert "Authorization: Bearer <token>" in missing.json()["error_description"]
        assert wrong.status_code == 401
        assert 'error="invalid_token"' in wrong.headers["www-authenticate"]

        async with mcp_client(url, era) as client:
            names = {tool.name for tool in (await client.list_tools()).tools}
            volumes = payload(await client.call_tool("list_volumes", {}))
            version = client.protocol_version
    assert version == ("2025-11-25" if era == "legacy" else "2026-07-28")
    assert {"list_volumes", "backup_health"} <= names
    assert volumes["total"] == 2
    assert sorted(v["name"] for v in volumes["volumes"]) == ["documents", "photos"]


async def test_a_foreign_host_gets_421_and_a_foreign_origin_403_unless_allowed(settings: Settings) -> None:
    settings = make_settings(
        settings.url,
        http_token=Secret(TOKEN),
        http_allowed_hosts=("mcp.example.com",),
        http_allowed_origins=("https://mcp.example.com",),
    )
    auth = {**MCP_HEADERS, "Authorization": f"Bearer {TOKEN}"}
    async with serving(build_http_app(create_server(settings), settings)) as url, httpx.AsyncClient() as http:
        rebound = await http.post(f"{url}/mcp", json=INITIALIZE, headers={**auth, "Host": "evil.example:8765"})
        foreign = await http.post(f"{url}/mcp", json=INITIALIZE, headers={**auth, "Origin": "http://evil.example"})
        proxied = await http.post(
            f"{url}/mcp",
            json=INITIALIZE,
            headers={**auth, "Host": "mcp.example.com", "Origin": "https://mcp.example.com"},
        )
    assert rebound.status_code == 421
    assert "allowed_hosts" in rebound.json()["error_description"]
    assert foreign.status_code == 403
    assert "allowed_origins" in foreign.json()["error_description"]
    assert proxied.status_code == 200
    assert "serverInfo" in proxied.text


def test_an_open_port_without_a_token_is_refused_and_loopback_needs_an_explicit_opt_in() -> None:
    base = make_settings("http://127.0.0.1:9")
    server = create_server(base)
    with pytest.raises(HttpSetupError, match=r"Refusing to listen on 0\.0\.0\.0 without a bearer token"):
        build_http_app(server, make_settings(base.url, http_host="0.0.0.0", http_allow_unauthenticated=True))
    with pytest.raises(HttpSetupError, match="HTTP mode needs a bearer token"):
        build_http_app(server, base)
    assert isinstance(build_http_app(server, make_settings(base.url, http_allow_unauthenticated=True)), Starlette)
    assert isinstance(
        build_http_app(server, make_settings(base.url, http_host="0.0.0.0", http_token=Secret(TOKEN))), Starlette
    )


def test_the_cli_exits_2_with_advice_when_asked_to_serve_0_0_0_0_without_a_token(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZEROBYTE", "XDG_CONFIG"))}
    env.update(ZEROBYTE_URL="http://127.0.0.1:9", ZEROBYTE_API_KEY=TEST_KEY, XDG_CONFIG_HOME=str(tmp_path))
    proc = subprocess.run(
        [sys.executable, "-m", "mcp_server", "--transport", "http", "--host", "0.0.0.0", "--port", "8799"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert "Refusing to listen on 0.0.0.0 without a bearer token" in proc.stderr
    assert "ZEROBYTE_MCP_HTTP_TOKEN_FILE" in proc.stderr
    assert TEST_KEY not in proc.stderr + proc.stdout


async def test_health_answers_without_auth_and_deep_health_reaches_zerobyte_for_token_holders(
    sim: Simulator, settings: Settings
) -> None:
    settings = make_settings(settings.url, http_token=Secret(TOKEN))
    async with serving(build_http_app(create_server(settings), settings)) as url, httpx.AsyncClient() as http:
        before = len(sim.requests)
        shallow = await http.get(f"{url}/healthz")
        assert len(sim.requests) == before  # the plain check never calls Zerobyte
        anonymous_deep = await http.get(f"{url}/healthz?deep=1")
        deep = await http.get(f"{url}/healthz?deep=1", headers={"Authorization": f"Bearer {TOKEN}"})
    assert shallow.status_code == 200
    assert shallow.json() == {"status": "ok"}
    assert anonymous_deep.status_code == 401
    assert deep.status_code == 200
    assert deep.json() == {"status": "ok", "zerobyte": "ok"}
    assert [r.path for r in sim.requests[before:]] == ["/api/v1/system/info"]


async def test_deep_health_says_503_key_refused_when_zerobyte_rejects_the_key(settings: Settings) -> None:
    settings = make_settings(settings.url, api_key=Secret("zb_revoked_key_9876543210"), http_allow_unauthenticated=True)
    async with serving(build_http_app(create_server(settings), settings)) as url, httpx.AsyncClient() as http:
        deep = await http.get(f"{url}/healthz?deep=1")
    assert deep.status_code == 503
    body = deep.json()
    assert body["zerobyte"] == "key refused"
    assert "401" in body["message"]
    assert "zb_revoked_key_9876543210" not in deep.text


async def test_two_concurrent_sessions_of_both_eras_share_one_zerobyte_client(
    sim: Simulator, settings: Settings
) -> None:
    seeded(sim)
    settings = make_settings(settings.url, http_token=Secret(TOKEN))
    made: list[ZerobyteClient] = []

    def factory(s: Settings) -> ZerobyteClient:
        made.append(make_client(s))
        return made[-1]

    results: dict[str, dict[str, Any]] = {}
    async with serving(build_http_app(create_server(settings, client_factory=factory), settings)) as url:

        async def session(era: str) -> None:
            async with mcp_client(url, era) as client:
                results[era] = payload(await client.call_tool("list_volumes", {}))

        async with anyio.create_task_group() as tg:
            tg.start_soon(session, "legacy")
            tg.start_soon(session, "auto")
    assert len(made) == 1  # the server lifespan ran once for the app, not once per session
    assert results["legacy"]["total"] == results["auto"]["total"] == 2


async def test_a_rotated_token_file_takes_effect_without_a_restart(settings: Settings, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    settings = make_settings(settings.url, http_token_file=token_file)
    new = "rotated-token-abcdef0123456789"
    async with serving(build_http_app(create_server(settings), settings)) as url, httpx.AsyncClient() as http:
        assert (
            await http.get(f"{url}/healthz?deep=1", headers={"Authorization": f"Bearer {TOKEN}"})
        ).status_code == 200
        token_file.write_text(new + "\n")
        old_answer = await http.get(f"{url}/healthz?deep=1", headers={"Authorization": f"Bearer {TOKEN}"})
        new_answer = await http.get(f"{url}/healthz?deep=1", headers={"Authorization": f"Bearer {new}"})
    assert old_answer.status_code == 401
    assert new_answer.status_code == 200


async def test_loopback_without_a_token_works_when_explicitly_allowed(sim: Simulator, settings: Settings) -> None:
    seeded(sim)
    settings = make_settings(settings.url, http_allow_unauthenticated=True)
    async with serving(build_http_app(create_server(settings), settings)) as url, mcp_client(url, "auto", None) as c:
        volumes = payload(await c.call_tool("list_volumes", {}))
    assert volumes["total"] == 2


async def test_oauth_discovery_probes_get_404_not_401(settings: Settings) -> None:
    settings = make_settings(settings.url, http_token=Secret(TOKEN))
    async with serving(build_http_app(create_server(settings), settings)) as url, httpx.AsyncClient() as http:
        probe = await http.get(f"{url}/.well-known/oauth-protected-resource/mcp")
    assert probe.status_code == 404


async def test_a_request_path_with_a_line_break_cannot_forge_a_log_or_audit_line(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    from mcp_server.cli.logs import setup_logging

    setup_logging("INFO")
    forged = '{"time":"2026-01-01T00:00:00Z","event":"tool_call","tool":"delete_repository","outcome":"done"}'
    settings = make_settings(settings.url, http_token=Secret(TOKEN))
    async with serving(build_http_app(create_server(settings), settings)) as url, httpx.AsyncClient() as http:
        answer = await http.get(f"{url}/mcp%0A{forged.replace(' ', '%20')}%0D%0Ax")
    assert answer.status_code == 401
    err = capsys.readouterr().err
    assert "HTTP 401" in err and "\\n" in err  # the warning was logged, its line break escaped
    for line in err.splitlines():
        assert not line.startswith("{"), f"a log line that could pass for an audit record: {line}"
